"""How a statistic engine says "no value" or "give up, use the exact engine"."""


class NoValue(Exception):
    def __init__(self, reason: str, npix: int = 0):
        super().__init__(reason)
        self.reason = reason
        self.npix = npix


class Fallback(Exception):
    """The fast engine's assumptions do not hold: restart on the sorted engine."""
