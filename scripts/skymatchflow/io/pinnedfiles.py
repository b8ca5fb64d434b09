"""Inputs read through the open file they were hashed through.

A product is filed under the checksum of its input. Hashing a file by name
and then opening it again by name to read it let a file swapped in between
(a sync tool, a user who copied the wrong file and then the right one) give
products of other bytes filed under the original's checksum, kept for good.
So the image stage opens each input once, hashes it through that descriptor,
and every read of that path while it is pinned goes through the same open
file (``/dev/fd/N``: the same inode, whatever the name now points to). The
descriptor's stat is compared before and after, and where it differs the
open file is hashed again: a file changed in place while it was read stops
that image with one line.
"""

import contextlib
import hashlib
import os
import stat

from skymatchflow.errors import InputError

_PINNED = {}  # path as given -> /dev/fd/N of its open descriptor


def pinned_path(path):
    """The path to read ``path`` through: its pinned descriptor while it is pinned, else the path itself."""
    return _PINNED.get(os.fspath(path), path)


def _signature(info):
    return [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]


def _open_pinned(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except PermissionError:
        raise InputError(path, "permission denied (the file cannot be read)") from None
    if stat.S_ISDIR(os.fstat(fd).st_mode):
        os.close(fd)
        raise InputError(path, "is a directory, not a FITS file")
    return fd


def _state(path, fd):
    before = _signature(os.fstat(fd))
    digest = hashlib.sha256()
    offset = 0
    while chunk := os.pread(fd, 1 << 20, offset):
        digest.update(chunk)
        offset += len(chunk)
    return {"path": str(path), "sha256": digest.hexdigest(), "signature": before}


@contextlib.contextmanager
def pinned(files):
    """Pin ``files`` ({role: path}; empty paths skipped); yields {role: {"path", "sha256", "signature"}}.

    Reads of a pinned path inside the block get the bytes that were hashed.
    Raises InputError when a file changed in place before the block ended.
    """
    fds, states = {}, {}
    try:
        for role, path in files.items():
            if not path:
                continue
            fd = _open_pinned(path)
            fds[role] = fd
            states[role] = _state(path, fd)
            _PINNED[os.fspath(path)] = f"/dev/fd/{fd}"
        yield states
        for role, fd in fds.items():
            # a rename over the name changes the open file's ctime (its link count) but not its bytes
            if _signature(os.fstat(fd)) != states[role]["signature"]:
                if _state(states[role]["path"], fd)["sha256"] != states[role]["sha256"]:
                    raise InputError(states[role]["path"], "changed while it was read; run again")
    finally:
        for role, fd in fds.items():
            _PINNED.pop(os.fspath(files[role]), None)
            os.close(fd)
