"""The overlap graph stage: which sky groups overlap, and how pair work is batched.

Reads every footprint record, finds the overlapping image pairs with a
spatial pre-filter plus the exact spherical intersection (overlaps.py), and
aggregates them into sky-group pairs. Each group pair gets a stable id and a
batch: batches are hash buckets of the pair's first group, so adding an image
changes only the batches that hold its pairs (see README, "Pair batches").
"""

import hashlib
import json
import re

from astropy.table import Table

from skymatchflow.geometry.overlaps import group_pairs, overlapping_image_pairs
from skymatchflow.io.errors import InputError
from skymatchflow.io.inputchecks import MAX_NAME, short_name
from skymatchflow.jobs.buckets import hash_bucket

UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")


def safe_name(group):
    """A group id as it may appear in a file name, one to one.

    A safe, short id is kept; one with other characters (``x y``) gets them
    replaced and a hash of the id added, so it cannot meet another group's
    name (``x_y``); a long one is cut (see inputs.short_name).
    """
    group = str(group)
    safe = UNSAFE.sub("_", group)
    if safe != group:
        digest = hashlib.sha256(group.encode()).hexdigest()[:10]
        safe = f"{safe[: MAX_NAME - 11]}-{digest}"
    return short_name(safe)


def pair_id(group_a, group_b):
    """Stable, readable id of a group pair (``~`` never occurs in safe names)."""
    return f"{safe_name(group_a)}~{safe_name(group_b)}"


def batch_of(group_a, n_batches):
    """The batch of a pair: a hash bucket of its first group (stable under additions)."""
    return hash_bucket(group_a, n_batches, "b")


def group_order(records):
    """Groups in order of first appearance, and their members in input order."""
    members = {}
    for record in records:
        members.setdefault(record["group"], []).append(record["image"])
    return members


def build_graph(records, polygons, n_batches):
    """(pairs, groups) from footprint records (input order) and their polygons.

    ``pairs``: one dict per overlapping group pair, with the two groups in
    order of first appearance (the reference's element order), the members
    of each side that overlap the other group, the summed intersection area,
    the pair id and its batch.
    """
    members = group_order(records)
    ids = [record["image"] for record in records]
    groups = [record["group"] for record in records]
    safe = {}
    for group in members:
        other = safe.setdefault(safe_name(group), group)
        if other != group:
            raise InputError(f"sky groups {other!r} and {group!r}", "they have the same file-safe name; rename one")
    pairs = []
    # Clear overlaps get float64 areas (informational; the pair stage measures
    # its own); candidates too close to call cheaply are listed with a NaN
    # area and settled by the pair stage's exact intersection, which marks a
    # pair without overlap as giving no equation.
    found = overlapping_image_pairs(polygons, exact=False, defer_ambiguous=True)
    for entry in group_pairs(found, groups):
        a, b = entry["group_a"], entry["group_b"]
        side_a = {ids[i] if groups[i] == a else ids[j] for i, j in entry["members"]}
        side_b = {ids[j] if groups[j] == b else ids[i] for i, j in entry["members"]}
        pairs.append(
            {
                "pair": pair_id(a, b),
                "group_a": a,
                "group_b": b,
                "batch": batch_of(a, n_batches),
                "area_sr": float(entry["area_sr"]),
                "members_a": [m for m in members[a] if m in side_a],
                "members_b": [m for m in members[b] if m in side_b],
            }
        )
    return pairs, members


def pairs_table(pairs):
    """The readable pair list (results/overlaps/pairs.ecsv)."""
    table = Table(
        rows=[
            (p["pair"], p["group_a"], p["group_b"], p["batch"], p["area_sr"],
             ",".join(p["members_a"]), ",".join(p["members_b"]))
            for p in pairs
        ],
        names=("pair", "group_a", "group_b", "batch", "area_sr", "members_a", "members_b"),
        dtype=(str, str, str, str, float, str, str),
    )
    table["area_sr"].unit = "sr"
    table.meta["description"] = "Overlapping sky-group pairs (exact spherical intersections)"
    table.meta["pairs_sha256"] = pairs_digest(batches_of(pairs))
    return table


def groups_table(records, members):
    """Images with their sky group and the group's order (results/overlaps/groups.ecsv)."""
    order = {group: index for index, group in enumerate(members)}
    return Table(
        rows=[(r["image"], r["file"], r["sci"], r["group"], order[r["group"]]) for r in records],
        names=("image", "file", "sci", "group", "group_index"),
        dtype=(str, str, str, str, int),
    )


PAIR_FIELDS = ("pair", "group_a", "group_b", "members_a", "members_b")


def batches_of(pairs):
    """{batch: [pair dicts]} in list order, each pair with exactly what a pair batch is given."""
    batches = {}
    for pair in pairs:
        batches.setdefault(str(pair["batch"]), []).append({name: pair[name] for name in PAIR_FIELDS})
    return batches


def pairs_digest(batches):
    """SHA-256 of the batched pair list: lets a reader of pairs.ecsv tell it is as the graph wrote it."""
    return hashlib.sha256(json.dumps(batches, sort_keys=True).encode()).hexdigest()


def read_batches(pairs_path, verify=False):
    """{batch: [pair dicts]} from results/overlaps/pairs.ecsv, in table order.

    With ``verify``, a table whose rows differ from what the overlap graph
    wrote (its recorded digest) is refused with one line.
    """
    table = Table.read(pairs_path, format="ascii.ecsv")
    batches = batches_of(
        {
            "pair": str(row["pair"]),
            "group_a": str(row["group_a"]),
            "group_b": str(row["group_b"]),
            "batch": str(row["batch"]),
            "members_a": str(row["members_a"]).split(","),
            "members_b": str(row["members_b"]).split(","),
        }
        for row in table
    )
    if verify and table.meta.get("pairs_sha256") != pairs_digest(batches):
        raise InputError(pairs_path, "changed since the overlap graph wrote it; run: snakemake --forcerun overlap_graph")
    return batches
