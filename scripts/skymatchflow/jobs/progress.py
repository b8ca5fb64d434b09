"""Progress lines for long loops: every few percent, with the rate and the time left.

A pair batch of 20,000 pairs, or an image batch of 2,000 large images, runs
for minutes; its log (and the console) says which batch, how far it is and
about how long it still needs. Parallel batches interleave their lines, so
each line starts with the batch's name.
"""

import logging
import time

from skymatchflow.jobs import runprogress
from skymatchflow.jobs.runprogress import time_left


class Progress:
    """Counts steps of a loop of known length and logs a line every ``every`` percent."""

    def __init__(self, total, what, every=5.0, log=logging.info, clock=time.monotonic, name="", stage=None):
        self.total, self.what, self.log, self.clock = total, what, log, clock
        self.name, self.stage = name, stage  # stage: also count across the stage's batches (runprogress)
        self.prefix = f"{name}: " if name else ""
        self.step_size = max(1, int(total * every / 100.0))
        self.done = 0
        self.start = clock()

    def step(self, count=1):
        """Record ``count`` finished steps; log when a multiple of the line interval is crossed."""
        before = self.done
        self.done += count
        if self.done // self.step_size > before // self.step_size or self.done == self.total:
            elapsed = max(self.clock() - self.start, 1e-9)
            rate = self.done / elapsed
            self.log(
                "%s%d/%d %s (%.0f %%), %.1f %s/s%s%s",
                self.prefix, self.done, self.total, self.what, 100.0 * self.done / max(self.total, 1),
                rate, self.what, time_left((self.total - self.done) / rate if rate > 0 else 0.0),
                self._overall(elapsed),
            )

    def _overall(self, elapsed):
        """The stage's count across its batches (' | all 4 batches: ...'), or ''."""
        if not (self.stage and self.name):
            return ""
        runprogress.record(self.stage, self.name, self.done, self.total, elapsed)
        return runprogress.overall_text(self.stage, self.what)


def tracked(items, what, every=5.0, log=logging.info, clock=time.monotonic, name="", stage=None):
    """Yield ``items``, counting each one as done when the loop asks for the next."""
    progress = Progress(len(items), what, every, log, clock, name, stage)
    if stage and name:  # counted from the start, so the other batches see this one's size
        progress._overall(0.0)
    for item in items:
        yield item
        progress.step()
