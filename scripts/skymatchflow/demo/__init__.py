"""The embedded demo mosaic and synthetic scenes with injected truth, and their comparison with it."""

# the modules other sub-packages, the entry scripts and the Snakefile use (tests/unit/test_layers.py); the rest are internal
__all__ = ["compare", "generate", "names"]
