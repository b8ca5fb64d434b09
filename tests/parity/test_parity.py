"""Reference parity: the whole workflow against stcal 1.20's skymatch() on the same files.

For every case the reference engine is set up as the JWST SkyMatchStep sets
it up (tests/reference_runner.py) and our workflow runs on the SAME files and
config (in-process through ``run_in_process``, a few through Snakemake end
to end). Every image's sky level must agree within 1e-3 of the image's
robust noise sigma (1.4826 * MAD of its good pixels) and every status must
be identical.

Known, documented deviations are asserted as OUR documented behaviour where
they show up (each test says so):
* the reference's TypeError in 'global'/'global+match' when an image without
  a whole-image sky follows one with a sky (we skip it wherever it comes,
  which equals the reference's result with that image first);
* midpt of a single-bin histogram (the reference returns a bin COUNT, we
  return no value);
* with subtract=True the global stage takes stat(data) - delta where the
  reference takes stat(float32(data - delta)): float32-rounding-level
  differences (measured below the tolerance on every case here).

The largest |difference| / sigma of every case family is printed at the end
of the module (pytest's terminal summary).
"""

import csv
import gzip
import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table

from helpers.in_process import run_in_process
from helpers.parity_data import constant_mosaic, island_mosaic, main_mosaic, masked_mosaic, previous_run_mosaic
from helpers.paths import SHARED_DATA
from helpers.reference_runner import full_config, noise_sigma, read_inputs, run_reference
from helpers.workflow_runner import run_snakemake, write_config
from skymatchflow.errors import InputError

TOLERANCE = 1e-3  # x the image's noise sigma
METHODS = ["local", "global", "match", "global+match"]
STATS = ["mode", "median", "mean", "midpt"]
JWST_DQBITS = "~DO_NOT_USE+NON_SCIENCE"
M17 = SHARED_DATA / "m17_2mass"
DECAM = SHARED_DATA / "decam_legacypipe"

# family -> [max |diff|/sigma, number of comparisons]
WORST = defaultdict(lambda: [0.0, 0])
DETAIL = []  # (family, worst, config) of every comparison


@pytest.fixture(scope="module", autouse=True)
def parity_report(request):
    """Print the largest |difference|/sigma per case family after the module."""
    yield
    lines = ["", "reference parity: max |sky difference| / noise sigma per case family"]
    for family, (worst, count) in sorted(WORST.items()):
        lines.append(f"  {family:<42s} runs={count:3d}  max={worst:.3g}")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        print("\n".join(lines))
        return
    with capture.global_and_fixture_disabled():
        for line in lines:
            reporter.write_line(line)


def sigmas(inputs, dqbits):
    """Noise sigma per image; an image without any finite pixel takes the median of the others."""
    sigma = {inp.image: noise_sigma(inp, dqbits) for inp in inputs}
    known = [value for value in sigma.values() if value is not None]
    return {image: (value if value is not None else float(np.median(known))) for image, value in sigma.items()}


def compare(family, config, ours, reference, sigma, skip=()):
    """Assert parity of {image: (sky, status)} dicts; record the worst diff/sigma."""
    assert set(ours) == set(reference)
    worst = 0.0
    problems = []
    for image, (ref_sky, ref_status) in reference.items():
        if image in skip:
            continue
        our_sky, our_status = ours[image]
        ratio = abs(our_sky - ref_sky) / sigma[image]
        worst = max(worst, ratio)
        if our_status != ref_status or not ratio <= TOLERANCE:
            problems.append(f"{image}: ours {our_sky!r} {our_status}, reference {ref_sky!r} {ref_status} "
                            f"(|diff|/sigma={ratio:.3g})")
    WORST[family][0] = max(WORST[family][0], worst)
    WORST[family][1] += 1
    DETAIL.append((family, worst, {k: v for k, v in config.items() if k not in ("images", "image_sheet")}))
    assert not problems, f"{family} {config}:\n" + "\n".join(problems)
    return worst


def ours_in_process(config, workdir):
    sky, _ = run_in_process(config, workdir)
    return {row["image"]: (float(row["sky"]), str(row["status"])) for row in sky}, sky


def run_both(family, config, workdir, inputs=None):
    """Reference and ours on one config; asserts parity; returns (ours table, reference)."""
    inputs = read_inputs(config) if inputs is None else inputs
    reference = run_reference(config, inputs)
    ours, table = ours_in_process(config, workdir)
    compare(family, config, ours, reference, sigmas(inputs, config["dqbits"]))
    return table, reference


# --------------------------------------------------------------------------
# Synthetic JWST-like mosaics: the full parameter grid
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def grid_files(tmp_path_factory):
    """Two exposures of two detectors (two sky groups), DQ, NaNs, rotations, SIP."""
    return [str(p) for p in main_mosaic(tmp_path_factory.mktemp("grid"))]


@pytest.fixture(scope="module")
def grid_inputs(grid_files):
    return read_inputs(full_config(images=grid_files))


@pytest.fixture(scope="module")
def three_group_files(tmp_path_factory):
    """The grid mosaic plus a single image that overlaps both exposures (three sky groups)."""
    return [str(p) for p in main_mosaic(tmp_path_factory.mktemp("three"), single=True)]


@pytest.mark.parametrize("subtract", [False, True], ids=["keep", "subtract"])
@pytest.mark.parametrize("match_down", [True, False], ids=["down", "up"])
@pytest.mark.parametrize("skystat", STATS)
@pytest.mark.parametrize("skymethod", METHODS)
def test_grid(grid_files, grid_inputs, tmp_path, skymethod, skystat, match_down, subtract):
    config = full_config(images=grid_files, skymethod=skymethod, skystat=skystat, match_down=match_down,
                         subtract=subtract, dqbits=JWST_DQBITS)
    # the float32 deviation (stat(data) - delta vs stat(data - delta)) can only
    # show where subtract meets a global stage: reported as its own family
    family = "synthetic grid (4x4x2x2)"
    if subtract and "global" in skymethod:
        family += " subtract+global"
    table, reference = run_both(family, config, tmp_path, grid_inputs)
    # the case exercises what it should: two groups of two, one overlap
    assert len(set(table["group"])) == 2
    assert all(status == "COMPLETE" for _, status in reference.values())


@pytest.mark.parametrize(
    "overrides",
    [
        {"skymethod": "match", "stepsize": 64},
        {"skymethod": "global+match", "stepsize": 64, "subtract": True, "skystat": "median"},
        {"skymethod": "match", "match_down": False, "skystat": "mean"},
        {"skymethod": "global+match", "subtract": True, "skystat": "midpt"},
        {"skymethod": "local", "stepsize": 64},
    ],
    ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()),
)
def test_three_groups(three_group_files, tmp_path, overrides):
    """Three mutually overlapping sky groups (2+2+1): the weighted least squares matters; stepsize 64."""
    config = full_config(images=three_group_files, dqbits=JWST_DQBITS, **overrides)
    table, _ = run_both("synthetic 3 groups, stepsize", config, tmp_path)
    assert len(set(table["group"])) == 3


@pytest.mark.parametrize(
    "overrides",
    [
        # lower/upper with every statistic (median with nclip>0 honours them)
        *({"lower": 15.0, "upper": 30.0, "skystat": s} for s in STATS),
        # nclip 0 with every statistic (median then ignores lower/upper: reproduced)
        *({"nclip": 0, "skystat": s, "lower": 15.0, "upper": 30.0} for s in STATS),
        # other dqbits: only DQ 0 good, DQ ignored, and the Roman-like default
        {"dqbits": 0},
        {"dqbits": None, "skystat": "median"},
        {"dqbits": "~DO_NOT_USE", "subtract": True},
    ],
    ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()),
)
def test_statistic_parameters(grid_files, grid_inputs, tmp_path, overrides):
    config = full_config(images=grid_files, **dict({"skymethod": "global+match", "dqbits": JWST_DQBITS}, **overrides))
    run_both("synthetic lower/upper/nclip/dqbits", config, tmp_path, grid_inputs)


# --------------------------------------------------------------------------
# Islands, an isolated image
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def island_files(tmp_path_factory):
    return [str(p) for p in island_mosaic(tmp_path_factory.mktemp("islands"))]


@pytest.mark.parametrize(
    "skymethod,skystat,match_down,subtract",
    [("match", "mode", True, False), ("match", "median", False, True),
     ("global+match", "mean", True, False), ("global+match", "midpt", True, True)],
)
def test_islands(island_files, tmp_path, skymethod, skystat, match_down, subtract):
    """Three clusters (a chain of three single images, two groups of two, a pair) and an isolated image."""
    config = full_config(images=island_files, skymethod=skymethod, skystat=skystat, match_down=match_down,
                         subtract=subtract, dqbits=JWST_DQBITS)
    table, reference = run_both("synthetic islands + isolated", config, tmp_path)
    islands = {row["image"]: int(row["island"]) for row in table}
    assert len({islands[i] for i in ("a1_cal", "a2_cal", "a3_cal")}) == 1  # the chain is one island
    assert len(set(islands.values())) == 4  # a, b, c and the isolated image
    # the isolated image: no equation -> SKIPPED in 'match', COMPLETE after the global stage
    expected = "SKIPPED" if skymethod == "match" else "COMPLETE"
    assert reference["iso_cal"][1] == expected


# --------------------------------------------------------------------------
# An image with every pixel masked
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def masked_first_files(tmp_path_factory):
    return [str(p) for p in masked_mosaic(tmp_path_factory.mktemp("masked_first"), position=0)]


@pytest.fixture(scope="module")
def masked_later_files(tmp_path_factory):
    return [str(p) for p in masked_mosaic(tmp_path_factory.mktemp("masked_later"), position=3)]


@pytest.mark.parametrize("skymethod", METHODS)
def test_all_masked_image_first(masked_first_files, tmp_path, skymethod):
    """First in the input order the reference skips it in 'global' (no TypeError): full parity."""
    config = full_config(images=masked_first_files, skymethod=skymethod, dqbits=JWST_DQBITS)
    table, reference = run_both("all-masked image first", config, tmp_path)
    # what the reference does with it: no sky of its own, so SKIPPED unless a global stage ran
    expected = "COMPLETE" if "global" in skymethod else "SKIPPED"
    assert reference["masked_cal"][1] == expected
    row = table[list(table["image"]).index("masked_cal")]
    assert np.isnan(row["sky_whole_image"]) and row["npix"] == 0


@pytest.mark.parametrize("skymethod", METHODS)
def test_all_masked_image_later(masked_later_files, tmp_path, skymethod):
    """Placed after images with a sky.

    'local' and 'match': the reference runs; full parity. 'global' and
    'global+match': the reference raises TypeError (doc section 4.3); our
    documented behaviour is to skip the image's missing sky wherever it
    comes, i.e. the reference's result with that image placed first. We
    assert exactly that (the reference rerun on the reordered inputs).
    """
    config = full_config(images=masked_later_files, skymethod=skymethod, dqbits=JWST_DQBITS)
    inputs = read_inputs(config)
    assert [inp.image for inp in inputs].index("masked_cal") == 3
    sigma = sigmas(inputs, JWST_DQBITS)
    if "global" not in skymethod:
        run_both("all-masked image later", config, tmp_path, inputs)
        return
    with pytest.raises(TypeError):
        run_reference(config, inputs)
    ours, table = ours_in_process(config, tmp_path)  # must not raise
    reordered = sorted(inputs, key=lambda inp: inp.image != "masked_cal")
    reference_first = run_reference(config, reordered)
    compare("all-masked later (global: vs masked-first)", config, ours, reference_first, sigma)
    assert ours["masked_cal"][1] == "COMPLETE"
    others = [row for row in table if row["image"] != "masked_cal"]
    global_value = min(row["sky_whole_image"] - (row["delta_match"] if "match" in skymethod else 0.0)
                       for row in others)
    assert ours["masked_cal"][0] == pytest.approx(global_value, rel=0, abs=1e-9)


# --------------------------------------------------------------------------
# Images with a previous BKGLEVEL / BKGSUB
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def previous_files(tmp_path_factory):
    return [str(p) for p in previous_run_mosaic(tmp_path_factory.mktemp("previous"), subtracted=True)]


@pytest.fixture(scope="module")
def previous_unsubtracted_files(tmp_path_factory):
    return [str(p) for p in previous_run_mosaic(tmp_path_factory.mktemp("previous_keep"), subtracted=False)]


@pytest.mark.parametrize("skymethod,skystat", [("local", "mode"), ("global", "median"), ("match", "mean"),
                                               ("global+match", "mode")])
def test_previous_level_subtract(previous_files, tmp_path, skymethod, skystat):
    """BKGSUB=T and BKGLEVEL in the primary header, subtract true: skies start at the earlier level."""
    config = full_config(images=previous_files, skymethod=skymethod, skystat=skystat, subtract=True,
                         dqbits=JWST_DQBITS)
    table, _ = run_both("previous BKGLEVEL, subtract", config, tmp_path)
    assert sorted(set(table["sky_initial"])) == [17.25, 17.5, 18.5, 19.0, 20.125, 21.75]


def test_previous_level_not_subtracted(previous_unsubtracted_files, tmp_path):
    """BKGSUB=F with subtract false: the earlier level is ignored (recomputed from 0)."""
    config = full_config(images=previous_unsubtracted_files, skymethod="global+match", dqbits=JWST_DQBITS)
    table, _ = run_both("previous BKGLEVEL, subtract", config, tmp_path)
    assert set(table["sky_initial"]) == {0.0}


def test_previous_level_inconsistent_subtract(previous_files, tmp_path):
    """BKGSUB=T but subtract false: the step refuses (ValueError); so do we."""
    config = full_config(images=previous_files, skymethod="match", subtract=False, dqbits=JWST_DQBITS)
    with pytest.raises(ValueError, match="inconsistent"):
        run_reference(config)
    with pytest.raises(InputError, match="inconsistent"):
        run_in_process(config, tmp_path)


# --------------------------------------------------------------------------
# A documented deviation: midpt of a single-bin histogram
# --------------------------------------------------------------------------
def test_constant_image_midpt_deviation(tmp_path):
    """A constant image: its histogram has one bin.

    'mode' (min + h/2 = the constant) agrees. 'midpt': the reference returns
    the bin COUNT as the sky (here 0: the single bin of zero width counts
    nothing) and marks the image COMPLETE; we give no value and SKIP it
    (documented in imagestats.py and the README). The other image must
    still agree.
    """
    files = [str(p) for p in constant_mosaic(tmp_path / "data")]
    config = full_config(images=files, skymethod="local", skystat="mode", dqbits=JWST_DQBITS)
    inputs = read_inputs(config)
    run_both("constant image (single-bin)", config, tmp_path / "mode", inputs)
    config = full_config(images=files, skymethod="local", skystat="midpt", dqbits=JWST_DQBITS)
    reference = run_reference(config, inputs)
    ours, _ = ours_in_process(config, tmp_path / "midpt")
    # the reference's "midpt" is the count of its single bin; with range 0 the bin
    # is empty, so 0.0 (not the constant 7), accepted as a valid sky
    assert reference["flat_cal"] == (0.0, "COMPLETE")
    assert ours["flat_cal"] == (0.0, "SKIPPED")  # our documented "no value"
    compare("constant image (single-bin)", config, ours, reference, sigmas(inputs, JWST_DQBITS),
            skip=("flat_cal",))


# --------------------------------------------------------------------------
# Real data: 2MASS M17 tiles, DECam / 90prime cutouts
# --------------------------------------------------------------------------
M17_FILES = sorted(M17.glob("*.fits.gz"))


def test_m17_data_present():
    assert len(M17_FILES) == 8, f"expected the 8 M17 tiles in {M17}"


@pytest.fixture(scope="module")
def m17_plain(tmp_path_factory):
    """The M17 tiles, decompressed into a scratch directory (see test_m17_gzip_pair_speed)."""
    outdir = tmp_path_factory.mktemp("m17")
    paths = []
    for path in M17_FILES:
        target = outdir / path.name.removesuffix(".gz")
        with gzip.open(path, "rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
        paths.append(str(target))
    return paths


@pytest.mark.parametrize(
    "overrides",
    [
        {"skymethod": "global+match", "skystat": "mode"},
        {"skymethod": "match", "skystat": "median", "match_down": False, "subtract": True},
        {"skymethod": "local", "skystat": "midpt"},
    ],
    ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()),
)
def test_m17(m17_plain, tmp_path, overrides):
    """8 overlapping 2MASS tiles (SIN projection, NaN edges, no DQ), 13 overlapping pairs, one island."""
    config = full_config(images=m17_plain, dqbits=None, **overrides)
    table, _ = run_both("M17 2MASS (8 tiles)", config, tmp_path)
    assert set(table["island"]) == ({0} if "match" in config["skymethod"] else {-1})


def test_m17_gzip_pixels_decompressed_once(tmp_path, monkeypatch):
    """Pair statistics on .fits.gz files read each file's SCI whole, once.

    A region read of a gzip stream decompresses it again for every row (this
    once made two M17 tiles take ~12 s against the reference's ~0.3 s); the
    pair stage now reads a compressed file's SCI once and slices it. Values
    still equal the reference's.
    """
    import skymatchflow.stats.pairimage as pairimage

    reads = []
    original = pairimage.read_full
    monkeypatch.setattr(pairimage, "read_full", lambda image: reads.append(image.file) or original(image))
    files = [str(M17_FILES[0]), str(M17_FILES[1]), str(M17_FILES[2])]
    config = full_config(images=files, skymethod="match", dqbits=None)
    inputs = read_inputs(config)
    reference = run_reference(config, inputs)
    ours, _ = ours_in_process(config, tmp_path)
    compare("M17 2MASS gzip pair", config, ours, reference, sigmas(inputs, None))
    assert reads and sorted(reads) == sorted(set(reads))


def decam_sets():
    """(testcase directory, band) -> rows of files.csv (the *_ooi_* images)."""
    sets = defaultdict(list)
    with open(DECAM / "files.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if "_ooi_" in row["file"]:
                sets[(Path(row["file"]).parent.name, row["band"])].append(row)
    return dict(sorted(sets.items()))


DECAM_SETS = decam_sets()


def test_decam_data_present():
    assert len(DECAM_SETS) == 8, sorted(DECAM_SETS)


def write_sheet(path, rows):
    """An image sheet: image, its extension, the separate DQ (*_ood_*) file."""
    lines = ["file\tsci\tdq"]
    for row in rows:
        image = SHARED_DATA / row["file"]
        extension = row["ccd"]
        dq_file = image.with_name(image.name.replace("_ooi_", "_ood_"))
        assert dq_file.is_file(), dq_file
        lines.append(f"{image}\t{extension}\t{dq_file}")
    Path(path).write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.mark.parametrize("key", list(DECAM_SETS), ids=lambda k: f"{k[0]}-{k[1]}")
def test_decam_per_band(tmp_path, key):
    """One run per testcase directory and band; DQ from the separate *_ood_* files (dqbits 0)."""
    sheet = write_sheet(tmp_path / "images.tsv", DECAM_SETS[key])
    config = full_config(image_sheet=sheet, skymethod="global+match", dqbits=0)
    inputs = read_inputs(config)
    assert all(inp.dq is not None for inp in inputs)
    run_both("DECam/90prime per band", config, tmp_path / "gm", inputs)
    if key[0] == "testcase6":  # the set with 13-20 % flagged pixels: more settings
        for overrides in ({"skymethod": "match", "skystat": "median", "subtract": True},
                          {"skymethod": "local", "skystat": "mean"}):
            config = full_config(image_sheet=sheet, dqbits=0, **overrides)
            run_both("DECam/90prime per band", config, tmp_path / overrides["skymethod"], inputs)


# --------------------------------------------------------------------------
# End to end through Snakemake
# --------------------------------------------------------------------------
def snakemake_config(config):
    return {key: value for key, value in config.items() if value is not None or key in
            ("stepsize", "lower", "upper", "dqbits")}


def snakemake_skies(workdir):
    table = Table.read(workdir / "results" / "sky.ecsv")
    return {row["image"]: (float(row["sky"]), str(row["status"])) for row in table}


@pytest.fixture(scope="module")
def snakemake_workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("snakemake")


@pytest.mark.e2e
@pytest.mark.parametrize(
    "overrides",
    [
        # first run: every stage
        {"skymethod": "global+match", "skystat": "mode"},
        # second run in the same directory with another method, direction and subtract
        {"skymethod": "match", "skystat": "mode", "match_down": False, "subtract": True},
    ],
    ids=["global+match", "match-up-subtract"],
)
def test_snakemake_end_to_end(snakemake_workdir, grid_files, overrides):
    """The grid mosaic (two exposure groups, mnemonic dqbits) through every rule."""
    config = full_config(images=grid_files, dqbits=JWST_DQBITS, pair_batches=1, **overrides)
    write_config(snakemake_workdir, **snakemake_config(config))
    result = run_snakemake(snakemake_workdir)
    assert result.returncode == 0, result.stderr[-4000:]
    inputs = read_inputs(config)
    compare("Snakemake end to end", config, snakemake_skies(snakemake_workdir), run_reference(config, inputs),
            sigmas(inputs, JWST_DQBITS))


@pytest.mark.e2e
def test_snakemake_decam_sheet(tmp_path):
    """The image sheet path (separate DQ files, named extensions) end to end: DECam testcase6, g band."""
    sheet = write_sheet(tmp_path / "images.tsv", DECAM_SETS[("testcase6", "g")])
    config = full_config(image_sheet=sheet, skymethod="global+match", dqbits=0, pair_batches=1)
    write_config(tmp_path, **snakemake_config(config))
    result = run_snakemake(tmp_path)
    assert result.returncode == 0, result.stderr[-4000:]
    inputs = read_inputs(config)
    compare("Snakemake end to end", config, snakemake_skies(tmp_path), run_reference(config, inputs),
            sigmas(inputs, 0))
