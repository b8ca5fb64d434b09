"""skymatchflow: the algorithm behind the skymatch Snakemake workflow.

Each module has one job (reading inputs, masks, footprints, statistics, ...);
the rule entry points in ``scripts/`` only glue them to Snakemake's files.
"""

__version__ = "0.1.0"
