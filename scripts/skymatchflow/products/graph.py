"""The overlap graph's tables (results/overlaps/pairs.ecsv, groups.ecsv): their digest, and reading them back verified.

Written by the overlap graph's stage (stages/overlap_graph.py); read by the
pair batch plans, the solve, its checked reads and the audit, which must not
depend on the stage that writes them.

The graph's job also records what a verified read of its tables and plans
gives (remember_graph), filed in the product store under the SHA-256 of
their bytes: the solve takes it from there (read_graph) instead of parsing
the ECSV again (a YAML header of one line per image, thousands of rows:
about 0.3 s at 2,000 images), and parses them only when their bytes are
not the ones recorded. Same bytes, same parse; the audit still parses.
"""

import hashlib
import json
from pathlib import Path

from skymatchflow.errors import InputError
from skymatchflow.jobs.batches import PAIR_POSITION
from skymatchflow.products.store import STORE_DIR, product_key, read_sealed, write_sealed

__all__ = ["GROUP_FIELDS", "read_graph", "read_groups", "read_pairs", "remember_graph", "rows_digest"]

GROUP_FIELDS = ("image", "file", "sci", "group", "group_index")


def rows_digest(rows):
    """SHA-256 of a table's rows as dicts: lets a reader tell the table is as the overlap graph wrote it."""
    return hashlib.sha256(json.dumps(list(rows), sort_keys=True).encode()).hexdigest()


def _read_verified(path, rows):
    from astropy.table import Table  # here: the solve mostly reads the recorded parse (read_graph)

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


def _graph_files(pairs_path, groups_path, plans_dir):
    plans = sorted(Path(plans_dir).glob("*.json"))
    return {"pairs": pairs_path, "groups": groups_path, **{f"plans/{path.name}": path for path in plans}}


def _graph_key(files):
    """The key of a recorded parse: the kind, the code and every file's bytes (None when one cannot be read)."""
    digests = {}
    for name, path in files.items():
        try:
            digests[name] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        except OSError:
            return None
    return product_key("graph_tables", digests)


def remember_graph(pairs_path, groups_path, plans_dir, parsed, store=STORE_DIR):
    """Record ``parsed`` ({"pairs", "groups", "batch_of_pair"}: what read_graph returns, from verified reads)
    under the digest of the files' bytes as written; the previous record goes."""
    key = _graph_key(_graph_files(pairs_path, groups_path, plans_dir))
    directory = Path(store) / "graph_tables"
    path = directory / f"{key}.json"
    try:
        write_sealed(path, {"key": key, "groups": list(parsed["groups"].items()), "pairs": parsed["pairs"],
                            "batch_of_pair": parsed["batch_of_pair"]}, compact=True)
    except ValueError:  # a value JSON cannot hold (a NaN position): no record, the solve parses the tables
        path = None
    for other in directory.glob("*.json"):
        if other != path:
            other.unlink(missing_ok=True)


def read_graph(pairs_path, groups_path, plans_dir, store=STORE_DIR):
    """{"pairs": read_pairs, "groups": read_groups, "batch_of_pair": jobs.plans.batch_of_pair} of these files.

    From the record remember_graph made when the files hold the bytes it
    recorded; parsed (and checked) otherwise.
    """
    key = _graph_key(_graph_files(pairs_path, groups_path, plans_dir))
    record = None if key is None else read_sealed(Path(store) / "graph_tables" / f"{key}.json", key)
    if record is not None:
        return {"pairs": record["pairs"], "groups": dict(record["groups"]), "batch_of_pair": record["batch_of_pair"]}
    from skymatchflow.jobs.plans import batch_of_pair

    return {"pairs": read_pairs(pairs_path), "groups": read_groups(groups_path), "batch_of_pair": batch_of_pair(plans_dir)}
