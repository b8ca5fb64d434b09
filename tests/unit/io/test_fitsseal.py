"""The FITS seal check on raw bytes answers as astropy's checksum verification, and names its key."""

import numpy as np
import pytest
from astropy.io import fits

from skymatchflow.io.fitsseal import fits_is_sound, ones_complement_sum
from skymatchflow.io.maskfile import write_mask


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
