"""The overlap graph stage: group pairs with stable ids, and tables a reader can trust."""

import json
import math

import pytest

from helpers.images import tan_wcs, write_image
from skymatchflow.errors import InputError
from skymatchflow.geometry.footprint import polygon_from_dict
from skymatchflow.io.inputs import ImageSpec
from skymatchflow.io.stagefiles import write_ecsv
from skymatchflow.jobs.batches import PAIR_POSITION
from skymatchflow.jobs.planfiles import write_batch_plans
from skymatchflow.products.graph import read_graph, read_groups, read_pairs, remember_graph
from skymatchflow.stages._image_products import footprint_record
from skymatchflow.stages.overlap_graph import (
    build_graph,
    groups_table,
    image_pairs,
    pair_id,
    pair_positions,
    pairs_table,
    safe_name,
    stored_graph,
    updated_image_pairs,
)

SHAPE = (40, 50)


def records(tmp_path, layout):
    """Footprint records of images at RA offsets (arcsec) in groups: [(name, offset, group), ...]."""
    out = []
    for name, offset, group in layout:
        path = write_image(tmp_path / f"{name}.fits", shape=SHAPE,
                           wcs=tan_wcs(SHAPE, crval=(150.0 + offset / 3600.0, 2.0)))
        spec = ImageSpec(image=name, file=str(path), sci="SCI", group=group)
        out.append(footprint_record(spec, None, "none"))
    return out


def graph(tmp_path, layout):
    recs = records(tmp_path, layout)
    pairs, members = build_graph(recs, [polygon_from_dict(r["polygon"]) for r in recs])
    return recs, pairs, members


def test_pairs_of_different_groups_in_element_order(tmp_path):
    # a and c share group g1; b (g2) overlaps both; d is far away
    _, pairs, members = graph(tmp_path, [("a", 0, "g1"), ("b", 10, "g2"), ("c", 20, "g1"), ("d", 900, "g3")])
    assert members == {"g1": ["a", "c"], "g2": ["b"], "g3": ["d"]}
    assert [(p["pair"], p["members_a"], p["members_b"]) for p in pairs] == [("g1~g2", ["a", "c"], ["b"])]
    assert not pairs[0]["area_sr"] <= 0  # informational: > 0, or NaN when the pair stage settles it


def test_tables_round_trip_and_refuse_edits(tmp_path):
    recs, pairs, members = graph(tmp_path, [("a", 0, "g1"), ("b", 10, "g2"), ("c", 5, "g3")])
    write_ecsv(pairs_table(pairs, recs), tmp_path / "pairs.ecsv", {})
    write_ecsv(groups_table(recs, members), tmp_path / "groups.ecsv", {})
    fields = ("pair", "group_a", "group_b", "members_a", "members_b")
    read = read_pairs(tmp_path / "pairs.ecsv")
    assert [{k: p[k] for k in fields} for p in read] == [{k: p[k] for k in fields} for p in pairs]
    positions = pair_positions(pairs, recs)  # where side a lies, exactly as computed (it picks the batch)
    assert [{k: p[k] for k in PAIR_POSITION} for p in read] == [positions[p["pair"]] for p in pairs]
    assert read_groups(tmp_path / "groups.ecsv") == members
    text = (tmp_path / "pairs.ecsv").read_text()
    (tmp_path / "pairs.ecsv").write_text(text.replace("g1~g2", "g1~gX"))
    with pytest.raises(InputError, match="changed since the overlap graph wrote it"):
        read_pairs(tmp_path / "pairs.ecsv")


def test_the_solve_reads_the_recorded_parse_only_of_the_bytes_recorded(tmp_path):
    recs, pairs, members = graph(tmp_path, [("a", 0, "g1"), ("b", 10, "g2"), ("c", 5, "g3")])
    paths = tmp_path / "pairs.ecsv", tmp_path / "groups.ecsv", tmp_path / "plans"
    write_ecsv(pairs_table(pairs, recs), paths[0], {})
    write_ecsv(groups_table(recs, members), paths[1], {})
    made_from = {"images": {r["image"]: {"file": r["file"]} for r in recs}}
    batch_of = {"a": "b000", "b": "b001", "c": "b001"}
    write_batch_plans(read_pairs(paths[0]), made_from, {}, batch_of, paths[2])
    parsed = read_graph(*paths, store=tmp_path / "store")  # nothing recorded: parsed from the files
    assert parsed["groups"] == members and parsed["batch_of_pair"] == {"g1~g2": "b000", "g1~g3": "b000",
                                                                       "g2~g3": "b001"}
    remember_graph(*paths, {**parsed, "pairs": [{"pair": "recorded"}]}, store=tmp_path / "store")
    assert read_graph(*paths, store=tmp_path / "store")["pairs"] == [{"pair": "recorded"}]  # the same bytes
    text = paths[0].read_text()
    paths[0].write_text(text.replace("g1~g2", "g1~gX"))  # other bytes: parsed again, and an edit refused
    with pytest.raises(InputError, match="changed since the overlap graph wrote it"):
        read_graph(*paths, store=tmp_path / "store")
    paths[0].write_text(text)
    (paths[2] / "b001.json").write_text((paths[2] / "b001.json").read_text() + " ")  # a plan's bytes count too
    assert read_graph(*paths, store=tmp_path / "store")["pairs"][0]["pair"] == "g1~g2"


def test_file_safe_group_names_are_one_to_one():
    assert safe_name("jw01_nrca1") == "jw01_nrca1"
    assert safe_name("x y") != safe_name("x_y") and " " not in safe_name("x y")
    assert "~" not in safe_name("a~b") and pair_id("a", "b") == "a~b"
    assert len(safe_name("g" * 500)) <= 100


def test_two_groups_with_one_safe_name_are_refused(tmp_path):
    recs = records(tmp_path, [("a", 0, "x y"), ("b", 10, "x_y")])
    recs[1]["group"] = safe_name("x y")  # a group literally named like the other's safe name
    with pytest.raises(InputError, match="same file-safe name"):
        build_graph(recs, [polygon_from_dict(r["polygon"]) for r in recs])


def test_the_graph_of_unchanged_footprints_is_read_back_from_the_store(tmp_path):
    recs = records(tmp_path, [("a", 0, "g2"), ("b", 10, "g1"), ("c", 5, "g3")])
    for k, record in enumerate(recs):
        record["key"] = f"k{k}"
    polygons = [polygon_from_dict(r["polygon"]) for r in recs]
    store = tmp_path / "store"
    first = stored_graph(recs, polygons, store)
    again = stored_graph(recs, polygons, store)
    assert first[2] is False and again[2] is True
    assert again[1] == first[1] and list(again[1]) == ["g2", "g1", "g3"]  # element order kept
    same = lambda pairs: [{k: v for k, v in p.items() if k != "area_sr"} for p in pairs]  # noqa: E731
    assert same(again[0]) == same(first[0])
    assert [math.isnan(p["area_sr"]) or p["area_sr"] for p in again[0]] == \
        [math.isnan(p["area_sr"]) or p["area_sr"] for p in first[0]]
    recs[2]["key"] = "changed"  # another footprint: computed again, and the old graph dropped
    assert stored_graph(recs, polygons, store)[2] is False
    assert len(list((store / "graph").iterdir())) == 1
    (next((store / "graph").iterdir())).write_text("{}")  # damaged: computed again
    assert stored_graph(recs, polygons, store)[2] is False


def _same_found(a, b):
    """Image pair lists equal, NaN areas equal to NaN."""
    key = lambda found: [(i, j, *(None if math.isnan(x) else x for x in areas)) for i, j, *areas in found]  # noqa: E731
    return key(a) == key(b)


@pytest.mark.parametrize("change", ["add", "remove", "replace", "reorder"])
def test_an_updated_graph_equals_a_full_build(tmp_path, change):
    # a strip of overlapping footprints (clear overlaps, near-touching ones and far ones) in three groups
    layout = [(f"i{k}", 14 * k + (3 if k % 3 else 0), f"g{k % 3}") for k in range(10)] + [("far", 900, "g9")]
    recs = records(tmp_path, layout)
    for record in recs:
        record["key"] = "k-" + record["image"]
    store = tmp_path / "store"
    stored_graph(recs, [polygon_from_dict(r["polygon"]) for r in recs], store)
    if change == "add":
        recs = recs[:5] + records(tmp_path, [("new", 40, "g1")]) + recs[5:]
        recs[5]["key"] = "k-new"
    elif change == "remove":
        recs = recs[:4] + recs[5:]
    elif change == "replace":  # same id, another footprint
        (tmp_path / "moved").mkdir()
        recs[3] = records(tmp_path / "moved", [("i3", 47, "g0")])[0] | {"key": "k-i3-moved"}
    else:
        recs[2], recs[6] = recs[6], recs[2]
    polygons = [polygon_from_dict(r["polygon"]) for r in recs]
    previous = json.loads(next((store / "graph").iterdir()).read_text())
    found, _, reused = updated_image_pairs(recs, polygons, previous)
    assert reused > 0 and _same_found(found, image_pairs(polygons))
    pairs, groups, whole, reused_again = stored_graph(recs, polygons, store)
    full_pairs, full_groups = build_graph(recs, polygons)
    assert whole is False and reused_again == reused and groups == full_groups
    assert write_tables(tmp_path / "updated", recs, pairs, groups) == write_tables(tmp_path / "full", recs, full_pairs,
                                                                                   full_groups)


def write_tables(directory, recs, pairs, groups):
    """The bytes of pairs.ecsv and groups.ecsv as the overlap graph writes them."""
    directory.mkdir()
    write_ecsv(pairs_table(pairs, recs), directory / "pairs.ecsv", {})
    write_ecsv(groups_table(recs, groups), directory / "groups.ecsv", {})
    return (directory / "pairs.ecsv").read_bytes(), (directory / "groups.ecsv").read_bytes()
