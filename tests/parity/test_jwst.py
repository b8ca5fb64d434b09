"""JWST-native inputs and outputs, against jwst's SkyMatchStep itself (offline, no CRDS).

Tiny cal files made with stdatamodels (tests/jwst_data.py): a gwcs with a
cubic distortion in the ASDF extension, its degree-2 SIP fit (~0.08 px off)
in the header. Two observations x two exposures x two detectors, listed by
an association.
"""

import io
import os
import subprocess
import sys

import asdf
import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from helpers.in_process import run_in_process
from helpers.jwst_data import NOISE, write_association, write_mosaic
from helpers.paths import REPO
from helpers.reference_runner import full_config
from helpers.workflow_runner import run_snakemake, write_config
from skymatchflow import __version__
from skymatchflow.errors import InputError
from skymatchflow.io.inputs import discover_images

os.environ.setdefault("STPIPE_DISABLE_CRDS_STEPPARS", "true")
os.environ.setdefault("CRDS_SERVER_URL", "https://crds.invalid")  # never reached: the step needs no reference file

STEP = {"skymethod": "global+match", "match_down": True, "subtract": True, "dqbits": "~DO_NOT_USE+NON_SCIENCE"}


@pytest.fixture(scope="module")
def mosaic(tmp_path_factory):
    """(directory, cal file paths, association path) of the 8-file mosaic."""
    directory = tmp_path_factory.mktemp("jwst")
    paths = write_mosaic(directory)
    asn = write_association(directory / "jw01234-o001_image3_asn.json", [p.name for p in paths])
    return directory, paths, asn


def step_results(asn, **params):
    """{file name: (level, subtracted, method, cal_step, data)} from SkyMatchStep on the association."""
    from jwst.skymatch import SkyMatchStep

    step = SkyMatchStep(**params)
    library = step.run(str(asn))
    results = {}
    with library:
        for index in range(len(library)):
            model = library.borrow(index)
            bg = model.meta.background
            results[model.meta.filename] = (bg.level, bg.subtracted, bg.method, model.meta.cal_step.skymatch,
                                            np.array(model.data))
            library.shelve(model, index, modify=False)
    return results


@pytest.fixture(scope="module")
def reference(mosaic):
    return step_results(mosaic[2], **STEP)


def test_association_members_and_groups_are_the_steps(mosaic):
    """Two observations, several detectors: the same groups in the same order as ModelLibrary's."""
    from jwst.datamodels import ModelLibrary
    from stdatamodels.jwst.datamodels import ImageModel

    directory, paths, _ = mosaic
    names = [p.name for p in paths]
    # a copy of one file with meta.group_id stored in its ASDF tree (as a library run saves it)
    with ImageModel(str(paths[3])) as model:
        model.meta.group_id = "stored"
        model.save(str(directory / "stored_cal.fits"))
    # an explicit group_id for two members, a background member that is not an input
    members = [(n, "science") for n in names[:5]] + [(names[5], "science", "mine"), (names[6], "background"),
                                                     (names[7], "science", "mine"), ("stored_cal.fits", "science")]
    asn = write_association(directory / "grouped_asn.json", members)
    library = ModelLibrary(str(asn), asn_exptypes=["science"], on_disk=False)
    expected = [[library.asn["products"][0]["members"][i]["expname"] for i in group]
                for group in library.group_indices.values()]

    specs = discover_images({"associations": [str(asn)]})
    records = [r for r in _footprints(specs)]
    groups = {}
    for record in records:
        groups.setdefault(record["group"], []).append(os.path.basename(record["file"]))
    assert list(groups.values()) == expected
    assert expected == [names[0:2], names[2:4], names[4:5], [names[5], names[7]], ["stored_cal.fits"]]
    assert list(groups) == list(library.group_indices)  # the step's group ids themselves


def _footprints(specs):
    from skymatchflow.stages._image_products import footprint_record

    return [footprint_record(spec, None, "exposure", "fits") for spec in specs.values()]


@pytest.mark.parametrize("problem", ["missing", "cube"])
def test_bad_association_member_is_named(mosaic, tmp_path, problem):
    from stdatamodels.jwst.datamodels import CubeModel

    directory, paths, _ = mosaic
    member = "jw01234001001_01101_00009_nrca1_cal.fits"
    if problem == "cube":
        member = "cube_calints.fits"
        CubeModel((2, 8, 8)).save(str(tmp_path / member))
    asn = write_association(tmp_path / "bad_asn.json", [str(paths[0]), member])
    with pytest.raises(InputError) as info:
        discover_images({"associations": [str(asn)]})
    message = str(info.value)
    assert str(asn) in message and member in message and "\n" not in message
    assert ("file not found" if problem == "missing" else "not an image") in message


def _compare(table, reference):
    worst = 0.0
    for row in table:
        level, _, _, status, _ = reference[os.path.basename(row["file"])]
        assert row["status"] == status
        if status == "COMPLETE":
            worst = max(worst, abs(row["sky"] - level))
    return worst


def test_gwcs_mode_equals_the_step_and_copies_carry_its_metadata(mosaic, reference, tmp_path):
    """The workflow (Snakemake, gwcs mode) vs SkyMatchStep on the same files; matched copies as data models."""
    from stdatamodels.jwst.datamodels import ImageModel

    _, paths, asn = mosaic
    write_config(tmp_path, associations=[str(asn)], image_batches=1, pair_batches=1, **STEP)
    copied = [paths[0], paths[-1]]  # one per observation: each apply job costs seconds of imports
    result = run_snakemake(tmp_path, "results/sky.ecsv", *(f"results/matched/{p.name}" for p in copied))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "WCS: the gwcs of each file's ASDF extension" in result.stderr
    table = Table.read(tmp_path / "results" / "sky.ecsv")
    assert list(table["wcs"]) == ["gwcs"] * len(paths)
    assert set(table["status"]) == {"COMPLETE"}
    assert _compare(table, reference) <= 1e-6 * NOISE
    for path in copied:
        level, subtracted, method, cal_step, data = reference[path.name]
        with ImageModel(str(tmp_path / "results" / "matched" / path.name)) as copy:
            assert copy.meta.background.level == pytest.approx(level, abs=1e-6 * NOISE)
            assert (copy.meta.background.subtracted, copy.meta.background.method) == (subtracted, method)
            assert copy.meta.cal_step.skymatch == cal_step
            assert copy.meta.filename == path.name
            assert np.max(np.abs(copy.data - data)) <= 1e-5 * NOISE
            assert copy.meta.wcs is not None
        # the ASDF tree itself (what stdatamodels reads when it skips the FITS keywords) says the same
        with fits.open(tmp_path / "results" / "matched" / path.name) as hdul:
            tree = asdf.util.load_yaml(io.BytesIO(hdul["ASDF"].data.tobytes()))
        assert tree["meta"]["cal_step"]["skymatch"] == cal_step
        assert tree["meta"]["background"]["level"] == pytest.approx(level, abs=1e-6 * NOISE)
        assert tree["meta"]["background"]["subtracted"] == subtracted
        assert f"skymatchflow {__version__}: skymatch {cal_step}" in [
            entry["description"] for entry in tree["history"]["entries"]
        ]
    # as calwebb_image3's next steps get them: a ModelLibrary over an association of the copies
    from jwst.datamodels import ModelLibrary

    copies = write_association(tmp_path / "results" / "matched" / "matched_asn.json", [p.name for p in copied])
    library = ModelLibrary(str(copies), asn_exptypes=["science"], on_disk=False)
    with library:
        for index in range(len(library)):
            model = library.borrow(index)
            level, subtracted, method, cal_step, _ = reference[model.meta.filename]
            assert model.meta.background.level == pytest.approx(level, abs=1e-6 * NOISE)
            assert (model.meta.background.subtracted, model.meta.cal_step.skymatch) == (subtracted, cal_step)
            library.shelve(model, index, modify=False)


def test_fits_mode_difference_is_small_and_measured(mosaic, reference, tmp_path):
    """The header's SIP approximation instead of the gwcs: same statuses, the size of the difference printed."""
    _, paths, asn = mosaic
    config = full_config(associations=[str(asn)], wcs="fits", **STEP)
    table, _ = run_in_process(config, tmp_path)
    assert list(table["wcs"]) == ["fits"] * len(paths)
    worst = _compare(table, reference)
    print(f"FITS-WCS mode vs the step (gwcs): max |sky difference| = {worst / NOISE:.3g} x noise")
    assert 0.0 < worst < 1.0 * NOISE


def test_fits_path_imports_no_jwst_extras(image_factory, tmp_path):
    """A plain FITS input goes through footprint, pair loading and matched copy without gwcs or stdatamodels (astropy itself imports asdf when it is installed)."""
    path = image_factory("plain.fits")
    code = f"""
import sys
sys.path.insert(0, {str(REPO / 'scripts')!r})
from astropy.table import Table
from skymatchflow.io.inputs import discover_images
from skymatchflow.stages._image_products import footprint_record
from skymatchflow.stats.pairimage import load_pair_image
from skymatchflow.geometry.footprint import polygon_from_dict
from skymatchflow.stages.apply_sky import write_matched_copy
from skymatchflow.geometry.skywcs import wcs_policy
spec = next(iter(discover_images({{"images": [{str(path)!r}]}}).values()))
record = footprint_record(spec, None, "exposure", wcs_policy("auto")[0])
assert record["wcs"] == "fits", record
load_pair_image(spec.image, spec.file, spec.sci, polygon_from_dict(record["polygon"]), "unused", record["wcs"])
row = {{"sci": spec.sci, "status": "COMPLETE", "sky": 1.0, "delta_match": 1.0, "sky_global": float("nan")}}
write_matched_copy(spec.file, {str(tmp_path / 'out.fits')!r}, [row], "match", True)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("gwcs", "stdatamodels", "jwst"))
print(loaded)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_without_the_extras_a_cal_file_uses_its_fits_wcs_and_says_why(mosaic, monkeypatch):
    """With gwcs/asdf missing, 'auto' falls back to the header's WCS; the reason names the fix."""
    from skymatchflow.geometry import skywcs
    from skymatchflow.stages._image_products import footprint_record

    _, paths, _ = mosaic
    spec = next(iter(discover_images({"images": [str(paths[0])]}).values()))
    assert footprint_record(spec, None, "exposure", skywcs.wcs_policy("auto")[0])["wcs"] == "gwcs"
    monkeypatch.setattr(skywcs, "missing_extras", lambda: ["gwcs"])
    assert skywcs.wcs_policy("auto")[0] == "fits"
    assert "requirements-jwst.txt" in skywcs.describe_policy("auto")
    record = footprint_record(spec, None, "exposure", "gwcs")  # a rule environment without the extras
    assert record["wcs"] == "fits" and "not installed" in record["wcs_reason"]
