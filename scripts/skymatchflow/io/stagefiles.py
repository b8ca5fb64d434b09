"""Stage files: atomic writes, checksums and provenance records.

Every stage file says which parameters and which input bytes made it, and is
written under a temporary name then renamed, so a killed job never leaves a
file that looks complete.
"""

import contextlib
import functools
import glob
import hashlib
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from skymatchflow import __version__
from skymatchflow.errors import InputError
from skymatchflow.io.codeid import code_identity

SOFTWARE = ("numpy", "astropy", "spherical-geometry", "scipy")


def sha256_file(path):
    """Hex SHA-256 of a file's bytes (what "the same input" means here)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def stat_signature(path):
    """What changes whenever a file's bytes can have changed: size, mtime, ctime, inode.

    A copy with an older mtime (``cp -p``) still gets a new ctime and inode.
    """
    info = os.stat(path)
    return [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]


def file_state(path):
    """{"sha256", "signature"} of a file; the signature is taken before and after hashing."""
    for _ in range(3):
        before = stat_signature(path)
        digest = sha256_file(path)
        if stat_signature(path) == before:
            return {"sha256": digest, "signature": before}
    raise InputError(path, "the file keeps changing while it is read")


def unchanged_since(path, state):
    """True when ``path`` still holds the bytes ``state`` (from file_state) describes.

    Only the stat signature is compared unless it differs; then the file is hashed again.
    """
    try:
        if stat_signature(path) == state["signature"]:
            return True
        return sha256_file(path) == state["sha256"]
    except FileNotFoundError:
        return False


@functools.lru_cache(maxsize=1)
def _versions():
    code = code_identity()
    versions = {"skymatchflow": __version__, "skymatchflow_code": code["digest"], "python": sys.version.split()[0]}
    if code["commit"]:
        versions["skymatchflow_commit"] = code["commit"]
    for name in SOFTWARE:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def software_versions():
    """Versions of this package (with its code digest and git commit), Python and the numerical libraries used.

    Read once per process. The version alone does not change with the code;
    the digest does (io/codeid.py).
    """
    return dict(_versions())


@contextlib.contextmanager
def atomic_path(path):
    """Yield an unused temporary path beside ``path``; rename it into place on success.

    The temporary name is hidden and ends in ``.tmp``, so a killed job leaves
    nothing that looks like the output.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    os.unlink(tmp)  # writers (astropy) refuse to overwrite; the random name stays ours
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except OSError as err:
        # a write that failed (a full disk) names no file: name the one being written
        # (only on a real OS error: an OSError without errno would lose its message)
        if err.filename is None and err.errno is not None:
            err.filename = str(path)
        raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


@contextlib.contextmanager
def atomic_directory(path):
    """Yield a new hidden directory beside ``path``; move it into place on success.

    A killed job leaves no directory that looks complete: Snakemake does not
    notice an incomplete directory output of a job behind a checkpoint, so
    the directory must appear whole or not at all. A directory already at
    ``path`` (a concurrent copy of the job finished first) is replaced.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(path)
    tmp = Path(tempfile.mkdtemp(prefix=_temporary_prefix(path), suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        try:
            os.rename(tmp, path)
        except OSError:
            trash = Path(tempfile.mkdtemp(prefix=_temporary_prefix(path), suffix=".old", dir=path.parent))
            os.rename(path, trash / path.name)
            os.rename(tmp, path)
            shutil.rmtree(trash, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


#: a temporary directory whose owner is on another host (a cluster node) is removed only when older than this
FOREIGN_LEFTOVER_AGE_S = 24 * 3600


def _owner():
    return f"{socket.gethostname().replace('.', '_')}-{os.getpid()}"


def _temporary_prefix(path):
    """``.<name>.<host>-<pid>.``: whose temporary directory it is, so that the next job can tell a leftover."""
    return f".{path.name}.{_owner()}."


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers(path):
    """Remove the temporary directories a killed job left beside ``path``; returns how many.

    They hold hard links that keep superseded products alive in the store
    (ten kill-and-re-run cycles left results/ 21 % larger). One whose owner
    still runs on this host (a concurrent copy of the job) is kept; one from
    another host is removed once older than FOREIGN_LEFTOVER_AGE_S.
    """
    path = Path(path)
    host = socket.gethostname().replace(".", "_")
    removed = 0
    for entry in path.parent.glob(f".{glob.escape(path.name)}.*"):
        if not entry.name.endswith((".tmp", ".old")):
            continue
        owner_host, _, pid = entry.name[len(path.name) + 2 :].split(".")[0].rpartition("-")
        if owner_host == host and pid.isdigit():
            if _alive(int(pid)) and int(pid) != os.getpid():
                continue
        else:
            try:
                if time.time() - entry.lstat().st_mtime < FOREIGN_LEFTOVER_AGE_S:
                    continue
            except FileNotFoundError:
                continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
        removed += 1
    return removed


def read_json(path):
    """Read a JSON stage file."""
    return json.loads(Path(path).read_text())


def write_ecsv(table, path, meta):
    """Write an astropy table as ECSV with ``meta`` added, under a temporary name renamed into place."""
    table.meta.update(meta)
    with atomic_path(path) as tmp:
        table.write(tmp, format="ascii.ecsv")
