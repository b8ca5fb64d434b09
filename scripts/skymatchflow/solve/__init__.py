"""From pair differences and whole-image skies to each group's sky: the reference's solve and its options."""

# the modules other sub-packages, the entry scripts and the Snakefile use (tests/unit/test_layers.py); the rest are internal
__all__ = ["anchors", "consistency", "plane_model", "robust", "skymatch", "verdict"]
