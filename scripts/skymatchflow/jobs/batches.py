"""Stable batches: how images and pairs are grouped into jobs.

A batch depends only on the item's own key (SHA-256, not Python's salted
``hash``), so adding or removing items never moves the others between jobs.
"""

import hashlib


def batch_name(key, n_batches, prefix):
    """``prefix`` + the 3-digit batch of ``key`` among ``n_batches``."""
    digest = hashlib.sha256(str(key).encode()).hexdigest()
    return f"{prefix}{int(digest[:12], 16) % n_batches:03d}"


def pair_batch_of(pair, n_batches):
    """The pair batch of a group pair: chosen by its first group alone (stable under additions)."""
    return batch_name(pair["group_a"], n_batches, "b")


def batch_pairs(pairs, n_batches):
    """{batch: [pairs in list order]}: the pair batches of the overlap graph's pairs."""
    batches = {}
    for pair in pairs:
        batches.setdefault(pair_batch_of(pair, n_batches), []).append(pair)
    return batches
