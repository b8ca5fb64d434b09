"""The overlap graph stage: which sky groups overlap.

Reads every footprint record, finds the overlapping image pairs with a
spatial pre-filter plus the exact spherical intersection (geometry/), and
aggregates them into sky-group pairs with stable ids. Two tables, each
carrying the SHA-256 of its rows so a reader can tell it is as written:
pairs.ecsv and groups.ecsv (the sky groups in the reference's element
order). How pairs are batched into jobs is not decided here (jobs/batches.py),
so the batch count never re-runs this stage.
"""

import hashlib
import math
from pathlib import Path

import numpy as np
from astropy.table import Table

from skymatchflow.errors import InputError
from skymatchflow.geometry.candidates import bounding_caps, candidate_pairs, candidate_pairs_with
from skymatchflow.geometry.skycells import centre_and_size
from skymatchflow.io.inputchecks import MAX_NAME, UNSAFE_NAME_CHARS, short_name
from skymatchflow.jobs.batches import PAIR_FIELDS, PAIR_POSITION
from skymatchflow.products.graph import GROUP_FIELDS, rows_digest
from skymatchflow.products.store import STORE_DIR, product_key, read_sealed, write_sealed


def group_order(records):
    """Groups in order of first appearance, and their members in input order."""
    members = {}
    for record in records:
        members.setdefault(record["group"], []).append(record["image"])
    return members


def safe_name(group):
    """A group id as it may appear in a file name, one to one.

    A safe, short id is kept; one with other characters (``x y``) gets them
    replaced and a hash of the id added, so it cannot meet another group's
    name (``x_y``); a long one is cut (see io/inputchecks.short_name).
    """
    group = str(group)
    safe = UNSAFE_NAME_CHARS.sub("_", group)
    if safe != group:
        digest = hashlib.sha256(group.encode()).hexdigest()[:10]
        safe = f"{safe[: MAX_NAME - 11]}-{digest}"
    return short_name(safe)


def pair_id(group_a, group_b):
    """Stable, readable id of a group pair (``~`` never occurs in safe names)."""
    return f"{safe_name(group_a)}~{safe_name(group_b)}"


def build_graph(records, polygons, found=None):
    """(pairs, groups) from footprint records (input order) and their polygons.

    ``pairs``: one dict per overlapping group pair, with the two groups in
    order of first appearance (the reference's element order), the members
    of each side that overlap the other group, the summed intersection area
    and the pair id. ``found``: the overlapping image pairs when already
    known (see image_pairs); else they are computed here.
    """
    from skymatchflow.geometry.overlaps import group_pairs  # here: the solve reads the graph, needs no geometry

    members = group_order(records)
    ids = [record["image"] for record in records]
    groups = [record["group"] for record in records]
    safe = {}
    for group in members:
        other = safe.setdefault(safe_name(group), group)
        if other != group:
            raise InputError(f"sky groups {other!r} and {group!r}", "they have the same file-safe name; rename one")
    pairs = []
    if found is None:
        found = image_pairs(polygons)
    for entry in group_pairs(found, groups):
        a, b = entry["group_a"], entry["group_b"]
        side_a = {ids[i] if groups[i] == a else ids[j] for i, j in entry["members"]}
        side_b = {ids[j] if groups[j] == b else ids[i] for i, j in entry["members"]}
        pairs.append(
            {
                "pair": pair_id(a, b),
                "group_a": a,
                "group_b": b,
                "area_sr": float(entry["area_sr"]),
                "members_a": [m for m in members[a] if m in side_a],
                "members_b": [m for m in members[b] if m in side_b],
            }
        )
    return pairs, members


def image_pairs(polygons, candidates=None, caps=None):
    """The overlapping image pairs ``[(i, j, area_ij, area_ji), ...]`` (i < j, sorted) of the graph.

    Clear overlaps get float64 areas (informational; the pair stage measures
    its own); candidates too close to call cheaply are listed with a NaN
    area and settled by the pair stage's exact intersection, which marks a
    pair without overlap as giving no equation. ``candidates``: test only
    these index pairs (each decision depends on its two footprints alone,
    so a subset gives the same answer for its pairs as the whole);
    ``caps``: the polygons' bounding_caps, when known.
    """
    from skymatchflow.geometry.overlaps import overlapping_image_pairs

    return overlapping_image_pairs(polygons, exact=False, pairs=candidates, defer_ambiguous=True, caps=caps)


#: up to this many comparisons (new footprints x all), the candidates of the new footprints are found by
#: comparing their caps with every other (geometry/candidates.candidate_pairs_with: a few ms at 2,000
#: footprints), not by a KD-tree over all (scipy.spatial's import alone: 0.3 s of the graph's job)
DIRECT_WITH_MAX = 2_000_000


def updated_image_pairs(records, polygons, previous):
    """(image pairs, caps, number reused): the graph's image pairs, reusing ``previous``'s where it can.

    ``previous``: a stored graph ({"footprints": [[image, key], ...], "caps":
    [[x, y, z, radius], ...], "image_pairs": [[i, j, area_ij, area_ji], ...]},
    indexed into its footprints). A footprint's bounding cap depends on it
    alone, and whether a candidate overlaps, with its informational area, on
    the two footprints and their order alone; so the caps of footprints the
    previous graph had, and its verdicts on pairs of them in the same
    order, are taken over, and only candidates involving a new or changed
    footprint are tested. The result equals image_pairs(polygons) (a unit
    test checks it).
    """
    old_index = {(image, key): k for k, (image, key) in enumerate(previous["footprints"])}
    old_of = [old_index.get((record["image"], record["key"]), -1) for record in records]
    new_of = {old: new for new, old in enumerate(old_of) if old >= 0}
    caps = _caps_from(previous["caps"], old_of, polygons)
    kept = []
    for i, j, a_ij, a_ji in previous["image_pairs"]:
        ni, nj = new_of.get(i), new_of.get(j)
        if ni is not None and nj is not None and ni < nj:  # both still there, in the same order
            kept.append((ni, nj, _float(a_ij), _float(a_ji)))
    # a candidate is settled by the previous graph when both its footprints were there in this order:
    # listed if it overlapped, absent (disjoint) otherwise
    new = [k for k, old in enumerate(old_of) if old < 0]
    kept_order = all(a < b for a, b in zip(new_of, list(new_of)[1:]))  # new_of's keys: old indices in new order
    if kept_order and len(new) * len(polygons) <= DIRECT_WITH_MAX:
        candidates = candidate_pairs_with(caps, new)  # only pairs with a new footprint are unsettled
    else:
        candidates = candidate_pairs(polygons, caps)
    fresh = [
        (i, j) for i, j in candidates.tolist()
        if old_of[i] < 0 or old_of[j] < 0 or old_of[i] > old_of[j]
    ]
    found = kept + (image_pairs(polygons, fresh, caps) if fresh else [])
    found.sort(key=lambda t: (t[0], t[1]))
    return found, caps, len(kept)


def _caps_from(stored, old_of, polygons):
    """Bounding caps of ``polygons``: stored ones where ``old_of`` names one, computed for the rest."""
    centres, radii = np.zeros((len(polygons), 3)), np.full(len(polygons), np.nan)
    new = [k for k, old in enumerate(old_of) if old < 0]
    for k, old in enumerate(old_of):
        if old >= 0:
            x, y, z, radius = stored[old]
            centres[k], radii[k] = (x, y, z), _float(radius)
    if new:
        new_centres, new_radii = bounding_caps([polygons[k] for k in new])
        centres[new], radii[new] = new_centres, new_radii
    return centres, radii


def _float(value):
    return math.nan if value is None else value


def _previous_graph(directory):
    """The latest graph stored (a sealed record), or None."""
    for path in sorted(Path(directory).glob("*.json")):
        stored = read_sealed(path)
        if stored is not None and "image_pairs" in stored and "caps" in stored:
            return stored
    return None


def _finite(value):
    return value if math.isfinite(value) else None


def stored_graph(records, polygons, store=STORE_DIR):
    """(pairs, groups, reused, pairs_reused): the graph of these footprints, from the product store where it can.

    The graph depends only on the footprint records in input order, so a
    re-run after a change that leaves every footprint as it was (a mask or
    statistic parameter, the batch counts) reads it back instead of
    intersecting again (``reused``). After an image is added, removed or
    replaced, the image pairs of unchanged footprints come from the stored
    graph and only candidates involving the others are tested
    (``pairs_reused`` counts the image pairs taken over). The store keeps
    the latest graph only.
    """
    footprints = [[record["image"], record["key"]] for record in records]
    key = product_key("graph", footprints)
    directory = Path(store) / "graph"
    path = directory / f"{key}.json"
    stored = read_sealed(path, key)
    if stored is not None:
        pairs = [dict(pair, area_sr=_float(pair["area_sr"])) for pair in stored["pairs"]]
        return pairs, dict(stored["groups"]), True, len(stored.get("image_pairs", ()))
    previous = _previous_graph(directory)
    if previous is not None:
        found, caps, reused = updated_image_pairs(records, polygons, previous)
    else:
        caps = bounding_caps(polygons)
        found, reused = image_pairs(polygons, caps=caps), 0
    pairs, groups = build_graph(records, polygons, found)
    finite = [dict(pair, area_sr=_finite(pair["area_sr"])) for pair in pairs]
    write_sealed(path, {
        "key": key,
        "pairs": finite,
        "groups": list(groups.items()),  # a list keeps group order
        "footprints": footprints,
        "caps": [[*centre, _finite(radius)] for centre, radius in zip(caps[0].tolist(), caps[1].tolist())],
        "image_pairs": [[i, j, _finite(a_ij), _finite(a_ji)] for i, j, a_ij, a_ji in found],
    }, compact=True)
    for other in directory.glob("*.json"):
        if other != path:
            other.unlink(missing_ok=True)
    return pairs, groups, False, reused


def pair_positions(pairs, records):
    """{pair id: {"ra_a", "dec_a", "size_a"}}: where each pair's first side lies (degrees; jobs/batches.py).

    From the footprint of the first member of side a that overlaps side b:
    it changes only when the pair itself does, so an added image moves no
    pair; and it is where that image is, so the pair goes to the pair batch
    of that image's image batch (both by sky cell).
    """
    by_id = {r["image"]: r for r in records}
    position = {}  # of each leading image once: a survey's image leads a few pairs
    for image in dict.fromkeys(p["members_a"][0] for p in pairs):
        parts = by_id[image]["polygon"]["parts"]
        position[image] = dict(zip(PAIR_POSITION, centre_and_size([_open_ring(part["points"]) for part in parts])))
    return {p["pair"]: dict(position[p["members_a"][0]]) for p in pairs}


def _open_ring(points):
    """A polygon's vertices without the closing repeat of the first (it would pull the centre towards it)."""
    return points[:-1] if len(points) > 1 and list(points[0]) == list(points[-1]) else points


def pairs_table(pairs, records):
    """The readable pair list (results/overlaps/pairs.ecsv), with where each pair is (pair_positions)."""
    positions = pair_positions(pairs, records)
    pairs = [p | positions[p["pair"]] for p in pairs]
    table = Table(
        rows=[
            (p["pair"], p["group_a"], p["group_b"], p["area_sr"], ",".join(p["members_a"]), ",".join(p["members_b"]),
             *(p[name] for name in PAIR_POSITION))
            for p in pairs
        ],
        names=("pair", "group_a", "group_b", "area_sr", "members_a", "members_b", *PAIR_POSITION),
        dtype=(str, str, str, float, str, str, float, float, float),
    )
    table["area_sr"].unit = "sr"
    for name in PAIR_POSITION:
        table[name].unit = "deg"
    table.meta["description"] = "Overlapping sky-group pairs (exact spherical intersections) and where side a lies"
    table.meta["rows_sha256"] = rows_digest({name: p[name] for name in PAIR_FIELDS + PAIR_POSITION} for p in pairs)
    return table


def groups_table(records, members):
    """Images with their sky group and the group's order (results/overlaps/groups.ecsv)."""
    order = {group: index for index, group in enumerate(members)}
    rows = [dict(image=r["image"], file=r["file"], sci=r["sci"], group=r["group"], group_index=order[r["group"]])
            for r in records]
    table = Table(rows=[tuple(row.values()) for row in rows], names=GROUP_FIELDS, dtype=(str, str, str, str, int))
    table.meta["description"] = "Images in input order with their sky group and the group's element index"
    table.meta["rows_sha256"] = rows_digest(rows)
    return table
