"""Stable batches: how images and pairs are grouped into jobs.

A batch depends only on the item itself (SHA-256, not Python's salted
``hash``), so adding or removing items never moves the others between jobs.
Both are batched by sky cell (geometry/skycells.py): an image by the cell
of its header's position, a pair by the cell of its first side's first
member, with the same hash, so pair batch bNNN holds the pairs led by the
images of image batch iNNN (at equal batch counts). One pair job thus reads
mostly one image batch, and an added image re-runs one image batch and the
pair batches of its cell only. An image with no position (no header yet:
the demo's, or refused at start) is batched by its id.
"""

import hashlib

from skymatchflow.geometry.skycells import cell_key

PAIR_FIELDS = ("pair", "group_a", "group_b", "members_a", "members_b")  # what a pair is (its key is made of these)
PAIR_POSITION = ("ra_a", "dec_a", "size_a")  # where a pair is: its first side's first overlapping member (degrees)


def batch_name(key, n_batches, prefix):
    """``prefix`` + the 3-digit batch of ``key`` among ``n_batches``."""
    digest = hashlib.sha256(str(key).encode()).hexdigest()
    return f"{prefix}{int(digest[:12], 16) % n_batches:03d}"


def image_batch_of(image, n_batches, position=None):
    """The image batch of an image: that of the sky cell of ``position`` ((ra, dec, size) in degrees), else of
    its id (stable under additions either way)."""
    return batch_name(image if position is None else cell_key(*position), n_batches, "i")


def pair_batch_of(pair, n_batches):
    """The pair batch of a group pair: the batch of the sky cell of its first side (stable under additions)."""
    return batch_name(cell_key(*(float(pair[name]) for name in PAIR_POSITION)), n_batches, "b")


def batch_pairs(pairs, n_batches):
    """{batch: [pairs in list order]}: the pair batches of the overlap graph's pairs."""
    batches = {}
    for pair in pairs:
        batches.setdefault(pair_batch_of(pair, n_batches), []).append(pair)
    return batches


AUTO = "auto"
SECONDS_PER_PIXEL = 0.3e-6  # an image batch's CPU per input pixel (256x256: 0.02 s, 2048x2048: 1.2 s; README)
# (seconds of image work at least, batches): two batches once the work outweighs a job's second of imports
# (two cores finish it sooner), more only for larger runs, where a smaller batch makes an added image's
# re-run shorter (it checks every product of its batch) at one more import per batch
AUTO_STEPS = ((128.0, 8), (32.0, 4), (4.0, 2))


def auto_batch_count(pixels):
    """The image batch count for ``image_batches: auto``, from the inputs' total pixel count.

    1, 2, 4 or 8 (AUTO_STEPS): 2 from 13 million pixels (204 images of
    256x256, 4 of 2048x2048), 4 from 107 million (1,630 of 256x256, 26 of
    2048x2048), 8 from 427 million. Steps, so that growing inputs change the
    count (which re-batches every image, linking products from the store)
    only at a few sizes.
    """
    work = pixels * SECONDS_PER_PIXEL
    return next((count for least, count in AUTO_STEPS if work >= least), 1)


def batch_counts(image_batches, pair_batches, pixels):
    """(image batches, pair batches) from the config's values (an integer or 'auto') and the total pixel count.

    An explicit integer is kept; 'auto' pair batches follow the image
    batches, so the two stages' batches cover the same sky cells.
    """
    images = auto_batch_count(pixels) if image_batches == AUTO else int(image_batches)
    pairs = images if pair_batches == AUTO else int(pair_batches)
    return images, pairs
