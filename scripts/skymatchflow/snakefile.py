"""The package as the Snakefile sees it: every name the workflow's rule files use, from this one module.

The Snakefile and its rule files import from here only
(tests/unit/test_layers.py), so the package's modules can move without
touching them, and a reader sees in one place what Snakemake's process
runs. Cheap to import: nothing here imports numpy or astropy (Snakemake
reads it at every start); what a run needs only sometimes is imported
when first called.
"""

from skymatchflow import __version__
from skymatchflow.demo.names import demo_file_names
from skymatchflow.geometry.skywcs import describe_policy, looks_like_jwst
from skymatchflow.io.codeid import rule_digest
from skymatchflow.io.headerchecks import check_headers, image_places
from skymatchflow.io.inputchecks import check_listed_files_exist, stop_on_bad_input
from skymatchflow.io.inputs import discover_images
from skymatchflow.io.layoutcache import LayoutCache
from skymatchflow.io.skylist import read_skylist
from skymatchflow.io.stagefiles import stat_signature
from skymatchflow.io.startskips import describe_refused, refused_images
from skymatchflow.jobs import jobresources, slurmfailures, slurmpolling, slurmsite
from skymatchflow.jobs.batches import assign_image_batches, batch_counts
from skymatchflow.jobs.config import check_config, shipped_config
from skymatchflow.jobs.exitwait import cancel_rescheduling_timers
from skymatchflow.jobs.failures import print_failure_summary
from skymatchflow.jobs.identity import job_identity, missing_stage_files, params_identity, request_path, write_request
from skymatchflow.jobs.paramfiles import by_digest
from skymatchflow.products import ruleparams
from skymatchflow.solve.anchors import check_anchor_names

__all__ = [
    "LayoutCache", "__version__", "assign_image_batches", "batch_counts", "by_digest", "cancel_rescheduling_timers",
    "check_anchor_names", "check_config", "check_headers", "check_listed_files_exist", "demo_file_names",
    "describe_policy", "describe_refused", "discover_images", "image_places", "job_identity", "jobresources",
    "looks_like_jwst", "missing_stage_files", "params_identity", "print_failure_summary", "read_plan", "read_skylist",
    "refused_images", "request_path", "rule_digest", "ruleparams", "shipped_config", "slurmfailures", "slurmpolling",
    "slurmsite", "start_of_run", "stat_signature", "stop_on_bad_input", "write_request",
]


def read_plan(path):
    """A pair batch's plan (jobs/plans.read_plan), imported when a run first reads one."""
    from skymatchflow.jobs.plans import read_plan as read

    return read(path)


def start_of_run(*args, **kwargs):
    """The run's batches in one line (jobs/runprogress.start_of_run), imported when a run starts jobs."""
    from skymatchflow.jobs.runprogress import start_of_run as start

    return start(*args, **kwargs)
