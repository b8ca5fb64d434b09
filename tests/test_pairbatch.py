"""Pair batches: one file per pair; unchanged pairs are kept, changed ones recomputed."""

import json

import numpy as np
import pytest
from astropy.io import fits

from conftest import tan_wcs, write_image
from skymatchflow.inputs import ImageSpec
from skymatchflow.maskfile import write_mask
from skymatchflow.pairbatch import run_batch
from skymatchflow.stagefiles import provenance, write_json
from skymatchflow.stages import footprint_record, sci_and_mask

STAT = {"skystat": "median", "lower": None, "upper": None, "nclip": 3, "lsigma": 4.0, "usigma": 4.0, "binwidth": 0.1}


def prepare(tmp_path, name, dx, dqbits=0):
    """Image file + footprint and mask stage files, as the per-image rules write them."""
    shape = (80, 90)
    path = tmp_path / f"{name}.fits"
    if not path.exists():
        dq = (np.arange(shape[0] * shape[1]).reshape(shape) % 7 == 0).astype(np.uint32) * 4
        write_image(path, shape=shape, dq=dq, wcs=tan_wcs(shape, crval=(150.1 + dx / 3600, 2.2)))
    spec = ImageSpec(name, str(path), "SCI")
    footprint = tmp_path / "fp" / f"{name}.json"
    write_json(footprint, footprint_record(spec, None, "none") | {"provenance": {}})
    mask = tmp_path / "mask" / f"{name}.fits"
    write_mask(mask, sci_and_mask(spec, dqbits)[1], name, provenance({"dqbits": dqbits}, {"image": str(path)}))
    return {"file": str(path), "sci": "SCI", "footprint": str(footprint), "mask": str(mask)}


def spec_for(images, pairs):
    return {
        "images": images,
        "pairs": [{"pair": f"{a}~{b}", "group_a": a, "group_b": b, "members_a": [a], "members_b": [b]}
                  for a, b in pairs],
    }


def test_unchanged_pairs_are_kept_and_new_or_changed_ones_computed(tmp_path):
    images = {name: prepare(tmp_path, name, dx) for name, dx in [("a", 0), ("b", 20), ("c", 40)]}
    out = tmp_path / "batch"
    assert run_batch(spec_for(images, [("a", "b")]), out, STAT) == (1, 0)
    first = json.loads((out / "a~b.json").read_text())
    assert first["valid"] and first["provenance"]["params"] == STAT

    # a new pair joins the batch: only it is computed
    assert run_batch(spec_for(images, [("a", "b"), ("b", "c")]), out, STAT) == (1, 1)
    assert json.loads((out / "a~b.json").read_text()) == first

    # c's mask is remade with other dqbits: only the pair with c is recomputed
    images["c"] = prepare(tmp_path, "c", 40, dqbits=4)
    assert run_batch(spec_for(images, [("a", "b"), ("b", "c")]), out, STAT) == (1, 1)

    # a new statistic recomputes everything; a pair that left the batch is removed
    assert run_batch(spec_for(images, [("b", "c")]), out, dict(STAT, skystat="mean")) == (1, 0)
    assert sorted(p.name for p in out.iterdir()) == ["b~c.json"]


def prepare_stored(tmp_path, name, dx, store):
    """``prepare`` for an image whose SCI is stored as scaled int16 or tile-compressed."""
    shape = (80, 90)
    path = tmp_path / f"{name}.fits"
    wcs_header = tan_wcs(shape, crval=(150.1 + dx / 3600, 2.2)).to_header()
    sci = np.random.default_rng(dx).normal(100.0, 5.0, shape).astype(np.float32)
    if store == "scaled":
        hdu = fits.ImageHDU(sci.copy(), header=wcs_header, name="SCI")
        hdu.scale("int16", bscale=0.01, bzero=100.0)
    else:
        hdu = fits.CompImageHDU(sci, header=wcs_header, name="SCI", quantize_level=0.0,
                                compression_type="GZIP_2")
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path)
    return prepare(tmp_path, name, dx)


@pytest.mark.parametrize("store", ["scaled", "compressed"])
def test_scaled_and_tile_compressed_images_in_the_pair_stage(tmp_path, store):
    """Archive data: int16 with BSCALE/BZERO, and tile-compressed SCI; both as the float image."""
    images = {"a": prepare_stored(tmp_path, "a", 0, store), "plain": prepare(tmp_path, "plain", 20)}
    out = tmp_path / "batch"
    assert run_batch(spec_for(images, [("a", "plain")]), out, STAT) == (1, 0)
    record = json.loads((out / "a~plain.json").read_text())
    assert record["valid"]
    # the same pair from an unscaled float copy of a's pixels gives the same statistics
    with fits.open(images["a"]["file"]) as hdul:
        pixels = np.array(hdul["SCI"].data, dtype=np.float32)
    assert abs(float(np.median(pixels)) - 100.0) < 1.0
    copy = tmp_path / "float"
    copy.mkdir()
    write_image(copy / "a.fits", shape=pixels.shape, sci=pixels,
                wcs=tan_wcs(pixels.shape, crval=(150.1, 2.2)))
    images_float = {"a": prepare(copy, "a", 0), "plain": images["plain"]}
    run_batch(spec_for(images_float, [("a", "plain")]), tmp_path / "batch_float", STAT)
    expected = json.loads((tmp_path / "batch_float" / "a~plain.json").read_text())
    assert record["a"]["sky"] == expected["a"]["sky"] and record["a"]["npix"] == expected["a"]["npix"]
    assert record["b"] == expected["b"]
