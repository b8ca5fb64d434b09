# Config validation, input discovery and input functions.
import sys
from pathlib import Path

from snakemake.utils import validate

sys.path.insert(0, str(Path(workflow.basedir).parent / "scripts"))

from skymatchflow.config import check_config
from skymatchflow.demo import demo_file_names
from skymatchflow.inputs import discover_images

CONFIG_SCHEMA = Path(workflow.basedir) / "schemas" / "config.schema.yaml"
check_config(config, CONFIG_SCHEMA)
validate(config, str(CONFIG_SCHEMA))

IMAGES = discover_images(config)
ENV = "../../envs/skymatch.yaml"
DEMO_DIR = "resources/demo"
DEMO_FILES = [f"{DEMO_DIR}/{name}" for name in demo_file_names()]


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
