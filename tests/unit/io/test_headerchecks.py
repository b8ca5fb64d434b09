"""Start-time header checks (io/headerchecks): every bad file one line, and a file that
passed is not opened again while it is unchanged (each cluster job's start runs them)."""

import pytest

from helpers.images import write_image
from skymatchflow.errors import InputErrors
from skymatchflow.io import headerchecks
from skymatchflow.io.inputs import discover_images
from skymatchflow.io.layoutcache import LayoutCache


def set_card(path, keyword, raw):
    data = bytearray(path.read_bytes())
    start = data.find(keyword.ljust(8).encode() + b"= ")
    data[start:start + 80] = f"{keyword.ljust(8)}= {raw}".ljust(80).encode()
    path.write_bytes(bytes(data))


def test_every_bad_file_is_named_once(tmp_path):
    paths = [write_image(tmp_path / f"{name}.fits") for name in ("a", "b", "c")]
    set_card(paths[0], "CRVAL2", "NAN")
    set_card(paths[2], "CRPIX1", "'x'")
    images = discover_images({"images": [str(path) for path in paths]})
    with pytest.raises(InputErrors) as info:
        headerchecks.check_headers(images)
    lines = str(info.value).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{paths[0]}: extension 'SCI': WCS keyword CRVAL2 = NAN")
    assert lines[1].startswith(f"{paths[2]}: extension 'SCI': WCS keyword CRPIX1 = x")


def test_a_file_that_passed_is_not_read_again_until_it_changes(tmp_path, monkeypatch):
    path = write_image(tmp_path / "a.fits")
    cache_path = tmp_path / "layouts.json"
    opened = []
    real = headerchecks._check_file
    monkeypatch.setattr(headerchecks, "_check_file", lambda p, specs: (opened.append(p), real(p, specs))[1])

    def start():
        layouts = LayoutCache(cache_path)
        images = discover_images({"images": [str(path)]}, layouts)
        headerchecks.check_headers(images, layouts)
        layouts.save()

    start()
    start()
    assert opened == [str(path)]
    set_card(path, "CRVAL1", "NAN")  # a new mtime and ctime: checked again, and refused
    with pytest.raises(InputErrors, match="CRVAL1 = NAN"):
        start()
    with pytest.raises(InputErrors):  # a refused file is never remembered as passed
        start()
    assert len(opened) == 3


def test_the_header_checks_leave_astropy_wcs_unimported(tmp_path):
    """Snakemake's start runs them; astropy.wcs would bring astropy.coordinates, astropy.table and asdf (~0.3 s)."""
    import os
    import subprocess
    import sys

    from helpers.paths import REPO

    path = write_image(tmp_path / "a.fits")
    code = (
        "import sys; from skymatchflow.io import headerchecks; from skymatchflow.io.inputs import discover_images; "
        f"headerchecks.check_headers(discover_images({{'images': [{str(path)!r}]}})); "
        "print(sorted(m for m in ('astropy.io.fits', 'astropy.wcs', 'astropy.table') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                            env={**os.environ, "PYTHONPATH": f"{REPO / 'scripts'}:{REPO / 'tests'}"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['astropy.io.fits']"  # the file was read, without a WCS


def test_the_checks_remember_where_each_image_lies_and_later_starts_read_no_header(tmp_path, monkeypatch):
    """The image batches are chosen by sky cell at every start: from the cache the header checks filled."""
    from astropy.io import fits

    from skymatchflow.geometry.skycells import header_position

    paths = [write_image(tmp_path / f"{name}.fits") for name in ("a", "b")]
    cache_path = tmp_path / "layouts.json"
    layouts = LayoutCache(cache_path)
    images = discover_images({"images": [str(path) for path in paths]}, layouts)
    headerchecks.check_headers(images, layouts)
    layouts.save()

    def no_reading(path, sci):
        raise AssertionError(f"{path} was opened again")

    monkeypatch.setattr(headerchecks, "locate", no_reading)
    places = headerchecks.image_places(images, LayoutCache(cache_path))  # a later start, or a cluster job's
    for image, spec in images.items():
        expected = header_position(fits.getheader(spec.file, spec.sci))
        assert places[image]["position"] == list(expected) and places[image]["pixels"] == 64 * 80
    unplaced = headerchecks.image_places(images, LayoutCache(cache_path), {str(paths[0])})
    assert unplaced[next(iter(images))] == {"position": None, "pixels": 0}  # a file a rule makes: by its id
