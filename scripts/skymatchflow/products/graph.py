"""The overlap graph's tables (results/overlaps/pairs.ecsv, groups.ecsv): their digest, and reading them back verified.

Written by the overlap graph's stage (stages/overlap_graph.py); read by the
pair batch plans, the solve, its checked reads and the audit, which must not
depend on the stage that writes them.
"""

import hashlib
import json

from astropy.table import Table

from skymatchflow.errors import InputError
from skymatchflow.jobs.batches import PAIR_POSITION

__all__ = ["GROUP_FIELDS", "read_groups", "read_pairs", "rows_digest"]

GROUP_FIELDS = ("image", "file", "sci", "group", "group_index")


def rows_digest(rows):
    """SHA-256 of a table's rows as dicts: lets a reader tell the table is as the overlap graph wrote it."""
    return hashlib.sha256(json.dumps(list(rows), sort_keys=True).encode()).hexdigest()


def _read_verified(path, rows):
    table = Table.read(path, format="ascii.ecsv")
    rows = [rows(row) for row in table]
    if table.meta.get("rows_sha256") != rows_digest(rows):
        raise InputError(path, "changed since the overlap graph wrote it; run: snakemake --forcerun overlap_graph")
    return rows


def read_pairs(pairs_path):
    """[pair dicts] from results/overlaps/pairs.ecsv in table order; a table not as written is refused."""
    try:
        return _read_verified(pairs_path, lambda row: {
            "pair": str(row["pair"]),
            "group_a": str(row["group_a"]),
            "group_b": str(row["group_b"]),
            "members_a": str(row["members_a"]).split(","),
            "members_b": str(row["members_b"]).split(","),
            **{name: float(row[name]) for name in PAIR_POSITION},
        })
    except KeyError as err:
        raise InputError(pairs_path, f"has no column {err} (an older version wrote it); "
                         "run: snakemake --forcerun overlap_graph") from None


def read_groups(groups_path):
    """{group: [member image ids]} in element order, from results/overlaps/groups.ecsv."""
    rows = _read_verified(groups_path, lambda row: {
        "image": str(row["image"]), "file": str(row["file"]), "sci": str(row["sci"]),
        "group": str(row["group"]), "group_index": int(row["group_index"]),
    })
    members = {}
    for row in sorted(rows, key=lambda row: row["group_index"]):
        members.setdefault(row["group"], []).append(row["image"])
    return members
