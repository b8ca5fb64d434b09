"""The plane sky model in the solve (``sky_model: plane``): planes from the pair records' samples.

Why here and not in solve/skymatch.py: the reference's stages stay as they
are. The plane solve enters them as the match stage's ``solver`` hook: it
returns each group's level at the field's reference point as the "delta",
so the reference's zero point (``match_down``) and the anchors shift the
levels exactly as they shift constants (one constant added to every plane
of an island changes no overlap). The tilts go in the hook's extra record.

The frame: the pair stage gives each cell of differences its RA and Dec
(stats/_planesamples.py); here they are projected onto the gnomonic tangent
plane at the reference point, the normalised mean of every cell's unit
vector: x towards east, y towards north, in degrees. A group's sky at
(x, y) is ``level + tilt_x x + tilt_y y``; the sky table gives the level
(``sky``, ``delta_match``), the tilts (per degree) and the reference point.
"""

import numpy as np

from skymatchflow.solve._plane import solve_planes

#: a pair's weight in the plane fit is npix ** PAIR_WEIGHT_POWER (its moments are sums over npix pixels).
#: Why not 1 (pixel least squares, optimal for pure noise): real overlaps keep structure that does not
#: average down (residual emission, resampling), so large overlaps would dictate the planes at the small
#: ones' expense; not 0 (every overlap alike, as fitting each overlap once): noise-limited small overlaps
#: then pull as hard as large ones. Measured (bench_sky_plane.py): M17 0.0588 DN with 1, 0.0526 with 0.5,
#: 0.0485 with 0; ramps at half size 0.069, 0.077, 0.097 sigma.
PAIR_WEIGHT_POWER = 0.5


def unit_vectors(ra, dec):
    ra, dec = np.radians(np.asarray(ra, float)), np.radians(np.asarray(dec, float))
    return np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], axis=-1)


def reference_point(records):
    """(ra0, dec0) in degrees: the normalised mean unit vector of every cell of the valid records."""
    vectors = [unit_vectors(r["plane"]["ra"], r["plane"]["dec"]) for r in records if r["valid"] and r.get("plane")]
    if not vectors:
        return 0.0, 0.0
    centre = np.concatenate(vectors).mean(axis=0)
    centre /= np.linalg.norm(centre)
    return float(np.degrees(np.arctan2(centre[1], centre[0])) % 360.0), float(np.degrees(np.arcsin(centre[2])))


def tangent_offsets(ra, dec, ra0, dec0):
    """(x, y) in degrees on the gnomonic plane at (ra0, dec0), x towards east, y towards north."""
    centre = unit_vectors(ra0, dec0)
    north = np.array([0.0, 0.0, 1.0]) - centre[2] * centre
    if np.linalg.norm(north) < 1e-12:  # at a pole: any direction serves as north, fixed for reproducibility
        north = np.array([1.0, 0.0, 0.0])
    north /= np.linalg.norm(north)
    east = np.cross(north, centre)
    vectors = unit_vectors(ra, dec)
    scale = np.degrees(1.0) / (vectors @ centre)
    return scale * (vectors @ east), scale * (vectors @ north)


def record_moments(record, ra0, dec0):
    """(M, v, n): the moments of a record's cells (each weighted by its pixel count) and their pixel count."""
    samples = record["plane"]
    x, y = tangent_offsets(samples["ra"], samples["dec"], ra0, dec0)
    n = np.asarray(samples["npix"], float)
    phi = np.stack([np.ones_like(x), x, y])
    return (phi * n) @ phi.T, (phi * n) @ np.asarray(samples["difference"], float), float(n.sum())


def plane_solver(pair_records, elements, options):
    """A ``solver(n, equations)`` for solve.skymatch fitting one plane per element.

    Returns levels at the reference point as deltas (NaN for elements in no
    equation), the rank as the reference counts it, and {"planes": n x 3
    coefficients, "reference": (ra0, dec0), "weights", "iterations"}. With
    ``match_weights: robust`` each pair's mean residual, scaled by its
    noise, is reweighted with ``robust_loss`` (solve/robust.py's losses);
    anchors hold their groups' planes at 0 before the anchors' shift.
    """
    from skymatchflow.solve.robust import MIN_WEIGHT, _psi_weight
    from skymatchflow.solve.skymatch import islands

    by_pair = {r["pair"]: r for r in pair_records if r["valid"]}
    ra0, dec0 = reference_point(list(by_pair.values()))
    index = {element.group: k for k, element in enumerate(elements)}
    fixed = ()
    if options.get("anchor"):
        from skymatchflow.solve.anchors import anchor_elements

        fixed = tuple(anchor_elements(options["anchor"], elements))

    def solve(n, equations):
        pairs, noise, counts = [], [], []
        for equation in equations:
            record = by_pair[equation.pair]
            moments, vector, npix = record_moments(record, ra0, dec0)
            # each pair weighs as the square root of its pixel count (see PAIR_WEIGHT_POWER)
            moments, vector = moments * npix ** (PAIR_WEIGHT_POWER - 1.0), vector * npix ** (PAIR_WEIGHT_POWER - 1.0)
            pairs.append((index[record["group_a"]], index[record["group_b"]], moments, vector))
            noise.append(record.get("noise") or np.nan)
            counts.append(npix)
        weights = np.ones(len(pairs))
        planes = solve_planes(n, pairs, weights, fixed)
        iterations = 0
        loss = options.get("robust_loss", "huber")
        if options.get("match_weights", "reference") == "robust" and pairs:
            noise = np.asarray(noise, float)
            noise = np.where(np.isfinite(noise) & (noise > 0), noise, 1.0 / np.sqrt(counts))
            for stage in ["huber", "tukey"] if loss == "tukey" else ["huber"]:
                for _ in range(50):
                    iterations += 1
                    u = np.array([_mean_residual(p, planes) for p in pairs]) / noise
                    scale = max(1.4826 * np.median(np.abs(u)), 1.0)
                    new = np.maximum(_psi_weight(u / scale, stage), MIN_WEIGHT)
                    updated = solve_planes(n, pairs, new, fixed)
                    change = np.abs(updated - planes).max()
                    planes, weights = updated, new
                    if change <= 1e-9 * max(1.0, np.abs(planes).max()):
                        break
        labels = islands(n, equations)
        used = np.zeros(n, bool)
        for i, j, _, _ in pairs:
            used[i] = used[j] = True
        rank = int(sum(np.count_nonzero(labels == label) - 1 for label in np.unique(labels[used])))
        planes[~used] = np.nan
        extra = {"planes": planes, "reference": (ra0, dec0)}
        if options.get("match_weights", "reference") == "robust":
            extra |= {"weights": weights.tolist(), "iterations": iterations}
        return planes[:, 0].copy(), rank, extra

    return solve


def _mean_residual(pair, planes):
    """A pair's mean difference left after its two planes (over its pixels)."""
    i, j, moments, vector = pair
    return (vector[0] - moments[0] @ (planes[i] - planes[j])) / moments[0, 0]


def plane_columns(sky, pairs, elements, summary, pair_records):
    """The sky table with the planes' columns, and the pair table's ``difference_after`` under the planes.

    The levels of the planes are the elements' match deltas after the zero
    point's shift (``summary["delta_match"]``); the tilts come from the solve.
    """
    extra = summary["solver"]
    planes = np.array(extra["planes"], float)
    ra0, dec0 = extra["reference"]
    levels = np.array([np.nan if d is None else d for d in summary["delta_match"]], float)
    planes[:, 0] = levels
    by_group = {element.group: k for k, element in enumerate(elements)}
    rows = [by_group[g] for g in sky["group"]]
    sky["plane_tilt_x"] = planes[rows, 1]
    sky["plane_tilt_y"] = planes[rows, 2]
    sky["plane_ra0"] = np.full(len(sky), ra0)
    sky["plane_dec0"] = np.full(len(sky), dec0)
    sky["plane_tilt_x"].description = "plane sky: change per degree towards east on the tangent plane at plane_ra0/dec0"
    sky["plane_tilt_y"].description = "plane sky: change per degree towards north on the tangent plane at plane_ra0/dec0"
    sky["plane_ra0"].description = "plane sky: reference point's RA (deg, ICRS); sky is the level there"
    sky["plane_dec0"].description = "plane sky: reference point's Dec (deg, ICRS)"
    sky.meta["sky_model"] = {"model": "plane", "ra0": ra0, "dec0": dec0, "unit": "data per degree of tangent plane"}
    records = {r["pair"]: r for r in pair_records}
    after = []
    for name in pairs["pair"]:
        record = records[name]
        if not record["valid"] or not record.get("plane"):
            after.append(np.nan)
            continue
        moments, vector, npix = record_moments(record, ra0, dec0)
        change = planes[by_group[record["group_a"]]] - planes[by_group[record["group_b"]]]
        after.append(float((vector[0] - moments[0] @ change) / npix))
    pairs["difference_after"] = after
    pairs["difference_after"].description = (
        "sky_model plane: the mean difference left after the two planes over the pair's clipped pixels")
    return sky, pairs


def plane_at(row, ra, dec):
    """A sky table row's plane at sky positions (degrees): what the matched copy subtracts there."""
    x, y = tangent_offsets(ra, dec, float(row["plane_ra0"]), float(row["plane_dec0"]))
    return float(row["delta_match"]) + float(row["plane_tilt_x"]) * x + float(row["plane_tilt_y"]) * y


def has_plane(row):
    """Whether a sky table row (or a dict of its columns) carries a solved plane."""
    return ("plane_tilt_x" in columns_of(row) and np.isfinite(row["plane_tilt_x"])
            and np.isfinite(row["delta_match"]))


def columns_of(row):
    """The column names of a sky table row, or the keys of a dict standing for one."""
    return row.colnames if hasattr(row, "colnames") else row.keys()

