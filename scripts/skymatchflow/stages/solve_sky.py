"""From stage files to the sky table: elements, equations, results per image.

Reads the overlap graph's group table, the footprints (file, extension,
previous background), the whole-image skies and the pair records; runs the
solve; returns the per-image sky table and the per-pair before/after table.
"""

import logging

import numpy as np
from astropy.table import Table

from skymatchflow.errors import InputError
from skymatchflow.products.ruleparams import wcs_used
from skymatchflow.solve.skymatch import Element, Equation, skymatch
from skymatchflow.stages.overlap_graph import group_order

log = logging.getLogger(__name__)


def initial_sky(footprint, subtract):
    """The sky an image starts from, refusing inconsistent earlier runs as the step does."""
    level = footprint["background"]["level"]
    subtracted = footprint["background"]["subtracted"]
    where = f"{footprint['file']}[{footprint['sci']}]"
    if subtracted is None:
        if level is not None:
            raise InputError(where, "BKGLEVEL is set but BKGSUB is not (inconsistent earlier sky run)")
        return 0.0
    if level is None:
        raise InputError(where, "BKGSUB is set but BKGLEVEL is not (inconsistent earlier sky run)")
    if subtracted != subtract:
        raise InputError(
            where,
            f"'subtract' step's specification ({subtract}) is inconsistent with the earlier "
            f"run's BKGSUB={subtracted}",
        )
    return level if subtract else 0.0


def build_elements(footprints, subtract, groups=None):
    """Sky groups in element order: the overlap graph's ``groups`` ({group: members}) when matching,
    else in order of first appearance of the footprints (input order)."""
    members = groups if groups is not None else group_order(footprints)
    if sorted(m for images in members.values() for m in images) != sorted(r["image"] for r in footprints):
        raise InputError("results/overlaps/groups.ecsv", "does not list the current images; "
                         "run: snakemake --forcerun overlap_graph")
    by_id = {record["image"]: record for record in footprints}
    return [
        Element(group, images, initial={m: initial_sky(by_id[m], subtract) for m in images})
        for group, images in members.items()
    ]


def equations_from_pairs(pair_records, elements):
    """One Equation per valid pair record, oriented i < j in element order."""
    index = {element.group: k for k, element in enumerate(elements)}
    equations = []
    for record in pair_records:
        if not record["valid"]:
            continue
        i, j = index[record["group_a"]], index[record["group_b"]]
        a, b = record["a"], record["b"]
        if i > j:
            i, j, a, b = j, i, b, a
        equations.append(Equation(i, j, a["sky"], b["sky"], a["npix"], b["npix"], record.get("noise"), record.get("pair")))
    equations.sort(key=lambda e: (e.i, e.j))
    return equations


def solve_tables(footprints, image_skies, pair_records, skymethod, match_down, subtract, options=None, groups=None):
    """(sky table, pair table) for the given stage records.

    ``options``: the opt-in match options (config.match_options); None or
    the defaults solve exactly as the reference. ``groups``: the overlap
    graph's sky groups in element order (groups.ecsv), when matching.
    """
    elements = build_elements(footprints, subtract, groups)
    equations = equations_from_pairs(pair_records, elements)
    whole = {record["image"]: record["sky"] for record in image_skies}
    if "match" in skymethod and not equations:
        log.warning("No overlapping pair gives an equation: 'match' cannot relate any sky")
    solver, shift = match_hooks(options or {}, elements, match_down)
    plane = (options or {}).get("sky_model", "constant") == "plane"
    if plane:
        from skymatchflow.solve.plane_model import plane_solver

        solver = plane_solver(pair_records, elements, options)
    summary = skymatch(elements, equations, whole, skymethod, match_down, subtract, solver, shift)
    if "match" not in skymethod:
        summary["islands"] = [-1] * len(elements)  # no overlap graph without a match stage
    weights = None
    if "weights" in summary.get("solver", {}):
        weights = {e.pair: w for e, w in zip(equations, summary["solver"]["weights"])}
        low = sorted(p for p, w in weights.items() if w < 0.5)
        log.info(f"Robust solve: {summary['solver']['iterations']} iterations; {len(low)} of {len(weights)} "
                 f"pairs down-weighted below 0.5{': ' + ', '.join(low) if low else ''}")
    sky, pairs = _sky_table(elements, footprints, image_skies, summary), pair_table(pair_records, elements, weights)
    if plane and "planes" in summary.get("solver", {}):
        from skymatchflow.solve.plane_model import plane_columns

        sky, pairs = plane_columns(sky, pairs, elements, summary, pair_records)
    if "match" in skymethod:
        from skymatchflow.solve.consistency import consistency_line, graph_consistency
        from skymatchflow.solve.verdict import verdicts

        figures = graph_consistency(sky, pairs)
        pairs.meta["consistency"] = figures["total"]
        log.info(consistency_line(figures))
        statistic = "difference" if any(r.get("statistic") == "difference" for r in pair_records) else "reference"
        consistent, line = verdicts(sky, pairs, {"total": figures["total"]}, statistic,
                                    (options or {}).get("match_weights", "reference"),
                                    (options or {}).get("sky_model", "constant"))["total"]
        pairs.meta["verdict"] = line
        (log.info if consistent is not False else log.warning)(line)
    return sky, pairs


def measured_noise(record):
    """The standard error of a pair's measured difference, NaN if unknown.

    Its own (``pair_statistic: difference``), else its two sides' in quadrature (the reference's statistic).
    """
    if record.get("noise") is not None:
        return float(record["noise"])
    noise_a, noise_b = record["a"].get("noise"), record["b"].get("noise")
    if noise_a is None or noise_b is None:
        return np.nan
    return float(np.hypot(noise_a, noise_b))


def match_hooks(options, elements, match_down):
    """(solver, shift) for solve.skymatch from the opt-in options; (None, None) keeps the reference's."""
    solver = shift = None
    if options.get("match_weights", "reference") == "robust":
        from skymatchflow.solve.robust import robust_deltas

        loss = options.get("robust_loss", "huber")
        solver = lambda n, equations: robust_deltas(n, equations, loss)  # noqa: E731
    if options.get("anchor"):
        from skymatchflow.solve.anchors import anchor_elements, anchored_shift

        shift = anchored_shift(anchor_elements(options["anchor"], elements), match_down)
    return solver, shift


def user_sky_table(footprints, skies_by_file):
    """The sky table of skymethod 'user': every image gets its file's listed sky, COMPLETE.

    As the step's ``_user_sky``: per image, groups ignored, no statistics and
    no check of an earlier run's BKGSUB.
    """
    elements = [Element(r["group"], [r["image"]]) for r in footprints]
    for element, record in zip(elements, footprints):
        element.sky[record["image"]] = skies_by_file[record["file"]]
        element.valid = True
        log.info(f"   *  Image ID={record['image']}. Sky background: {element.sky[record['image']]:G}",
                 extra={"log_only": True})
    summary = {"delta_match": [None] * len(elements), "stage2": [None] * len(elements),
               "islands": [-1] * len(elements)}
    npix = [{"image": r["image"], "sky": None, "npix": 0} for r in footprints]
    return _sky_table(elements, footprints, npix, summary)


def _sky_table(elements, footprints, image_skies, summary):
    by_id = {record["image"]: record for record in footprints}
    npix = {record["image"]: record["npix"] for record in image_skies}
    whole = {record["image"]: record["sky"] for record in image_skies}
    rows = []
    for k, element in enumerate(elements):
        delta = summary["delta_match"][k]
        stage2 = summary["stage2"][k]
        for member in element.members:
            record = by_id[member]
            rows.append(
                (
                    member, record["file"], record["sci"], element.group,
                    element.sky[member], _nan(delta), _nan(stage2), _nan(whole[member]),
                    "COMPLETE" if element.valid else "SKIPPED",
                    int(summary["islands"][k]), npix[member], element.initial[member],
                    wcs_used(record),
                )
            )
    names = ("image", "file", "sci", "group", "sky", "delta_match", "sky_global", "sky_whole_image",
             "status", "island", "npix", "sky_initial", "wcs")
    dtypes = (str, str, str, str, float, float, float, float, str, int, int, float, str)
    table = Table(rows=rows, names=names, dtype=dtypes) if rows else Table(names=names, dtype=dtypes)
    table["sky"].description = "sky level of the image (BKGLEVEL)"
    table["delta_match"].description = "match stage change of its sky group (NaN: none)"
    table["sky_global"].description = (
        "global stage change (the smallest sky of all images; for 'local' the image's own sky); "
        "NaN: not run or none"
    )
    table["sky_whole_image"].description = "statistic of all good pixels of the image (NaN: none)"
    table["island"].description = "connected component of the overlap graph of valid pairs (-1: no match stage)"
    table["npix"].description = "pixels in the whole-image statistic"
    table["sky_initial"].description = "level already subtracted by an earlier run (subtract only)"
    table["wcs"].description = "WCS of footprint and overlaps: gwcs (the file's ASDF extension) or fits (its header)"
    log_wcs_used(footprints)
    return table


def log_wcs_used(footprints):
    """One log line: how many images went through each WCS, and why the FITS ones did."""
    kinds = {}
    for record in footprints:
        used = wcs_used(record)
        reason = record.get("wcs_reason", "") if used == "fits" else ""
        kinds[(used, reason)] = kinds.get((used, reason), 0) + 1
    parts = [f"{n} image(s) {used}" + (f" ({reason})" if reason else "") for (used, reason), n in kinds.items()]
    log.info("WCS used: %s", "; ".join(parts))


def pair_table(pair_records, elements, weights=None):
    """Each pair's difference before and after; with ``weights`` {pair: w} (robust solve) a weight column."""
    change = {e.group: e.sky[e.members[0]] - e.initial[e.members[0]] for e in elements}
    rows = []
    for record in sorted(pair_records, key=lambda r: r["pair"]):
        a, b = record["a"], record["b"]
        before = a["sky"] - b["sky"] if record["valid"] else np.nan
        after = (a["sky"] - change[record["group_a"]]) - (b["sky"] - change[record["group_b"]]) if record["valid"] else np.nan
        rows.append((record["pair"], record["group_a"], record["group_b"], record["valid"],
                     _nan(a["sky"]), _nan(b["sky"]), a["npix"], b["npix"], before, after, record["reason"] or ""))
    names = ("pair", "group_a", "group_b", "valid", "sky_a", "sky_b", "npix_a", "npix_b",
             "difference_before", "difference_after", "reason")
    dtypes = (str, str, str, bool, float, float, int, int, float, float, str)
    table = Table(rows=rows, names=names, dtype=dtypes) if rows else Table(names=names, dtype=dtypes)
    table["difference_before"].description = "sky_a - sky_b in the overlap, as measured"
    table["difference_after"].description = "the same difference after the solved sky changes"
    if pair_records:
        table["noise"] = [measured_noise(r) if r["valid"] else np.nan for r in sorted(pair_records, key=lambda r: r["pair"])]
        table["noise"].description = (
            "standard error of difference_before: 1.4826 MAD / sqrt(npix) of the differences (difference; at least "
            "half that of independent sides) or of each side's pixels, scaled for the statistic (reference)"
        )
    if weights is not None:
        table["weight"] = [weights.get(p, np.nan) if v else np.nan for p, v in zip(table["pair"], table["valid"])]
        table["weight"].description = "final robust weight of the pair (1: fully trusted; NaN: no equation)"
    return table


def _nan(value):
    return np.nan if value is None else float(value)


def with_skipped_images(sky, skipped, specs):
    """The sky table with a ``reason`` column and one SKIPPED row per bad image (``on_bad_input: skip``).

    ``skipped``: {image: the one-line reason}; ``specs``: {image: its spec params}
    (file, sci, group). A skipped image has no footprint: no sky, island -1.
    """
    from astropy.table import vstack

    sky = sky.copy()
    sky["reason"] = np.array([""] * len(sky), dtype=str)
    rows = [
        (image, specs[image]["file"], specs[image]["sci"], specs[image].get("group") or image,
         np.nan, np.nan, np.nan, np.nan, "SKIPPED", -1, 0, 0.0, "", reason)
        for image, reason in skipped.items()
    ]
    if rows:
        bad = Table(rows=rows, names=sky.colnames, dtype=[sky[name].dtype.kind == "U" and str or sky[name].dtype
                                                           for name in sky.colnames])
        sky = vstack([sky, bad], join_type="exact", metadata_conflicts="silent")
    sky["reason"].description = "why a bad image was SKIPPED (on_bad_input: skip); empty otherwise"
    return sky
