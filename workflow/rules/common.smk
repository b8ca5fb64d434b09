# Config validation, input discovery and input functions.
import functools
import os
import sys
from pathlib import Path

from snakemake.logging import logger
from snakemake.utils import validate

sys.path.insert(0, str(Path(workflow.basedir).parent / "scripts"))

from skymatchflow.jobs.batches import batch_pairs
from skymatchflow.solve.anchors import check_anchor_names
from skymatchflow.jobs.config import check_config, pair_options, stat_kwargs
from skymatchflow.stats.exclusions import exclusion_params
from skymatchflow.demo.names import demo_file_names
from skymatchflow.stages.image_batch import batch_of_image, batch_spec
from skymatchflow.io.inputchecks import stop_on_bad_input
from skymatchflow.io.inputs import discover_images
from skymatchflow.io.layoutcache import LayoutCache
from skymatchflow.io.skylist import read_skylist
from skymatchflow.geometry.skywcs import describe_policy, wcs_policy
from skymatchflow.io.stagefiles import stat_signature

CONFIG_SCHEMA = Path(workflow.basedir) / "schemas" / "config.schema.yaml"
stop_on_bad_input(check_config, config, CONFIG_SCHEMA)
validate(config, str(CONFIG_SCHEMA))

_LAYOUTS = LayoutCache()
IMAGES = stop_on_bad_input(discover_images, config, _LAYOUTS)
_LAYOUTS.save()
stop_on_bad_input(check_anchor_names, config["anchor"], IMAGES, config["groups"])
WCS_POLICY = wcs_policy(config["wcs"])[0]
logger.info(describe_policy(config["wcs"]))
EXCLUSIONS = stop_on_bad_input(exclusion_params, config)  # None without exclude
EXCLUDE = {"exclude": EXCLUSIONS} if EXCLUSIONS else {}
# the pair statistic's parameters: the reference's, plus the opt-in pair options (none by default)
PAIR_STAT = stat_kwargs(config) | pair_options(config)
USER_SKIES = config["skymethod"] == "user"
MATCHING = "match" in config["skymethod"]
if USER_SKIES:
    stop_on_bad_input(
        read_skylist, config["skylist"], sorted({spec.path for spec in IMAGES.values()})
    )
ENV = "../../envs/skymatch.yaml"
DEMO_DIR = "resources/demo"
DEMO_FILES = [f"{DEMO_DIR}/{name}" for name in demo_file_names()]
MADE_BY_WORKFLOW = set(DEMO_FILES)
USES_DEMO = sorted(spec.path for spec in IMAGES.values()) == sorted(DEMO_FILES)


wildcard_constraints:
    ibatch=r"i[0-9]+",
    batch=r"b[0-9]+",


def image_batch_of(image):
    """The per-image batch an image belongs to (chosen by a hash of its id alone)."""
    return batch_of_image(image, config["image_batches"])


IMAGE_BATCHES = {}  # batch -> member image ids, in input order
for _image in IMAGES:
    IMAGE_BATCHES.setdefault(image_batch_of(_image), []).append(_image)


def image_batch_dirs(images):
    """The batch directories holding the products of ``images``."""
    return sorted({f"results/images/{image_batch_of(i)}" for i in images})


def input_files(images):
    """The input files ``images`` are read from (images and separate DQ files)."""
    files = set()
    for image in images:
        spec = IMAGES[image]
        files.update(path for path in (spec.path, spec.dq_file) if path)
    return sorted(files)


def file_signatures(images):
    """{path: stat signature} of the input files of ``images`` not made by this workflow.

    In a job's params, so a file replaced by one with an older mtime (``cp -p``)
    still re-runs its batch; files a rule makes (the demo) are Snakemake's to track.
    """
    return {
        path: stat_signature(path) if os.path.exists(path) else None
        for path in input_files(images)
        if path not in MADE_BY_WORKFLOW
    }


def image_batch_params(wildcards):
    """Everything a batch's products depend on, as one dict (a change re-runs it)."""
    images = IMAGE_BATCHES[wildcards.ibatch]
    spec = batch_spec({i: IMAGES[i] for i in images}, config)
    return spec | {"signatures": file_signatures(images)}


def made_from_params(images):
    """The image specs and parameters that product keys are computed from (stages/image_batch.product_keys)."""
    return {
        "images": {i: IMAGES[i].as_params() for i in images},
        "stepsize": config["stepsize"],
        "groups": config["groups"],
        "dqbits": config["dqbits"],
        "stat": stat_kwargs(config),
        "wcs": WCS_POLICY,
    } | EXCLUDE


ALL_IMAGE_BATCHES = image_batch_dirs(IMAGES)
ALL_INPUT_FILES = sorted({spec.path for spec in IMAGES.values()})
IMAGE_BATCH_FILES = {
    batch: input_files(images) for batch, images in IMAGE_BATCHES.items()
}


def graph_params(wildcards):
    """What every footprint is checked against (the images in input order, and their parameters)."""
    return {"made_from": made_from_params(IMAGES)}


@functools.lru_cache(maxsize=4)
def _batches(pairs_path, mtime, n_batches):
    # imported here: astropy.table is needed only after the checkpoint
    from skymatchflow.stages.overlap_graph import read_pairs

    return batch_pairs(read_pairs(pairs_path), n_batches)


def pair_batches():
    """{batch: [pairs]} of the overlap graph (waits for the checkpoint), in config["pair_batches"] batches."""
    pairs_path = checkpoints.overlap_graph.get().output.pairs
    return _batches(pairs_path, os.path.getmtime(pairs_path), config["pair_batches"])


def batch_images(batch):
    """Member image ids of one batch, in first-use order."""
    images = {}
    for pair in pair_batches()[batch]:
        for image in pair["members_a"] + pair["members_b"]:
            images.setdefault(image, None)
    return list(images)


def pair_batch_inputs(wildcards):
    """Every file a batch's pixels and geometry come from: its members' image batches and files."""
    images = batch_images(wildcards.batch)
    return {
        "image_batches": image_batch_dirs(images),
        "images": input_files(images),
    }


def pair_batch_params(wildcards):
    """The batch's pairs, what its members' products are made from (their keys), and the statistic."""
    return {
        "stat": PAIR_STAT,
        "made_from": made_from_params(batch_images(wildcards.batch)),
        "pairs": pair_batches()[wildcards.batch],
    }


def pair_batch_dirs(wildcards):
    """All pair batch directories (the final targets of the pair stage)."""
    return expand("results/pairs/{batch}", batch=sorted(pair_batches()))


def solve_params(wildcards):
    """The solve's parameters, what it checks its stage files against, and the whole config for the table's metadata."""
    return {
        "skymethod": config["skymethod"],
        "match_down": config["match_down"],
        "subtract": config["subtract"],
        "made_from": made_from_params(IMAGES),
        "products": ["footprint"] if USER_SKIES else ["footprint", "sky"],
        "pair_stat": PAIR_STAT,
        "pair_batches": config["pair_batches"],
        "config": dict(config),
    }


# Matched copies are named by the input file's name (unique, like the ids).
MATCHED = {Path(spec.path).name: spec.path for spec in IMAGES.values()}


def matched_source(wildcards):
    """The input file a matched copy is made from."""
    return MATCHED[wildcards.filename]


def apply_params(wildcards):
    """What a matched copy depends on besides the sky table, as one dict."""
    return {
        "file": MATCHED[wildcards.filename],
        "skymethod": config["skymethod"],
        "subtract": config["subtract"],
    }


def diagnostics_params(wildcards):
    """The images in input order, and whether they have previews (not with skymethod 'user')."""
    return {"images": list(IMAGES), "previews": not USER_SKIES}
