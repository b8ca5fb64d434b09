"""Image batches: each product is computed only when what it is made from changed (else linked from the store)."""

import json
import os
import shutil

import numpy as np
import pytest

from helpers.images import tan_wcs, write_image
from helpers.stagefiles import read_mask_provenance
from skymatchflow.errors import InputError
from skymatchflow.io.inputs import ImageSpec
from skymatchflow.io.maskfile import read_mask
from skymatchflow.io.stagefiles import sha256_file, unchanged_since
from skymatchflow.jobs.batches import batch_name, batch_of_image
from skymatchflow.products.images import INPUT_STATES, PRODUCTS, product_path, read_input_states
from skymatchflow.stages.image_batch import run_image_batch as run_in_store

STAT = {"skystat": "mode", "lower": None, "upper": None, "nclip": 5, "lsigma": 4.0, "usigma": 4.0, "binwidth": 0.1}


def make_image(tmp_path, name, dx=0.0, offset=0.0):
    shape = (60, 70)
    rng = np.random.default_rng(len(name))
    sci = rng.normal(1.0 + offset, 0.05, shape).astype(np.float32)
    dq = (np.arange(shape[0] * shape[1]).reshape(shape) % 11 == 0).astype(np.uint32) * 4
    path = tmp_path / f"{name}.fits"
    path.unlink(missing_ok=True)
    write_image(path, shape=shape, sci=sci, dq=dq, wcs=tan_wcs(shape, crval=(150.1 + dx / 3600, 2.2)))
    return path


def batch_spec(paths, **changes):
    spec = {
        "images": {p.stem: ImageSpec(p.stem, str(p), "SCI", "DQ").as_params() for p in paths},
        "products": list(PRODUCTS),
        "stepsize": None,
        "groups": "none",
        "wcs": "fits",
        "dqbits": 0,
        "stat": dict(STAT),
    }
    spec.update(changes)
    return spec


def run_image_batch(spec, out):
    """The batch job: ``out`` is new each time in the workflow; the store beside it persists."""
    return run_in_store(spec, out, store=out.parent / "store")


def snapshot(out):
    """{file name: (mtime_ns, bytes)} of every product file."""
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.iterdir() if p.name != INPUT_STATES}


def changed(before, after):
    return {name for name in after if before.get(name) != after[name]}


@pytest.fixture
def made(tmp_path):
    paths = [make_image(tmp_path, name, dx) for name, dx in [("a", 0), ("b", 15), ("c", 30)]]
    out = tmp_path / "i000"
    assert run_image_batch(batch_spec(paths), out) == {p: (3, 0) for p in PRODUCTS}
    return paths, out


def test_products_hold_what_the_stages_need(made):
    paths, out = made
    footprint = json.loads(product_path(out, "a", "footprint").read_text())
    assert footprint["image"] == "a" and footprint["area_sr"] > 0
    assert footprint["provenance"]["inputs"]["image"]["sha256"] == sha256_file(paths[0])
    mask = read_mask(product_path(out, "a", "mask"))
    assert mask.shape == (60, 70) and 0 < mask.sum() < mask.size
    assert read_mask_provenance(product_path(out, "a", "mask"))["params"]["dqbits"] == 0
    sky = json.loads(product_path(out, "a", "sky").read_text())
    assert sky["sky"] == pytest.approx(1.0, abs=0.02) and sky["npix"] == mask.sum()


def test_nothing_changed_keeps_every_file(made):
    paths, out = made
    before = snapshot(out)
    assert run_image_batch(batch_spec(paths), out) == {p: (0, 3) for p in PRODUCTS}
    assert snapshot(out) == before


@pytest.mark.parametrize(
    "change, remade",
    [
        ({"stepsize": 16}, {"footprint"}),
        ({"groups": "exposure"}, {"footprint"}),
        ({"dqbits": 4}, {"mask", "sky", "preview"}),
        ({"stat": dict(STAT, skystat="median")}, {"sky"}),
        ({"stat": dict(STAT, nclip=2)}, {"sky"}),
    ],
    ids=["stepsize", "groups", "dqbits", "skystat", "nclip"],
)
def test_a_parameter_remakes_only_the_products_it_enters(made, change, remade):
    paths, out = made
    before = snapshot(out)
    counts = run_image_batch(batch_spec(paths, **change), out)
    assert counts == {p: (3, 0) if p in remade else (0, 3) for p in PRODUCTS}
    suffixes = {p: product_path(out, "x", p).name[1:] for p in PRODUCTS}
    assert changed(before, snapshot(out)) <= {n for n in before if any(n.endswith(suffixes[p]) for p in remade)}


def test_dqbits_change_remakes_the_sky_from_the_new_mask(made):
    paths, out = made
    assert not read_mask(product_path(out, "b", "mask")).all()
    run_image_batch(batch_spec(paths, dqbits=4), out)  # the only DQ bit set (4) becomes acceptable
    mask = read_mask(product_path(out, "b", "mask"))
    assert mask.all()
    assert json.loads(product_path(out, "b", "sky").read_text())["npix"] == mask.size


def test_a_replaced_file_remakes_only_its_products(made, tmp_path):
    paths, out = made
    before = snapshot(out)
    make_image(tmp_path, "b", 15, offset=0.5)
    assert run_image_batch(batch_spec(paths), out) == {p: (1, 2) for p in PRODUCTS}
    assert {name.split(".")[0] for name in changed(before, snapshot(out))} == {"b"}
    assert json.loads(product_path(out, "b", "sky").read_text())["sky"] == pytest.approx(1.5, abs=0.02)


def test_a_removed_image_loses_its_files_and_user_needs_footprints_only(made):
    paths, out = made
    run_image_batch(batch_spec(paths[:2]), out)
    assert not list(out.glob("c.*"))
    assert run_image_batch(batch_spec(paths[:2], products=["footprint"]), out) == {"footprint": (0, 2)}
    assert sorted(p.name for p in out.iterdir()) == ["a.footprint.json", "b.footprint.json", INPUT_STATES]


def test_a_bad_image_is_named_and_the_others_are_made(tmp_path):
    good = make_image(tmp_path, "good")
    nowcs = write_image(tmp_path / "nowcs.fits", layout="nowcs")
    out = tmp_path / "i000"
    with pytest.raises(InputError, match=f"{nowcs}: extension 'SCI': no celestial WCS"):
        run_image_batch(batch_spec([nowcs, good]), out)
    assert not out.exists()  # a failed batch leaves no output that looks complete
    # the good image's products were made and stored: without the bad file, they are only linked
    assert run_image_batch(batch_spec([good]), out) == {p: (0, 1) for p in PRODUCTS}
    assert sorted(p.name for p in out.iterdir()) == [
        "good.footprint.json", "good.mask.fits", "good.preview.fits", "good.sky.json", INPUT_STATES]


def test_products_are_links_into_the_store_and_stale_ones_are_pruned(made):
    paths, out = made
    store = out.parent / "store" / "images" / "a"
    linked = product_path(out, "a", "mask")
    assert linked.stat().st_nlink == 2 and len(list(store.iterdir())) == len(PRODUCTS)
    shutil.rmtree(out)  # as Snakemake does before the job runs again
    run_image_batch(batch_spec(paths, dqbits=4), out)
    # the old mask, sky and preview are no longer linked from any output: gone; no copy
    assert len(list(store.iterdir())) == len(PRODUCTS)
    assert all(p.stat().st_nlink == 2 for p in out.iterdir() if p.name != INPUT_STATES)


@pytest.mark.parametrize("product", PRODUCTS)
@pytest.mark.parametrize("damage", ["delete", "flip a byte"])
def test_a_damaged_or_missing_stored_product_is_computed_again(made, product, damage):
    paths, out = made
    stored = next((out.parent / "store" / "images" / "b").glob(f"*{product_path(out, 'b', product).name[1:]}"))
    good = stored.read_bytes()
    shutil.rmtree(out)
    if damage == "delete":
        stored.unlink()
    else:
        data = bytearray(good)
        data[len(data) // 2 + 7] ^= 0x01
        stored.write_bytes(bytes(data))
    counts = run_image_batch(batch_spec(paths), out)
    assert counts[product] == (1, 2) and sum(made for made, _ in counts.values()) == 1
    assert product_path(out, "b", product).read_bytes() == good


def test_the_batch_records_the_state_of_every_input(made):
    paths, out = made
    states = read_input_states(out)
    assert set(states) == {"a", "b", "c"}
    assert states["a"]["image"]["sha256"] == sha256_file(paths[0])
    assert unchanged_since(paths[0], states["a"]["image"])
    original = paths[0].read_bytes()
    os.unlink(paths[0])
    paths[0].write_bytes(original[:-2880] + original[-2880:].replace(b"\0", b"\1", 1))
    os.utime(paths[1], ns=(0, 0))
    assert not unchanged_since(paths[0], states["a"]["image"])  # new bytes, whatever the mtime
    assert unchanged_since(paths[1], states["b"]["image"])  # only the mtime changed: same bytes


def test_batches_are_stable_and_spread():
    assert batch_of_image("jw001_nrca1_cal", 4) == batch_name("jw001_nrca1_cal", 4, "i")
    assert batch_of_image("x", 1) == "i000"
    batches = {batch_of_image(f"image_{k:04d}", 8) for k in range(200)}
    assert batches == {f"i{k:03d}" for k in range(8)}


def _write_batch(args):
    spec, out = args
    return run_image_batch(spec, out)


def test_two_copies_of_one_job_at_once_leave_sound_products(tmp_path):
    """An orphaned job and its re-submission write the same batch: the last complete write wins."""
    import multiprocessing

    paths = [make_image(tmp_path, name, dx) for name, dx in [("a", 0), ("b", 15), ("c", 30), ("d", 45)]]
    out = tmp_path / "i000"
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.map(_write_batch, [(batch_spec(paths), out)] * 2)
    assert all(sum(made for made, _ in counts.values()) + sum(kept for _, kept in counts.values()) == 4 * len(PRODUCTS)
               for counts in results)  # every product of every image, made or linked
    shutil.rmtree(out)
    assert run_image_batch(batch_spec(paths), out) == {p: (0, 4) for p in PRODUCTS}  # every product sound
    assert set(read_input_states(out)) == {"a", "b", "c", "d"}
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def swap_while_reading(monkeypatch, path, replacement, put_back):
    """Replace ``path`` by ``replacement`` just before the image's products are made (and put it back after)."""
    from skymatchflow.stages import image_batch

    real = image_batch._make_products
    original = path.read_bytes()

    def swapping(spec, todo, *args):
        if spec.file == str(path):
            os.replace(replacement, path)
        try:
            real(spec, todo, *args)
        finally:
            if spec.file == str(path) and put_back:
                tmp = path.with_name("put_back.tmp")
                tmp.write_bytes(original)
                os.replace(tmp, path)

    monkeypatch.setattr(image_batch, "_make_products", swapping)


def test_a_file_swapped_while_the_batch_reads_it_gives_the_products_of_the_hashed_bytes(tmp_path, monkeypatch):
    paths = [make_image(tmp_path, name, dx) for name, dx in [("a", 0), ("b", 15)]]
    clean_out = tmp_path / "clean" / "i000"
    run_image_batch(batch_spec(paths), clean_out)
    (tmp_path / "elsewhere").mkdir()
    wrong = make_image(tmp_path / "elsewhere", "a", offset=5.0)
    swap_while_reading(monkeypatch, paths[0], wrong, put_back=True)
    out = tmp_path / "swapped" / "i000"
    run_image_batch(batch_spec(paths), out)
    for product in ("sky", "footprint"):
        new = json.loads(product_path(out, "a", product).read_text())
        old = json.loads(product_path(clean_out, "a", product).read_text())
        assert new == old, product  # the bytes that were hashed, not the ones swapped in
    assert np.array_equal(read_mask(product_path(out, "a", "mask")), read_mask(product_path(clean_out, "a", "mask")))


def test_a_file_changed_in_place_while_it_is_read_stops_that_image_and_keeps_no_product(tmp_path, monkeypatch):
    from skymatchflow.stages import image_batch

    paths = [make_image(tmp_path, name, dx) for name, dx in [("a", 0), ("b", 15)]]
    real = image_batch._make_products

    def appending(spec, todo, *args):
        real(spec, todo, *args)
        if spec.file == str(paths[0]):
            with open(paths[0], "ab") as handle:
                handle.write(b"\0" * 2880)

    monkeypatch.setattr(image_batch, "_make_products", appending)
    out = tmp_path / "i000"
    with pytest.raises(InputError, match=r"a\.fits: changed while it was read; run again"):
        run_image_batch(batch_spec(paths), out)
    assert not out.exists()
    assert not list((tmp_path / "store" / "images" / "a").glob("*"))  # nothing filed for bytes never hashed
    assert list((tmp_path / "store" / "images" / "b").glob("*"))
