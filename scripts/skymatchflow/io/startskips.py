"""Images refused at start that ``on_bad_input: skip`` SKIPS instead of stopping the run.

Discovery and the header checks (inputs.discover_images, headerchecks)
collect {path: one line} of the files they refuse; a listed file that does
not exist and that no rule makes is refused here. The image batch of such an
image records the line as it records a bad image its job finds, so the sky
table and the summary show both the same way.
"""

import os


def refused_images(images, refused_paths, made_by_workflow=()):
    """{image id: "path: reason"} of the images whose file (or DQ file) is refused, in input order.

    ``images``: {image id: ImageSpec}; ``refused_paths``: {path: line} from
    discovery and the header checks; ``made_by_workflow``: paths a rule makes
    (the demo), which may be missing yet.
    """
    refused = {}
    for image, spec in images.items():
        for path in filter(None, (spec.file, spec.dq_file)):
            if path in refused_paths:
                refused[image] = refused_paths[path]
            elif path not in made_by_workflow and not os.path.exists(path):
                refused[image] = f"{path}: file not found"
            else:
                continue
            break
    return refused


def describe_refused(refused):
    """The one start line for ``refused`` (None when there is none): how many, and the first reason."""
    if not refused:
        return None
    first = next(iter(refused.values()))
    more = f" (first: {first})" if len(refused) > 1 else f": {first}"
    return (f"on_bad_input: skip: {len(refused)} image(s) refused at start are SKIPPED{more}; "
            "each reason is in results/sky.ecsv")
