"""Sky-table assembly: previous-run levels, equations from pair records, tables."""

import math

import pytest

from skymatchflow.errors import InputError
from skymatchflow.stages.solve_sky import initial_sky, solve_tables


def footprint(image, group, level=None, subtracted=None):
    return {"image": image, "file": f"{image}.fits", "sci": "SCI", "group": group,
            "background": {"level": level, "subtracted": subtracted}}


@pytest.mark.parametrize(
    "level, subtracted, subtract, expected",
    [(None, None, False, 0.0), (None, None, True, 0.0), (2.5, True, True, 2.5), (2.5, False, False, 0.0)],
)
def test_initial_sky(level, subtracted, subtract, expected):
    assert initial_sky(footprint("a", "g", level, subtracted), subtract) == expected


@pytest.mark.parametrize(
    "level, subtracted, subtract, message",
    [
        (1.0, None, False, "BKGLEVEL is set but BKGSUB is not"),
        (None, True, True, "BKGSUB is set but BKGLEVEL is not"),
        (1.0, True, False, "'subtract' step's specification \\(False\\) is inconsistent"),
        (1.0, False, True, "inconsistent with the earlier run's BKGSUB=False"),
    ],
)
def test_inconsistent_previous_run_is_refused_naming_the_file(level, subtracted, subtract, message):
    with pytest.raises(InputError, match=r"a.fits\[SCI\]: .*" + message):
        initial_sky(footprint("a", "g", level, subtracted), subtract)


def pair(a, b, sky_a, sky_b, valid=True):
    return {"pair": f"{a}~{b}", "group_a": a, "group_b": b, "valid": valid, "reason": None if valid else "x",
            "a": {"sky": sky_a, "npix": 100}, "b": {"sky": sky_b, "npix": 100}}


def test_tables_for_two_groups_and_an_isolated_image():
    footprints = [footprint("a1", "A"), footprint("a2", "A"), footprint("b", "B"), footprint("c", "C")]
    skies = [{"image": i, "sky": s, "npix": 10} for i, s in [("a1", 10.0), ("a2", 11.0), ("b", 13.0), ("c", None)]]
    sky, pairs = solve_tables(footprints, skies, [pair("B", "A", 13.0, 10.5)], "match", True, False)
    by_image = {row["image"]: row for row in sky}
    assert by_image["a1"]["sky"] == by_image["a2"]["sky"] == 0.0
    assert by_image["b"]["sky"] == pytest.approx(2.5)
    assert by_image["c"]["status"] == "SKIPPED" and math.isnan(by_image["c"]["delta_match"])
    assert by_image["a1"]["island"] == by_image["b"]["island"] != by_image["c"]["island"]
    assert pairs[0]["difference_before"] == pytest.approx(2.5)
    assert pairs[0]["difference_after"] == pytest.approx(0.0)


def test_no_pair_at_all(caplog):
    footprints = [footprint("a", "A"), footprint("b", "B")]
    skies = [{"image": "a", "sky": 5.0, "npix": 10}, {"image": "b", "sky": 3.0, "npix": 10}]
    sky, _ = solve_tables(footprints, skies, [], "match", True, False)
    assert list(sky["status"]) == ["SKIPPED", "SKIPPED"] and list(sky["sky"]) == [0.0, 0.0]
    assert "No overlapping pair gives an equation" in caplog.text
    sky, _ = solve_tables(footprints, skies, [], "global+match", True, False)
    assert list(sky["status"]) == ["COMPLETE", "COMPLETE"] and list(sky["sky"]) == [3.0, 3.0]
