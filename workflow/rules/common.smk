# Config validation, input discovery and input functions.
import functools
import os
import sys
from pathlib import Path

from snakemake.utils import validate

sys.path.insert(0, str(Path(workflow.basedir).parent / "scripts"))

from skymatchflow.config import check_config, pair_options, stat_kwargs
from skymatchflow.exclusions import exclusion_params
from skymatchflow.demonames import demo_file_names
from skymatchflow.imagebatch import batch_of_image, batch_spec, product_path
from skymatchflow.inputs import discover_images
from skymatchflow.skylist import read_skylist

CONFIG_SCHEMA = Path(workflow.basedir) / "schemas" / "config.schema.yaml"
check_config(config, CONFIG_SCHEMA)
validate(config, str(CONFIG_SCHEMA))

IMAGES = discover_images(config)
EXCLUSIONS = exclusion_params(config)  # None without exclude (issue 19)
EXCLUDE = {"exclude": EXCLUSIONS} if EXCLUSIONS else {}
USER_SKIES = config["skymethod"] == "user"
MATCHING = "match" in config["skymethod"]
if USER_SKIES:
    read_skylist(config["skylist"], sorted({spec.path for spec in IMAGES.values()}))
ENV = "../../envs/skymatch.yaml"
DEMO_DIR = "resources/demo"
DEMO_FILES = [f"{DEMO_DIR}/{name}" for name in demo_file_names()]
USES_DEMO = sorted(spec.path for spec in IMAGES.values()) == sorted(DEMO_FILES)


wildcard_constraints:
    ibatch=r"i[0-9]+",
    batch=r"b[0-9]+",


def image_batch_of(image):
    """The per-image batch an image belongs to (a hash bucket of its id)."""
    return batch_of_image(image, config["image_batches"])


IMAGE_BATCHES = {}  # batch -> member image ids, in input order
for _image in IMAGES:
    IMAGE_BATCHES.setdefault(image_batch_of(_image), []).append(_image)


def image_product(image, product):
    """Path of an image's footprint, mask or sky inside its batch directory."""
    return str(product_path(f"results/images/{image_batch_of(image)}", image, product))


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


def image_batch_files(wildcards):
    """The input files of one batch of images."""
    return input_files(IMAGE_BATCHES[wildcards.ibatch])


def image_batch_params(wildcards):
    """Everything a batch's products depend on, as one dict (a change re-runs it)."""
    return batch_spec({i: IMAGES[i] for i in IMAGE_BATCHES[wildcards.ibatch]}, config)


ALL_IMAGE_BATCHES = image_batch_dirs(IMAGES)
FOOTPRINTS = [image_product(image, "footprint") for image in IMAGES]


def graph_inputs(wildcards):
    """The footprints' batch directories and the image files they are made from."""
    return {
        "image_batches": ALL_IMAGE_BATCHES,
        "images": sorted({spec.path for spec in IMAGES.values()}),
    }


def graph_params(wildcards):
    """Footprint paths in input order, and everything the footprints are made from."""
    return {
        "pair_batches": config["pair_batches"],
        "footprints": FOOTPRINTS,
        "made_from": {
            "images": {i: spec.as_params() for i, spec in IMAGES.items()},
            "stepsize": config["stepsize"],
            "groups": config["groups"],
        },
    }


@functools.lru_cache(maxsize=4)
def _batches(pairs_path, mtime):
    # imported here: astropy.table is needed only after the checkpoint
    from skymatchflow.overlapgraph import read_batches

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


# A pair batch reads footprints and masks inside image batch directories,
# which are ancient() inputs for it: an image batch re-run keeps its unchanged
# products, and must not re-run every pair batch. What those products are made
# of is declared instead, as the input files (their mtimes) and the
# parameters ("made_from" in params), so a batch re-runs exactly when a product
# it reads can have changed. This is safe because any image batch re-run also
# re-runs the overlap graph (a checkpoint), and Snakemake evaluates the pair
# batches only after it, when the image batches are done.
def pair_batch_inputs(wildcards):
    """Every file a batch's pixels and geometry come from."""
    images = batch_images(wildcards.batch)
    return {
        "image_batches": [ancient(path) for path in image_batch_dirs(images)],
        "images": input_files(images),
    }


def pair_batch_params(wildcards):
    """The batch's pairs, its members' files, what their products are made from, and the statistic."""
    images = batch_images(wildcards.batch)
    return {
        "stat": stat_kwargs(config) | pair_options(config),
        "made_from": {
            "images": {i: IMAGES[i].as_params() for i in images},
            "stepsize": config["stepsize"],
            "dqbits": config["dqbits"],
        }
        | EXCLUDE,
        "batch": {
            "pairs": pair_batches()[wildcards.batch],
            "images": {
                i: {
                    "file": IMAGES[i].path,
                    "sci": IMAGES[i].sci,
                    "footprint": image_product(i, "footprint"),
                    "mask": image_product(i, "mask"),
                }
                for i in images
            },
        },
    }


def pair_batch_dirs(wildcards):
    """All pair batch directories (the final targets of the pair stage)."""
    return expand("results/pairs/{batch}", batch=sorted(pair_batches()))


def solve_params(wildcards):
    """The solve's parameters, its per-image files, and the whole config for the table's metadata."""
    return {
        "skymethod": config["skymethod"],
        "match_down": config["match_down"],
        "subtract": config["subtract"],
        "footprints": FOOTPRINTS,
        "skies": (
            [] if USER_SKIES else [image_product(image, "sky") for image in IMAGES]
        ),
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
def solve_skylist(wildcards):
    """The skylist, for skymethod 'user'."""
    return [config["skylist"]] if USER_SKIES else []


def solve_graph_files(name):
    """The overlap graph's tables, read by the solve when a match is asked for."""
    return [f"results/overlaps/{name}.ecsv"] if MATCHING else []


def solve_pairs(wildcards):
    """Every pair batch directory, when a match is asked for (waits for the checkpoint)."""
    return pair_batch_dirs(wildcards) if MATCHING else []
