"""The product store: every product filed under a hash of what it is made from (keys, seals, links, retention).

Batch outputs are ordinary Snakemake outputs, which Snakemake deletes before
a job runs and marks incomplete when a job dies. Per-item reuse therefore
lives here, outside them: a product's key is the SHA-256 of its kind, its
parameters, its inputs' checksums (or its members' keys) and a digest of
the source code that makes that kind (io/codeid.py: a fix to the code gives
new keys, so even ``--forceall`` computes the products again). A job that finds a sound product under its key links it into its
output directory (a hard link: no second copy on disk) instead of computing
it; anything missing, damaged or made from something else is computed again.

Products seal themselves, so damage is noticed wherever they are read: JSON
records carry the SHA-256 of their own content ("checksum"), mask files
carry FITS CHECKSUM/DATASUM cards and their key in the header.
"""

import contextlib
import hashlib
import json
import os
import shutil
from pathlib import Path

from skymatchflow.io.codeid import kind_digest

STORE_DIR = "results/store"


def product_key(kind, made_from):
    """Hex SHA-256 of a product's kind, what it is made from, and the code that makes that kind."""
    blob = json.dumps({"kind": kind, "made_from": made_from, "code": kind_digest(kind)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def stored_path(store, kind, item, key, suffix):
    """Where the product of ``item`` (an image or a pair) with ``key`` is filed."""
    return Path(store) / kind / item / f"{key}{suffix}"


def _content_digest(record):
    body = {name: value for name, value in record.items() if name != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, allow_nan=False).encode()).hexdigest()


def seal(record):
    """The record with the checksum of its own content added."""
    return dict(record, checksum=_content_digest(record))


def read_sealed(path, key=None):
    """A sealed JSON record, or None when it is missing, damaged or (with ``key``) made from something else."""
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("checksum") != _content_digest(record):
        return None
    if key is not None and record.get("key") != key:
        return None
    return record


def write_sealed(path, record, compact=False):
    """Write a JSON record with its seal, atomically.

    ``compact``: on one line, for a large record no one reads by eye (json's
    C encoder writes it some ten times faster than the indented dump, which
    is Python's); read back by read_sealed as any other.
    """
    from skymatchflow.io.stagefiles import atomic_path

    with atomic_path(path) as tmp:
        text = json.dumps(seal(record), indent=None if compact else 1, sort_keys=True, allow_nan=False)
        tmp.write_text(text + "\n")


def link_into(source, destination):
    """Make ``destination`` the same file as ``source`` (hard link; a copy where links fail), atomically."""
    from skymatchflow.io.stagefiles import atomic_path  # the one atomic-write helper

    with atomic_path(destination) as tmp:
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copy2(source, tmp)


def is_unlinked(path):
    """The store's one retention rule: a product no output links to any more (or a killed job's temporary file) goes."""
    name = os.path.basename(path)  # not pathlib: called for every file of the store
    return name.startswith(".") and name.endswith(".tmp") or os.stat(path).st_nlink == 1


def _remove_unlinked(paths, keep=()):
    """Delete those of ``paths`` (other than ``keep``, by name) that is_unlinked; returns the count."""
    keep = {os.path.basename(path) for path in keep}
    removed = 0
    for path in paths:
        if os.path.basename(path) in keep:
            continue
        with contextlib.suppress(FileNotFoundError):
            if is_unlinked(path):
                os.unlink(path)
                removed += 1
    return removed


def prune_unlinked(folder, keep):
    """Delete the products in ``folder`` other than ``keep`` that no output links to any more.

    Run by a batch for each of its items: a product made for parameters no
    longer asked for goes once its output directory is gone. A product
    still linked from an output stays; so do temporary files (a concurrent
    job may be linking one in: prune_store, after every batch, takes them).
    """
    with contextlib.suppress(FileNotFoundError):
        entries = [entry for entry in Path(folder).iterdir() if not entry.name.startswith(".")]
        _remove_unlinked(entries, keep)


def prune_store(store=STORE_DIR):
    """Delete every stored product no output links to, and the temporary files killed jobs left; returns the count.

    Run by the solve, when every batch of the run is done: a removed
    image's products and those of parameters since changed go, so the store
    holds what the outputs hold. On a file system without hard links (every
    product a copy, one link each) nothing is deleted.
    """
    folders = _item_folders(store)
    files = [path for paths in folders.values() for path in paths]
    try:
        if not any(os.stat(path).st_nlink > 1 for path in files if not os.path.basename(path).startswith(".")):
            return 0
    except FileNotFoundError:
        return 0
    removed = 0
    for folder, paths in folders.items():
        gone = _remove_unlinked(paths)
        removed += gone
        if paths and gone == len(paths):
            with contextlib.suppress(OSError):
                os.rmdir(folder)  # only when empty
    return removed


def _item_folders(store):
    """{folder: [its entries]} of every item folder (images/*, pairs/*) of the store.

    With os.scandir: pathlib's glob of the same took 0.3 s of the solve at
    2,000 images (13,000 files), on the critical path of every re-run.
    """
    folders = {}
    for kind in ("images", "pairs"):
        try:
            with os.scandir(Path(store) / kind) as entries:
                items = [entry.path for entry in entries if entry.is_dir()]
        except (FileNotFoundError, NotADirectoryError):
            continue
        for item in items:
            with contextlib.suppress(FileNotFoundError, NotADirectoryError), os.scandir(item) as entries:
                folders[item] = [entry.path for entry in entries]
    return folders
