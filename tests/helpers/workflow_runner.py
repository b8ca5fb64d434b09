"""Run the real workflow with Snakemake in a scratch directory (for e2e tests)."""

import subprocess
import sys

import yaml

from helpers.paths import REPO

SNAKEFILE = REPO / "workflow" / "Snakefile"


def write_config(workdir, **config):
    (workdir / "config").mkdir(parents=True, exist_ok=True)
    path = workdir / "config" / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def run_snakemake(workdir, *args, timeout=900):
    """Snakemake on the repo's Snakefile with ``workdir`` as working directory.

    Guarded by ``timeout -s KILL`` (the scheduler can ignore SIGTERM).
    """
    command = [
        "timeout", "-s", "KILL", str(timeout),
        sys.executable, "-m", "snakemake",
        "--snakefile", str(SNAKEFILE),
        "--directory", str(workdir),
        "--cores", "2",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, cwd=workdir)


def image_product(workdir, image, product):
    """The path of one image's product ("footprint", "mask" or "sky") in its batch directory."""
    from skymatchflow.products.images import SUFFIXES

    found = list((workdir / "results" / "images").glob(f"*/{image}{SUFFIXES[product]}"))
    assert len(found) == 1, f"{image} {product}: {found}"
    return found[0]


def copy_run(workdir, tmp_path):
    """A copy of a finished run (inputs, results, Snakemake's records) to change without touching it."""
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(workdir, copy, symlinks=True)
    return copy
