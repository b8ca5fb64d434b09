"""Diagnostics: the map projection, the summary table, the mosaic resampling and the figure files."""

import os
import time

import matplotlib.image as mpimg
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.table import Table

from helpers.images import tan_wcs
from helpers.stagefiles import write_json
from skymatchflow.diagnostics._previewgrid import cutout, resample
from skymatchflow.diagnostics._skymap import TangentPlane, mean_direction
from skymatchflow.diagnostics._summary import summary_table
from skymatchflow.diagnostics.stage import FIGURES, make_diagnostics
from skymatchflow.geometry.footprint import footprint_polygon
from skymatchflow.stages.preview import PreviewReader, make_preview, read_preview, write_preview


def square(ra, dec, side_deg, rotation=0.0):
    """The 4-corner outline (closed) of a square image centred on (ra, dec)."""
    shape = (100, 100)
    wcs = tan_wcs(shape, crval=(ra, dec), scale_arcsec=side_deg * 36, rotation_deg=rotation)
    _, ras, decs = footprint_polygon(shape, wcs)
    return ras, decs, wcs


def planar_distance(plane, ra, dec):
    x, y = plane.project(ra, dec)
    return np.hypot(np.diff(x), np.diff(y))


@pytest.mark.parametrize(
    "centres",
    [[(359.95, 10.0), (0.05, 10.0), (0.0, 10.08)], [(45.0, 89.9), (225.0, 89.9), (135.0, 89.95)]],
    ids=["ra-wrap", "pole"],
)
def test_map_is_right_across_ra_zero_and_near_a_pole(centres):
    outlines = [square(ra, dec, 0.1, rotation=20) for ra, dec in centres]
    ra = np.concatenate([o[0] for o in outlines])
    dec = np.concatenate([o[1] for o in outlines])
    plane = TangentPlane(ra, dec)
    x, y = plane.project(ra, dec)
    # the map spans the footprints (a fraction of a degree), not 360 degrees of RA
    assert np.ptp(x) < 0.5 and np.ptp(y) < 0.5 and np.all(np.isfinite(x))
    # tangent-plane distances equal the angular distances at this scale
    coords = SkyCoord(ra, dec, unit="deg")
    angular = coords[:-1].separation(coords[1:]).deg
    np.testing.assert_allclose(planar_distance(plane, ra, dec), angular, rtol=2e-5, atol=1e-9)
    # east is +x, north is +y at the centre
    c_ra, c_dec = plane.centre
    xe, ye = plane.project(*_offset(c_ra, c_dec, 90.0))
    xn, yn = plane.project(*_offset(c_ra, c_dec, 0.0))
    assert xe > 0 and abs(ye) < 1e-6 and yn > 0 and abs(xn) < 1e-6


def _offset(ra, dec, position_angle):
    import astropy.units as u

    point = SkyCoord(ra, dec, unit="deg").directional_offset_by(position_angle * u.deg, 0.01 * u.deg)
    return point.ra.deg, point.dec.deg


def test_mean_direction_wraps_and_handles_the_pole():
    ra, dec = mean_direction([359.0, 1.0], [0.0, 0.0])
    assert min(ra, 360 - ra) < 1e-9 and abs(dec) < 1e-9
    assert mean_direction([0.0, 90.0, 180.0, 270.0], [89.0] * 4)[1] == pytest.approx(90.0)


def test_resampling_equals_reproject_interp():
    from reproject import reproject_interp

    shape = (60, 60)
    image_wcs = tan_wcs(shape, crval=(0.001, 30.0), scale_arcsec=1.0, rotation_deg=25)
    rng = np.random.default_rng(3)
    sci = rng.normal(1.0, 0.1, shape).astype(np.float32) + np.linspace(0, 1, 60)[None, :]
    mask = rng.random(shape) > 0.05
    preview, preview_wcs, _ = make_preview(sci, mask, image_wcs, size=20)
    _, ras, decs = footprint_polygon(shape, image_wcs)
    plane = TangentPlane(ras, decs)
    x, y = plane.project(ras, decs)
    grid, grid_shape = plane.grid((x.min() - 0.002, x.max() + 0.002, y.min() - 0.002, y.max() + 0.002), 40)
    window = (slice(0, grid_shape[0]), slice(0, grid_shape[1]))
    ours = resample(preview, preview_wcs, grid, window)
    theirs = reproject_interp((preview, preview_wcs), grid, shape_out=grid_shape, order="bilinear",
                              return_footprint=False)
    assert np.isfinite(ours).sum() > 100
    np.testing.assert_array_equal(np.isfinite(ours), np.isfinite(theirs))
    np.testing.assert_allclose(ours[np.isfinite(ours)], theirs[np.isfinite(theirs)], rtol=1e-5)


def test_preview_reader_gives_the_file_wcs(tmp_path):
    shape = (200, 300)
    wcs = tan_wcs(shape, crval=(359.99, -89.9), rotation_deg=40, sip=True)
    path = tmp_path / "p.preview.fits"
    write_preview(path, np.ones(shape, np.float32), np.ones(shape, bool), wcs, "p", {"params": {}, "inputs": {}})
    _, expected, _ = read_preview(path)
    reader = PreviewReader()
    data, keywords = reader.read(path)
    got = reader.point(keywords)
    x, y = np.meshgrid(np.arange(data.shape[1]), np.arange(data.shape[0]))
    np.testing.assert_allclose(got.wcs_pix2world(x, y, 0), expected.wcs_pix2world(x, y, 0), rtol=0, atol=1e-10)


# A small stage: two islands, a SKIPPED image, an isolated image and a pair without a value.
GROUPS = {"a1": "A", "a2": "A", "b1": "B", "c1": "C", "d1": "D", "e1": "E"}
ISLANDS = {"A": 0, "B": 0, "C": 1, "D": 1, "E": 2}
POSITIONS = {"a1": (0.0, 0.0), "a2": (0.02, 0.0), "b1": (0.01, 0.01), "c1": (0.06, 0.0), "d1": (0.07, 0.01),
             "e1": (0.10, 0.05)}
SKIES = {"A": 1.0, "B": 1.3, "C": 0.8, "D": 0.9, "E": 1.1}


@pytest.fixture(scope="module")
def stage(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stage")
    footprints, previews, rows = [], {}, []
    rng = np.random.default_rng(5)
    for image, group in GROUPS.items():
        ra, dec = POSITIONS[image]
        ras, decs, wcs = square(359.99 + ra, 20.0 + dec, 0.015)
        path = tmp / f"{image}.footprint.json"
        write_json(path, {"image": image, "group": group, "ra": ras.tolist(), "dec": decs.tolist()})
        footprints.append(str(path))
        sci = (SKIES[group] + rng.normal(0, 0.01, (100, 100))).astype(np.float32)
        previews[image] = str(tmp / f"{image}.preview.fits")
        write_preview(previews[image], sci, np.ones(sci.shape, bool), wcs, image, {}, bunit="MJy/sr", size=20)
        skipped = image == "d1"
        rows.append((image, f"{image}.fits", "SCI", group, np.nan if skipped else SKIES[group],
                     SKIES[group] - 0.8, 0.8, SKIES[group], "SKIPPED" if skipped else "COMPLETE",
                     ISLANDS[group], 100, 0.0))
    sky = Table(rows=rows, names=("image", "file", "sci", "group", "sky", "delta_match", "sky_global",
                                  "sky_whole_image", "status", "island", "npix", "sky_initial"))
    pairs = Table(
        rows=[("A~B", "A", "B", True, 1.0, 1.3, 10, 10, -0.3, 0.001, ""),
              ("C~D", "C", "D", True, 0.8, 0.9, 10, 10, -0.1, -0.002, ""),
              ("B~C", "B", "C", False, 1.3, np.nan, 10, 0, np.nan, np.nan, "no good pixels in the overlap")],
        names=("pair", "group_a", "group_b", "valid", "sky_a", "sky_b", "npix_a", "npix_b",
               "difference_before", "difference_after", "reason"))
    sky.write(tmp / "sky.ecsv", format="ascii.ecsv")
    pairs.write(tmp / "pairs.ecsv", format="ascii.ecsv")
    outputs = {name: tmp / "diagnostics" / f"{name}.png" for name in FIGURES}
    outputs["summary"] = tmp / "summary.ecsv"
    outputs["tables"] = tmp / "diagnostics" / "tables.html"
    make_diagnostics(tmp / "sky.ecsv", tmp / "pairs.ecsv", footprints, previews, outputs)
    return sky, pairs, outputs


def test_summary_per_island_and_total(stage):
    sky, pairs, outputs = stage
    summary = Table.read(outputs["summary"], format="ascii.ecsv")
    assert list(summary["island"]) == ["0", "1", "2", "total"]
    assert list(summary["n_images"]) == [3, 2, 1, 6] and list(summary["n_groups"]) == [2, 2, 1, 5]
    assert list(summary["n_pairs"]) == [1, 1, 0, 2] and list(summary["n_pairs_without_value"]) == [1, 0, 0, 1]
    assert list(summary["n_skipped"]) == [0, 1, 0, 1]
    assert summary["rms_before"][0] == pytest.approx(0.3) and summary["rms_after"][1] == pytest.approx(0.002)
    assert np.isnan(summary["rms_before"][2])
    assert summary["rms_before"][3] == pytest.approx(np.sqrt((0.3**2 + 0.1**2) / 2))
    assert summary["rms_after"][3] == pytest.approx(np.sqrt((0.001**2 + 0.002**2) / 2))


def test_tables_page_shows_the_summary_and_the_sky_table_skipped_first(stage):
    sky, pairs, outputs = stage
    page = outputs["tables"].read_text()
    assert page.count("<table>") == 2
    summary_part, sky_part = page.split("Sky table (results/sky.ecsv)")
    assert summary_part.count("<tr>") == 1 + 4  # header, three islands, the total
    assert ">total</td>" in summary_part and 'title="RMS of the same differences' in summary_part
    assert sky_part.count("<tr") == 1 + len(sky)
    first_row = sky_part.split("</th></tr>")[1].split("</tr>")[0]
    assert first_row.startswith('<tr class="skipped">') and ">d1</td>" in first_row
    assert ">nan</td>" in first_row and ">1.3</td>" in sky_part


def test_tables_page_shows_only_the_first_rows_of_a_large_survey():
    from skymatchflow.diagnostics._htmltables import SKY_ROWS, tables_page

    n = 3 * SKY_ROWS
    sky = Table({"image": [f"i{k}" for k in range(n)], "sky": np.arange(n) * 0.5, "status": ["COMPLETE"] * n})
    summary = Table({"island": ["0", "total"], "rms_before": [0.1, 0.1]})
    page = tables_page(summary, sky)
    assert page.count("<tr>") == 3 + SKY_ROWS + 1
    assert f"{SKY_ROWS} of {n} images" in page and ">i0</td>" in page and f">i{SKY_ROWS}</td>" not in page


def test_map_panels_are_laid_out_by_the_field_shape():
    from skymatchflow.diagnostics._plotting import panel_layout

    rows, cols, width, height = panel_layout(40.0, 5.0, 3)  # a 5 x 40 strip: one panel above the other
    assert (rows, cols) == (3, 1) and width / height > 4
    rows, cols, width, height = panel_layout(1.0, 1.0, 3)
    assert (rows, cols) == (1, 3) and 0.8 < width / height < 1.6
    assert panel_layout(1.0, 40.0, 2)[:2] == (1, 2)  # a tall strip: side by side


def test_stretch_spans_a_few_robust_sigma_of_the_matched_mosaic_not_the_data_range():
    from skymatchflow.diagnostics._mosaic import STRETCH_SIGMAS, sky_stretch

    rng = np.random.default_rng(3)
    matched = rng.normal(10.0, 0.1, (50, 100))
    matched[20, 20] = 5000.0  # a star
    raw = matched + np.where(np.arange(100) < 50, 0.0, 3.0)  # a seam of 30 sigma
    half, (centre_raw, centre_matched) = sky_stretch(raw, matched)
    assert half == pytest.approx(STRETCH_SIGMAS * 0.1, rel=0.1)
    assert centre_matched == pytest.approx(10.0, abs=0.02) and 10.0 < centre_raw < 13.0


def test_mosaic_marks_pixels_without_data_in_the_no_data_colour(stage):
    import matplotlib.colors as mcolors

    from skymatchflow.diagnostics._mosaic import NO_DATA_COLOUR

    _, _, outputs = stage
    pixels = mpimg.imread(outputs["mosaic"])[..., :3]
    colour = np.array(mcolors.to_rgb(NO_DATA_COLOUR))
    assert (np.abs(pixels - colour).max(axis=-1) < 0.02).mean() > 0.01  # the gaps between the islands


def test_summary_of_a_method_without_match():
    sky = Table({"image": ["x", "y"], "group": ["x", "y"], "island": [-1, -1], "status": ["COMPLETE"] * 2})
    pairs = Table(names=("group_a", "valid", "difference_before", "difference_after"), dtype=(str, bool, float, float))
    summary = summary_table(sky, pairs)
    assert list(summary["island"]) == ["-1", "total"] and list(summary["n_pairs"]) == [0, 0]


@pytest.mark.parametrize("name", FIGURES)
def test_each_figure_is_a_png_and_not_blank(stage, name):
    _, _, outputs = stage
    path = outputs[name]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = mpimg.imread(path)
    assert pixels.shape[0] > 300 and pixels.shape[1] > 300
    assert pixels[..., :3].std() > 0.05  # drawn, not a blank canvas


def test_mosaic_shows_the_seams_before_and_not_after(stage):
    """The coadded previews step between islands by the sky differences; after the match they are flat."""
    from skymatchflow.diagnostics._mosaic import coadd_previews
    from skymatchflow.diagnostics._stagedata import load_stage

    sky, pairs, outputs = stage
    tmp = outputs["summary"].parent
    data = load_stage(tmp / "sky.ecsv", tmp / "pairs.ecsv", sorted(str(p) for p in tmp.glob("*.footprint.json")),
                      {p.name.split(".")[0]: str(p) for p in tmp.glob("*.preview.fits")})
    assert data.bunit == "MJy/sr"
    raw, matched, extent = coadd_previews(data)
    finite = np.isfinite(raw)
    assert np.ptp(raw[finite]) > 0.4  # 0.8 .. 1.3 before
    skipped = np.zeros(raw.shape, bool)  # the SKIPPED image keeps its sky
    skipped[cutout(data, "d1", (extent[1] - extent[0]) / raw.shape[1], raw.shape)] = True
    good = np.isfinite(matched) & ~skipped
    assert good.sum() > 0.5 * finite.sum() and np.ptp(matched[good]) < 0.1


def test_a_method_without_match_or_previews_still_gets_every_figure(tmp_path):
    """skymethod 'user' (no previews, no pairs, islands -1): the figures say what is missing."""
    footprints, rows = [], []
    for k, image in enumerate(("u1", "u2")):
        ras, decs, _ = square(10.0 + 0.02 * k, -5.0, 0.015)
        write_json(tmp_path / f"{image}.footprint.json", {"image": image, "ra": ras.tolist(), "dec": decs.tolist()})
        footprints.append(str(tmp_path / f"{image}.footprint.json"))
        rows.append((image, image, 1.0 + k, np.nan, -1, "COMPLETE", 0.0, np.nan))
    Table(rows=rows, names=("image", "group", "sky", "delta_match", "island", "status", "sky_initial",
                            "sky_whole_image")).write(tmp_path / "sky.ecsv", format="ascii.ecsv")
    Table(names=("pair", "group_a", "group_b", "valid", "difference_before", "difference_after", "reason"),
          dtype=(str, str, str, bool, float, float, str)).write(tmp_path / "pairs.ecsv", format="ascii.ecsv")
    outputs = {name: tmp_path / f"{name}.png" for name in FIGURES}
    outputs["summary"] = tmp_path / "summary.ecsv"
    summary = make_diagnostics(tmp_path / "sky.ecsv", tmp_path / "pairs.ecsv", footprints, {}, outputs)
    assert list(summary["island"]) == ["-1", "total"] and np.isnan(summary["rms_before"][-1])
    for name in FIGURES:
        assert mpimg.imread(outputs[name])[..., :3].std() > 0.05, name


def test_a_survey_around_the_sky_gets_every_figure(tmp_path):
    """Images all around the equator: those the map's tangent plane cannot show are left out of the mosaic."""
    footprints, previews, rows = [], {}, []
    for k in range(6):
        image = f"r{k}"
        ras, decs, wcs = square(40.0 * k + 0.5, 0.5, 0.015)  # 200 degrees of RA
        path = tmp_path / f"{image}.footprint.json"
        write_json(path, {"image": image, "group": image, "ra": ras.tolist(), "dec": decs.tolist()})
        footprints.append(str(path))
        previews[image] = str(tmp_path / f"{image}.preview.fits")
        write_preview(previews[image], np.full((100, 100), 1.0 + k, np.float32), np.ones((100, 100), bool), wcs,
                      image, {}, size=20)
        rows.append((image, f"{image}.fits", "SCI", image, 1.0 + k, 0.0, 0.0, 1.0 + k, "COMPLETE", k, 100, 0.0))
    sky = Table(rows=rows, names=("image", "file", "sci", "group", "sky", "delta_match", "sky_global",
                                  "sky_whole_image", "status", "island", "npix", "sky_initial"))
    pairs = Table(names=("pair", "group_a", "group_b", "valid", "sky_a", "sky_b", "npix_a", "npix_b",
                         "difference_before", "difference_after", "reason"),
                  dtype=(str, str, str, bool, float, float, int, int, float, float, str))
    sky.write(tmp_path / "sky.ecsv", format="ascii.ecsv")
    pairs.write(tmp_path / "pairs.ecsv", format="ascii.ecsv")
    outputs = {name: tmp_path / "diagnostics" / f"{name}.png" for name in FIGURES}
    outputs["summary"] = tmp_path / "summary.ecsv"
    make_diagnostics(tmp_path / "sky.ecsv", tmp_path / "pairs.ecsv", footprints, previews, outputs)
    assert all(outputs[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for name in FIGURES)


def test_above_two_hundred_edges_only_the_largest_differences_are_coloured():
    from skymatchflow.diagnostics._graph import COLOURED_EDGES, coloured

    values = np.linspace(-5.0, 5.0, 667)
    keep = np.arange(667)
    shown, grey = coloured(keep, values)
    assert len(shown) == COLOURED_EDGES and len(grey) == 667 - COLOURED_EDGES
    assert np.abs(values[shown]).min() >= np.abs(values[grey]).max()  # the strongest in colour
    assert sorted(np.concatenate([shown, grey])) == list(keep)
    few, none = coloured(keep[:50], values)
    assert list(few) == list(range(50)) and len(none) == 0


def test_a_small_field_gets_finer_previews_and_the_mosaic_follows_them(tmp_path):
    from types import SimpleNamespace

    from skymatchflow.diagnostics._previewgrid import previews_size
    from skymatchflow.stages.preview import PREVIEW_SIZE, preview_size

    assert [preview_size(n) for n in (1, 15, 16, 63, 64, 20_000)] == [192, 192, 96, 96, PREVIEW_SIZE, PREVIEW_SIZE]
    sci = np.ones((1000, 800), np.float32)
    write_preview(tmp_path / "a.preview.fits", sci, np.ones(sci.shape, bool), tan_wcs(), "a", {}, size=192)
    assert previews_size(SimpleNamespace(previews={"a": tmp_path / "a.preview.fits"})) == 167  # 1000 / bin 6
    assert previews_size(SimpleNamespace(previews={})) == PREVIEW_SIZE


def figure_run(stage, tmp_path, store, sky_path=None, workers=1):
    """make_figures on the stage fixture's tables and a map file, into ``tmp_path``; returns {output: bytes}."""
    from skymatchflow.diagnostics.mapstage import make_map
    from skymatchflow.diagnostics.stage import make_figures

    _, _, fixture_outputs = stage
    tmp = fixture_outputs["summary"].parent
    map_path = tmp_path / "map.npz"
    if not map_path.exists():
        make_map(sorted(str(p) for p in tmp.glob("*.footprint.json")),
                 {p.name.split(".")[0]: str(p) for p in sorted(tmp.glob("*.preview.fits"))}, map_path)
    outputs = {name: tmp_path / "out" / f"{name}.png" for name in FIGURES}
    outputs["summary"] = tmp_path / "out" / "summary.ecsv"
    for path in outputs.values():  # Snakemake deletes a job's outputs before it runs
        path.unlink(missing_ok=True)
    make_figures(sky_path or tmp / "sky.ecsv", tmp / "pairs.ecsv", map_path, outputs, store=store, workers=workers)
    return {name: outputs[name].read_bytes() for name in FIGURES}


def test_a_forked_helper_draws_and_files_the_same_figures(stage, tmp_path, caplog):
    clean = figure_run(stage, tmp_path / "one", store=None)
    store = tmp_path / "store"
    caplog.set_level("INFO")
    assert figure_run(stage, tmp_path, store, workers=2) == clean
    assert {p.parent.name for p in store.glob("*/*.png")} == set(FIGURES)  # the helper filed its figures too
    caplog.clear()
    assert figure_run(stage, tmp_path, store, workers=2) == clean  # nothing changed: all linked, no helper
    assert caplog.text.count("unchanged, linked") == len(FIGURES)


def test_a_failing_forked_helper_fails_the_job(stage, tmp_path, monkeypatch):
    from skymatchflow.diagnostics import stage as stage_module

    drawn = stage_module.draw

    def broken(name, *args):
        if name == "overlap_graph":
            raise ValueError("a bug in the graph")
        drawn(name, *args)

    monkeypatch.setattr(stage_module, "draw", broken)  # the fork inherits it
    with pytest.raises(RuntimeError, match="drawing footprints, overlap_graph failed in a forked process"):
        figure_run(stage, tmp_path, None, workers=2)


def test_the_map_file_gives_the_figures_of_one_job_and_the_same_bytes_each_time(stage, tmp_path):
    from skymatchflow.diagnostics.mapstage import make_map

    _, _, fixture_outputs = stage
    drawn = figure_run(stage, tmp_path, store=None)
    assert drawn == {name: fixture_outputs[name].read_bytes() for name in FIGURES}  # as make_diagnostics drew them
    tmp = fixture_outputs["summary"].parent
    again = tmp_path / "again.npz"
    make_map(sorted(str(p) for p in tmp.glob("*.footprint.json")),
             {p.name.split(".")[0]: str(p) for p in sorted(tmp.glob("*.preview.fits"))}, again)
    assert again.read_bytes() == (tmp_path / "map.npz").read_bytes()


def test_a_figure_is_redrawn_only_when_what_it_draws_changed(stage, tmp_path, caplog):
    store = tmp_path / "store"
    clean = figure_run(stage, tmp_path, store=None)
    caplog.set_level("INFO")
    assert figure_run(stage, tmp_path, store) == clean
    assert caplog.text.count("unchanged, linked") == 0
    caplog.clear()
    drawn_at = time.time()
    for filed in store.glob("*/*.png"):  # filed an hour ago
        os.utime(filed, (drawn_at - 3600, drawn_at - 3600))
    assert figure_run(stage, tmp_path, store) == clean  # nothing changed: every figure linked
    assert caplog.text.count("unchanged, linked") == len(FIGURES)
    for name in FIGURES:  # as new as the job: Snakemake sees it younger than the tables
        assert (tmp_path / "out" / f"{name}.png").stat().st_mtime >= drawn_at - 1

    sky, _, fixture_outputs = stage
    changed_meta = sky.copy()
    changed_meta.meta["config"] = {"subtract": True}  # the rows the figures draw are the same
    changed_meta.write(tmp_path / "meta.ecsv", format="ascii.ecsv")
    caplog.clear()
    assert figure_run(stage, tmp_path, store, tmp_path / "meta.ecsv") == clean
    assert caplog.text.count("unchanged, linked") == len(FIGURES)

    changed_sky = sky.copy()
    changed_sky["sky"][0] += 0.2
    changed_sky.write(tmp_path / "changed.ecsv", format="ascii.ecsv")
    caplog.clear()
    incremental = figure_run(stage, tmp_path, store, tmp_path / "changed.ecsv")
    assert caplog.text.count("unchanged, linked") == 0  # every figure draws the sky table's values
    assert incremental == figure_run(stage, tmp_path / "clean", None, tmp_path / "changed.ecsv")
    assert incremental["mosaic"] != clean["mosaic"]

    filed = next((store / "mosaic").glob("*.png"))  # a damaged filed figure is drawn again, not linked
    os.chmod(filed, 0o644)
    filed.write_bytes(filed.read_bytes()[:-10])
    caplog.clear()
    assert figure_run(stage, tmp_path, store, tmp_path / "changed.ecsv") == incremental
    assert caplog.text.count("unchanged, linked") == len(FIGURES) - 1
    assert len(list((store / "mosaic").glob("*.png"))) == 1  # the damaged one and the old key's are gone


IMPORTS_OF = """
import sys
sys.path.insert(0, {scripts!r})
from skymatchflow.diagnostics.mapstage import make_map
make_map({footprints!r}, {previews!r}, {map_path!r})
assert "matplotlib" not in sys.modules, "the map job imported matplotlib"
from skymatchflow.diagnostics.stage import make_figures
outputs = {outputs!r}
make_figures({sky!r}, {pairs!r}, {map_path!r}, outputs, store={store!r})
loaded = "matplotlib" in sys.modules
print(loaded, sys.modules["matplotlib"].get_backend().lower() if loaded else "")
"""


def test_matplotlib_is_imported_only_to_draw_and_with_agg(stage, tmp_path):
    import subprocess
    import sys

    from helpers.paths import REPO

    _, _, fixture_outputs = stage
    tmp = fixture_outputs["summary"].parent
    code = IMPORTS_OF.format(
        scripts=str(REPO / "scripts"), footprints=sorted(str(p) for p in tmp.glob("*.footprint.json")),
        previews={p.name.split(".")[0]: str(p) for p in sorted(tmp.glob("*.preview.fits"))},
        map_path=str(tmp_path / "map.npz"), sky=str(tmp / "sky.ecsv"), pairs=str(tmp / "pairs.ecsv"),
        outputs={name: str(tmp_path / f"{name}.png") for name in ("summary", *FIGURES)}, store=str(tmp_path / "s"))
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"MPLBACKEND": "svg"})
    assert first.returncode == 0, first.stderr
    assert first.stdout.split() == ["True", "agg"]  # drawn: matplotlib with Agg, whatever MPLBACKEND says
    for name in FIGURES:
        (tmp_path / f"{name}.png").unlink()
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    assert second.stdout.split() == ["False"]  # every figure linked from the store: no matplotlib at all


def test_no_job_but_the_figures_imports_matplotlib():
    """The package modules each other entry script can import (lazy imports too) never name matplotlib."""
    import re

    from helpers.paths import REPO
    from skymatchflow.io.codeid import source_closure

    figures = {"diagnostics.py", "demo_figure.py"}
    scripts = sorted(p for p in (REPO / "scripts").glob("*.py") if p.name not in figures)
    assert {"diagnostics_map.py", "image_batch.py", "solve_sky.py"} <= {p.name for p in scripts}
    importing = re.compile(r"^\s*(?:import|from)\s+matplotlib", re.M)
    for script in scripts:
        closure = source_closure(script)
        assert not [p.name for p in closure if importing.search(p.read_text())], script.name
