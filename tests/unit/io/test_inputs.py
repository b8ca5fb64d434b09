"""Input discovery: globs, image sheets, multi-extension files, stable unique ids."""

import numpy as np
import pytest
from astropy.io import fits

from helpers.images import tan_wcs, write_image
from skymatchflow.errors import InputError
from skymatchflow.io.inputs import discover_images, file_stem


def write_hst_style(path, nchips=2, shape=(32, 40)):
    hdus = [fits.PrimaryHDU()]
    for ver in range(1, nchips + 1):
        header = tan_wcs(shape, crval=(10.0, -5.0 + 0.01 * ver)).to_header()
        hdus.append(fits.ImageHDU(np.ones(shape, np.float32), header=header, name="SCI", ver=ver))
        hdus.append(fits.ImageHDU(np.zeros(shape, np.uint32), name="DQ", ver=ver))
    fits.HDUList(hdus).writeto(path)
    return path


@pytest.mark.parametrize(
    "name, stem",
    [("a_cal.fits", "a_cal"), ("b.fits.gz", "b"), ("c.FITS", "c"), ("d.fit", "d"), ("e.fits.fz", "e"), ("f.txt", "f.txt")],
)
def test_file_stem(name, stem):
    assert file_stem(f"/x/{name}") == stem


def test_globs_are_sorted_and_ids_come_from_names(image_factory, tmp_path):
    for name in ("b_cal.fits", "a_cal.fits", "c_cal.fits"):
        image_factory(name, dq=np.zeros((64, 80), np.uint32))
    images = discover_images({"images": [str(tmp_path / "*_cal.fits")]})
    assert list(images) == ["a_cal", "b_cal", "c_cal"]
    spec = images["a_cal"]
    assert (spec.sci, spec.dq, spec.dq_file) == ("SCI", "auto", "")


def test_multi_extension_file_gives_one_image_per_chip(tmp_path):
    path = write_hst_style(tmp_path / "j8xy01_flt.fits", nchips=2)
    images = discover_images({"images": [str(path)]})
    assert list(images) == ["j8xy01_flt_sci1", "j8xy01_flt_sci2"]
    assert [(s.sci, s.dq) for s in images.values()] == [("SCI,1", "auto"), ("SCI,2", "auto")]


def test_plain_fits_uses_primary_or_first_image_extension(image_factory):
    plain = image_factory("plain.fits", layout="plain")
    named = image_factory("named.fits", extname="S4")
    images = discover_images({"images": [str(plain), str(named)]})
    assert images["plain"].sci == "0"
    assert images["named"].sci == "1"


def test_image_sheet_columns(image_factory, tmp_path):
    img = image_factory("ooi.fits", extname="S4")
    dq = image_factory("ood.fits", extname="S4")
    sheet = tmp_path / "images.tsv"
    sheet.write_text(f"file\tsci\tdq\tgroup\n{img}\tS4\t{dq}\tband_g\n")
    spec = discover_images({"image_sheet": str(sheet)})["ooi"]
    assert (spec.sci, spec.dq, spec.dq_file, spec.group) == ("S4", "", str(dq), "band_g")


def test_sheet_with_extension_dq(image_factory, tmp_path):
    img = image_factory("x.fits", dq=np.zeros((64, 80), np.uint32))
    sheet = tmp_path / "s.tsv"
    sheet.write_text(f"file\tdq\n{img}\tDQ\n")
    spec = discover_images({"image_sheet": str(sheet)})["x"]
    assert (spec.sci, spec.dq, spec.dq_file) == ("SCI", "DQ", "")


def test_the_old_sheet_column_path_is_read_with_one_deprecation_line(image_factory, tmp_path, capsys):
    img = image_factory("x.fits")
    sheet = tmp_path / "s.tsv"
    sheet.write_text(f"path\tgroup\n{img}\tg1\n")
    spec = discover_images({"image_sheet": str(sheet)})["x"]
    assert (spec.file, spec.group) == (str(img), "g1")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and "column 'path' is now 'file'" in lines[0] and str(sheet) in lines[0]


def test_id_clash_names_both_files(image_factory, tmp_path):
    (tmp_path / "other").mkdir()
    first = image_factory("same.fits")
    second = image_factory("other/same.fits")
    with pytest.raises(InputError, match=f"{second}.*clashes with {first}"):
        discover_images({"images": [str(first), str(second)]})


def test_glob_without_match_is_an_error(tmp_path):
    with pytest.raises(InputError, match="matches no file"):
        discover_images({"images": [str(tmp_path / "*.fits")]})


def test_not_fits_file_is_named(tmp_path):
    bad = tmp_path / "bad.fits"
    bad.write_text("this is not FITS")
    with pytest.raises(InputError, match=f"{bad}: not a readable FITS file"):
        discover_images({"images": [str(bad)]})


@pytest.mark.parametrize(
    "content, pattern",
    [("sci\tdq\nx.fits\t\n", "needs a 'file' column"), ("file\tcolour\nx.fits\tred\n", "unknown image sheet column")],
)
def test_bad_sheets(tmp_path, content, pattern):
    sheet = tmp_path / "s.tsv"
    sheet.write_text(content)
    with pytest.raises(InputError, match=pattern):
        discover_images({"image_sheet": str(sheet)})


def test_missing_literal_path_is_kept_for_a_rule_to_make(tmp_path):
    later = tmp_path / "later_cal.fits"
    before = discover_images({"images": [str(later)]})["later_cal"]
    assert (before.sci, before.dq) == ("SCI", "auto")
    write_image(later, dq=np.zeros((64, 80), np.uint32))
    # the same spec once the file exists, so the rules' params do not change
    assert discover_images({"images": [str(later)]})["later_cal"] == before


def test_known_layouts_are_not_opened_again_and_a_changed_file_is(tmp_path, monkeypatch):
    from skymatchflow.io import inputs
    from skymatchflow.io.layoutcache import LayoutCache

    one = write_hst_style(tmp_path / "one_flt.fits", nchips=2)
    write_hst_style(tmp_path / "two_flt.fits", nchips=1)
    config = {"images": [str(tmp_path / "*_flt.fits")]}
    cache_path = tmp_path / "cache" / "layouts.json"
    first = discover_images(config)
    cache = LayoutCache(cache_path)
    assert discover_images(config, layouts=cache) == first
    cache.save()

    opened = []
    real = inputs._image_hdus
    monkeypatch.setattr(inputs, "_image_hdus", lambda path: opened.append(path) or real(path))
    assert discover_images(config, layouts=LayoutCache(cache_path)) == first
    assert opened == []
    write_hst_style(tmp_path / "new_flt.fits", nchips=1)
    one.unlink()
    write_hst_style(one, nchips=3)  # same name, other content: a new signature
    images = discover_images(config, layouts=LayoutCache(cache_path))
    assert sorted(opened) == sorted([str(one), str(tmp_path / "new_flt.fits")])
    assert [i for i in images if i.startswith("one")] == ["one_flt_sci1", "one_flt_sci2", "one_flt_sci3"]


def test_sheet_columns_are_the_schema_properties():
    """The image sheet's schema is the one definition of its columns."""
    import yaml

    from skymatchflow.io.inputs import SHEET_COLUMNS, SHEET_SCHEMA

    schema = yaml.safe_load(SHEET_SCHEMA.read_text())
    assert tuple(schema["properties"]) == SHEET_COLUMNS and schema["required"] == ["file"]
    assert schema["$schema"].endswith("draft/2020-12/schema")


def test_a_listed_file_that_is_missing_is_refused_unless_a_rule_makes_it(tmp_path):
    from skymatchflow.io.inputchecks import check_listed_files_exist

    here = tmp_path / "here_cal.fits"
    write_image(here, dq=np.zeros((64, 80), np.uint32))
    gone, made = tmp_path / "gone_cal.fits", tmp_path / "made_cal.fits"
    images = discover_images({"images": [str(here), str(made)]})
    check_listed_files_exist(images, [str(made)])  # a rule makes it: no error
    images = discover_images({"images": [str(here), str(gone)]})
    with pytest.raises(InputError, match=rf"^{gone}: file not found \(a listed input\)"):
        check_listed_files_exist(images, [str(made)])
