"""``sky_model: plane`` on JWST cal files: planes solved through the gwcs, subtracted in the copies' data models.

Tiny cal files (helpers/jwst_data.py: a gwcs with a cubic distortion, its
SIP fit in the header) carry injected planes. The pair stage, the solve and
the matched copies run in process with the stage code; each copy is opened
as an ImageModel and checked against the input minus the recorded plane
evaluated here, independently, through the input's own gwcs.
"""

import warnings

import numpy as np
import pytest

from helpers.config import schema_defaults
from helpers.in_process import run_in_process
from helpers.jwst_data import DEC0, NOISE, PIXEL_SCALE, RA0, write_mosaic
from skymatchflow.solve.plane_model import tangent_offsets
from skymatchflow.stages.apply_sky import write_matched_copy

#: tilt across a detector, in units of the noise: far above what a constant can absorb
TILT_SIGMA = 6.0
#: per degree on the sky, the tilt of TILT_SIGMA across a detector's 40 pixels
TILT_PER_DEG = TILT_SIGMA * NOISE / (40 * PIXEL_SCALE)

PLANE = {"skymethod": "match", "pair_statistic": "difference", "sky_model": "plane", "subtract": True,
         "match_down": True}


def exposure_of(path):
    """The sky group of a cal file (helpers/jwst_data.file_name): its exposure, every detector of it together."""
    return str(path).split("/")[-1].rsplit("_", 2)[0]


def injected_sky(plane, ra, dec):
    """An injected plane (level, tilt east, tilt north per deg on the tangent plane at RA0, DEC0) at (ra, dec)."""
    x, y = tangent_offsets(ra, dec, RA0, DEC0)
    return plane[0] + plane[1] * x + plane[2] * y


def inject_planes(paths, directory, seed=3):
    """Copies of the cal files in ``directory`` whose sky is a plane per exposure (one on the sky for its detectors).

    Each file's own sky level (write_mosaic's, which differs between the detectors of an exposure) is
    replaced: the data's mean taken out, the exposure's plane, in a direction of its own, put in.
    Returns (paths, {exposure: (level, tilt east, tilt north)}).
    """
    from stdatamodels.jwst.datamodels import ImageModel

    rng = np.random.default_rng(seed)
    directory.mkdir()
    planes, out = {}, []
    for path in paths:
        if exposure_of(path) not in planes:
            angle = rng.uniform(0.0, 2.0 * np.pi)
            planes[exposure_of(path)] = (rng.uniform(5.0, 15.0), TILT_PER_DEG * np.cos(angle),
                                         TILT_PER_DEG * np.sin(angle))
        with ImageModel(str(path)) as model:
            ra, dec, shape = sky_of_pixels(model)
            sky = injected_sky(planes[exposure_of(path)], ra, dec).reshape(shape)
            model.data = (model.data - np.mean(model.data) + sky).astype(np.float32)
            model.save(str(directory / path.name))
        out.append(directory / path.name)
    return out, planes


def sky_of_pixels(model):
    """(ra, dec, shape) of every pixel centre of a data model, through its gwcs (0-based pixels)."""
    ny, nx = model.data.shape
    yy, xx = np.mgrid[0:ny, 0:nx].astype(float)
    ra, dec = model.meta.wcs(xx.ravel(), yy.ravel(), with_bounding_box=False)
    return np.asarray(ra, float), np.asarray(dec, float), (ny, nx)


def plane_of(row, ra, dec):
    """A row's plane at (ra, dec), written out from the sky table's columns (not via plane_model.plane_at)."""
    x, y = tangent_offsets(ra, dec, float(row["plane_ra0"]), float(row["plane_dec0"]))
    return float(row["delta_match"]) + float(row["plane_tilt_x"]) * x + float(row["plane_tilt_y"]) * y


def test_plane_copies_of_cal_files_subtract_the_plane_through_the_gwcs(tmp_path):
    from stdatamodels.jwst.datamodels import ImageModel

    (tmp_path / "flat").mkdir()
    originals = write_mosaic(tmp_path / "flat")
    paths, planes = inject_planes(originals, tmp_path / "cal")
    sky, _ = run_in_process(schema_defaults() | PLANE | {"images": [str(p) for p in paths]}, tmp_path / "work")
    assert list(sky["wcs"]) == ["gwcs"] * len(paths)
    assert set(sky["status"]) == {"COMPLETE"}
    assert np.all(np.isfinite(sky["plane_tilt_x"])) and np.all(np.isfinite(sky["plane_tilt_y"]))

    # the solved planes are the injected ones, but for a plane common to all (which no overlap measures)
    errors, xs, ys = [], [], []
    for row in sky:
        assert row["group"] == exposure_of(row["file"])
        with ImageModel(row["file"]) as model:
            ra, dec, _ = sky_of_pixels(model)
        errors.append(plane_of(row, ra, dec) - injected_sky(planes[exposure_of(row["file"])], ra, dec))
        x, y = tangent_offsets(ra, dec, RA0, DEC0)
        xs.append(x)
        ys.append(y)
    error, x, y = np.concatenate(errors), np.concatenate(xs), np.concatenate(ys)
    phi = np.stack([np.ones_like(x), x, y], axis=1)
    residual = error - phi @ np.linalg.lstsq(phi, error, rcond=None)[0]
    plane_error = float(np.sqrt(np.mean(residual**2)) / NOISE)
    print(f"plane error (common plane removed): {plane_error:.3g} noise")
    assert plane_error < 0.15  # 0.039 measured; the injected tilts' own RMS is about 2.4

    # the matched copies, one per observation (each copy costs a data model read and save)
    for row in (sky[0], sky[-1]):
        source = row["file"]
        destination = tmp_path / "matched" / source.split("/")[-1]
        write_matched_copy(source, destination, [row], "match", True)
        with ImageModel(source) as original, ImageModel(str(destination)) as copy:
            assert type(copy) is ImageModel
            ra, dec, shape = sky_of_pixels(original)
            expected = original.data - plane_of(row, ra, dec).reshape(shape).astype(np.float32)
            assert copy.data.dtype.newbyteorder("=") == np.float32
            assert np.max(np.abs(copy.data - expected)) <= 4 * np.finfo(np.float32).eps * np.max(np.abs(original.data))
            assert np.ptp(original.data - copy.data) > 3 * NOISE  # a plane, not a constant, was taken off
            assert copy.meta.background.level == pytest.approx(row["sky"])
            assert copy.meta.background.subtracted is True and copy.meta.background.method == "match"
            assert copy.meta.cal_step.skymatch == "COMPLETE"
            # the plane in the history, as a reader of the copy gets it back (stdatamodels reads the FITS cards)
            with warnings.catch_warnings():  # stdatamodels warns that the attribute's use for writing will go
                warnings.simplefilter("ignore", UserWarning)
                history = [entry["description"] for entry in copy.history]
            assert "skymatchflow sky_model plane: sky = level + tilt_x * x + tilt_y * y" in history
            assert f"plane reference point RA {row['plane_ra0']:.9f} Dec {row['plane_dec0']:.9f} (ICRS)" in history
            assert f"plane level {row['delta_match']:.9g} (the sky at the reference point)" in history
            assert f"plane tilt_x {row['plane_tilt_x']:.9g} tilt_y {row['plane_tilt_y']:.9g} (per deg)" in history


def test_gwcs_window_for_reproject_is_the_adapters_mapping_without_bounding_box():
    """pair_statistic difference resamples through GwcsAdapter.slice: the same positions, outside the box too."""
    from helpers.jwst_data import make_gwcs
    from skymatchflow.geometry.skywcs import GwcsAdapter

    adapter = GwcsAdapter(make_gwcs(40, 36, RA0, DEC0, rotation_deg=8.0))
    window = adapter.slice((slice(2, 20), slice(5, 30)))
    x, y = np.array([-9.0, 0.0, 12.5, 30.0]), np.array([-4.0, 0.0, 7.25, 40.0])  # the first and last outside the box
    ra, dec = window.low_level_wcs.pixel_to_world_values(x, y)
    assert np.all(np.isfinite(ra)) and np.all(np.isfinite(dec))
    assert np.allclose((ra, dec), adapter.all_pix2world(x + 5, y + 2, 0), rtol=0, atol=1e-12)
    back = window.low_level_wcs.world_to_pixel_values(ra, dec)
    assert np.allclose(back, (x, y), rtol=0, atol=0.01)  # the fitted polynomial inverse: 4e-4 px off measured
    assert adapter.gwcs.bounding_box is not None  # the file's own gwcs keeps its box
