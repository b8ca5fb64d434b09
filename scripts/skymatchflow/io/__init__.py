"""Files in and out: input discovery and checks, FITS reading, stage files and the product store.

Every input is opened read-only; every output is written under a temporary
name and renamed; every failure is one line naming the file (skymatchflow/errors.py).
"""

# the modules other sub-packages, the entry scripts and the Snakefile use (tests/unit/test_layers.py); the rest are internal
__all__ = ["codeid", "fitsseal", "headerchecks", "inputchecks", "inputs", "layoutcache", "maskfile", "openfiles",
    "pinnedfiles", "readers", "skylist", "stagefiles", "startskips"]
