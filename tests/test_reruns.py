"""Incremental re-runs and provenance, asserted on Snakemake's plans and files.

A small demo (8 images of 128 px, every image its own sky group so that there
are several pairs in several batches) is run once with 7 of its images; each
test works on a copy of that run. Jobs behind the overlap-graph checkpoint
(the pair batches) are planned only once the checkpoint has run, so the tests
that change the geometry first run the checkpoint, then read the plan.
"""

import json
import re
import shutil

import pytest
import yaml
from astropy.io import fits
from astropy.table import Table

from conftest import REPO
from skymatchflow.demo import demo_file_names
from workflow_runner import run_snakemake

pytestmark = pytest.mark.e2e

DEMO = [f"resources/demo/{name}" for name in demo_file_names()]
LEFT_OUT = DEMO[7]  # exposure 2, nrca4: added back by one test


def config_with(images, **changes):
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config.update(images=images, groups="none", pair_batches=4, demo={"detector_size": 128})
    config.update(changes)
    return config


def write(workdir, config):
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(config))


def plan(workdir, *args):
    """{rule: job count} of a dry run of the final targets."""
    result = run_snakemake(workdir, "all", "matched", "--dry-run", *args)
    assert result.returncode == 0, result.stderr[-3000:]
    text = result.stdout + result.stderr
    if "Nothing to be done" in text:
        return {}
    block = text.split("Job stats:")[1].split("total")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", block, re.MULTILINE)}


def run(workdir, *targets):
    result = run_snakemake(workdir, *(targets or ("all", "matched")))
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def pair_files(workdir):
    """{pair file name: (mtime_ns, bytes)} of every pair statistics file."""
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in (workdir / "results" / "pairs").glob("*/*.json")}


def involves(pair_name, image):
    return image in pair_name.removesuffix(".json").split("~")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("rerun_base")
    (workdir / "config").mkdir()
    write(workdir, config_with(DEMO[:7]))
    run(workdir)
    # the left-out demo file exists (the demo rule writes all 8), unused so far
    assert (workdir / LEFT_OUT).is_file()
    return workdir


@pytest.fixture
def copy(base, tmp_path):
    workdir = tmp_path / "run"
    shutil.copytree(base, workdir, symlinks=True)
    return workdir


PER_IMAGE = {"image_footprint", "image_mask", "image_sky"}


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"dqbits": 4}, {"image_mask", "image_sky", "pair_batch", "solve_sky", "apply_sky"}),
        ({"skystat": "median"}, {"image_sky", "pair_batch", "solve_sky", "apply_sky"}),
        ({"lower": -1.0}, {"image_sky", "pair_batch", "solve_sky", "apply_sky"}),
        ({"upper": 50.0}, {"image_sky", "pair_batch", "solve_sky", "apply_sky"}),
        ({"nclip": 3}, {"image_sky", "pair_batch", "solve_sky", "apply_sky"}),
        ({"lsigma": 3.0}, {"image_sky", "pair_batch", "solve_sky", "apply_sky"}),
        ({"usigma": 3.0}, {"image_sky", "pair_batch", "solve_sky", "apply_sky"}),
        ({"binwidth": 0.2}, {"image_sky", "pair_batch", "solve_sky", "apply_sky"}),
        ({"skymethod": "match"}, {"solve_sky", "apply_sky"}),
        ({"match_down": False}, {"solve_sky", "apply_sky"}),
        ({"subtract": True}, {"solve_sky", "apply_sky"}),
    ],
    ids=lambda v: ",".join(v) if isinstance(v, dict) else None,
)
def test_parameter_change_reruns_exactly_its_scope(copy, change, expected):
    write(copy, config_with(DEMO[:7], **change))
    planned = set(plan(copy)) - {"all", "matched", "demo_compare"}
    assert planned == expected


def test_stepsize_reruns_footprints_graph_pairs_solve_apply(copy):
    write(copy, config_with(DEMO[:7], stepsize=64))
    planned = plan(copy)
    assert {"image_footprint", "overlap_graph", "solve_sky", "apply_sky"} <= set(planned)
    assert not {"image_mask", "image_sky"} & set(planned)
    assert planned["image_footprint"] == 7
    run(copy, "results/overlaps/pairs.ecsv")
    after_graph = plan(copy)
    assert "pair_batch" in after_graph and not PER_IMAGE & set(after_graph)


def test_adding_an_image_recomputes_only_its_pairs(copy):
    before = pair_files(copy)
    write(copy, config_with(DEMO))
    planned = plan(copy)
    assert planned["image_footprint"] == planned["image_mask"] == planned["image_sky"] == 1
    assert planned["overlap_graph"] == 1
    run(copy, "results/overlaps/pairs.ecsv")
    planned = plan(copy)
    new_id = LEFT_OUT.rsplit("/", 1)[1].removesuffix(".fits")
    table = Table.read(copy / "results" / "overlaps" / "pairs.ecsv")
    batches_with_new = {row["batch"] for row in table if new_id in (row["group_a"], row["group_b"])}
    assert batches_with_new and planned["pair_batch"] == len(batches_with_new)
    run(copy)
    after = pair_files(copy)
    new_pairs = {name for name in after if involves(name, new_id)}
    assert new_pairs and not new_pairs & set(before)
    for name, (mtime, content) in before.items():
        assert after[name] == (mtime, content), f"{name} was recomputed"
    logs = " ".join((copy / "logs" / "pair_batch" / f"{batch}.log").read_text() for batch in batches_with_new)
    computed = sum(int(n) for n in re.findall(r"(\d+) pairs computed", logs))
    assert computed == len(new_pairs)


def test_removing_an_image_recomputes_no_pair(copy):
    before = pair_files(copy)
    removed = DEMO[6].rsplit("/", 1)[1].removesuffix(".fits")
    write(copy, config_with(DEMO[:6]))
    planned = plan(copy)
    assert not PER_IMAGE & set(planned)
    run(copy)
    after = pair_files(copy)
    assert set(after) == {name for name in before if not involves(name, removed)}
    for name in after:
        assert after[name] == before[name], f"{name} was recomputed"


def test_replacing_a_file_recomputes_its_jobs_and_pairs(copy):
    before = pair_files(copy)
    changed = DEMO[0].rsplit("/", 1)[1].removesuffix(".fits")
    path = copy / DEMO[0]
    with fits.open(path) as hdul:
        hdul = fits.HDUList([hdu.copy() for hdu in hdul])
    hdul["SCI"].data = hdul["SCI"].data + 0.5
    hdul.writeto(path, overwrite=True)
    planned = plan(copy)
    assert {k: planned.get(k) for k in PER_IMAGE} == {k: 1 for k in PER_IMAGE}
    run(copy)
    after = pair_files(copy)
    assert set(after) == set(before)
    for name in before:
        if involves(name, changed):
            assert after[name][1] != before[name][1], f"{name} was not recomputed"
        else:
            assert after[name] == before[name], f"{name} was recomputed"
    sky = Table.read(copy / "results" / "sky.ecsv")
    assert set(sky["image"]) == {p.rsplit("/", 1)[1].removesuffix(".fits") for p in DEMO[:7]}


def test_nothing_changed_nothing_runs(copy):
    assert plan(copy) == {}


def test_rerun_from_scratch_reproduces_results_bit_for_bit(base, tmp_path):
    fresh = tmp_path / "fresh"
    (fresh / "config").mkdir(parents=True)
    shutil.copy(base / "config" / "config.yaml", fresh / "config" / "config.yaml")
    run(fresh)
    for name in ("sky.ecsv", "pair_differences.ecsv", "overlaps/pairs.ecsv"):
        assert (fresh / "results" / name).read_bytes() == (base / "results" / name).read_bytes(), name
    # pair files hold spherical_geometry intersection areas, which vary at
    # ~1e-8 relative between runs (its vertex order); every statistic is exact
    fresh_pairs, base_pairs = pair_files(fresh), pair_files(base)
    assert set(fresh_pairs) == set(base_pairs)
    for name in base_pairs:
        new, old = json.loads(fresh_pairs[name][1]), json.loads(base_pairs[name][1])
        for side in ("a", "b"):
            assert new[side]["area_sr"] == pytest.approx(old[side]["area_sr"], rel=1e-6)
            for record in (new[side], old[side], *new[side]["members"], *old[side]["members"]):
                record.pop("area_sr")
        assert new == old, name


def test_sky_table_provenance(base):
    meta = Table.read(base / "results" / "sky.ecsv").meta
    assert meta["config"]["groups"] == "none" and meta["config"]["skystat"] == "mode"
    assert {"skymatchflow", "numpy", "astropy", "spherical-geometry"} <= set(meta["software"])
    assert len(meta["inputs"]) == 7 and all(len(v) == 64 for v in meta["inputs"].values())
    pair = json.loads(next((base / "results" / "pairs").glob("*/*.json")).read_text())
    assert pair["provenance"]["params"]["skystat"] == "mode"
    assert all("footprint" in m and "mask" in m for m in pair["provenance"]["members"].values())


def test_report_holds_the_sky_table(base, tmp_path):
    report = tmp_path / "report.html"
    result = run_snakemake(base, "all", "--report", str(report))
    assert result.returncode == 0, result.stderr[-3000:]
    html = report.read_text(errors="replace")
    assert len(html) > 10_000
    for text in ("sky.ecsv", "pair_differences.ecsv", "Sky table"):
        assert text in html
