"""The workflow as a user runs it: lint, format, the demo end to end, bad input."""

import hashlib
import json
import re
import subprocess
import sys

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from helpers.images import tan_wcs, write_image
from helpers.paths import REPO
from helpers.stagefiles import read_mask_provenance
from helpers.workflow_runner import image_product, run_snakemake, write_config
from skymatchflow.demo.names import demo_file_names
from skymatchflow.io.maskfile import read_mask

pytestmark = pytest.mark.e2e


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_snakemake_lint_is_clean(tmp_path):
    # the demo's images: files a rule makes may be missing at start (a missing listed input stops the run)
    write_config(tmp_path, images=[f"resources/demo/{name}" for name in demo_file_names()])
    result = run_snakemake(tmp_path, "--lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations" in result.stdout + result.stderr


def test_ruff_check_is_clean():
    """The repository's Python passes ruff with its config (ruff.toml): the linter of CI."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", str(REPO)],
        capture_output=True, text=True, cwd=REPO,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_snakefmt_check_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "snakefmt", "--check", str(REPO / "workflow")],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The shipped config on a small demo (128 px detectors), run once."""
    workdir = tmp_path_factory.mktemp("demo")
    config = (REPO / "config" / "config.yaml").read_text()
    (workdir / "config").mkdir()
    (workdir / "config" / "config.yaml").write_text(config + "demo:\n  detector_size: 128\n")
    result = run_snakemake(workdir, "all", "matched")
    assert result.returncode == 0, result.stderr[-4000:]
    (workdir / "stdout.txt").write_text(result.stdout + result.stderr)
    return workdir


def demo_ids():
    return [name.removesuffix(".fits") for name in demo_file_names()]


def test_demo_writes_every_stage_file(demo_run):
    for image in demo_ids():
        for product in ("footprint", "mask", "sky", "preview"):
            assert image_product(demo_run, image, product).is_file()
    batches = sorted(path.name for path in (demo_run / "results" / "images").iterdir())
    assert batches and len(batches) <= 4
    for batch in batches:
        assert "made" in (demo_run / "logs" / "image_batch" / f"{batch}.log").read_text()
        assert (demo_run / "benchmarks" / "image_batch" / f"{batch}.tsv").is_file()
    assert not list((demo_run / "results").rglob("*.tmp"))


def test_demo_masks_follow_dqbits_zero(demo_run):
    for image in demo_ids():
        with fits.open(demo_run / "resources" / "demo" / f"{image}.fits") as hdul:
            expected = (hdul["DQ"].data == 0) & np.isfinite(hdul["SCI"].data)
            mask_path = image_product(demo_run, image, "mask")
            assert np.array_equal(read_mask(mask_path), expected)
            assert np.array_equal(read_mask(mask_path, (3, 40, 5, 50)), expected[3:40, 5:50])
        record = read_mask_provenance(mask_path)
        assert record["params"]["dqbits"] == 0
        assert record["inputs"]["image"]["sha256"] == sha256(
            demo_run / "resources" / "demo" / f"{image}.fits"
        )


def test_demo_groups_are_exposures(demo_run):
    groups = {}
    for image in demo_ids():
        record = json.loads(image_product(demo_run, image, "footprint").read_text())
        groups.setdefault(record["group"], []).append(image)
        assert record["area_sr"] > 0 and record["provenance"]["params"]["stepsize"] is None
    assert sorted(len(members) for members in groups.values()) == [4, 4, 4, 4]
    assert set(groups) == {f"jw01234001001_01101_{k:05d}" for k in (1, 2, 3, 4)}


def test_demo_sky_table_and_matched_copies(demo_run):
    sky = Table.read(demo_run / "results" / "sky.ecsv")
    assert sorted(sky["image"]) == sorted(demo_ids())
    assert set(sky["status"]) == {"COMPLETE"}
    assert sky.meta["config"]["skymethod"] == "global+match"
    assert set(sky.meta["inputs"]) == set(demo_ids())
    truth = Table.read(demo_run / "resources" / "demo" / "truth.ecsv")
    injected = {row["file"].removesuffix(".fits"): row["sky_injected"] for row in truth}
    # match recovers the exposure-level differences (0.06 MJy/sr a step injected);
    # groups share one sky change, so detector offsets average out
    def exposure_mean(values, k):
        return np.mean([v for name, v in values if f"_{k:05d}_" in name])

    recovered = [(row["image"], row["sky"]) for row in sky]
    for k in (2, 3, 4):
        found = exposure_mean(recovered, k) - exposure_mean(recovered, 1)
        truth_diff = exposure_mean(injected.items(), k) - exposure_mean(injected.items(), 1)
        assert abs(found - truth_diff) < 0.005, k
    for row in sky:
        with fits.open(demo_run / "results" / "matched" / f"{row['image']}.fits") as hdul:
            assert hdul[0].header["BKGLEVEL"] == pytest.approx(row["sky"], rel=1e-12)
            assert hdul[0].header["S_SKYMAT"] == "COMPLETE" and hdul[0].header["BKGSUB"] is False
    pairs = Table.read(demo_run / "results" / "pair_differences.ecsv")
    # four exposures that all overlap: 6 pairs, 3 independent cycles (the consistency figures are defined)
    assert len(pairs) == 6 and all(pairs["valid"])
    assert np.max(np.abs(pairs["difference_after"])) < 0.003 < np.min(np.abs(pairs["difference_before"]))
    summary = Table.read(demo_run / "results" / "summary.ecsv")
    assert summary["n_cycles"][-1] == 3 and np.isfinite(summary["closure_rms"][-1])
    assert "recovered" in (demo_run / "stdout.txt").read_text()
    assert (demo_run / "results" / "demo_recovered_vs_injected.ecsv").is_file()


def test_demo_summary_agrees_with_the_pair_table(demo_run):
    summary = Table.read(demo_run / "results" / "summary.ecsv")
    pairs = Table.read(demo_run / "results" / "pair_differences.ecsv")
    sky = Table.read(demo_run / "results" / "sky.ecsv")
    valid = pairs[pairs["valid"]]
    assert list(summary["island"]) == [str(i) for i in sorted(set(sky["island"]))] + ["total"]
    total = summary[-1]
    assert total["n_images"] == len(sky) and total["n_pairs"] == len(valid)
    assert total["rms_before"] == pytest.approx(np.sqrt(np.mean(np.square(valid["difference_before"]))), rel=1e-12)
    assert total["rms_after"] == pytest.approx(np.sqrt(np.mean(np.square(valid["difference_after"]))), abs=1e-15)
    assert total["rms_before"] > 0.05  # the injected exposure step, 0.06 MJy/sr


def test_demo_verdict_on_the_console_in_the_log_and_the_summary(demo_run):
    """One verdict line after the solve: on the console, in the solve log, in both tables' meta and per island."""
    summary = Table.read(demo_run / "results" / "summary.ecsv")
    pairs = Table.read(demo_run / "results" / "pair_differences.ecsv")
    line = pairs.meta["verdict"]
    assert line.startswith("Match verdict: ") and "\n" not in line
    assert summary.meta["verdict"] == summary["verdict"][-1] == line
    assert line in (demo_run / "logs" / "solve_sky.log").read_text()
    assert line in (demo_run / "stdout.txt").read_text()
    valid = pairs[pairs["valid"]]
    assert np.all(np.isfinite(valid["noise"]) & (valid["noise"] > 0))  # every pair's noise, the defaults too


DEMO_FIGURES = ("footprints", "overlap_graph", "residuals", "mosaic", "demo_recovered_vs_injected")


@pytest.mark.parametrize("name", DEMO_FIGURES)
def test_demo_figures_are_pngs_and_not_blank(demo_run, name):
    import matplotlib.image as mpimg

    path = demo_run / "results" / "diagnostics" / f"{name}.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert mpimg.imread(path)[..., :3].std() > 0.05


def test_demo_preview_is_small_and_read_only_by_diagnostics(demo_run):
    from skymatchflow.stages.preview import PREVIEW_SIZE, preview_size

    previews = list((demo_run / "results" / "images").glob("*/*.preview.fits"))
    size = preview_size(len(demo_ids()))  # finer than at survey scale: 16 images
    assert len(previews) == len(demo_ids()) and size > PREVIEW_SIZE
    for path in previews:
        assert PREVIEW_SIZE < max(fits.getdata(path).shape) <= size
        assert path.stat().st_size < 20_000 * (size / PREVIEW_SIZE) ** 2
    log = (demo_run / "logs" / "diagnostics.log").read_text()
    assert "read 16 images, 6 pairs" in log and "mosaic" in log


def test_second_run_does_nothing_and_inputs_unchanged(demo_run):
    inputs = sorted((demo_run / "resources" / "demo").glob("*.fits"))
    before = {path: sha256(path) for path in inputs}
    result = run_snakemake(demo_run, "all", "matched", "--dry-run")
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr
    assert {path: sha256(path) for path in inputs} == before


def test_bad_image_fails_with_one_line_and_no_partial_file(tmp_path):
    good = write_image(tmp_path / "good.fits", dq=np.zeros((64, 80), np.uint32))
    nowcs = write_image(tmp_path / "nowcs.fits", layout="nowcs")
    write_config(tmp_path, images=[str(good), str(nowcs)], image_batches=1)
    before = {p: sha256(p) for p in (good, nowcs)}
    result = run_snakemake(tmp_path, "--keep-going")
    assert result.returncode != 0
    message = f"{nowcs}: extension 'SCI': no celestial WCS in the header"
    assert message in result.stderr
    (log,) = [path.read_text() for path in (tmp_path / "logs" / "image_batch").glob("*.log")]
    assert log.count("ERROR") == 1 and message in log and "Traceback" not in log
    assert not list((tmp_path / "results").rglob("nowcs.*"))
    assert not list((tmp_path / "results").rglob("*.tmp"))
    assert {p: sha256(p) for p in (good, nowcs)} == before


def test_corrupt_file_stops_before_any_job(tmp_path):
    corrupt = tmp_path / "corrupt.fits"
    corrupt.write_bytes(b"SIMPLE  =                    T" + b"\0" * 100)
    write_config(tmp_path, images=[str(corrupt)])
    result = run_snakemake(tmp_path)
    assert result.returncode != 0
    assert f"{corrupt}: not a readable FITS file" in result.stderr
    assert not (tmp_path / "results").exists()


def test_wrong_config_value_stops_before_any_job(tmp_path):
    image = write_image(tmp_path / "a.fits", wcs=tan_wcs((64, 80)))
    write_config(tmp_path, images=[str(image)], lsigma=0)
    result = run_snakemake(tmp_path)
    assert result.returncode != 0
    assert "config key 'lsigma': 0 is less than or equal to the minimum of 0" in result.stderr
    assert not (tmp_path / "results").exists()


def test_every_job_peak_memory_is_within_its_request(demo_run):
    """mem_mb (workflow/rules/resources.smk) covers each job's measured peak RSS."""
    console = (demo_run / "stdout.txt").read_text()
    requests = {}
    for block in console.split("\n\n"):
        benchmark = re.search(r"^\s+benchmark: (\S+)$", block, re.M)
        mem = re.search(r"^\s+resources: .*\bmem_mb=(\d+)", block, re.M)
        if benchmark and mem:
            requests[benchmark.group(1)] = int(mem.group(1))
    assert len(requests) >= 8, console[-2000:]
    for path, mem_mb in requests.items():
        with open(demo_run / path) as table:
            row = dict(zip(table.readline().split("\t"), table.readline().split("\t")))
        assert 0 < float(row["max_rss"]) <= mem_mb, (path, row["max_rss"], mem_mb)


def test_one_onstart_and_one_onerror_in_the_whole_workflow():
    """Snakemake keeps only the last handler defined: a second one silently disables the first (it did twice)."""
    files = [REPO / "workflow" / "Snakefile", *sorted((REPO / "workflow" / "rules").glob("*.smk"))]
    text = "\n".join(path.read_text() for path in files)
    for handler in ("onstart", "onerror", "onsuccess"):
        assert len(re.findall(rf"^{handler}:", text, re.MULTILINE)) <= 1, handler
    assert "start_slurm_run()" in text.split("onstart:")[1].split("\n\n")[0]
    assert "print_slurm_failures()" in text.split("onerror:")[1].split("\n\n")[0]
