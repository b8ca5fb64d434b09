"""The stage files the diagnostics read, loaded once: sky table, pair table, footprints, previews.

Before the solve the map job loads the footprints and previews
(``load_footprints``); after it the figures load the two tables and the map
file the map job wrote (``load_figure_stage``).
"""

from __future__ import annotations  # Table in annotations only: the map job never imports astropy.table

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from skymatchflow.diagnostics._skymap import TangentPlane, angle_unit
from skymatchflow.io.stagefiles import read_json

if TYPE_CHECKING:
    from astropy.table import Table


@dataclass
class StageData:
    """Everything the figures draw, with the footprints already on the map (degrees)."""

    sky: Table  # the sky table, one row per image with a footprint (what the figures draw)
    pairs: Table  # the pair table, one row per group pair
    outlines: dict  # image -> (x, y) arrays of its projected outline
    plane: TangentPlane
    previews: dict = field(default_factory=dict)  # image -> preview path
    bunit: str = ""
    sky_all: Table = None  # the whole sky table, with bad images SKIPPED without a footprint (on_bad_input: skip)
    placed: dict = None  # from the map file: image -> (grid window, resampled preview or None); None: not made yet
    grid_pixels: int = 0  # from the map file: the mosaic grid's longer side

    @functools.cached_property
    def bounds(self):
        """(x0, x1, y0, y1) in degrees around every footprint."""
        xs = np.concatenate([xy[0] for xy in self.outlines.values()])
        ys = np.concatenate([xy[1] for xy in self.outlines.values()])
        return float(np.nanmin(xs)), float(np.nanmax(xs)), float(np.nanmin(ys)), float(np.nanmax(ys))

    def unit(self):
        """(factor from degrees, label) for the map axes."""
        x0, x1, y0, y1 = self.bounds
        return angle_unit(max(x1 - x0, y1 - y0))

    @functools.cached_property
    def group_centres(self):
        """{group: (x, y)}: the mean of its members' outline centres on the map (degrees), computed once."""
        groups = np.asarray(self.sky["group"])
        centres = np.array([[np.mean(self.outlines[image][0]), np.mean(self.outlines[image][1])]
                            for image in self.sky["image"]])
        names, index = np.unique(groups, return_inverse=True)
        sums = np.zeros((len(names), 2))
        np.add.at(sums, index, centres)
        sums /= np.bincount(index, minlength=len(names))[:, None]
        return dict(zip(names.tolist(), map(tuple, sums)))

    def value_label(self, what):
        """An axis or colour-bar label with the data unit, when the files give one."""
        return f"{what} [{self.bunit}]" if self.bunit else what


def outlines_on_plane(footprints):
    """(plane, {image: (x, y)}) for footprint records holding their outline's "ra" and "dec"."""
    ra = np.concatenate([np.asarray(r["ra"], float) for r in footprints])
    dec = np.concatenate([np.asarray(r["dec"], float) for r in footprints])
    plane = TangentPlane(ra, dec)
    x, y = plane.project(ra, dec)
    outlines, start = {}, 0
    for record in footprints:
        n = len(record["ra"])
        outlines[record["image"]] = (x[start:start + n], y[start:start + n])
        start += n
    return plane, outlines


def load_footprints(footprint_paths, previews=None):
    """The map without the tables: footprints on the plane; ``previews`` ({image: path}), here only for BUNIT."""
    footprints = [read_json(path) for path in footprint_paths]
    plane, outlines = outlines_on_plane(footprints)
    previews = dict(previews or {})
    bunit = ""
    if previews:
        from astropy.io import fits

        bunit = str(fits.getheader(next(iter(previews.values())), 0).get("BUNIT", ""))
    return StageData(None, None, outlines, plane, previews, bunit)


def with_tables(data, sky_path, pairs_path):
    """``data`` with the sky table (rows with a footprint, and all of them) and the pair table read in."""
    from skymatchflow.diagnostics._tablefile import read_ecsv

    sky = read_ecsv(sky_path)
    data.pairs = read_ecsv(pairs_path)
    placed = np.isin(np.asarray(sky["image"], str), list(data.outlines))
    data.sky, data.sky_all = (sky[placed] if not placed.all() else sky), sky
    return data


def load_stage(sky_path, pairs_path, footprint_paths, previews=None):
    """Read the stage files; ``previews`` ({image: path}) are read by the mosaic, here only for BUNIT."""
    return with_tables(load_footprints(footprint_paths, previews), sky_path, pairs_path)


def load_figure_stage(sky_path, pairs_path, map_path):
    """The tables and the map file (mapfile): everything the figures draw, no footprint or preview read."""
    from skymatchflow.diagnostics._mapfile import read_map

    outlines, centre, bunit, has_previews, pixels, placed = read_map(map_path)
    data = StageData(None, None, outlines, TangentPlane.about(centre), {}, bunit,
                     placed=placed if has_previews else None, grid_pixels=pixels)
    return with_tables(data, sky_path, pairs_path)
