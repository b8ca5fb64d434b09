"""The end of a successful run without Snakemake's idle second.

Snakemake's job rate limiter (``--max-jobs-per-timespan``, 100 jobs per
second by default) starts a one-second ``threading.Timer`` after each pass
that dispatches jobs, to look again once the second is over. The timer is
not a daemon thread, so after the last job Python waits for it before the
process exits: about 1 s at the end of every run that ran a job (measured:
1.0-1.1 s between Snakemake's return and the exit handlers; issue 29). The
timer only wakes a scheduler that has finished, so cancelling it changes
nothing else. The limit itself cannot be made shorter: Snakemake 9.27 reads
``100/100ms`` as 100 per 100 minutes.
"""

import threading

# the function of the timer, JobScheduler._schedule_reevalutation's lambda (Snakemake's spelling)
REEVALUATION = "_schedule_reevalutation"


def cancel_rescheduling_timers():
    """Cancel the scheduler's pending re-evaluation timers; the number cancelled.

    Called from the workflow's ``onsuccess``, after the scheduler returned.
    Other timers are left alone; a Snakemake that names its timer otherwise
    gets nothing cancelled (the second comes back, nothing breaks).
    """
    cancelled = 0
    for thread in threading.enumerate():
        if isinstance(thread, threading.Timer) and REEVALUATION in getattr(thread.function, "__qualname__", ""):
            thread.cancel()
            cancelled += 1
    return cancelled
