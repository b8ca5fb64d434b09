"""Writing the pair batch plans: which pairs each pair batch measures, and what their members are made from.

Written by the overlap graph's job (a checkpoint), read by Snakemake and the
pair batches through plans.py, which stays light for Snakemake's process.
Here, not in the pair stage, so that the overlap graph depends on no later
stage.
"""

import json
from pathlib import Path

from skymatchflow.io.stagefiles import atomic_directory
from skymatchflow.jobs.batches import batch_pairs

__all__ = ["write_batch_plans"]


def write_batch_plans(pairs, made_from, stat_params, pair_batch_of, outdir):
    """One plan file per pair batch in ``outdir``: its pairs, the statistic, and what its members are made from.

    Why files and not job parameters: at survey scale a batch's pair list and
    member records weigh megabytes, which Snakemake would store, compare and
    print for every job at every start. A plan file is an ordinary input,
    compared by checksum: a batch whose plan keeps its bytes does not re-run.
    ``pair_batch_of``: {image: pair batch} (a pair goes to its first side's
    first member's). ``outdir`` appears whole or not at all.
    """
    common = {name: value for name, value in made_from.items() if name != "images"}
    with atomic_directory(outdir) as building:
        for batch, members in batch_pairs(pairs, pair_batch_of).items():
            images = {}
            for pair in members:
                for image in pair["members_a"] + pair["members_b"]:
                    images.setdefault(image, made_from["images"][image])
            plan = {"batch": batch, "stat": stat_params, "made_from": common | {"images": images}, "pairs": members}
            # one line: json's C encoder (an indented dump is Python's, 0.15 s at 2,000 images on the critical path)
            (building / f"{batch}.json").write_text(json.dumps(plan) + "\n")
    return len(list(Path(outdir).iterdir()))
