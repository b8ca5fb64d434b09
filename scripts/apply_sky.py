"""Snakemake entry: the matched copy of one input file."""

import os

from astropy.table import Table

from skymatchflow.errors import InputError
from skymatchflow.io.pinnedfiles import pinned
from skymatchflow.jobs.rulerunner import run_rule
from skymatchflow.stages.apply_sky import matched_identity, write_matched_copy


def main(smk):
    cfg = smk.params.cfg
    table = Table.read(smk.input.sky, format="ascii.ecsv")
    rows = [row for row in table if row["file"] == cfg["file"]]
    with pinned({"image": smk.input.image}) as states:  # the copy records the checksum of the bytes it is made from
        state = states["image"]
        identity = matched_identity(table.meta.get("made_from_key"), state["sha256"], cfg["skymethod"], cfg["subtract"])
        write_matched_copy(smk.input.image, smk.output[0], rows, cfg["skymethod"], cfg["subtract"], identity)
        # a cal file is read by name through its data model: the name must still be the file hashed
        size, mtime, _, inode = state["signature"]
        now = os.stat(smk.input.image)
        if (now.st_size, now.st_mtime_ns, now.st_ino) != (size, mtime, inode):
            os.remove(smk.output[0])
            raise InputError(smk.input.image, "changed while it was read; run again")


run_rule(main, snakemake)  # noqa: F821
