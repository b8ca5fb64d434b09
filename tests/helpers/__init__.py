"""Shared test helpers: paths, one synthetic image builder, runners for Snakemake and the reference."""
