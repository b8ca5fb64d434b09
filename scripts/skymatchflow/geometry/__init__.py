"""Where images lie on the sky: footprints, the WCS used, pixel scan fill, overlap discovery."""

# the modules other sub-packages, the entry scripts and the Snakefile use (tests/unit/test_layers.py); the rest are internal
__all__ = ["candidates", "exactintersect", "footprint", "intersection", "overlaps", "scanfill", "skycells",
    "skyframe", "skywcs"]
