"""Files held open across a pair batch: one handle per file, seals checked on it, a replaced file reopened."""

import numpy as np
import pytest

from skymatchflow.errors import InputError
from skymatchflow.io import openfiles
from skymatchflow.io.maskfile import write_mask


def test_a_held_mask_is_checked_read_and_reopened_when_replaced(tmp_path):
    path = tmp_path / "m.mask.fits"
    mask = np.zeros((6, 5), bool)
    mask[2:4, 1:3] = True
    write_mask(path, mask, "m", {}, "k1")
    with openfiles.held_files_closed():
        assert openfiles.held_fits_is_sound(path, "k1") and not openfiles.held_fits_is_sound(path, "k2")
        assert openfiles.held(path) is openfiles.held(path)  # one handle while the file is unchanged
        assert np.array_equal(openfiles.read_window(path, "MASK", (1, 4, 0, 3), bool), mask[1:4, 0:3])
        first = openfiles.held(path)
        data = bytearray(path.read_bytes())
        data[-1] ^= 0xFF  # damaged in place, in the data unit
        (tmp_path / "new").write_bytes(bytes(data))
        (tmp_path / "new").replace(path)
        assert openfiles.held(path) is not first and not openfiles.held_fits_is_sound(path, "k1")
    assert not openfiles._open  # closed at the end of the block


def test_an_unreadable_file_is_a_one_line_error(tmp_path):
    (tmp_path / "x.fits").write_text("not FITS")
    with openfiles.held_files_closed(), pytest.raises(InputError, match="x.fits.*not a readable FITS file"):
        openfiles.held(tmp_path / "x.fits")


def test_held_files_are_let_go_beyond_the_byte_budget(tmp_path, monkeypatch):
    paths = []
    for k in range(4):
        path = tmp_path / f"m{k}.mask.fits"
        write_mask(path, np.ones((60, 50), bool), f"m{k}", {}, "k")
        paths.append(path)
    size = paths[0].stat().st_size
    monkeypatch.setattr(openfiles, "MAX_HELD_BYTES", 2 * size)
    with openfiles.held_files_closed():
        for path in paths:
            openfiles.held(path)
        assert [key[0] for key in openfiles._open] == [str(p) for p in paths[2:]]  # the two most recent
        monkeypatch.setattr(openfiles, "MAX_HELD_BYTES", 0)
        openfiles.held(paths[0])
        assert len(openfiles._open) == 1  # the file just asked for is always held
