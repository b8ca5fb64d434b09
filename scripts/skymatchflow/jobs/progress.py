"""Progress lines for long loops: every few percent, with the rate.

A pair batch of 20,000 pairs runs for minutes; its log says how far it is.
"""

import logging
import time


class Progress:
    """Counts steps of a loop of known length and logs a line every ``every`` percent."""

    def __init__(self, total, what, every=5.0, log=logging.info, clock=time.monotonic):
        self.total, self.what, self.log, self.clock = total, what, log, clock
        self.step_size = max(1, int(total * every / 100.0))
        self.done = 0
        self.start = clock()

    def step(self, count=1):
        """Record ``count`` finished steps; log when a multiple of the line interval is crossed."""
        before = self.done
        self.done += count
        if self.done // self.step_size > before // self.step_size or self.done == self.total:
            elapsed = max(self.clock() - self.start, 1e-9)
            self.log(
                "%d/%d %s (%.0f %%), %.1f %s/s",
                self.done, self.total, self.what, 100.0 * self.done / max(self.total, 1),
                self.done / elapsed, self.what,
            )


def tracked(items, what, every=5.0, log=logging.info, clock=time.monotonic):
    """Yield ``items``, counting each one as done when the loop asks for the next."""
    progress = Progress(len(items), what, every, log, clock)
    for item in items:
        yield item
        progress.step()
