"""Input layouts remembered between Snakemake starts, so parsing opens no known file.

Every Snakemake start (each cluster job starts one or two) discovers the
images of every input file. Opening 10,000 FITS files for that is a metadata
storm on a parallel file system; a file whose stat signature (size, mtime,
ctime, inode) is unchanged keeps the layout found last time.
"""

import json
from pathlib import Path

from skymatchflow.io.stagefiles import atomic_path, stat_signature

CACHE_PATH = ".snakemake/skymatchflow/input_layouts.json"


class LayoutCache:
    """{path: (signature, image HDUs, header checks passed, sky places)} read at start and written back when
    it grew."""

    def __init__(self, path=CACHE_PATH):
        self.path = Path(path)
        try:
            self.entries = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.entries = {}
        self.changed = False

    def image_hdus(self, path, discover):
        """``discover(path)``'s answer, from the cache while the file is unchanged."""
        entry = self._entry(path)
        if "hdus" in entry:
            return [tuple(hdu) for hdu in entry["hdus"]]
        hdus = discover(path)
        entry["hdus"] = [list(hdu) for hdu in hdus]
        self.changed = True
        return hdus

    def checked(self, path, key, check):
        """Run ``check(path)`` unless it passed for ``key`` while the file was unchanged."""
        entry = self._entry(path)
        if key in entry.get("checked", []):
            return
        check(path)
        entry.setdefault("checked", []).append(key)
        self.changed = True

    def place(self, path, sci, locate):
        """{"position": (ra, dec, size) or None, "pixels": n} of extension ``sci``: from the cache while the file
        is unchanged, else ``locate(path, sci)``'s (the header checks remember theirs: remember_place)."""
        places = self._entry(path).get("places", {})
        if sci not in places:
            self.remember_place(path, sci, locate(path, sci))
            places = self._entry(path)["places"]
        return places[sci]

    def remember_place(self, path, sci, place):
        """Keep where extension ``sci`` lies and its pixel count, as the header checks found them."""
        self._entry(path).setdefault("places", {})[sci] = place
        self.changed = True

    def _entry(self, path):
        """This file's entry, emptied when its stat signature changed."""
        signature = stat_signature(path)
        entry = self.entries.get(str(path))
        if entry is None or entry["signature"] != signature:
            entry = self.entries[str(path)] = {"signature": signature}
        return entry

    def save(self):
        """Write the cache back if it learnt something (atomically: jobs may start at once)."""
        if not self.changed:
            return
        try:
            with atomic_path(self.path) as tmp:
                tmp.write_text(json.dumps(self.entries))
        except OSError:  # a read-only or full disk only costs the next start its discovery
            pass
        self.changed = False
