# Config validation, input discovery and input functions.
import functools
import os
import sys
from pathlib import Path

from snakemake.utils import validate

sys.path.insert(0, str(Path(workflow.basedir).parent / "scripts"))

from skymatchflow.config import STAT_KEYS, check_config
from skymatchflow.demo import demo_file_names
from skymatchflow.inputs import discover_images
from skymatchflow.overlapgraph import read_batches
from skymatchflow.skylist import read_skylist

CONFIG_SCHEMA = Path(workflow.basedir) / "schemas" / "config.schema.yaml"
check_config(config, CONFIG_SCHEMA)
validate(config, str(CONFIG_SCHEMA))

IMAGES = discover_images(config)
if config["skymethod"] == "user":
    read_skylist(config["skylist"], sorted({spec.path for spec in IMAGES.values()}))
ENV = "../../envs/skymatch.yaml"
DEMO_DIR = "resources/demo"
DEMO_FILES = [f"{DEMO_DIR}/{name}" for name in demo_file_names()]
USES_DEMO = sorted(spec.path for spec in IMAGES.values()) == sorted(DEMO_FILES)


wildcard_constraints:
    image=r"[A-Za-z0-9._+-]+",


def image_file(wildcards):
    """The file that holds the image's SCI header and pixels."""
    return IMAGES[wildcards.image].path


def image_inputs(wildcards):
    """The files one image is read from: the image, and its separate DQ file if any."""
    spec = IMAGES[wildcards.image]
    files = {"image": spec.path}
    if spec.dq_file:
        files["dq"] = spec.dq_file
    return files


def footprint_params(wildcards):
    """Everything the footprint depends on, as one dict (a change re-runs it)."""
    params = IMAGES[wildcards.image].as_params()
    params.update(stepsize=config["stepsize"], groups=config["groups"])
    return params


def mask_params(wildcards):
    """Everything the mask depends on, as one dict (a change re-runs it)."""
    params = IMAGES[wildcards.image].as_params()
    params.update(dqbits=config["dqbits"])
    return params


def stat_params():
    """The statistic's parameters (skystat and clipping), as one dict."""
    return {key: config[key] for key in STAT_KEYS}


def image_sky_params(wildcards):
    """Everything the whole-image sky depends on, as one dict."""
    params = IMAGES[wildcards.image].as_params()
    params.update(stat_params())
    return params


@functools.lru_cache(maxsize=4)
def _batches(pairs_path, mtime):
    return read_batches(pairs_path)


def pair_batches():
    """{batch: [pairs]} of the overlap graph (waits for the checkpoint)."""
    pairs_path = checkpoints.overlap_graph.get().output.pairs
    return _batches(pairs_path, os.path.getmtime(pairs_path))


def batch_images(batch):
    """Member image ids of one batch, in first-use order."""
    images = {}
    for pair in pair_batches()[batch]:
        for image in pair["members_a"] + pair["members_b"]:
            images.setdefault(image, None)
    return list(images)


def pair_batch_inputs(wildcards):
    """Every file a batch's pixels and geometry come from."""
    images = batch_images(wildcards.batch)
    return {
        "footprints": [f"results/footprints/{i}.json" for i in images],
        "masks": [f"results/masks/{i}.fits" for i in images],
        "images": sorted({IMAGES[i].path for i in images}),
    }


def pair_batch_params(wildcards):
    """The batch's pairs, its members' files and the statistic, as one dict."""
    images = batch_images(wildcards.batch)
    return {
        "stat": stat_params(),
        "batch": {
            "pairs": pair_batches()[wildcards.batch],
            "images": {
                i: {
                    "file": IMAGES[i].path,
                    "sci": IMAGES[i].sci,
                    "footprint": f"results/footprints/{i}.json",
                    "mask": f"results/masks/{i}.fits",
                }
                for i in images
            },
        },
    }


def pair_batch_dirs(wildcards):
    """All pair batch directories (the final targets of the pair stage)."""
    return expand("results/pairs/{batch}", batch=sorted(pair_batches()))


def solve_params(wildcards):
    """The solve's parameters, and the whole config for the sky table's metadata."""
    return {
        "skymethod": config["skymethod"],
        "match_down": config["match_down"],
        "subtract": config["subtract"],
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


# The solve's inputs, each its own function so that only the pair statistics
# wait for the overlap-graph checkpoint (the rest is planned before it runs).
USER_SKIES = config["skymethod"] == "user"
MATCHING = "match" in config["skymethod"]


def solve_skylist(wildcards):
    """The skylist, for skymethod 'user'."""
    return [config["skylist"]] if USER_SKIES else []


def solve_skies(wildcards):
    """Whole-image skies (not used by 'user')."""
    return (
        [] if USER_SKIES else expand("results/image_skies/{image}.json", image=IMAGES)
    )


def solve_graph_files(name):
    """The overlap graph's tables, read by the solve when a match is asked for."""
    return [f"results/overlaps/{name}.ecsv"] if MATCHING else []


def solve_pairs(wildcards):
    """Every pair batch directory, when a match is asked for (waits for the checkpoint)."""
    return pair_batch_dirs(wildcards) if MATCHING else []
