"""Inputs read through the open file they were hashed through."""

import hashlib
import os

import pytest

from skymatchflow.errors import InputError
from skymatchflow.io.pinnedfiles import pinned, pinned_path


def test_reads_of_a_pinned_path_get_the_hashed_bytes_after_a_swap(tmp_path):
    path = tmp_path / "a.fits"
    path.write_bytes(b"original" * 100)
    with pinned({"image": str(path), "dq": ""}) as states:
        other = tmp_path / "other"
        other.write_bytes(b"swapped!" * 100)
        os.replace(other, path)
        with open(pinned_path(str(path)), "rb") as handle:
            assert handle.read() == b"original" * 100
    assert set(states) == {"image"}
    assert states["image"]["sha256"] == hashlib.sha256(b"original" * 100).hexdigest()
    assert pinned_path(str(path)) == str(path)  # unpinned after the block


def test_a_file_changed_in_place_while_pinned_is_named(tmp_path):
    path = tmp_path / "a.fits"
    path.write_bytes(b"original")
    with pytest.raises(InputError, match=r"a\.fits: changed while it was read; run again"):
        with pinned({"image": str(path)}):
            with open(path, "ab") as handle:
                handle.write(b"more")


@pytest.mark.parametrize("make, reason", [(None, "file not found"), ("dir", "is a directory")])
def test_a_missing_file_or_a_directory_is_one_line(tmp_path, make, reason):
    path = tmp_path / "a.fits"
    if make:
        path.mkdir()
    with pytest.raises(InputError, match=reason):
        with pinned({"image": str(path)}):
            pass
