"""The preview product's parameters: its size and how its WCS is made, which its key holds.

Apart from the stage that makes previews (stages/preview.py) so that the
products' keys (products/images.py) need nothing from the stages.
"""

__all__ = ["FINER_PREVIEWS", "PREVIEW_SIZE", "PREVIEW_WCS", "preview_size"]

PREVIEW_SIZE = 48  # pixels along the longer side at most: 9 KB of float32
# finer previews for a field of few images, where they cost little: (fewer images than, size)
FINER_PREVIEWS = ((16, 192), (64, 96))
# in the preview's key: how its WCS is made
PREVIEW_WCS = "rebinned when undistorted and in ICRS or FK5 J2000, else TAN fit in ICRS"


def preview_size(n_images):
    """The previews' longer side for a run of ``n_images``: PREVIEW_SIZE, finer below 64 and 16 images.

    The mosaic is as fine as the previews, and a small field's few previews
    are cheap (16 of 192 x 192: 2.4 MB). In steps, so adding an image to a
    survey changes the previews' key (and re-makes them) only at a step.
    """
    return next((size for below, size in FINER_PREVIEWS if n_images < below), PREVIEW_SIZE)
