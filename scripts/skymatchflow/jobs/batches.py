"""Stable batches: how images and pairs are grouped into jobs.

A batch depends only on the item itself (SHA-256, not Python's salted
``hash``), so adding or removing items never moves the others between jobs.
Images are batched by their key. Pairs are batched by the sky cell of their
first side (geometry/skycells.py), so that one pair job reads most of an
image's pairs and the others need not load it again.
"""

import hashlib

from skymatchflow.geometry.skycells import sky_cell

PAIR_FIELDS = ("pair", "group_a", "group_b", "members_a", "members_b")  # what a pair is (its key is made of these)
PAIR_POSITION = ("ra_a", "dec_a", "size_a")  # where a pair is: its first side's overlapping members (degrees)


def batch_name(key, n_batches, prefix):
    """``prefix`` + the 3-digit batch of ``key`` among ``n_batches``."""
    digest = hashlib.sha256(str(key).encode()).hexdigest()
    return f"{prefix}{int(digest[:12], 16) % n_batches:03d}"


def pair_batch_of(pair, n_batches):
    """The pair batch of a group pair: the batch of the sky cell of its first side (stable under additions)."""
    cell = sky_cell(*(float(pair[name]) for name in PAIR_POSITION))
    return batch_name(":".join(str(c) for c in cell), n_batches, "b")


def batch_pairs(pairs, n_batches):
    """{batch: [pairs in list order]}: the pair batches of the overlap graph's pairs."""
    batches = {}
    for pair in pairs:
        batches.setdefault(pair_batch_of(pair, n_batches), []).append(pair)
    return batches
