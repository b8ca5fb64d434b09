"""Stage files: written whole under a temporary name or not at all; inputs recognised by content."""

import os
import shutil

import pytest
from astropy.table import Table

from helpers.stagefiles import write_json
from skymatchflow.io.stagefiles import (
    atomic_directory,
    atomic_path,
    file_state,
    read_json,
    unchanged_since,
    write_ecsv,
)


def test_atomic_path_leaves_nothing_when_the_writer_fails(tmp_path):
    target = tmp_path / "out" / "table.ecsv"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert not target.exists() and list(target.parent.iterdir()) == []


def test_atomic_path_replaces_the_old_file_only_on_success(tmp_path):
    target = tmp_path / "record.json"
    write_json(target, {"b": 1, "a": [1.5]})
    assert read_json(target) == {"a": [1.5], "b": 1}
    assert target.read_text().index('"a"') < target.read_text().index('"b"')  # sorted: reproducible bytes
    with pytest.raises(ValueError):
        write_json(target, {"x": float("nan")})  # NaN is not JSON: refused, the old file kept
    assert read_json(target) == {"a": [1.5], "b": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]


def test_atomic_directory_appears_whole_or_not_at_all(tmp_path):
    target = tmp_path / "b000"
    with pytest.raises(RuntimeError):
        with atomic_directory(target) as building:
            (building / "one.json").write_text("{}")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []
    with atomic_directory(target) as building:
        (building / "one.json").write_text("{}")
    with atomic_directory(target) as building:  # a second writer replaces the first's directory
        (building / "two.json").write_text("{}")
    assert sorted(p.name for p in target.iterdir()) == ["two.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["b000"]


def test_a_copy_with_an_older_mtime_is_seen_by_content(tmp_path):
    original, other = tmp_path / "a.fits", tmp_path / "b.fits"
    original.write_bytes(b"A" * 100)
    other.write_bytes(b"B" * 100)
    os.utime(other, ns=(1, 1))
    state = file_state(original)
    assert unchanged_since(original, state)
    shutil.copy2(other, original)  # cp -p: same size, older mtime
    assert not unchanged_since(original, state)
    original.write_bytes(b"A" * 100)  # the same bytes again: new signature, same content
    assert unchanged_since(original, state)
    original.unlink()
    assert not unchanged_since(original, state)


def test_write_ecsv_adds_meta(tmp_path):
    path = tmp_path / "t.ecsv"
    write_ecsv(Table({"x": [1, 2]}), path, {"provenance": {"k": "v"}})
    table = Table.read(path)
    assert list(table["x"]) == [1, 2] and table.meta["provenance"] == {"k": "v"}


def test_a_batch_removes_the_temporary_directories_killed_jobs_left(tmp_path):
    import subprocess

    from skymatchflow.io.stagefiles import _temporary_prefix, atomic_directory

    out = tmp_path / "i000"
    dead = subprocess.Popen(["true"])  # a job that has ended
    dead.wait()
    leftover = tmp_path / f"{_temporary_prefix(out).replace(f'-{os.getpid()}.', f'-{dead.pid}.')}abc.tmp"
    leftover.mkdir()
    (leftover / "product.json").write_text("{}")
    live = tmp_path / f"{_temporary_prefix(out).replace(f'-{os.getpid()}.', '-1.')}def.tmp"  # pid 1 lives
    live.mkdir()
    foreign = tmp_path / ".i000.otherhost-5.ghi.tmp"
    foreign.mkdir()
    with atomic_directory(out) as building:
        (building / "x").write_text("1")
    assert not leftover.exists()
    assert live.exists() and foreign.exists()  # a live owner's, and a recent one from another host
    assert (out / "x").read_text() == "1"
