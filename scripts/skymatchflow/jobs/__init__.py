"""What the Snakefile and every job share: config checks, batches, resources, the rule runner, progress."""

# the modules other sub-packages, the entry scripts and the Snakefile use (tests/unit/test_layers.py); the rest are internal
__all__ = ["batches", "config", "exitwait", "failures", "identity", "jobresources", "paramfiles", "planfiles", "plans",
    "progress", "rulerunner", "runprogress", "slurmfailures", "slurmpolling", "slurmsite"]
