"""Sky statistics in the overlap of two sky groups, as the reference computes them.

For each side of a pair, every member image contributes the pixels inside its
spherical intersections with the other group's members (mapped through its
inverse WCS and selected by the reference's scan-line fill), good in its mask;
the side's sky is the npix-weighted mean of the members' statistics
(stcal ``SkyImage.calc_sky`` / ``SkyGroup.calc_sky``). Only the rows and
columns the overlap can touch are read from disk.
"""

from dataclasses import dataclass

import numpy as np

from skymatchflow.geometry.exactintersect import PairGeometry
from skymatchflow.geometry.intersection import overlap_pieces
from skymatchflow.geometry.scanfill import fill_bounding_window, scan_fill
from skymatchflow.stats._statnoise import statistic_noise
from skymatchflow.stats.imagestats import sky_statistic
from skymatchflow.stats.pairimage import pixel_coordinates, read_pixels, union_window
from skymatchflow.stats.statparams import stat_kwargs


@dataclass
class MemberStat:
    """One member's statistic in an overlap; ``sky`` None means no value (see reason).

    ``noise``: the standard error of ``sky`` (stats._statnoise), for
    the verdict on the match; never used by the reference's solve.
    """

    image: str
    sky: float | None
    npix: int
    area_sr: float
    reason: str | None = None
    noise: float | None = None

    def as_dict(self):
        return {"image": self.image, "sky": self.sky, "npix": self.npix, "area_sr": self.area_sr,
                "reason": self.reason, "noise": self.noise}


def member_overlap_stat(image, other_polygons, stat_params, geometry=None):
    """The statistic of ``image``'s good pixels inside its overlap with ``other_polygons``.

    ``geometry``: an exactintersect.PairGeometry (the same intersections,
    computed once per pair and faster); None: as the reference, one
    intersection per member and side.
    """
    if geometry is None:
        area, pieces = overlap_pieces(image.polygon, other_polygons)
    else:
        area, pieces = geometry.overlap_pieces(image.polygon, other_polygons)
    if area == 0.0:
        return MemberStat(image.image, None, 0, 0.0, "no overlap")
    pixel_pieces = pixel_coordinates(image, pieces)
    if pixel_pieces is None:
        return MemberStat(image.image, None, 0, 0.0, "the WCS cannot be inverted over the overlap")
    windows = [w for w in (fill_bounding_window(x, y, image.shape) for x, y in pixel_pieces) if w]
    if not windows:
        return MemberStat(image.image, None, 0, 0.0, "the overlap covers no pixel of the image")
    window = union_window(windows)
    sci, mask = read_pixels(image, window)
    fill = np.zeros(sci.shape, dtype=bool)
    for x, y in pixel_pieces:
        scan_fill(x, y, image.shape, window=window, out=fill)
    fill &= mask
    data = sci[fill]
    if data.size < 1:
        return MemberStat(image.image, None, 0, 0.0, "no good pixel in the overlap")
    kwargs = stat_kwargs(stat_params)
    stat = sky_statistic(data, **kwargs)
    if stat.value is None:
        return MemberStat(image.image, None, 0, 0.0, stat.reason)
    noise = statistic_noise(data, stat.npix, kwargs["skystat"], kwargs["binwidth"])
    return MemberStat(image.image, float(stat.value), int(stat.npix), float(area), noise=noise)


def group_side(members, other_members, stat_params, geometry=None):
    """One side of a pair: each member against the whole other group.

    Returns (sky or None, weight, area, [MemberStat], noise); sky is the
    npix-weighted mean of the members' statistics, weight the sum of their
    npix, in member order as the reference sums them; noise its standard
    error (members are independent images).
    """
    others = [image.polygon for image in other_members]
    stats = [member_overlap_stat(image, others, stat_params, geometry) for image in members]
    weighted = 0.0
    weight = 0
    area = 0.0
    noise2 = 0.0
    for stat in stats:
        area += stat.area_sr
        if stat.sky is not None and stat.npix > 0:
            weighted += stat.sky * stat.npix
            weight += stat.npix
            noise2 += (stat.noise * stat.npix) ** 2
    if weight == 0 or area == 0.0:
        return None, weight, area, stats, None
    return weighted / weight, weight, area, stats, float(np.sqrt(noise2) / weight)


def pair_record(group_a, members_a, group_b, members_b, stat_params, exact=False):
    """Both sides of a group pair, and whether the pair gives an equation.

    Valid as in the reference's overlap matrix: both areas > 0 and both skies
    defined (then both weights are > 0). With ``pair_statistic: difference``
    in ``stat_params`` the pair is measured on pixel-wise differences instead
    (see pairdifference). ``exact``: every intersection computed as the
    reference does, per side (the same rings and pixels; kept for the
    parity tests and benchmarks).
    """
    if stat_params.get("sky_model", "constant") == "plane":
        from skymatchflow.stats._planesamples import plane_record

        return plane_record(group_a, members_a, group_b, members_b, stat_params)
    if stat_params.get("pair_statistic", "reference") == "difference":
        from skymatchflow.stats._pairdifference import difference_record

        return difference_record(group_a, members_a, group_b, members_b, stat_params)
    geometry = None if exact else PairGeometry()
    sky_a, npix_a, area_a, stats_a, noise_a = group_side(members_a, members_b, stat_params, geometry)
    sky_b, npix_b, area_b, stats_b, noise_b = group_side(members_b, members_a, stat_params, geometry)
    reasons = []
    for name, sky, area, stats in ((group_a, sky_a, area_a, stats_a), (group_b, sky_b, area_b, stats_b)):
        if sky is None or area == 0.0:
            why = sorted({s.reason for s in stats if s.reason}) or ["no value"]
            reasons.append(f"{name}: {'; '.join(why)}")
    return {
        "group_a": group_a,
        "group_b": group_b,
        "valid": not reasons,
        "reason": " | ".join(reasons) or None,
        "a": {"sky": sky_a, "npix": npix_a, "area_sr": area_a, "noise": noise_a,
              "members": [s.as_dict() for s in stats_a]},
        "b": {"sky": sky_b, "npix": npix_b, "area_sr": area_b, "noise": noise_b,
              "members": [s.as_dict() for s in stats_b]},
    }
