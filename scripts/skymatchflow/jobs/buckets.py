"""Stable hash buckets: how images and pairs are batched into jobs.

A bucket depends only on the item's own key (SHA-256, not Python's salted
``hash``), so adding or removing items never moves the others between jobs.
"""

import hashlib


def hash_bucket(key, n_buckets, prefix):
    """``prefix`` + the 3-digit bucket of ``key`` among ``n_buckets``."""
    digest = hashlib.sha256(str(key).encode()).hexdigest()
    return f"{prefix}{int(digest[:12], 16) % n_buckets:03d}"
