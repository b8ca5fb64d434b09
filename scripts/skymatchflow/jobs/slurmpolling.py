"""SLURM job states polled at the profile's interval, without the executor plugin's back-off.

snakemake-executor-plugin-slurm 2.8.0 waits 10 s longer before its next
status call after every call in which no job had finished (up to 180 s), and
goes back to ``slurm-init-seconds-before-status-checks`` once one has. A
stage of jobs that run 30-40 s is therefore seen up to 30 s after its end,
and the run's last job up to that long before Snakemake exits (it waits for
the poller's sleep). With the wait capped at ``seconds-between-status-checks``
the profile's entry means what it says: one ``squeue``/``sacct`` call for all
of the run's jobs at most every that many seconds (measured in
README.md, "Work per job").
"""

__all__ = ["cap_status_interval"]


def cap_status_interval(executor_class, seconds):
    """Make ``executor_class`` wait at most ``seconds`` between status polls.

    The wait lives in the executor interface's property
    ``next_seconds_between_status_checks``, which the plugin sets after each
    poll; the cap wraps its setter on the plugin's class. Returns False (and
    changes nothing) if the class has no such property, i.e. the plugin's
    interface changed.
    """
    interval = getattr(executor_class, "next_seconds_between_status_checks", None)
    if not isinstance(interval, property) or interval.fset is None:
        return False
    setter = getattr(interval.fset, "_uncapped", interval.fset)

    def capped(self, value):
        setter(self, value if value is None else min(value, seconds))

    capped._uncapped = setter
    executor_class.next_seconds_between_status_checks = property(interval.fget, capped)
    return True
