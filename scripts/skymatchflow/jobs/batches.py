"""Stable batches: how images and pairs are grouped into jobs.

An image's batch depends on where it lies (its header's position) and, on
a small field, on where the others lie; never on file order or on the
machine (SHA-256, not Python's salted ``hash``). Two ways, chosen per field
(assign_image_batches):

* a field spread over many sky cells (geometry/skycells.py; at least
  CELLS_PER_BATCH per batch, a survey): each cell's batch is a hash of the
  cell, so adding an image moves no other image, and re-runs one batch;
* a field of few cells (a mosaic of a few dozen detector images, which
  would fill only one or two batches by cell): the images in a fixed
  spatial order (Morton order of their position), cut into runs of equal
  pixel totals, so every batch gets its share of the work. An added image
  can move images at the cuts after it into the next batch: those batches
  re-run too, linking their products from the store.

A pair goes to the pair batch of the first member of its first side, by
the same rule, so pair batch bNNN holds the pairs led by the images of
image batch iNNN (at equal batch counts). An image with no position (no
header yet: the demo's, or refused at start) is batched by its id.
"""

import hashlib
import math

from skymatchflow.geometry.skycells import cell_key

PAIR_FIELDS = ("pair", "group_a", "group_b", "members_a", "members_b")  # what a pair is (its key is made of these)
PAIR_POSITION = ("ra_a", "dec_a", "size_a")  # where a pair is: its first side's first overlapping member (degrees)
# occupied sky cells per batch from which images are batched by cell (a hash of it: stable under additions,
# balanced enough over this many cells); a field of fewer cells is cut in spatial order into equal shares
CELLS_PER_BATCH = 16
MORTON_BITS = 21  # per axis of a unit vector: steps of 2**-20 rad (0.2 arcsec), 63 bits in all


def batch_name(key, n_batches, prefix):
    """``prefix`` + the 3-digit batch of ``key`` among ``n_batches``."""
    digest = hashlib.sha256(str(key).encode()).hexdigest()
    return f"{prefix}{int(digest[:12], 16) % n_batches:03d}"


def batch_of_image(image, n_batches, prefix="i"):
    """The batch of an image without a known position (the demo's files before they exist, refused files): by id."""
    return batch_name(image, n_batches, prefix)


def morton_key(position):
    """Where a position ((ra, dec, ...) in degrees) lies on a Z-order curve through 3-D unit-vector space.

    Fixed by the sky alone (no RA wrap, no pole problem); positions near on
    the sky are mostly near on the curve, so a run of it is a compact patch.
    """
    ra, dec = math.radians(position[0]), math.radians(position[1])
    xyz = (math.cos(dec) * math.cos(ra), math.cos(dec) * math.sin(ra), math.sin(dec))
    top = 2**MORTON_BITS - 1
    ints = [min(max(int((c + 1.0) * 2 ** (MORTON_BITS - 1)), 0), top) for c in xyz]
    key = 0
    for bit in range(MORTON_BITS - 1, -1, -1):
        for value in ints:
            key = (key << 1) | ((value >> bit) & 1)
    return key


def assign_image_batches(places, n_batches, prefix="i"):
    """{image: batch} of every image from ``places`` ({image: {"position": (ra, dec, size) or None, "pixels"}}).

    Depends on the images' positions and sizes only, never on their order.
    Over at least CELLS_PER_BATCH occupied sky cells per batch: each image
    in the batch of its cell (a hash), so an added image moves no other.
    Over fewer (a small mosaic, whose one or two cells would fill one
    batch): the images in Morton order, cut into ``n_batches`` runs of
    similar pixel totals (spatial_cuts). Images without a position: by id.
    """
    placed = {image: place["position"] for image, place in places.items() if place["position"] is not None}
    batches = {image: batch_of_image(image, n_batches, prefix) for image in places if image not in placed}
    cells = {image: cell_key(*position) for image, position in placed.items()}
    if len(set(cells.values())) >= CELLS_PER_BATCH * n_batches:
        batches.update({image: batch_name(cell, n_batches, prefix) for image, cell in cells.items()})
        return batches
    keys = {image: morton_key(position) for image, position in placed.items()}
    order = sorted(placed, key=lambda image: (keys[image], image))
    weights = [max(int(places[image]["pixels"]), 1) for image in order]
    cuts = spatial_cuts([keys[image] for image in order], weights, n_batches)
    for index, (start, stop) in enumerate(zip([0, *cuts], [*cuts, len(order)])):
        batches.update({image: f"{prefix}{index:03d}" for image in order[start:stop]})
    return batches


def spatial_cuts(keys, weights, n_batches):
    """Where to cut a run of images in Morton order (``keys`` ascending) into ``n_batches`` of similar pixel totals.

    Cut j lies within a sixth of a share of j/n of the total (so with equal
    images no batch holds more than twice another's pixels), at the gap
    between the two images farthest apart on the curve (the coarsest
    aligned cube boundary: the highest bit in which their keys differ; on
    a tie, by a hash of the boundary). That gap stays the choice while the
    window slides a little, so an added image rarely moves a cut: mostly
    only its own batch changes. Returns the n - 1 cut indices (ascending;
    a gap can be used once only, so with fewer images than batches the
    last batches stay empty).
    """
    total = sum(weights)
    before = [0]
    for weight in weights:
        before.append(before[-1] + weight)  # before[g]: the pixels before gap g (between images g - 1 and g)
    cuts, last = [], 0
    for j in range(1, n_batches):
        gaps = range(last + 1, len(keys))
        if not gaps:
            cuts.append(len(keys))
            continue
        # in integers: |pixels before the gap - j / n of the total| against a sixth of a share, times 6 n
        off = {g: abs(6 * n_batches * before[g] - 6 * j * total) for g in gaps}
        window = [g for g in gaps if off[g] <= total] or [min(gaps, key=lambda g: (off[g], g))]
        last = max(window, key=lambda g: _gap_rank(keys[g - 1], keys[g]))
        cuts.append(last)
    return cuts


def _gap_rank(left, right):
    """How good a cut the gap between two Morton keys is: the coarser the cube boundary between them, the better;
    among equal ones a hash of the boundary, a property of the sky alone, not of where the window lies."""
    level = (left ^ right).bit_length()
    return level, hashlib.sha256(str(right >> max(level - 1, 0)).encode()).hexdigest()


def batch_pairs(pairs, pair_batch_of_image):
    """{batch: [pairs in list order]}: each pair in the pair batch of its first side's first member.

    ``pair_batch_of_image``: {image: pair batch} (assign_image_batches with
    the pair batch count and prefix "b"), so pair batch bNNN holds the pairs
    led by image batch iNNN's images at equal counts.
    """
    batches = {}
    for pair in pairs:
        batches.setdefault(pair_batch_of_image[pair["members_a"][0]], []).append(pair)
    return batches


AUTO = "auto"
# An image batch's CPU: per image (header, WCS, four product files: a 256x256 image costs about this in all)
# plus per input pixel (hashing, reading, mask, preview, statistic: 0.17 s for a 2048x2048 image in all).
SECONDS_PER_IMAGE = 0.02
SECONDS_PER_PIXEL = 0.04e-6
# (seconds of image work at least, batches): two batches once the work outweighs a job's fixed cost
# (two cores finish it sooner), more only for larger runs, where a smaller batch makes an added image's
# re-run shorter (it checks every product of its batch) at one more job start per batch
AUTO_STEPS = ((128.0, 8), (32.0, 4), (2.0, 2))


def auto_batch_count(pixels, images):
    """The image batch count for ``image_batches: auto``, from the inputs' total pixel and image counts.

    1, 2, 4 or 8 (AUTO_STEPS) by the image work, SECONDS_PER_IMAGE per image
    plus SECONDS_PER_PIXEL per pixel: 2 from 89 images of 256x256 or 11 of
    2048x2048, 4 from 1,415 of 256x256 or 171 of 2048x2048, 8 from 5,659 of
    256x256. A job's start costs about 2 s of CPU (a Snakemake and a Python
    process), so large images, whose work is mostly per pixel, make fewer
    batches than the same pixels in small images: 64 images of 2048x2048 run
    as 2 batches, not 4. Steps, so that growing inputs change the count
    (which re-batches every image, linking products from the store) only at
    a few sizes.
    """
    work = images * SECONDS_PER_IMAGE + pixels * SECONDS_PER_PIXEL
    return next((count for least, count in AUTO_STEPS if work >= least), 1)


def batch_counts(image_batches, pair_batches, pixels, images):
    """(image batches, pair batches) from the config's values (an integer or 'auto') and the inputs' size.

    ``pixels``: the total pixel count; ``images``: the image count (see
    auto_batch_count). An explicit integer is kept; 'auto' pair batches
    follow the image batches, so the two stages' batches cover the same sky cells.
    """
    count = auto_batch_count(pixels, images) if image_batches == AUTO else int(image_batches)
    pairs = count if pair_batches == AUTO else int(pair_batches)
    return count, pairs
