"""Batches: chosen from where the images lie, never from their order; by sky cell on a survey, so additions
move nothing else there, and in equal shares of a spatial order on a small mosaic."""

import random

import numpy as np

from skymatchflow.geometry.skycells import centre_and_size, sky_cell
from skymatchflow.jobs.batches import (
    CELLS_PER_BATCH,
    assign_image_batches,
    batch_name,
    batch_of_image,
    batch_pairs,
    spatial_cuts,
)

TILE = 256 * 0.5 / 3600.0  # degrees: a survey image of 256 x 256 pixels of 0.5"


def test_batch_names_are_stable_and_in_range():
    names = [batch_name(f"image{k}", 7, "i") for k in range(200)]
    assert names == [batch_name(f"image{k}", 7, "i") for k in range(200)]  # no salted hash()
    assert set(names) <= {f"i{k:03d}" for k in range(7)} and len(set(names)) == 7


def survey_places(n, start=0):
    """{image: place} of a strip of two rows along the equator from RA 20, 0.8 of a tile apart (bench_workflow's)."""
    places = {}
    for k in range(start, start + n):
        col, row = divmod(k, 2)
        position = (20.0 + col * 0.8 * TILE, (row - 0.5) * 0.85 * TILE, 1.41 * TILE)
        places[f"srv_{k:05d}"] = {"position": position, "pixels": 256 * 256}
    return places


def mosaic_places(side, size=2048, scale=0.06, spacing=0.9):
    """{image: place} of a side x side grid of size x size images with 10 % overlap (bench_workflow's mosaic),
    their positions read from their headers as at a run's start."""
    from skymatchflow.geometry.skycells import header_position

    tile = size * scale / 3600.0 * spacing
    places = {}
    for iy in range(side):
        for ix in range(side):
            header, _ = tan_header(150.0 + ix * tile / np.cos(np.radians(2.0)), 2.0 + iy * tile,
                                   nx=size, ny=size, scale=scale, roll=0.0)
            places[f"mos_{iy:02d}_{ix:02d}"] = {"position": header_position(header), "pixels": size * size}
    return places


def pixel_totals(batches, places):
    totals = {}
    for image, batch in batches.items():
        totals[batch] = totals.get(batch, 0) + places[image]["pixels"]
    return totals


def test_small_mosaics_spread_over_every_batch_in_equal_shares():
    """Issue 29's regression: the 16 images of a 4 x 4 mosaic lie in a few sky cells, which hashed to ONE of two
    batches; now every batch holds a similar share of the pixels, and the pair batches follow the image batches."""
    for side, counts in ((4, (2, 3, 4, 8, 16)), (8, (2, 4, 8))):
        places = mosaic_places(side)
        for k in counts:
            batches = assign_image_batches(places, k)
            totals = pixel_totals(batches, places)
            assert sorted(totals) == [f"i{j:03d}" for j in range(k)], (side, k)  # every batch non-empty
            assert max(totals.values()) <= 2 * min(totals.values()), (side, k, totals)
            pairs = assign_image_batches(places, k, "b")
            assert all(pairs[image] == "b" + batch[1:] for image, batch in batches.items())


def test_a_mosaic_batch_is_a_compact_patch():
    """A batch is a run of a spatial order: its images are mostly neighbours, so a pair batch reads mostly one
    image batch. Batches by id would split 1 - 1/k of the grid's neighbour pairs; here under half of that."""
    places = mosaic_places(8)
    for k in (2, 4):
        batches = assign_image_batches(places, k)
        at = {(int(image[-5:-3]), int(image[-2:])): batch for image, batch in batches.items()}
        steps = ((0, 1), (1, 0))
        neighbours = [(p, (p[0] + y, p[1] + x)) for p in at for y, x in steps if (p[0] + y, p[1] + x) in at]
        split = sum(at[a] != at[b] for a, b in neighbours)
        assert split < len(neighbours) * (1 - 1 / k) / 2, (k, split)


def test_cuts_fall_near_equal_shares_and_prefer_coarse_boundaries():
    keys = [0b0001, 0b0010, 0b0011, 0b1000, 0b1001, 0b1010]
    assert spatial_cuts(keys, [1] * 6, 2) == [3]  # between 0b0011 and 0b1000: the coarsest boundary, at the middle
    assert spatial_cuts(keys, [1] * 6, 3) == [2, 4]
    assert spatial_cuts(keys[:2], [1, 1], 4) == [1, 2, 2]  # fewer images than batches: the last stay empty
    assert spatial_cuts(keys, [100, 1, 1, 1, 1, 1], 2) == [1]  # by pixels, not by count


def test_batches_do_not_depend_on_the_order_of_the_images():
    for places, k in ((mosaic_places(4), 2), (mosaic_places(8), 4), (survey_places(600), 4)):
        batches = assign_image_batches(places, k)
        names = list(places)
        random.Random(7).shuffle(names)
        assert assign_image_batches({name: places[name] for name in names}, k) == batches


def test_on_a_survey_an_added_image_moves_no_other_and_its_pairs_follow_its_cell():
    """Over many sky cells an image's batch is its cell's: one added image re-runs one image batch, and the pair
    batches it leads are the same-numbered ones (issue 29)."""
    places = survey_places(600)
    n_cells = len({sky_cell(*place["position"]) for place in places.values()})
    assert n_cells >= CELLS_PER_BATCH * 4  # the survey regime at 4 batches
    batches = assign_image_batches(places, 4)
    assert set(batches.values()) == {f"i{k:03d}" for k in range(4)}
    for added in (survey_places(1, start=600), survey_places(1, start=-1), {"extra": places["srv_00301"]}):
        grown = assign_image_batches(places | added, 4)
        assert {image: grown[image] for image in places} == batches
    # neighbours share a batch (a cell is a few footprints wide); batches by id would change at 3 of 4 steps
    names = [batches[image] for image in places]
    assert 0 < sum(a != b for a, b in zip(names, names[1:])) < len(names) / 4
    pairs = [{"pair": f"{a}~{b}", "members_a": [a], "members_b": [b]} for a, b in zip(places, list(places)[1:])]
    by_pair_batch = batch_pairs(pairs, assign_image_batches(places, 4, "b"))
    for batch, members in by_pair_batch.items():
        assert all(batches[p["members_a"][0]] == "i" + batch[1:] for p in members)
        assert members == [p for p in pairs if batches[p["members_a"][0]][1:] == batch[1:]]  # in list order


def test_images_without_a_position_are_batched_by_their_id():
    places = mosaic_places(4) | {"demo_nrca1": {"position": None, "pixels": 0}}
    batches = assign_image_batches(places, 2)
    assert batches["demo_nrca1"] == batch_of_image("demo_nrca1", 2) == batch_name("demo_nrca1", 2, "i")
    assert assign_image_batches({"x": {"position": None, "pixels": 0}}, 1) == {"x": "i000"}


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


def test_auto_batch_counts_from_the_image_count_give_large_images_fewer_batches():
    """With the image count, the work is per image plus per pixel: the same pixels in fewer, larger images
    make fewer batches (a job's start outweighs a batch of them), while a survey of small images keeps its 4."""
    from skymatchflow.jobs.batches import auto_batch_count, batch_counts

    small, big = 256 * 256, 2048 * 2048

    def count(n, size):
        return auto_batch_count(n * size, n)

    assert count(16, small) == 1 and count(2, big) == 1 and auto_batch_count(0, 0) == 1
    counts = [count(n, small) for n in range(1, 20001, 50)]
    assert counts == sorted(counts) and set(counts) == {1, 2, 4, 8}
    assert count(16, big) == 2  # two parallel batches pay for their job starts at 16 x 2048x2048
    assert count(64, big) == 2  # 4 batches before: two more job starts for the same 2 cores
    assert count(2000, small) == 4 and count(500, small) == 2  # the survey's batches (and add-one scope) stay
    assert batch_counts("auto", "auto", 64 * big, 64) == (2, 2)  # pair batches follow: the same cells
    assert batch_counts(4, "auto", 64 * big, 64) == (4, 4) and batch_counts("auto", 3, 64 * big, 64) == (2, 3)


def test_explicit_batch_counts_are_kept():
    from skymatchflow.jobs.batches import batch_counts

    small, big = 256 * 256, 2048 * 2048
    assert batch_counts("auto", "auto", 16 * big, 16) == (2, 2)  # pair batches follow: the same cells
    assert batch_counts(3, "auto", 16 * big, 16) == (3, 3)
    assert batch_counts("auto", 5, 16 * small, 16) == (1, 5)
    assert batch_counts(4, 4, 0, 0) == (4, 4)
