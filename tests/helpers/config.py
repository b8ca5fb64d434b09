"""The config as Snakemake sees it after validation: every schema default filled in."""

from pathlib import Path

import yaml

from helpers.paths import SCHEMA


def schema_defaults(schema_path=SCHEMA):
    """Every top-level config key that has a default in the schema, with it."""
    properties = yaml.safe_load(Path(schema_path).read_text())["properties"]
    return {key: spec["default"] for key, spec in properties.items() if "default" in spec}
