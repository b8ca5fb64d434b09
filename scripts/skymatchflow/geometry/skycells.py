"""Where a set of footprints lies on the sky, and the fixed sky cell it falls in.

Pair batches are chosen by sky cell (jobs/batches.py) so that neighbouring
images are read by one pair job, not by every job. A cell is fixed by the
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
