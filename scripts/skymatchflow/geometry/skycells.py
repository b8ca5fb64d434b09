"""Where a set of footprints lies on the sky, and the fixed sky cell it falls in.

On a survey, image and pair batches are chosen by sky cell (jobs/batches.py)
so that neighbouring images are read by one pair job, not by every job, and
an added image re-runs the one image batch and the pair batches of its cell
(a field of few cells is cut in spatial order instead). A cell is fixed by the
sky alone: a cube of a grid in 3-D unit-vector space (no RA wrap, no pole
problem), whose side is a power of two times the footprints' own size.
Nothing about the other images enters, so an added image moves no pair.
"""

import math

import numpy as np

CELL_SIDES = 2  # a cell's side, in units of the footprint size rounded up to a power of two
GRID_OFFSET = 0.3819660112501051  # in cell sides: keeps cell faces off the equator and the 0/90/180/270 meridians


def centre_and_size(point_sets):
    """(ra, dec, size) in degrees of footprints given as arrays of unit vectors.

    ``size``: twice the largest angle from the centre (the normalised mean
    of all vertices) to a vertex: a bound on the footprints' diameter.
    """
    points = np.concatenate([np.asarray(p, dtype=float).reshape(-1, 3) for p in point_sets])
    centre = points.mean(axis=0)
    centre /= np.linalg.norm(centre)
    cosines = np.clip(points @ centre, -1.0, 1.0)
    size = 2.0 * float(np.degrees(np.arccos(cosines.min())))
    ra = float(np.degrees(math.atan2(centre[1], centre[0]))) % 360.0
    dec = float(np.degrees(math.asin(max(-1.0, min(1.0, centre[2])))))
    return ra, dec, size


def sky_cell(ra, dec, size):
    """A hashable name of the fixed sky cell of a position and a footprint size (degrees).

    The grid's side is CELL_SIDES x 2**ceil(log2(size in radians)): a few
    footprints wide, so most neighbours share a cell and a survey spreads
    over many cells; footprints of one size use one grid.
    """
    level = math.ceil(math.log2(max(math.radians(size), 2.0**-40)))
    side = CELL_SIDES * 2.0**level
    ra_r, dec_r = math.radians(ra), math.radians(dec)
    xyz = (math.cos(dec_r) * math.cos(ra_r), math.cos(dec_r) * math.sin(ra_r), math.sin(dec_r))
    return (level, *(math.floor(c / side + GRID_OFFSET) for c in xyz))


def cell_key(ra, dec, size):
    """The sky cell of a position and size as text ("level:x:y:z"): what a batch is chosen by."""
    return ":".join(str(c) for c in sky_cell(ra, dec, size))


def _unit(ra, dec):
    ra_r, dec_r = np.radians(ra), np.radians(dec)
    return np.array([np.cos(dec_r) * np.cos(ra_r), np.cos(dec_r) * np.sin(ra_r), np.sin(dec_r)])


def header_position(header):
    """(ra, dec, size) in degrees of an image from its FITS header's linear WCS, or None without one.

    Cheap enough for Snakemake's start (no WCS object, no astropy.wcs): the
    four pixel-edge corners through the CD (or PC x CDELT) matrix and the
    gnomonic projection at CRVAL, then centre_and_size as for a footprint.
    Distortion is ignored: the answer only chooses the image's batch.
    """
    try:
        ctype = str(header.get("CTYPE1", "")), str(header.get("CTYPE2", ""))
        if not (ctype[0][:4] in ("RA--", "GLON", "ELON") and ctype[1][:4] in ("DEC-", "GLAT", "ELAT")):
            return None
        nx, ny = int(header["NAXIS1"]), int(header["NAXIS2"])
        crpix = np.array([float(header.get("CRPIX1", 0.0)), float(header.get("CRPIX2", 0.0))])
        if any(f"CD{i}_{j}" in header for i in (1, 2) for j in (1, 2)):
            matrix = np.array([[float(header.get(f"CD{i}_{j}", 0.0)) for j in (1, 2)] for i in (1, 2)])
        else:
            pc = np.array([[float(header.get(f"PC{i}_{j}", 1.0 if i == j else 0.0)) for j in (1, 2)] for i in (1, 2)])
            matrix = pc * np.array([[float(header.get("CDELT1", 1.0))], [float(header.get("CDELT2", 1.0))]])
        ra0, dec0 = float(header["CRVAL1"]), float(header["CRVAL2"])
    except (KeyError, TypeError, ValueError):
        return None
    corners = np.array([[0.5, 0.5], [nx + 0.5, 0.5], [nx + 0.5, ny + 0.5], [0.5, ny + 0.5]]) - crpix
    xi, eta = np.radians(matrix @ corners.T)  # intermediate world coordinates: east and north
    ra_r, dec_r = math.radians(ra0), math.radians(dec0)
    east = np.array([-math.sin(ra_r), math.cos(ra_r), 0.0])
    north = np.array([-math.sin(dec_r) * math.cos(ra_r), -math.sin(dec_r) * math.sin(ra_r), math.cos(dec_r)])
    points = _unit(ra0, dec0)[None, :] + xi[:, None] * east + eta[:, None] * north
    points /= np.linalg.norm(points, axis=1)[:, None]
    if not np.all(np.isfinite(points)):
        return None
    return centre_and_size([points])
