"""Runs on the demo's images copied as a user's own files (test_faults, test_provenance)."""

import yaml

from helpers.paths import REPO

TABLES = ("sky.ecsv", "pair_differences.ecsv")


def config_with(**changes):
    """The demo's images (copied under data/, so they are the user's own inputs), each its own group."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config.update(images=["data/*.fits"], groups="none", demo={"detector_size": 128})
    config.update(changes)
    return config


def write_config(workdir, config):
    (workdir / "config").mkdir(parents=True, exist_ok=True)
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(config))


def tables(workdir):
    """The bytes of the solve's tables, to compare runs."""
    return {name: (workdir / "results" / name).read_bytes() for name in TABLES}
