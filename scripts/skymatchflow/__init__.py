"""skymatchflow: the algorithm behind the skymatch Snakemake workflow.

Each module has one job (reading inputs, masks, footprints, statistics, ...);
the rule entry points in ``scripts/`` only glue them to Snakemake's files.
"""

# The one place the version is written (semantic versioning): CHANGELOG.md's
# latest entry and CITATION.cff say the same (tests/unit/test_version.py); every
# job log starts with it and every result records it.
__version__ = "0.2.0"

__all__ = ["__version__"]
