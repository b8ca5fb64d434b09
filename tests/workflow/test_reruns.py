"""Incremental re-runs and provenance, asserted on Snakemake's plans, logs and files.

A small demo (8 images of 128 px, every image its own sky group so that there
are several pairs in several batches) is run once with 7 of its images; each
test works on a copy of that run. Jobs behind the overlap-graph checkpoint
(the pair batches) are planned only once the checkpoint has run, so the tests
first run the checkpoint, then read the plan. An image batch job re-runs as a
whole; which of its products it remade is read from its log and the files.
"""

import base64
import json
import re
import shutil
import time

import pytest
import yaml
from astropy.io import fits
from astropy.table import Table

from helpers.images import tan_wcs, write_image
from helpers.paths import REPO
from helpers.workflow_runner import copy_run, run_snakemake
from skymatchflow.demo.names import demo_file_names
from skymatchflow.jobs.batches import CELLS_PER_BATCH, batch_of_image
from skymatchflow.jobs.plans import batch_of_pair

pytestmark = pytest.mark.e2e

DEMO = [f"resources/demo/{name}" for name in demo_file_names()][:8]  # the first two of its four exposures
LEFT_OUT = DEMO[7]  # exposure 2, nrca4: added back by one test


def config_with(images, **changes):
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config.update(images=images, groups="none", image_batches=4, pair_batches=4, demo={"detector_size": 128})
    config.update(changes)
    return config


def write(workdir, config):
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(config))


def plan(workdir, *args, targets=("all", "matched")):
    """{rule: job count} of a dry run of the final targets."""
    result = run_snakemake(workdir, *targets, "--dry-run", *args)
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
    return copy_run(base, tmp_path)


# the diagnostics' map (diagnostics_map) needs only the image batches: it runs beside the solve, not after it,
# and a solve option does not re-run it (test_solve_parameter_reruns_only_solve_and_apply)
AFTER_SOLVE = {"all", "matched", "demo_compare", "diagnostics", "diagnostics_map",
               "demo_figure"}
IMAGE_STAGE = {"image_batch", "overlap_graph", "solve_sky", "apply_sky"}
PLANS = "results/overlaps/batches"  # the overlap graph's checkpoint: pair batches are planned once it has run
PAIR_STAGE = {"pair_batch", "solve_sky", "apply_sky"}


def made_counts(workdir, since):
    """{product: images made} over the image batch logs written after ``since`` (time_ns)."""
    counts = {"footprint": 0, "mask": 0, "sky": 0}
    for log in (workdir / "logs" / "image_batch").glob("*.log"):
        if log.stat().st_mtime_ns < since:
            continue
        for product, made in re.findall(r"(footprint|mask|sky) (\d+) made", log.read_text()):
            counts[product] += int(made)
    return counts


def n_batches(workdir, kind):
    return len(list((workdir / "results" / kind).iterdir()))


@pytest.mark.parametrize(
    "change, remade",
    [
        ({"stepsize": 64}, {"footprint"}),
        ({"dqbits": 4}, {"mask", "sky"}),
        ({"skystat": "median"}, {"sky"}),
        ({"lower": -1.0}, {"sky"}),
        ({"upper": 50.0}, {"sky"}),
        ({"nclip": 3}, {"sky"}),
        ({"lsigma": 3.0}, {"sky"}),
        ({"usigma": 3.0}, {"sky"}),
        ({"binwidth": 0.2}, {"sky"}),
    ],
    ids=lambda v: ",".join(v) if isinstance(v, dict) else None,
)
def test_per_image_parameter_remakes_its_products_then_every_pair_batch(copy, change, remade):
    write(copy, config_with(DEMO[:7], **change))
    planned = plan(copy)
    assert set(planned) - AFTER_SOLVE == IMAGE_STAGE
    assert planned["image_batch"] == n_batches(copy, "images")
    start = time.time_ns()
    run(copy, PLANS)
    assert made_counts(copy, start) == {p: 7 if p in remade else 0 for p in ("footprint", "mask", "sky")}
    graph_log = (copy / "logs" / "overlap_graph.log").read_text()
    assert ("graph read from the product store" in graph_log) == ("footprint" not in remade)
    planned = plan(copy)  # the pair batches, planned once the checkpoint has run
    assert set(planned) - AFTER_SOLVE == PAIR_STAGE
    assert planned["pair_batch"] == n_batches(copy, "pairs")


@pytest.mark.parametrize("change", [{"skymethod": "match"}, {"match_down": False}, {"subtract": True}],
                         ids=lambda v: ",".join(v))
def test_solve_parameter_reruns_only_solve_and_apply(copy, change):
    write(copy, config_with(DEMO[:7], **change))
    planned = plan(copy)
    assert set(planned) - AFTER_SOLVE == {"solve_sky", "apply_sky"}
    assert "diagnostics_map" not in planned and planned["diagnostics"] == 1


def new_id(path):
    return path.rsplit("/", 1)[1].removesuffix(".fits")


def test_pair_batch_count_is_a_scheduling_knob_that_reruns_no_science_stage(copy):
    """A new pair batch count regroups the pairs: the plans (the graph read back from the store), pair batches
    (linking, not computing) and the solve re-run."""
    before = Table.read(copy / "results" / "sky.ecsv")
    write(copy, config_with(DEMO[:7], pair_batches=2))
    assert set(plan(copy)) - AFTER_SOLVE == {"overlap_graph", "solve_sky", "apply_sky"}
    run(copy, PLANS)
    assert "graph read from the product store" in (copy / "logs" / "overlap_graph.log").read_text()
    assert set(plan(copy)) - AFTER_SOLVE == PAIR_STAGE
    start = time.time_ns()
    run(copy)
    logs = " ".join(p.read_text() for p in (copy / "logs" / "pair_batch").glob("*.log") if p.stat().st_mtime_ns > start)
    assert re.findall(r"(\d+) pairs computed", logs) and not re.search(r"[1-9]\d* pairs computed", logs)
    after = Table.read(copy / "results" / "sky.ecsv")
    assert list(after["sky"]) == list(before["sky"]) and list(after["status"]) == list(before["status"])


def test_adding_an_image_recomputes_only_its_products_and_pairs(copy):
    before = pair_files(copy)
    write(copy, config_with(DEMO))
    planned = plan(copy)
    assert set(planned) - AFTER_SOLVE == IMAGE_STAGE and planned["image_batch"] == 1
    # the reason lines name digests or identity request files, not every image and signature
    # (25,390 characters at 200 images)
    dry = run_snakemake(copy, "all", "matched", "--dry-run")
    text = dry.stdout + dry.stderr
    assert "Params have changed" in text or "results/.identity/" in text
    assert "signatures" not in text and "made_from" not in text
    assert max(len(line) for line in text.splitlines()) < 2000
    start = time.time_ns()
    run(copy, PLANS)
    assert made_counts(copy, start) == {"footprint": 1, "mask": 1, "sky": 1}
    planned = plan(copy)
    added = new_id(LEFT_OUT)
    table = Table.read(copy / "results" / "overlaps" / "pairs.ecsv")
    # the demo's files are batched by id: a pair by the id of its first side's first member
    batch = {row["pair"]: batch_of_image(row["members_a"].split(",")[0], 4, "b") for row in table}
    assert batch == batch_of_pair(copy / "results" / "overlaps" / "batches")
    batches_with_new = {batch[row["pair"]] for row in table if added in (row["group_a"], row["group_b"])}
    # only the pair batches given new pairs re-run (their plans changed), not every batch reading an
    # image of the re-run image batch; they link their unchanged pairs from the store
    rerun_images = {new_id(p) for p in DEMO if batch_of_image(new_id(p), 4) == batch_of_image(added, 4)}
    reading = {batch[row["pair"]] for row in table
               if rerun_images & set(row["members_a"].split(",") + row["members_b"].split(","))}
    assert batches_with_new and batches_with_new <= reading and planned["pair_batch"] == len(batches_with_new)
    run(copy)
    after = pair_files(copy)
    new_pairs = {name for name in after if involves(name, added)}
    assert new_pairs and not new_pairs & set(before)
    for name, (mtime, content) in before.items():
        assert after[name] == (mtime, content), f"{name} was recomputed"
    logs = " ".join((copy / "logs" / "pair_batch" / f"{batch}.log").read_text() for batch in batches_with_new)
    computed = sum(int(n) for n in re.findall(r"(\d+) pairs computed", logs))
    assert computed == len(new_pairs)


STRIP_SIDE = 64  # pixels of 0.5": a strip of 2 rows, 0.8 of a width apart, spans several sky cells
STRIP_IMAGES = 120  # about 40 sky cells: over CELLS_PER_BATCH per batch at 2 batches, so batched by cell
STRIP_BATCHES = 2


@pytest.fixture(scope="module")
def strip(tmp_path_factory):
    """(run directory, image paths): a strip of 120 small images run with 2 + 2 batches, and one more kept aside.

    Not the demo's files (made by a rule, they are batched by their id): ordinary inputs, batched by the
    sky cell their header places them in (a survey: enough cells per batch; a smaller field is cut into equal
    shares instead, jobs/batches.py). Outside the run directory, so copies of the run share them.
    """
    assert STRIP_IMAGES / 3 > CELLS_PER_BATCH * STRIP_BATCHES  # a cell holds about 3 of its images
    data = tmp_path_factory.mktemp("strip_data")
    width = STRIP_SIDE * 0.5 / 3600.0
    paths = []
    for k in range(STRIP_IMAGES + 1):
        col, row = divmod(k, 2)
        crval = (150.0 + col * 0.8 * width, 2.2 + (row - 0.5) * 0.85 * width)
        wcs = tan_wcs((STRIP_SIDE, STRIP_SIDE), crval=crval, rotation_deg=2.0 * (k % 3 - 1))
        paths.append(str(write_image(data / f"strip{k:03d}.fits", shape=(STRIP_SIDE, STRIP_SIDE), wcs=wcs)))
    workdir = tmp_path_factory.mktemp("strip_run")
    (workdir / "config").mkdir()
    write(workdir, strip_config(paths[:-1]))
    run(workdir, "all")
    return workdir, paths


def strip_config(paths):
    return config_with(paths, skymethod="match", image_batches=STRIP_BATCHES, pair_batches=STRIP_BATCHES)


def image_batch_holding(workdir, image):
    """The image batch whose directory holds ``image``'s products."""
    return next(p.parent.name for p in (workdir / "results" / "images").glob(f"*/{image}.footprint.json"))


def test_an_added_image_reruns_one_image_batch_and_only_the_pair_batches_of_its_cell(strip, tmp_path):
    """Image batches by sky cell, pair batches by the cell of their first side's first member: an image added to
    a survey re-runs its cell's image batch, and the pair batches of its new pairs only (issue 29)."""
    base, paths = strip
    copy = copy_run(base, tmp_path)
    assert plan(copy, targets=("all",)) == {}
    n_pair_batches = n_batches(copy, "pairs")
    write(copy, strip_config(paths))
    planned = plan(copy, targets=("all",))
    assert planned["image_batch"] == 1 and set(planned) - AFTER_SOLVE == {"image_batch", "overlap_graph", "solve_sky"}
    run(copy, PLANS)
    added = new_id(paths[-1])
    batch_of_added = image_batch_holding(copy, added)
    planned = plan(copy, targets=("all",))
    table = Table.read(copy / "results" / "overlaps" / "pairs.ecsv")
    new_pairs = [row for row in table if added in (row["group_a"], row["group_b"])]
    in_batch = batch_of_pair(copy / "results" / "overlaps" / "batches")
    with_new = {in_batch[row["pair"]] for row in new_pairs}
    # each new pair is led by a neighbour already there, in the image batch of its cell: the pair batch
    # of the same number; every other pair batch keeps its plan and does not re-run
    leaders = {image_batch_holding(copy, row["members_a"].split(",")[0]) for row in new_pairs}
    assert {b[1:] for b in with_new} == {i[1:] for i in leaders}
    assert planned["pair_batch"] == len(with_new) < n_pair_batches
    assert set(planned) - AFTER_SOLVE == {"pair_batch", "solve_sky"}
    # the added image's own cell: its batch is its neighbours' (the strip's cells are a few images wide)
    assert batch_of_added in leaders


def test_removing_an_image_recomputes_no_product_and_no_pair(copy):
    before = pair_files(copy)
    removed = new_id(DEMO[6])
    write(copy, config_with(DEMO[:6]))
    planned = plan(copy)
    # its batch re-runs (to drop its files) unless it was the batch's only image
    batch = batch_of_image(removed, 4)
    others = [p for p in DEMO[:6] if batch_of_image(new_id(p), 4) == batch]
    assert set(planned) - AFTER_SOLVE == IMAGE_STAGE - ({"image_batch"} if not others else set())
    start = time.time_ns()
    run(copy)
    assert made_counts(copy, start) == {"footprint": 0, "mask": 0, "sky": 0}
    assert bool(list((copy / "results" / "images").glob(f"*/{removed}.*"))) == (not others)
    after = pair_files(copy)
    assert set(after) == {name for name in before if not involves(name, removed)}
    for name in after:
        assert after[name] == before[name], f"{name} was recomputed"


def test_replacing_a_file_recomputes_its_products_and_pairs(copy):
    before = pair_files(copy)
    changed = new_id(DEMO[0])
    path = copy / DEMO[0]
    with fits.open(path) as hdul:
        hdul = fits.HDUList([hdu.copy() for hdu in hdul])
    hdul["SCI"].data = hdul["SCI"].data + 0.5
    hdul.writeto(path, overwrite=True)
    planned = plan(copy)
    assert set(planned) - AFTER_SOLVE == IMAGE_STAGE and planned["image_batch"] == 1
    start = time.time_ns()
    run(copy)
    assert made_counts(copy, start) == {"footprint": 1, "mask": 1, "sky": 1}
    after = pair_files(copy)
    assert set(after) == set(before)
    for name in before:
        if involves(name, changed):
            assert after[name][1] != before[name][1], f"{name} was not recomputed"
        else:
            assert after[name] == before[name], f"{name} was recomputed"
    sky = Table.read(copy / "results" / "sky.ecsv")
    assert set(sky["image"]) == {new_id(p) for p in DEMO[:7]}


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
        for record in (new, old):  # the seal covers the areas too
            record.pop("checksum")
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
    for text in ("sky.ecsv", "pair_differences.ecsv", "Sky table", "summary.ecsv", "Diagnostics"):
        assert text in html
    for name in ("footprints", "overlap_graph", "residuals", "mosaic"):  # the figures, embedded as PNG data
        assert f"filename={name}.png;base64,iVBORw0KGgo" in html
    # the numbers as HTML tables shown inline, a landing text, and short job parameters
    encoded = re.search(r"data:text/html;charset=utf8;filename=tables\.html;base64,([A-Za-z0-9+/=]+)", html)
    tables = base64.b64decode(encoded.group(1)).decode()
    assert tables.count("<table>") == 2 and ">total</td>" in tables and tables.count("<tr") > 1 + 7
    assert "What to look at first" in html
    params = re.findall(r'"job_properties": \{"rule": "(\w+)", "wildcards": "[^"]*", "params": "([^"]*)"', html)
    assert {rule for rule, _ in params} >= {"solve_sky", "diagnostics"}
    assert all(len(text) < 200 and "made_from" not in text for _, text in params)
    assert "cfg={'images': 7, 'skymethod': 'global+match', 'params_sha256': '" in dict(params)["solve_sky"]
    # behind the digests: the graph's, the solve's and the audit's params name every image's made-from table by
    # its digest, one file, rather than each holding a copy of it
    files = [json.loads(path.read_text()) for path in (base / ".snakemake" / "skymatchflow" / "params").glob("*.json")]
    naming = [cfg["made_from"] for cfg in files if "made_from" in cfg]
    assert len(naming) >= 2 and all(set(ref) == {"params_sha256"} for ref in naming)
    assert sum(set(cfg) >= {"images", "stepsize", "stat", "wcs"} and "products" not in cfg for cfg in files) >= 1
    assert "Could not detect mimetype" not in result.stdout + result.stderr
