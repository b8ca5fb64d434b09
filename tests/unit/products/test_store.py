"""The FITS seal check on raw bytes answers as astropy's checksum verification, and names its key."""

import numpy as np
import pytest
from astropy.io import fits

from skymatchflow.io.maskfile import write_mask
from skymatchflow.products.store import fits_is_sound, ones_complement_sum


def astropy_says_sound(path, key):
    with fits.open(path, checksum=False) as hdul:
        return hdul[-1].header.get("PRODKEY") == key and all(hdu.verify_checksum() == 1 for hdu in hdul)


@pytest.fixture
def mask_file(tmp_path):
    mask = np.random.default_rng(3).random((37, 53)) > 0.2
    path = tmp_path / "a.mask.fits"
    write_mask(path, mask, "a", {"params": {"dqbits": 0}, "inputs": {"image": "x" * 64}}, "k" * 64)
    return path


def test_a_sealed_file_is_sound_under_its_key_only(mask_file):
    assert fits_is_sound(mask_file, "k" * 64) and astropy_says_sound(mask_file, "k" * 64)
    assert not fits_is_sound(mask_file, "j" * 64)
    assert not fits_is_sound(mask_file.with_name("missing.fits"), "k" * 64)


def test_every_damaged_byte_is_noticed_as_astropy_notices_it(mask_file):
    raw = mask_file.read_bytes()
    positions = np.random.default_rng(4).choice(len(raw), 60, replace=False)
    for position in sorted(positions) + [0, len(raw) - 1, 2880 * 2 + 5]:
        damaged = bytearray(raw)
        damaged[position] ^= 0x10
        mask_file.write_bytes(bytes(damaged))
        assert not fits_is_sound(mask_file, "k" * 64), position
    mask_file.write_bytes(raw[:-2880])  # truncated by a block
    assert not fits_is_sound(mask_file, "k" * 64)


def test_ones_complement_sum_folds_carries():
    assert ones_complement_sum(np.array([0xFFFFFFFF, 0xFFFFFFFF], ">u4")) == 0xFFFFFFFF
    assert ones_complement_sum(np.array([0xFFFFFFFF, 1], ">u4")) == 1
    assert ones_complement_sum(np.array([0x80000000, 0x80000000, 5], ">u4")) == 6


def test_prune_store_removes_what_no_output_links_and_temporary_leftovers(tmp_path):
    import os

    from skymatchflow.products.store import prune_store

    store = tmp_path / "store"
    linked = store / "images" / "a" / "k1.sky.json"
    orphan = store / "images" / "b" / "k2.sky.json"
    leftover = store / "images" / "a" / ".k3.sky.json.abc.tmp"
    for path in (linked, orphan, leftover):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    os.link(linked, tmp_path / "output.json")
    assert prune_store(store) == 2
    assert linked.exists() and not orphan.exists() and not leftover.exists()
    assert not orphan.parent.exists()  # the removed image's folder goes too


def test_prune_store_deletes_nothing_where_files_cannot_be_linked(tmp_path):
    from skymatchflow.products.store import prune_store

    copy = tmp_path / "store" / "images" / "a" / "k1.sky.json"
    copy.parent.mkdir(parents=True)
    copy.write_text("{}")
    assert prune_store(tmp_path / "store") == 0
    assert copy.exists()


def test_a_batch_prunes_its_folder_by_the_same_rule_keeping_what_it_links_and_temporary_files(tmp_path):
    import os

    from skymatchflow.products.store import link_into, prune_unlinked

    folder = tmp_path / "store" / "images" / "a"
    folder.mkdir(parents=True)
    kept, linked, orphan, busy = (folder / name for name in ("k1.json", "k2.json", "k3.json", ".k4.json.x.tmp"))
    for path in (kept, linked, orphan, busy):
        path.write_text("{}")
    link_into(linked, tmp_path / "out" / "a.json")  # an output links it
    assert os.path.samefile(linked, tmp_path / "out" / "a.json")
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no temporary name left
    prune_unlinked(folder, [kept])
    assert kept.exists() and linked.exists() and busy.exists() and not orphan.exists()
