"""The overlap graph's consistency after the solve: cycles, closure residuals, chi-square per degree of freedom."""

import logging

import numpy as np
import pytest

from skymatchflow.diagnostics._summary import summary_table
from skymatchflow.solve.consistency import graph_consistency
from skymatchflow.stages.solve_sky import solve_tables


def footprint(image):
    return {"image": image, "file": f"{image}.fits", "sci": "SCI", "group": image,
            "background": {"level": None, "subtracted": None}}


def pair(a, b, difference, noise=None):
    record = {"pair": f"{a}~{b}", "group_a": a, "group_b": b, "valid": True, "reason": None,
              "a": {"sky": difference, "npix": 100}, "b": {"sky": 0.0, "npix": 100}}
    return record | ({"noise": noise} if noise is not None else {})


def solve(images, pairs):
    skies = [{"image": i, "sky": 1.0, "npix": 10} for i in images]
    return solve_tables([footprint(i) for i in images], skies, pairs, "match", True, False)


def test_a_triangle_that_does_not_close_and_a_tree(caplog):
    # a, b, c: a triangle whose measured differences miss closing by 0.3; d - e: a tree (island 1)
    pairs = [pair("a", "b", 1.0), pair("b", "c", 2.0), pair("a", "c", 3.3), pair("d", "e", 5.0)]
    with caplog.at_level(logging.INFO):
        sky, table = solve(["a", "b", "c", "d", "e"], pairs)
    figures = graph_consistency(sky, table)
    # equal weights: each pair of the triangle takes a third of the misclosure
    assert np.allclose(np.abs(table["difference_after"][:3]), 0.1) and table["difference_after"][3] == pytest.approx(0)
    triangle, tree = figures["0"], figures["1"]
    assert triangle["n_cycles"] == 1 and triangle["closure_rms"] == pytest.approx(0.3 / np.sqrt(3))
    assert tree["n_cycles"] == 0 and np.isnan(tree["closure_rms"])  # a tree checks nothing
    assert figures["total"]["n_cycles"] == 1 and np.isnan(figures["total"]["chi2_dof"])  # no pair noise
    assert table.meta["consistency"]["n_cycles"] == 1
    assert "Overlap graph consistency: 1 independent cycle(s); closure RMS 0.1732" in caplog.text
    assert np.all(np.isnan(table["noise"]))  # these records carry no side noise: none is made up
    assert table.meta["verdict"] == "Match verdict: cannot be judged: some pairs have no measured noise"
    summary = summary_table(sky, table)
    assert list(summary["n_cycles"]) == [1, 0, 1]
    assert summary["closure_rms"][0] == pytest.approx(0.3 / np.sqrt(3))


def test_chi2_per_degree_of_freedom_with_measured_noise():
    # a 2x2 loop, consistent within its noise except one pair biased by 20 noise units
    names = ["a", "b", "c", "d"]
    truth = dict(zip(names, [0.0, 1.0, 2.0, 3.0]))
    rng = np.random.default_rng(0)
    edges = [("a", "b"), ("b", "d"), ("c", "d"), ("a", "c"), ("a", "d")]
    noise = 0.01
    consistent = [pair(x, y, truth[x] - truth[y] + rng.normal(0, noise), noise) for x, y in edges]
    sky, table = solve(names, consistent)
    good = graph_consistency(sky, table)["0"]
    assert good["n_cycles"] == 2 and good["chi2_dof"] < 10
    biased = consistent[:-1] + [pair("a", "d", truth["a"] - truth["d"] + 20 * noise, noise)]
    sky, table = solve(names, biased)
    bad = graph_consistency(sky, table)["0"]
    assert bad["chi2_dof"] > 20 * good["chi2_dof"] and bad["worst_pair"] == "a~d"
    assert np.all(table["noise"] == noise)
