"""Pair batches: one file per pair, linked from the store when its key is unchanged."""

import json
import shutil

import numpy as np
import pytest
from astropy.io import fits

from helpers.images import tan_wcs, write_image
from skymatchflow.errors import InputError
from skymatchflow.io.inputs import ImageSpec
from skymatchflow.products.images import PRODUCTS, product_path
from skymatchflow.stages.image_batch import run_image_batch
from skymatchflow.stages.pair_batch import run_batch

STAT = {"skystat": "median", "lower": None, "upper": None, "nclip": 3, "lsigma": 4.0, "usigma": 4.0, "binwidth": 0.1}


def make_images(tmp_path, dqbits=0):
    """Three overlapping images and their image batch (footprints, masks, skies) in i000."""
    shape = (80, 90)
    specs = {}
    for name, dx in [("a", 0), ("b", 20), ("c", 40)]:
        path = tmp_path / f"{name}.fits"
        if not path.exists():
            dq = (np.arange(shape[0] * shape[1]).reshape(shape) % 7 == 0).astype(np.uint32) * 4
            write_image(path, shape=shape, dq=dq, wcs=tan_wcs(shape, crval=(150.1 + dx / 3600, 2.2)))
        specs[name] = ImageSpec(name, str(path), "SCI")
    made_from = {
        "images": {name: spec.as_params() for name, spec in specs.items()},
        "stepsize": None, "groups": "none", "dqbits": dqbits, "stat": STAT, "wcs": "fits",
    }
    batch_dir = tmp_path / "images" / "i000"
    shutil.rmtree(batch_dir, ignore_errors=True)
    run_image_batch(dict(made_from, products=list(PRODUCTS)), batch_dir, store=tmp_path / "store")
    return specs, made_from, batch_dir


def batch_cfg(specs, made_from, batch_dir, pairs, stat=STAT):
    return {
        "stat": stat,
        "made_from": made_from,
        "batch": {
            "pairs": [{"pair": f"{a}~{b}", "group_a": a, "group_b": b, "members_a": [a], "members_b": [b]}
                      for a, b in pairs],
            "images": {
                name: {
                    "file": spec.file, "sci": "SCI", "batch_dir": str(batch_dir),
                    "footprint": str(product_path(batch_dir, name, "footprint")),
                    "mask": str(product_path(batch_dir, name, "mask")),
                }
                for name, spec in specs.items()
            },
        },
    }


def run(tmp_path, cfg):
    out = tmp_path / "pairs" / "b000"
    shutil.rmtree(out, ignore_errors=True)  # as Snakemake does before the job runs
    return run_batch(cfg, out, store=tmp_path / "store"), out


def test_unchanged_pairs_are_kept_and_new_or_changed_ones_computed(tmp_path):
    images = make_images(tmp_path)
    assert run(tmp_path, batch_cfg(*images, [("a", "b")]))[0] == (1, 0)
    out = tmp_path / "pairs" / "b000"
    first = json.loads((out / "a~b.json").read_text())
    assert first["valid"] and first["provenance"]["params"] == STAT

    # a new pair joins the batch: only it is computed
    assert run(tmp_path, batch_cfg(*images, [("a", "b"), ("b", "c")]))[0] == (1, 1)
    assert json.loads((out / "a~b.json").read_text()) == first

    # the masks are remade with other dqbits: every pair is recomputed
    images = make_images(tmp_path, dqbits=4)
    assert run(tmp_path, batch_cfg(*images, [("a", "b"), ("b", "c")]))[0] == (2, 0)

    # a new statistic recomputes everything; a pair that left the batch has no file
    assert run(tmp_path, batch_cfg(*images, [("b", "c")], stat=dict(STAT, skystat="mean")))[0] == (1, 0)
    assert sorted(p.name for p in out.iterdir()) == ["b~c.json"]
    # and the store keeps only what an output links to
    assert len(list((tmp_path / "store" / "pairs" / "b~c").iterdir())) == 1


def test_a_damaged_stored_pair_is_computed_again(tmp_path):
    images = make_images(tmp_path)
    (_, out) = run(tmp_path, batch_cfg(*images, [("a", "b")]))
    good = (out / "a~b.json").read_bytes()
    stored = next((tmp_path / "store" / "pairs" / "a~b").iterdir())
    stored.write_bytes(good.replace(b'"npix": ', b'"npix": 1', 1))  # in place: the output's link too
    assert run(tmp_path, batch_cfg(*images, [("a", "b")]))[0] == (1, 0)
    assert (out / "a~b.json").read_bytes() == good


@pytest.mark.parametrize("product", ["footprint", "mask"])
def test_a_missing_or_foreign_member_product_stops_with_the_repair(tmp_path, product):
    specs, made_from, batch_dir = make_images(tmp_path)
    product_path(batch_dir, "b", product).unlink()
    with pytest.raises(InputError, match=rf"b\.{product}.*missing; run: snakemake --forcerun .*i000"):
        run(tmp_path, batch_cfg(specs, made_from, batch_dir, [("a", "b")]))
    # products made under other parameters than the batch expects are refused too
    specs, made_from, batch_dir = make_images(tmp_path)
    other = dict(made_from, dqbits=4, stepsize=16)
    with pytest.raises(InputError, match="made from other inputs; run: snakemake --forcerun"):
        run(tmp_path, batch_cfg(specs, other, batch_dir, [("a", "b")]))


def test_an_input_replaced_after_its_products_were_made_stops_the_batch(tmp_path):
    specs, made_from, batch_dir = make_images(tmp_path)
    path = tmp_path / "b.fits"
    content = bytearray(path.read_bytes())
    content[-100] ^= 0x10  # other pixel bytes, same size
    path.unlink()
    path.write_bytes(bytes(content))
    with pytest.raises(InputError, match=r"b\.fits: changed after the products of image b were made"):
        run(tmp_path, batch_cfg(specs, made_from, batch_dir, [("a", "b")]))


def write_stored(path, dx, store):
    """An image whose SCI is stored as scaled int16 or tile-compressed; returns its pixels as floats."""
    shape = (80, 90)
    wcs_header = tan_wcs(shape, crval=(150.1 + dx / 3600, 2.2)).to_header()
    sci = np.random.default_rng(dx).normal(100.0, 5.0, shape).astype(np.float32)
    if store == "scaled":
        hdu = fits.ImageHDU(sci.copy(), header=wcs_header, name="SCI")
        hdu.scale("int16", bscale=0.01, bzero=100.0)
    else:
        hdu = fits.CompImageHDU(sci, header=wcs_header, name="SCI", quantize_level=0.0,
                                compression_type="GZIP_2")
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path)
    with fits.open(path) as hdul:
        return np.array(hdul["SCI"].data, dtype=np.float32)


@pytest.mark.parametrize("store", ["scaled", "compressed"])
def test_scaled_and_tile_compressed_images_in_the_pair_stage(tmp_path, store):
    """Archive data: int16 with BSCALE/BZERO, and tile-compressed SCI; both as the float image."""
    pixels = write_stored(tmp_path / "a.fits", 0, store)
    assert abs(float(np.median(pixels)) - 100.0) < 1.0
    record = json.loads((run(tmp_path, batch_cfg(*make_images(tmp_path), [("a", "b")]))[1] / "a~b.json").read_text())
    assert record["valid"]
    # the same pair from an unscaled float copy of a's pixels gives the same statistics
    copy = tmp_path / "float"
    copy.mkdir()
    write_image(copy / "a.fits", shape=pixels.shape, sci=pixels, wcs=tan_wcs(pixels.shape, crval=(150.1, 2.2)))
    shutil.copy(tmp_path / "b.fits", copy / "b.fits")
    expected = json.loads((run(copy, batch_cfg(*make_images(copy), [("a", "b")]))[1] / "a~b.json").read_text())
    assert record["a"]["sky"] == expected["a"]["sky"] and record["a"]["npix"] == expected["a"]["npix"]


KEPT_BATCH = """
import json, sys
sys.path.insert(0, {scripts!r})
from skymatchflow.stages.pair_batch import run_batch
print(run_batch(json.loads({cfg!r}), {out!r}, store={store!r}), "astropy" in sys.modules)
"""


def test_a_batch_of_kept_pairs_imports_no_astropy(tmp_path):
    """Every pair found in the store: no file is opened, so the job pays no astropy import (most of its time)."""
    import subprocess
    import sys

    from helpers.paths import REPO

    cfg = batch_cfg(*make_images(tmp_path), [("a", "b"), ("b", "c")])
    assert run(tmp_path, cfg)[0] == (2, 0)
    out = tmp_path / "pairs" / "again"
    code = KEPT_BATCH.format(scripts=str(REPO / "scripts"), cfg=json.dumps(cfg), out=str(out),
                             store=str(tmp_path / "store"))
    kept = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert kept.returncode == 0, kept.stderr
    assert kept.stdout.split() == ["(0,", "2)", "False"]
    assert sorted(p.name for p in out.iterdir()) == ["a~b.json", "b~c.json"]
