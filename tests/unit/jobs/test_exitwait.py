"""onsuccess cancels Snakemake's pending re-evaluation timer (jobs/exitwait), and no other timer."""

import threading

from skymatchflow.jobs.exitwait import cancel_rescheduling_timers


class JobScheduler:
    """Stands in for Snakemake's scheduler: the same method name, the same kind of timer."""

    def __init__(self):
        self.released = []

    def _schedule_reevalutation(self, delay):
        timer = threading.Timer(delay, lambda: self.released.append(True))
        timer.start()
        return timer


def test_only_the_schedulers_timer_is_cancelled():
    scheduler = JobScheduler()
    pending = scheduler._schedule_reevalutation(60.0)
    other = threading.Timer(60.0, lambda: None)
    other.start()
    try:
        assert cancel_rescheduling_timers() == 1
        pending.join(timeout=5)
        assert not pending.is_alive()  # Python no longer waits for it at exit
        assert scheduler.released == []
        assert other.is_alive()
    finally:
        other.cancel()
        pending.cancel()
    assert cancel_rescheduling_timers() == 0
