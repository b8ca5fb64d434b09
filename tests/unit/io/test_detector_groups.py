"""Per-detector sky groups (jwst #9063): detectors of one exposure that do not share a background.

The step puts every detector of an exposure in one sky group (``groups:
exposure``). When the detectors' backgrounds differ, that group's one sky
cannot fit them; the fix the JWST developers give is a group per image,
which is ``groups: none`` here (or an image sheet's ``group`` column, for
any other partition, such as one group per module of an exposure).
"""

import numpy as np
import pytest

from helpers.config import schema_defaults
from helpers.images import tan_wcs, write_image
from helpers.in_process import run_in_process
from helpers.paths import REPO

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
EXPOSURE = {"PROGRAM": "01234", "OBSERVTN": "001", "VISIT": "001", "VISITGRP": "01", "SEQ_ID": "1", "ACT_ID": "01"}
SIZE = 64
SCALE = 0.5  # arcsec per pixel
#: each detector's own background: within an exposure the two differ by 0.3 (0.2 - -0.1)
OFFSET = {"nrca1": -0.1, "nrca2": 0.2}


def write_exposures(directory):
    """Two dithered exposures of two detectors side by side: a chain of overlaps e1/a1 - e2/a1 - e1/a2 - e2/a2."""
    rng = np.random.default_rng(9063)
    paths, truth = [], {}
    for expo, dither in (("00001", 0), ("00002", 33)):
        for detector, x0 in (("nrca1", 0), ("nrca2", 66)):
            centre_x = x0 + dither + SIZE / 2
            ra = 150.0 - centre_x * SCALE / 3600.0
            level = 1.0 + OFFSET[detector] + 0.05 * int(expo)
            sci = (level + rng.normal(0.0, 0.01, (SIZE, SIZE))).astype(np.float32)
            path = directory / f"jw01234001001_01101_{expo}_{detector}_cal.fits"
            cards = dict(EXPOSURE, EXPOSURE=expo, DETECTOR=detector.upper())
            write_image(path, (SIZE, SIZE), sci=sci, wcs=tan_wcs((SIZE, SIZE), (ra, 2.2), SCALE), primary_cards=cards)
            paths.append(str(path))
            truth[path.stem] = level
    return paths, truth


def solve(tmp_path, paths, **changes):
    config = schema_defaults(SCHEMA) | {"images": paths, "skymethod": "match", "skystat": "median"} | changes
    sky, pairs = run_in_process(config, tmp_path / f"work-{len(list(tmp_path.iterdir()))}")
    return sky, pairs


def relative_error(sky, truth):
    """Max |recovered - injected| after removing the common level (the match fixes differences only)."""
    error = np.array([row["delta_match"] - truth[row["image"]] for row in sky])
    return float(np.max(np.abs(error - error.mean())))


def write_sheet(path, rows):
    path.write_text("file\tgroup\n" + "".join(f"{p}\t{g}\n" for p, g in rows))
    return str(path)


def test_groups_none_gives_each_detector_its_own_sky(tmp_path):
    paths, truth = write_exposures(tmp_path)
    sky, _ = solve(tmp_path, paths)  # the step's rule: one group per exposure
    assert len(set(sky["group"])) == 2
    assert relative_error(sky, truth) > 0.1  # one sky cannot fit detectors 0.3 apart
    sky, pairs = solve(tmp_path, paths, groups="none")
    assert len(set(sky["group"])) == 4 and int(np.sum(pairs["valid"])) == 3
    assert relative_error(sky, truth) < 0.002  # noise 0.01 per pixel, >= 1000 pixels per overlap
    # an image sheet's group column partitions as the user says: here one group per detector and exposure
    sheet = write_sheet(tmp_path / "sheet.tsv", [(p, p.split("_")[-2] + p.split("_")[-3]) for p in paths])
    sky_sheet, _ = solve(tmp_path, None, images=None, image_sheet=sheet)
    assert relative_error(sky_sheet, truth) == pytest.approx(relative_error(sky, truth), abs=1e-9)


def test_a_detector_keyword_groups_across_exposures_not_within_them(tmp_path):
    # groups: DETECTOR puts one detector of every exposure in one group: the opposite partition
    paths, _ = write_exposures(tmp_path)
    sky, _ = solve(tmp_path, paths, groups="DETECTOR")
    assert sorted(set(sky["group"])) == ["NRCA1", "NRCA2"]
    assert {row["image"][20:25] for row in sky if row["group"] == "NRCA1"} == {"00001", "00002"}
