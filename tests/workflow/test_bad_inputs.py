"""Catalog of bad and unusual inputs: each gets one clear line naming it, or works.

A new bad input costs one row. Rows of ``START`` are refused before any job:
they are checked through the functions the Snakefile calls at start (config
check, input discovery, skylist), and one real Snakemake run shows such a
refusal on the console with nothing made; what the headers reveal (WCS
values, the pixel matrix, missing extensions) is refused at start too. Rows of
``JOB`` need the pixels or the primary header's keywords: one Snakemake run of an image sheet holding all of them reports each
in the job's log and on the console, makes no output for them, and leaves
every input unchanged (by checksum).
"""

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from helpers.config import schema_defaults
from helpers.images import tan_wcs, write_image
from helpers.paths import REPO
from helpers.workflow_runner import run_snakemake, write_config
from skymatchflow.errors import InputError
from skymatchflow.io.headerchecks import check_headers
from skymatchflow.io.inputs import discover_images
from skymatchflow.io.skylist import read_skylist
from skymatchflow.jobs.config import ConfigError, check_config
from skymatchflow.solve.anchors import check_anchor_names

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def set_raw_card(path, keyword, raw_value):
    """Write a card value astropy refuses to write (e.g. ``NAN``) straight into the file."""
    data = bytearray(Path(path).read_bytes())
    start = data.find(keyword.ljust(8).encode() + b"= ")
    assert start >= 0
    data[start:start + 80] = f"{keyword.ljust(8)}= {raw_value}".ljust(80).encode()
    Path(path).write_bytes(bytes(data))
    return path


def cd_only_image(path, cd):
    """An image whose WCS has a CD matrix and nothing else (no PC/CDELT)."""
    header = fits.Header()
    cards = {"CTYPE1": "RA---TAN", "CTYPE2": "DEC--TAN", "CRVAL1": 150.1, "CRVAL2": 2.2,
             "CRPIX1": 40.5, "CRPIX2": 32.5, "CD1_1": cd[0], "CD1_2": cd[1], "CD2_1": cd[2], "CD2_2": cd[3]}
    header.update(cards)
    hdus = [fits.PrimaryHDU(), fits.ImageHDU(np.ones((64, 80), np.float32), header=header, name="SCI")]
    fits.HDUList(hdus).writeto(path)
    return path


def table_only(path):
    table = fits.BinTableHDU.from_columns([fits.Column(name="x", format="E", array=np.arange(3.0))])
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(path)
    return path


def write_sheet(path, rows):
    lines = ["\t".join(("path", "sci", "dq", "group"))] + ["\t".join(row) for row in rows]
    Path(path).write_text("\n".join(lines) + "\n")
    return str(path)


# ---------------------------------------------------------------------------
# refused before any job: name -> (make(tmp) -> config changes, message fragment)
# ---------------------------------------------------------------------------
def _braces(tmp):
    return {"images": [str(write_image(tmp / "a{x}.fits"))]}


def _symlink(tmp):
    target = write_image(tmp / "target.fits")
    (tmp / "link.fits").symlink_to(target)
    return {"images": [str(target), str(tmp / "link.fits")]}


def _hardlink(tmp):
    target = write_image(tmp / "target.fits")
    os.link(target, tmp / "hard.fits")
    return {"images": [str(target), str(tmp / "hard.fits")]}


def _sheet_sci(tmp):
    image = write_image(tmp / "a.fits")
    return {"images": None, "image_sheet": write_sheet(tmp / "s.tsv", [(str(image), "SCI,abc", "", "")])}


def _sheet_dq(tmp):
    image = write_image(tmp / "a.fits")
    return {"images": None, "image_sheet": write_sheet(tmp / "s.tsv", [(str(image), "SCI", ",1", "")])}


def _table_only(tmp):
    return {"images": [str(table_only(tmp / "table.fits"))]}


def _skylist_nan(tmp):
    image = write_image(tmp / "a.fits")
    (tmp / "sky.txt").write_text("a.fits nan\n")
    return {"images": [str(image)], "skymethod": "user", "skylist": str(tmp / "sky.txt")}


def _skylist_overflow(tmp):
    image = write_image(tmp / "a.fits")
    (tmp / "sky.txt").write_text("a.fits 1e39\n")
    return {"images": [str(image)], "skymethod": "user", "skylist": str(tmp / "sky.txt")}


def _sheet_latin1(tmp):
    image = write_image(tmp / "a.fits")
    sheet = tmp / "s.tsv"
    sheet.write_bytes(f"file\tgroup\n{image}\tg\xe9\n".encode("latin-1"))
    return {"images": None, "image_sheet": str(sheet)}


def _sheet_directory(tmp):
    (tmp / "sheetdir").mkdir()
    return {"images": None, "image_sheet": str(tmp / "sheetdir")}


def _skylist_latin1(tmp):
    image = write_image(tmp / "a.fits")
    (tmp / "sky.txt").write_bytes("a.fits 1.0 # caf\xe9\n".encode("latin-1"))
    return {"images": [str(image)], "skymethod": "user", "skylist": str(tmp / "sky.txt")}


def _config(**changes):
    def make(tmp):
        return {"images": [str(write_image(tmp / "a.fits"))], **changes}

    return make


START = {
    "brace in file name": (_braces, "a{x}.fits: a file name with '{' or '}' cannot be used"),
    "symbolic link and its target": (_symlink, "link.fits: is the same file as"),
    "hard link and its target": (_hardlink, "hard.fits: is the same file as"),
    "sheet sci SCI,abc": (_sheet_sci, "s.tsv: line 2: sci 'SCI,abc' is not an extension"),
    "sheet dq ,1": (_sheet_dq, "s.tsv: line 2: dq ',1' is not an extension"),
    "table-only file": (_table_only, "table.fits: no SCI extension and no 2-D image HDU"),
    "skylist sky nan": (_skylist_nan, "sky.txt: line 1: sky 'nan' is not a finite number"),
    "skylist sky beyond float32": (_skylist_overflow, "sky.txt: line 1: sky '1e39' is not a finite number"),
    "sheet not UTF-8": (_sheet_latin1, "s.tsv: image sheet is not UTF-8 text (byte"),
    "sheet is a directory": (_sheet_directory, "sheetdir: image sheet cannot be read (Is a directory)"),
    "skylist not UTF-8": (_skylist_latin1, "sky.txt: skylist is not UTF-8 text (byte"),
    "lower nan": (_config(lower=float("nan")), "config key 'lower': nan is not a finite number"),
    "lsigma inf": (_config(lsigma=float("inf")), "config key 'lsigma': inf is not a finite number"),
    "nclip 1e9": (_config(nclip=10**9), "config key 'nclip': 1000000000 is greater than the maximum of 100"),
    "anchor unknown, groups none": (
        _config(groups="none", anchor={"b": 1.0}),
        "config key 'anchor': 'b' is neither an image id nor a sky group id",
    ),
    "anchor unknown, groups exposure": (
        _config(anchor={"jw0001": 1.0}),
        "config key 'anchor': 'jw0001' is neither an image id nor a sky group id",
    ),
}


def start_checks(config):
    """What the Snakefile runs before any job (workflow/rules/common.smk)."""
    check_config(config, SCHEMA)
    images = discover_images(config)
    check_headers(images)
    check_anchor_names(config["anchor"], images, config["groups"])
    if config["skymethod"] == "user":
        read_skylist(config["skylist"], sorted({spec.file for spec in images.values()}))


@pytest.mark.parametrize("name", sorted(START))
def test_refused_before_any_job(tmp_path, name):
    make, fragment = START[name]
    config = dict(schema_defaults(SCHEMA), **make(tmp_path))
    before = {p: sha256(p) for p in tmp_path.iterdir() if p.is_file()}
    with pytest.raises((InputError, ConfigError)) as info:
        start_checks(config)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)
    assert {p: sha256(p) for p in before} == before


def test_a_start_refusal_reaches_the_console_and_makes_nothing(tmp_path):
    """One real run: the brace file used to give a WildcardError naming no file; now exactly one line."""
    write_config(tmp_path, **_braces(tmp_path))
    result = run_snakemake(tmp_path, timeout=300)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if not line.startswith("Using workflow specific profile")]
    assert len(lines) == 1 and START["brace in file name"][1] in lines[0], result.stderr
    assert not (tmp_path / "results").exists()


# ---------------------------------------------------------------------------
# reported by the image job: name -> (make(tmp) -> sheet row, message fragment)
# ---------------------------------------------------------------------------
def _crval_nan(tmp):
    return (str(set_raw_card(write_image(tmp / "crvalnan.fits"), "CRVAL1", "NAN")), "", "", "")


def _crpix_text(tmp):
    return (str(set_raw_card(write_image(tmp / "crpixtext.fits"), "CRPIX2", "'middle'")), "", "", "")


def _singular_cd(tmp):
    return (str(cd_only_image(tmp / "singular.fits", (1e-4, 1e-4, 1e-4, 1e-4))), "", "", "")


def _zero_cd(tmp):
    return (str(cd_only_image(tmp / "zerocd.fits", (0.0, 0.0, 0.0, 0.0))), "", "", "")


def _float_dq(tmp):
    dq = np.full((64, 80), 0.5, np.float32)
    return (str(write_image(tmp / "floatdq.fits", dq=dq)), "", "", "")


def _negative_dq(tmp):
    dq = np.zeros((64, 80), np.int16)
    dq[0, 0] = -1
    return (str(write_image(tmp / "negdq.fits", dq=dq)), "", "", "")


def _latpole_nan(tmp):
    return (str(set_raw_card(write_image(tmp / "latpole.fits"), "LATPOLE", "NAN")), "", "", "")


def _dq_beyond_32_bits(tmp):
    dq = np.zeros((64, 80), np.int64)
    dq[1, 1] = 2**40
    return (str(write_image(tmp / "dq64.fits", dq=dq)), "", "", "")


def _bkglevel_alone(tmp):
    return (str(write_image(tmp / "bkglevel.fits", primary_cards={"BKGLEVEL": 1.5})), "", "", "")


def _bkgsub_alone(tmp):
    return (str(write_image(tmp / "bkgsub.fits", primary_cards={"BKGSUB": True})), "", "", "")


def _bkglevel_text(tmp):
    cards = {"BKGLEVEL": "high", "BKGSUB": False}
    return (str(write_image(tmp / "bkgtext.fits", primary_cards=cards)), "", "", "")


def _table_as_sci(tmp):
    path = tmp / "tablesci.fits"
    image = write_image(tmp / "tmp_for_table.fits")
    with fits.open(image) as hdul:
        table = fits.BinTableHDU.from_columns([fits.Column(name="x", format="E", array=np.arange(3.0))])
        fits.HDUList([hdul[0].copy(), hdul[1].copy(), table]).writeto(path)
    image.unlink()
    return (str(path), "2", "", "")


def _zero_cdelt(tmp):
    return (str(set_raw_card(write_image(tmp / "zerocdelt.fits", wcs=pc_wcs()), "CDELT1", "0.0")), "", "", "")


def pc_wcs():
    wcs = tan_wcs()
    wcs.wcs.cd = [[0.0, 0.0], [0.0, 0.0]]
    del wcs.wcs.cd
    wcs.wcs.cdelt = [-0.5 / 3600, 0.5 / 3600]
    return wcs


def _missing_sci(tmp):
    return (str(write_image(tmp / "nosci2.fits")), "SCI,2", "", "")


def _missing_dq(tmp):
    return (str(write_image(tmp / "nodq3.fits", dq=np.zeros((64, 80), np.uint32))), "SCI", "DQ,3", "")


# What the headers reveal, refused at start (headerchecks) though only the job read them before.
HEADERS = {
    "CRVAL1 = NAN": (_crval_nan, "crvalnan.fits: extension 'SCI': WCS keyword CRVAL1 = NAN is not a finite number"),
    "CRPIX2 a string": (_crpix_text, "crpixtext.fits: extension 'SCI': WCS keyword CRPIX2 = middle is not a finite"),
    "singular CD matrix": (_singular_cd, "singular.fits: extension 'SCI': the WCS pixel matrix (CD or PC*CDELT) is singular"),
    "zero CD matrix": (_zero_cd, "zerocd.fits: extension 'SCI': the WCS pixel matrix (CD or PC*CDELT) is singular"),
    "zero CDELT1": (_zero_cdelt, "zerocdelt.fits: extension 'SCI': the WCS pixel matrix (CD or PC*CDELT) is singular"),
    "LATPOLE = NAN": (_latpole_nan, "latpole.fits: extension 'SCI': WCS keyword LATPOLE = NAN is not a finite number"),
    "table as sci": (_table_as_sci, "tablesci.fits: extension '2' is a BINTABLE table, not an image"),
    "missing SCI,2": (_missing_sci, "nosci2.fits: no extension 'SCI,2'"),
    "missing DQ,3": (_missing_dq, "nodq3.fits: no extension 'DQ,3'"),
}


def _sheet_of(make_row):
    def make(tmp):
        return {"images": None, "image_sheet": write_sheet(tmp / "s.tsv", [make_row(tmp)])}

    return make


@pytest.mark.parametrize("name", sorted(HEADERS))
def test_what_the_headers_reveal_is_refused_before_any_job(tmp_path, name):
    make, fragment = HEADERS[name]
    config = dict(schema_defaults(SCHEMA), **_sheet_of(make)(tmp_path))
    before = {p: sha256(p) for p in tmp_path.iterdir() if p.is_file()}
    with pytest.raises(InputError) as info:
        start_checks(config)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)
    assert {p: sha256(p) for p in before} == before


def test_every_file_whose_headers_are_bad_is_one_line_at_start(tmp_path):
    """One real run: two bad files among good ones, two lines, no job, nothing made."""
    good = write_image(tmp_path / "good.fits")
    rows = [(str(good), "", "", ""), _crval_nan(tmp_path), _missing_sci(tmp_path)]
    write_config(tmp_path, images=None, image_sheet=write_sheet(tmp_path / "images.tsv", rows))
    result = run_snakemake(tmp_path, timeout=300)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 2, result.stderr
    assert HEADERS["CRVAL1 = NAN"][1] in errors[0]
    assert HEADERS["missing SCI,2"][1] in errors[1]
    assert not (tmp_path / "results").exists()

JOB = {
    "floating-point DQ": (_float_dq, "floatdq.fits: extension 'DQ,1': DQ holds floating-point values (float32)"),
    "negative DQ": (_negative_dq, "negdq.fits: extension 'DQ,1': DQ holds negative values"),
    "DQ beyond 32 bits": (_dq_beyond_32_bits, "dq64.fits: extension 'DQ,1': DQ holds values above 32 bits"),
    "BKGLEVEL without BKGSUB": (_bkglevel_alone, "bkglevel.fits[SCI]: BKGLEVEL is set but BKGSUB is not"),
    "BKGSUB without BKGLEVEL": (_bkgsub_alone, "bkgsub.fits[SCI]: BKGSUB is set but BKGLEVEL is not"),
    "BKGLEVEL not a number": (_bkglevel_text, "bkgtext.fits[SCI]: BKGLEVEL = 'high' is not a finite number"),
}


def image(path):
    return Path(path).name.split(".")[0]


def test_image_job_reports_each_bad_input_in_its_log_and_on_the_console(tmp_path):
    good = write_image(tmp_path / "good.fits", dq=np.zeros((64, 80), np.uint32))
    rows = [(str(good), "", "", "")] + [make(tmp_path) for make, _ in JOB.values()]
    sheet = write_sheet(tmp_path / "images.tsv", rows)
    write_config(tmp_path, images=None, image_sheet=sheet, image_batches=1, skymethod="local")
    inputs = {Path(row[0]): sha256(row[0]) for row in rows}
    result = run_snakemake(tmp_path, "--keep-going", timeout=600)
    assert result.returncode != 0
    (log,) = [path.read_text() for path in (tmp_path / "logs" / "image_batch").glob("*.log")]
    assert "Traceback" not in log and "Traceback" not in result.stderr
    assert log.count("ERROR") == len(JOB)
    # the run ends with one "failed:" line per bad image, after Snakemake's banners
    summary = result.stderr.split("Summary of failures")[-1]
    assert summary.count("\nfailed: ") == len(JOB)
    for name, (_, fragment) in JOB.items():
        assert fragment in log, name
        assert fragment in result.stderr, name
        assert fragment in summary, name
    made = [p for p in (tmp_path / "results").rglob("*") if p.is_file()]
    for row in rows[1:]:
        assert not [p for p in made if p.name.startswith(image(row[0]) + ".")], row[0]
    assert not (tmp_path / "results" / "sky.ecsv").exists()
    assert not [p for p in made if p.name.endswith(".tmp")]
    assert {p: sha256(p) for p in inputs} == inputs


def test_on_bad_input_skip_skips_each_bad_image_with_its_reason_and_matches_the_others(tmp_path):
    from astropy.table import Table

    good = [write_image(tmp_path / f"good{k}.fits", sci=np.full((64, 80), 1.0 + k, np.float32),
                        wcs=tan_wcs(crval=(150.1 + 0.002 * k, 2.2))) for k in range(2)]
    bad = [make(tmp_path) for make, _ in JOB.values()]
    rows = [(str(good[0]), "", "", "")] + bad + [(str(good[1]), "", "", "")]
    sheet = write_sheet(tmp_path / "images.tsv", rows)
    write_config(tmp_path, images=None, image_sheet=sheet, image_batches=2, groups="none", on_bad_input="skip")
    inputs = {Path(row[0]): sha256(row[0]) for row in rows}
    result = run_snakemake(tmp_path, "all", "matched", timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    sky = Table.read(tmp_path / "results" / "sky.ecsv").filled("")  # ECSV reads "" back as masked
    assert len(sky) == len(rows) and "Traceback" not in result.stderr
    skipped = sky[sky["reason"] != ""]
    assert len(skipped) == len(JOB) and set(skipped["status"]) == {"SKIPPED"} and set(skipped["island"]) == {-1}
    assert all(np.isnan(skipped["sky"]))
    for name, (_, fragment) in JOB.items():
        (reason,) = [r for r in skipped["reason"] if fragment in r]
        assert reason, name
    matched = sky[sky["reason"] == ""]
    assert list(matched["status"]) == ["COMPLETE"] * 2
    # the two good images are 1.0 apart; the match brings both to the lower one (match_down)
    assert abs(matched["sky"][1] - matched["sky"][0] - 1.0) < 1e-3 and abs(matched["sky"][0] - 1.0) < 1e-3
    summary = Table.read(tmp_path / "results" / "summary.ecsv")
    assert summary["n_skipped"][-1] == len(JOB) and len(summary.meta["skipped_bad_inputs"]) == len(JOB)
    assert "<td class=\"text\">SKIPPED</td>" in (tmp_path / "results" / "diagnostics" / "tables.html").read_text()
    logs = "".join(p.read_text() for p in (tmp_path / "logs" / "image_batch").glob("*.log"))
    assert logs.count("SKIPPED (on_bad_input: skip)") == len(JOB)
    assert {p: sha256(p) for p in inputs} == inputs


def test_on_bad_input_skip_also_skips_what_is_refused_at_start(tmp_path):
    """A missing file, a file that is no FITS, a table-only file and bad WCS headers, with a job-found bad DQ:
    each SKIPPED with its start-time line in the sky table and the summary; the others matched."""
    from astropy.table import Table

    good = [write_image(tmp_path / f"good{k}.fits", sci=np.full((64, 80), 1.0 + k, np.float32),
                        wcs=tan_wcs(crval=(150.1 + 0.002 * k, 2.2))) for k in range(2)]
    (tmp_path / "notfits.fits").write_text("not a FITS file\n")
    start_refused = {
        "missing.fits": "missing.fits: file not found",
        "notfits.fits": "notfits.fits: not a readable FITS file",
        "table.fits": START["table-only file"][1],
        "crvalnan.fits": HEADERS["CRVAL1 = NAN"][1],
        "nosci2.fits": HEADERS["missing SCI,2"][1],
    }
    rows = [(str(good[0]), "", "", ""), (str(tmp_path / "missing.fits"), "", "", ""),
            (str(tmp_path / "notfits.fits"), "", "", ""), (str(table_only(tmp_path / "table.fits")), "", "", ""),
            _crval_nan(tmp_path), _missing_sci(tmp_path), _float_dq(tmp_path), (str(good[1]), "", "", "")]
    sheet = write_sheet(tmp_path / "images.tsv", rows)
    write_config(tmp_path, images=None, image_sheet=sheet, image_batches=2, groups="none")
    stopped = run_snakemake(tmp_path, "--dry-run", timeout=300)  # stop (the default): refused, nothing made
    assert stopped.returncode != 0 and not (tmp_path / "results").exists()
    write_config(tmp_path, images=None, image_sheet=sheet, image_batches=2, groups="none", on_bad_input="skip")
    inputs = {Path(row[0]): sha256(row[0]) for row in rows if Path(row[0]).exists()}
    result = run_snakemake(tmp_path, "all", "matched", timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert f"{len(start_refused)} image(s) refused at start are SKIPPED" in result.stderr
    sky = Table.read(tmp_path / "results" / "sky.ecsv").filled("")
    assert len(sky) == len(rows)
    skipped = sky[sky["reason"] != ""]
    assert len(skipped) == len(start_refused) + 1 and set(skipped["status"]) == {"SKIPPED"}
    assert set(skipped["island"]) == {-1} and all(np.isnan(skipped["sky"]))
    for name, fragment in start_refused.items():
        (row,) = [r for r in skipped if Path(r["file"]).name == name]
        assert fragment in row["reason"], (name, row["reason"])
    assert [r for r in skipped["reason"] if JOB["floating-point DQ"][1] in r]  # found by its job
    matched = sky[sky["reason"] == ""]
    assert list(matched["status"]) == ["COMPLETE"] * 2
    assert abs(matched["sky"][1] - matched["sky"][0] - 1.0) < 1e-3
    summary = Table.read(tmp_path / "results" / "summary.ecsv")
    assert summary["n_skipped"][-1] == len(start_refused) + 1
    assert len(summary.meta["skipped_bad_inputs"]) == len(start_refused) + 1
    # a refused file gets no matched copy; the others do
    copies = sorted(p.name for p in (tmp_path / "results" / "matched").iterdir())
    assert "missing.fits" not in copies and "notfits.fits" not in copies and "good0.fits" in copies
    assert {p: sha256(p) for p in inputs} == inputs
    # the missing file appears: its batch re-runs and the image is matched
    write_image(tmp_path / "missing.fits", sci=np.full((64, 80), 1.5, np.float32), wcs=tan_wcs(crval=(150.101, 2.2)))
    again = run_snakemake(tmp_path, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    sky = Table.read(tmp_path / "results" / "sky.ecsv").filled("")
    (row,) = [r for r in sky if Path(r["file"]).name == "missing.fits"]
    assert row["status"] == "COMPLETE" and row["reason"] == ""


def test_on_bad_input_stop_is_the_default():
    assert schema_defaults(SCHEMA)["on_bad_input"] == "stop"


# ---------------------------------------------------------------------------
# the rule runner: every error reaches the rule's log and the console
# ---------------------------------------------------------------------------
def run_in_rule(tmp_path, main, capsys):
    from types import SimpleNamespace

    from skymatchflow.jobs.rulerunner import run_rule

    log = tmp_path / "rule.log"
    with pytest.raises(SystemExit) as info:
        run_rule(main, SimpleNamespace(log=[str(log)]))
    assert info.value.code == 1
    return log.read_text(), capsys.readouterr().err


def test_a_bad_input_is_one_line_in_the_log_and_on_the_console(tmp_path, capsys):
    def main(smk):
        raise InputError("x.fits", "no celestial WCS")

    log, err = run_in_rule(tmp_path, main, capsys)
    head, *rest = log.splitlines()  # the log's first line says which version wrote it
    assert "INFO skymatchflow " in head
    for text in ("\n".join(rest) + "\n", err):
        assert text.count("\n") == 1 and "ERROR x.fits: no celestial WCS" in text


def test_an_unexpected_error_writes_its_traceback_to_the_log_too(tmp_path, capsys):
    def main(smk):
        {}["missing"]

    log, err = run_in_rule(tmp_path, main, capsys)
    for text in (log, err):
        assert "unexpected error" in text and "KeyError: 'missing'" in text
        assert "Traceback" in text and "in main" in text


# ---------------------------------------------------------------------------
# names: sky groups and images with any name give distinct, short file names
# ---------------------------------------------------------------------------
def test_group_file_names_are_one_to_one_and_short():
    from skymatchflow.stages.overlap_graph import pair_id, safe_name

    assert safe_name("jw01234001001_02101_00001") == "jw01234001001_02101_00001"  # unchanged
    assert safe_name("x y") != safe_name("x_y") == "x_y"
    assert safe_name("x y") == safe_name("x y")  # stable
    long_a, long_b = "a" * 240 + "1", "a" * 240 + "2"
    assert safe_name(long_a) != safe_name(long_b)
    assert safe_name(long_a).startswith("a" * 80)
    assert len(pair_id(long_a + " ", long_b).encode()) + len(".json") <= 255


def test_a_sheet_saved_with_a_byte_order_mark_works(tmp_path):
    image = write_image(tmp_path / "a.fits")
    sheet = tmp_path / "s.tsv"
    sheet.write_text(f"\ufefffile\tgroup\n{image}\tmine\n", encoding="utf-8")
    (spec,) = discover_images({"image_sheet": str(sheet)}).values()
    assert (spec.file, spec.group) == (str(image), "mine")


def test_long_file_names_give_short_distinct_image_ids(tmp_path):
    paths = [write_image(tmp_path / ("L" * 230 + f"{k}.fits")) for k in range(2)]
    images = discover_images({"images": [str(p) for p in paths]})
    ids = list(images)
    assert len(set(ids)) == 2 and all(len(i) <= 200 for i in ids)
    assert all(i.startswith("L" * 150) for i in ids)


def test_all_masked_image_message_does_not_promise_skipped(tmp_path, caplog):
    """global+match gives such an image the global sky (COMPLETE), as the reference does."""
    from skymatchflow.io.inputs import ImageSpec
    from skymatchflow.stages._image_products import sci_and_mask

    path = write_image(tmp_path / "masked.fits", dq=np.ones((64, 80), np.uint32))
    with caplog.at_level("WARNING"):
        sci_and_mask(ImageSpec("masked", str(path), "SCI", "DQ"), 0)
    (message,) = [r.getMessage() for r in caplog.records if "masked" in r.getMessage()]
    assert "every pixel is masked" in message and "will be SKIPPED" not in message
    assert "SKIPPED unless skymethod has a global stage" in message


# ---------------------------------------------------------------------------
# unusual inputs that must simply work, in one small real run
# ---------------------------------------------------------------------------
def _stored(path, dx, store):
    """A 64x80 image 'dx' arcsec east, its SCI float, scaled int16, tile-compressed or gzipped."""
    shape = (64, 80)
    header = tan_wcs(shape, crval=(150.1 + dx / 3600, 2.2)).to_header()
    sci = np.random.default_rng(dx).normal(10.0 + dx / 10, 0.5, shape).astype(np.float32)
    if store == "scaled":
        hdu = fits.ImageHDU(sci.copy(), header=header, name="SCI")
        hdu.scale("int16", bscale=0.001, bzero=10.0)
    elif store == "tiles":
        hdu = fits.CompImageHDU(sci, header=header, name="SCI", quantize_level=0.0, compression_type="GZIP_2")
    else:
        hdu = fits.ImageHDU(sci, header=header, name="SCI")
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path)
    return path


def test_archive_layouts_and_awkward_names_work_end_to_end(tmp_path):
    """Scaled integers, tile compression, gzip, groups that differ only in unsafe characters,
    and names long enough that a pair file named after two of them would exceed 255 bytes."""
    long_a, long_b = "L" * 170 + "a.fits", "L" * 170 + "b.fits"
    rows = [
        (str(_stored(tmp_path / "scaled.fits", 0, "scaled")), "", "", "x y"),
        (str(_stored(tmp_path / "tiles.fits.fz", 15, "tiles")), "", "", "x_y"),
        (str(_stored(tmp_path / "zipped.fits.gz", 30, "float")), "", "", ""),
        (str(_stored(tmp_path / long_a, 45, "float")), "", "", ""),
        (str(_stored(tmp_path / long_b, 60, "float")), "", "", ""),
    ]
    sheet = write_sheet(tmp_path / "images.tsv", rows)
    write_config(tmp_path, images=None, image_sheet=sheet, image_batches=1, pair_batches=1, skystat="median")
    inputs = {Path(row[0]): sha256(row[0]) for row in rows}
    result = run_snakemake(tmp_path, "all", "matched", timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    from astropy.table import Table

    sky = Table.read(tmp_path / "results" / "sky.ecsv", format="ascii.ecsv")
    assert list(sky["status"]) == ["COMPLETE"] * 5
    pairs = list((tmp_path / "results" / "pairs").rglob("*.json"))
    assert all(len(p.name) <= 255 for p in pairs)
    assert [p for p in pairs if p.name.count("L" * 80) == 2]  # the pair of the two long names
    # the skies follow the injected levels 10 + dx/10 (noise 0.5 per pixel, small overlaps)
    levels = np.array([0.0, 1.5, 3.0, 4.5, 6.0])
    assert np.allclose(np.array(sky["sky"]) - sky["sky"][0], levels, atol=0.15)
    matched = tmp_path / "results" / "matched"
    assert (matched / "zipped.fits.gz").read_bytes()[:2] == b"\x1f\x8b"
    with fits.open(matched / "tiles.fits.fz") as hdul:
        assert isinstance(hdul["SCI"], fits.CompImageHDU) and hdul[0].header["S_SKYMAT"] == "COMPLETE"
    assert {p: sha256(p) for p in inputs} == inputs
