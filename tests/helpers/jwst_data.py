"""Tiny JWST-like cal files for the JWST tests, made with stdatamodels.

Each image is an ``ImageModel`` whose ``meta.wcs`` is a gwcs with a real
polynomial distortion (and a fitted polynomial inverse, as assign_wcs's
distortion models have), with the bounding box assign_wcs sets; the FITS
header carries the SIP approximation jwst's ``update_fits_wcsinfo`` writes.
Sky levels differ per exposure; the data are noise of sigma NOISE.
"""

import json
import warnings

import numpy as np
from astropy import coordinates as coord
from astropy import units as u
from astropy.modeling import fitting, models
from gwcs import coordinate_frames as cf
from gwcs import wcs as gwcs_wcs
from jwst.assign_wcs.util import update_fits_wcsinfo
from stdatamodels.jwst.datamodels import ImageModel

NOISE = 1.0
PIXEL_SCALE = 0.06 / 3600.0  # degrees
RA0, DEC0 = 150.0, 2.0


def _distortion(nx, ny):
    """(forward, inverse) polynomial distortion about the image centre (pixels, a few tenths at the corners)."""
    cx, cy = (nx - 1) / 2.0, (ny - 1) / 2.0
    fx = models.Polynomial2D(3, c1_0=1.0, c2_0=4e-4, c1_1=-3e-4, c0_2=2e-4, c3_0=2e-5, c1_2=-1.5e-5)
    fy = models.Polynomial2D(3, c0_1=1.0, c0_2=-3e-4, c1_1=2.5e-4, c2_0=1.5e-4, c0_3=-2e-5, c2_1=1e-5)
    shift = models.Shift(-cx) & models.Shift(-cy)
    forward = shift | models.Mapping((0, 1, 0, 1)) | (fx & fy)
    # inverse: fit degree-4 polynomials on a grid (assign_wcs ships fitted inverses too)
    yy, xx = np.mgrid[-2:ny + 2:1.0, -2:nx + 2:1.0]
    u_, v_ = forward(xx, yy)
    fit = fitting.LinearLSQFitter()
    ix = fit(models.Polynomial2D(4), u_, v_, xx)
    iy = fit(models.Polynomial2D(4), u_, v_, yy)
    forward.inverse = models.Mapping((0, 1, 0, 1)) | (ix & iy)
    return forward


def make_gwcs(nx, ny, ra, dec, rotation_deg=0.0):
    """A gwcs detector -> world with distortion, TAN projection and rotation."""
    distortion = _distortion(nx, ny)
    angle = np.deg2rad(rotation_deg)
    matrix = PIXEL_SCALE * np.array([[-np.cos(angle), np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    sky = (
        models.AffineTransformation2D(matrix=matrix)
        | models.Pix2Sky_TAN()
        | models.RotateNative2Celestial(ra, dec, 180.0)
    )
    detector = cf.Frame2D(name="detector", axes_order=(0, 1), unit=(u.pix, u.pix))
    v2v3 = cf.Frame2D(name="undistorted", axes_order=(0, 1), unit=(u.pix, u.pix))
    world = cf.CelestialFrame(reference_frame=coord.ICRS(), name="world")
    wcs = gwcs_wcs.WCS([(detector, distortion), (v2v3, sky), (world, None)])
    wcs.bounding_box = ((-0.5, nx - 0.5), (-0.5, ny - 0.5))
    return wcs


def make_cal_model(nx, ny, ra, dec, sky, seed, exposure, detector, observation="001",
                   program="01234", rotation_deg=0.0):
    """One cal ImageModel: sky + noise, DQ 0, gwcs and its SIP approximation."""
    rng = np.random.default_rng(seed)
    model = ImageModel((ny, nx))
    model.data = (sky + rng.normal(0.0, NOISE, (ny, nx))).astype(np.float32)
    model.dq = np.zeros((ny, nx), dtype=np.uint32)
    model.err = np.full((ny, nx), NOISE, dtype=np.float32)
    meta = model.meta
    meta.instrument.name = "NIRCAM"
    meta.instrument.detector = detector
    meta.exposure.type = "NRC_IMAGE"
    meta.observation.program_number = program
    meta.observation.observation_number = observation
    meta.observation.visit_number = "001"
    meta.observation.visit_group = "01"
    meta.observation.sequence_id = "1"
    meta.observation.activity_id = "01"
    meta.observation.exposure_number = f"{exposure:05d}"
    meta.wcs = make_gwcs(nx, ny, ra, dec, rotation_deg)
    meta.wcsinfo.v2_ref = 0.0
    meta.wcsinfo.v3_ref = 0.0
    meta.wcsinfo.roll_ref = 0.0
    with warnings.catch_warnings():  # gwcs warns that degree 2 misses the cubic: that is the point
        warnings.simplefilter("ignore")
        update_fits_wcsinfo(model, degree=2, npoints=8)  # SIP about 0.08 px off the gwcs
    return model


def file_name(program, observation, exposure, detector):
    return f"jw{program}{observation}001_01101_{exposure:05d}_{detector.lower()}_cal.fits"


def write_mosaic(directory, nx=40, ny=36, observations=("001", "002"), detectors=("NRCA1", "NRCA2"),
                 exposures=(1, 2), program="01234"):
    """Cal files of several observations, exposures and detectors that overlap; returns the paths.

    Detectors sit side by side with a small overlap; exposures are dithered;
    the second observation is offset and rotated. Sky differs per exposure.
    """
    paths = []
    step = (nx - 6) * PIXEL_SCALE
    seed = 0
    for o, observation in enumerate(observations):
        for exposure in exposures:
            sky = 10.0 + 3.0 * o + 1.5 * exposure
            for d, detector in enumerate(detectors):
                seed += 1
                ra = RA0 + (d * step + 7 * PIXEL_SCALE * exposure + 11 * PIXEL_SCALE * o) / np.cos(np.deg2rad(DEC0))
                dec = DEC0 + (5 * PIXEL_SCALE * exposure - 9 * PIXEL_SCALE * o)
                model = make_cal_model(nx, ny, ra, dec, sky + 0.2 * d, seed, exposure, detector,
                                       observation=observation, program=program, rotation_deg=8.0 * o)
                path = directory / file_name(program, observation, exposure, detector)
                model.save(str(path))
                model.close()
                paths.append(path)
    return paths


def write_association(path, members, product="jw01234-o001_t001_nircam_clear-f200w", extra=None):
    """A level-3 image association listing ``members`` (names or (name, exptype[, group_id]) tuples)."""
    entries = []
    for member in members:
        if isinstance(member, (str, bytes)) or hasattr(member, "name") and not isinstance(member, tuple):
            member = (str(getattr(member, "name", member)), "science")
        entry = {"expname": member[0], "exptype": member[1]}
        if len(member) > 2:
            entry["group_id"] = member[2]
        entries.append(entry)
    asn = {
        "asn_type": "image3",
        "asn_rule": "candidate_Asn_Lv3Image",
        "asn_id": "o001",
        "asn_pool": "test_pool",
        "program": "01234",
        "target": "1",
        "version_id": None,
        "code_version": "test",
        "degraded_status": "No known degraded exposures in association.",
        "constraints": "test",
        "products": [{"name": product, "members": entries}],
    }
    if extra:
        asn.update(extra)
    path.write_text(json.dumps(asn, indent=1))
    return path
