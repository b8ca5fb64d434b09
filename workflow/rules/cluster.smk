# Cluster runs only (the SLURM executor plugin): before any job, a status
# command that cannot see this site's jobs stops the run with the option to
# add, and job states are polled every seconds-between-status-checks (the
# plugin would back off by 10 s after each poll that saw no job end); after
# a failure, one line per failed SLURM job with its rule, batch and cause,
# including what SLURM killed (memory, time limit, cancel), which the
# plugin does not report without sacct. Local runs are unaffected.
import sys
import time

from skymatchflow.snakefile import slurmfailures, slurmpolling, slurmsite

RUN_STARTED = time.time()


def slurm_settings():
    """The SLURM plugin's settings in the main Snakemake, else None."""
    plugin = workflow.executor_plugin
    if not workflow.is_main_process or plugin is None or plugin.name != "slurm":
        return None
    return workflow.executor_settings


def start_slurm_run():
    """Before any job (the Snakefile's onstart calls it: Snakemake keeps one onstart): stop at once on a
    status command that cannot see this site's jobs; cap the plugin's status poll interval.
    """
    settings = slurm_settings()
    if settings is not None:
        problem = slurmsite.status_command_problem(
            getattr(settings, "status_command", None)
        )
        if problem:
            print(problem, file=sys.stderr)
            sys.exit(1)
        from snakemake_executor_plugin_slurm import Executor

        slurmpolling.cap_status_interval(
            Executor,
            workflow.remote_execution_settings.seconds_between_status_checks,
        )


def print_slurm_failures():
    """One line per failed SLURM job (the Snakefile's onerror calls it: Snakemake keeps one onerror)."""
    settings = slurm_settings()
    if settings is not None:
        logdir = getattr(settings, "logdir", None) or ".snakemake/slurm_logs"
        for line in slurmfailures.failure_lines(logdir, RUN_STARTED):
            print(line, file=sys.stderr)
