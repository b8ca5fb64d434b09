"""Which pixels count and what they measure: DQ flags, exclusions, the sky statistic, overlap statistics."""

# the modules other sub-packages, the entry scripts and the Snakefile use (tests/unit/test_layers.py); the rest are internal
__all__ = ["dqflags", "exclusions", "imagestats", "pairimage", "pairstats", "statparams"]
