"""Batches: chosen from an item's own key, so additions move nothing else."""

import numpy as np

from skymatchflow.geometry.skycells import centre_and_size, sky_cell
from skymatchflow.jobs.batches import batch_name, batch_pairs, pair_batch_of


def test_batch_names_are_stable_and_in_range():
    names = [batch_name(f"image{k}", 7, "i") for k in range(200)]
    assert names == [batch_name(f"image{k}", 7, "i") for k in range(200)]  # no salted hash()
    assert set(names) <= {f"i{k:03d}" for k in range(7)} and len(set(names)) == 7


def strip_pairs(n, start=0, size=0.03):
    """Pairs of a strip of images along the equator from RA 10, ``size`` degrees wide, 0.8 of a size apart."""
    return [{"pair": f"g{k}~g{k + 1}", "group_a": f"g{k}", "group_b": f"g{k + 1}",
             "ra_a": 10.0 + 0.8 * size * k, "dec_a": 0.01, "size_a": size} for k in range(start, start + n)]


def test_pairs_are_batched_by_their_sky_cell_and_keep_their_order():
    pairs = strip_pairs(600)
    batches = batch_pairs(pairs, 3)
    assert sorted(p["pair"] for ps in batches.values() for p in ps) == sorted(p["pair"] for p in pairs)
    assert len(batches) == 3
    for name, members in batches.items():
        assert all(pair_batch_of(p, 3) == name for p in members)
        assert members == [p for p in pairs if pair_batch_of(p, 3) == name]
    grown = batch_pairs(pairs + strip_pairs(50, start=600) + strip_pairs(5, start=-5), 3)
    for name, members in batches.items():  # added pairs, at the ends and anywhere, move no other pair
        assert [p for p in grown[name] if p in pairs] == members


def test_neighbours_share_a_batch():
    """Along a strip, a pair's batch changes only at a cell's face, a few footprints apart.

    Batches by group id would change at 3 of 4 pairs.
    """
    pairs = strip_pairs(600)
    names = [pair_batch_of(p, 4) for p in pairs]
    changes = sum(a != b for a, b in zip(names, names[1:]))
    assert 0 < changes < len(pairs) / 4
    # a cell is a fixed piece of sky: the same position and size give the same batch whatever else there is
    assert pair_batch_of(dict(pairs[7], pair="x~y", group_a="x"), 4) == names[7]


def test_sky_cells_have_no_seam_at_ra_zero_or_the_equator():
    at = {(ra, dec): sky_cell(ra, dec, 0.03) for ra in (359.999, 0.001) for dec in (-0.001, 0.001)}
    assert len(set(at.values())) == 1
    assert sky_cell(10.0, 0.0, 0.03) != sky_cell(10.0, 0.0, 3.0)  # footprints of other sizes: another grid


def test_centre_and_size_of_footprints():
    square = np.array([[1.0, -0.001, -0.001], [1.0, 0.001, -0.001], [1.0, 0.001, 0.001], [1.0, -0.001, 0.001]])
    square /= np.linalg.norm(square, axis=1)[:, None]
    ra, dec, size = centre_and_size([square])
    assert abs(ra) < 1e-12 or abs(ra - 360.0) < 1e-12
    assert abs(dec) < 1e-12 and abs(size - 2 * np.degrees(np.arccos(square[0, 0]))) < 1e-12


def tan_header(ra, dec, nx=256, ny=200, scale=0.5, roll=20.0, cd=True):
    """A FITS header of a TAN image centred on (ra, dec), ``scale`` arcsec per pixel, rolled by ``roll`` degrees."""
    from astropy.wcs import WCS

    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [ra, dec]
    wcs.wcs.crpix = [(nx + 1) / 2, (ny + 1) / 2]
    c, s = np.cos(np.radians(roll)), np.sin(np.radians(roll))
    wcs.wcs.cd = scale / 3600.0 * np.array([[-c, s], [s, c]])
    header = wcs.to_header()
    if cd:
        for i in (1, 2):
            for j in (1, 2):
                header[f"CD{i}_{j}"] = header.pop(f"PC{i}_{j}", 0.0) * header.get(f"CDELT{i}", 1.0)
        header.remove("CDELT1")
        header.remove("CDELT2")
    header["NAXIS1"], header["NAXIS2"] = nx, ny
    return header, wcs


def test_header_position_is_the_footprint_centre_and_size():
    """The header's position (no WCS object) equals centre_and_size of the image's corners through astropy's WCS."""
    from skymatchflow.geometry.skycells import header_position

    for ra, dec, roll, cd in ((20.0, 0.01, 20.0, True), (359.99, -45.0, -70.0, False), (120.0, 88.0, 5.0, True)):
        header, wcs = tan_header(ra, dec, roll=roll, cd=cd)
        corners = wcs.all_pix2world([[0.5, 0.5], [256.5, 0.5], [256.5, 200.5], [0.5, 200.5]], 1)
        r, d = np.radians(corners[:, 0]), np.radians(corners[:, 1])
        points = np.c_[np.cos(d) * np.cos(r), np.cos(d) * np.sin(r), np.sin(d)]
        expected = centre_and_size([points])
        found = header_position(header)
        assert abs((found[0] - expected[0] + 180) % 360 - 180) < 1e-9 and abs(found[1] - expected[1]) < 1e-9
        assert abs(found[2] - expected[2]) < 1e-9
    header, _ = tan_header(20.0, 0.0)
    header["CTYPE1"], header["CTYPE2"] = "PIXEL", "PIXEL"
    assert header_position(header) is None  # no celestial WCS: batched by id
    del header["CRVAL1"]
    assert header_position(header) is None


def test_images_are_batched_by_sky_cell_stable_under_additions_and_aligned_with_pairs():
    """An image's batch follows from its own position (or id) only; a pair led by it goes to the same-numbered batch."""
    from skymatchflow.jobs.batches import image_batch_of

    size = 0.05
    images = {f"img{k}": (10.0 + 0.8 * 0.036 * k, 0.01, size) for k in range(300)}
    batches = {image: image_batch_of(image, 4, position) for image, position in images.items()}
    assert set(batches.values()) == {f"i{k:03d}" for k in range(4)}
    grown = dict(images, **{f"new{k}": (10.0 + 0.8 * 0.036 * (300 + k), -0.01, size) for k in range(20)})
    assert all(image_batch_of(image, 4, grown[image]) == batches[image] for image in images)
    # neighbours share a batch (a cell is a few footprints wide); batches by id would change at 3 of 4 steps
    names = list(batches.values())
    assert 0 < sum(a != b for a, b in zip(names, names[1:])) < len(names) / 4
    # without a position (the demo's files before they exist, a refused file): by id, as before
    assert image_batch_of("img7", 4) == batch_name("img7", 4, "i")
    for image, (ra, dec, s) in images.items():
        pair = {"pair": f"{image}~x", "ra_a": ra, "dec_a": dec, "size_a": s}
        assert pair_batch_of(pair, 4)[1:] == batches[image][1:]


def test_auto_batch_counts_grow_with_the_pixels_and_explicit_counts_are_kept():
    from skymatchflow.jobs.batches import auto_batch_count, batch_counts

    small, big = 256 * 256, 2048 * 2048
    assert auto_batch_count(16 * small) == 1 and auto_batch_count(0) == 1 and auto_batch_count(2 * big) == 1
    counts = [auto_batch_count(n * small) for n in range(1, 20001, 50)]
    assert counts == sorted(counts) and set(counts) == {1, 2, 4, 8}
    assert auto_batch_count(16 * big) == 2  # two parallel batches pay for their imports at 16 x 2048x2048
    assert auto_batch_count(2000 * small) == 4 and auto_batch_count(500 * small) == 2
    assert batch_counts("auto", "auto", 16 * big) == (2, 2)  # pair batches follow: the same cells
    assert batch_counts(3, "auto", 16 * big) == (3, 3)
    assert batch_counts("auto", 5, 16 * small) == (1, 5)
    assert batch_counts(4, 4, 0) == (4, 4)
