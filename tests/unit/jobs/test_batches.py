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
