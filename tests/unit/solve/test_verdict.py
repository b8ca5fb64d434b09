"""The verdict on a match: the noise model it stands on, the line it prints, the advice it gives."""

import logging

import numpy as np
import pytest

from skymatchflow.diagnostics._summary import summary_table
from skymatchflow.solve.verdict import ADVICE, CHI2_LIMIT, FEW_CYCLES, TAIL, advice, chi2_limit
from skymatchflow.stages.solve_sky import solve_tables
from skymatchflow.stats._statnoise import noise_factor, robust_scatter
from skymatchflow.stats.imagestats import sky_statistic


@pytest.mark.parametrize("skystat", ["mean", "median", "midpt", "mode"])
@pytest.mark.parametrize("npix", [1500, 20000])
def test_noise_model_is_the_measured_scatter_of_each_statistic(skystat, npix):
    """Over 120 draws of gaussian pixels, the statistic's scatter is the model's within 25 %."""
    rng = np.random.default_rng(npix)
    values = [sky_statistic(rng.normal(0.0, 2.0, npix).astype(np.float32), skystat=skystat).value for _ in range(120)]
    model = noise_factor(npix, skystat) * 2.0
    assert 0.75 < np.std(values) / model < 1.25


def test_robust_scatter_ignores_a_few_sources():
    rng = np.random.default_rng(1)
    values = rng.normal(0.0, 3.0, 20000)
    values[:200] += 500.0  # 1 % bright pixels
    assert robust_scatter(values) == pytest.approx(3.0, rel=0.05)


def test_chi2_limit_is_three_or_the_tail_of_few_cycles():
    assert chi2_limit(1000) == 3.0
    assert chi2_limit(1) == pytest.approx(10.83, abs=0.01)  # chi-square, 1 dof, 99.9 %


@pytest.mark.parametrize("n_cycles", [1, 2, 3, 7, 28, 150, 999])
def test_chi2_limit_has_the_bits_of_scipy_stats_chi2(n_cycles):
    """The limit is computed without importing scipy.stats (a second of the solve's start), bit for bit as with it."""
    from scipy.stats import chi2

    assert chi2_limit(n_cycles) == max(3.0, float(chi2.ppf(1.0 - 1e-3, n_cycles)) / n_cycles)


def test_from_few_cycles_on_the_quantile_is_below_the_limit():
    """chi2_limit skips scipy.special from FEW_CYCLES on: there the tail's quantile / cycles is below CHI2_LIMIT."""
    from scipy.stats import chi2

    cycles = np.arange(FEW_CYCLES, 20000)
    assert np.all(chi2.ppf(1.0 - TAIL, cycles) / cycles < CHI2_LIMIT)
    assert chi2.ppf(1.0 - TAIL, FEW_CYCLES - 1) / (FEW_CYCLES - 1) > CHI2_LIMIT  # the shortest such run


def footprint(image):
    return {"image": image, "file": f"{image}.fits", "sci": "SCI", "group": image,
            "background": {"level": None, "subtracted": None}}


def side_pair(a, b, difference, side_noise):
    """A reference-statistic pair record: each side has its own noise, as the pair stage writes it."""
    return {"pair": f"{a}~{b}", "group_a": a, "group_b": b, "valid": True, "reason": None,
            "a": {"sky": difference, "npix": 100, "noise": side_noise},
            "b": {"sky": 0.0, "npix": 100, "noise": side_noise}}


def ring_with_chords(n, misclosure, noise, rng):
    """Images on a ring with chords (many cycles); true skies 0; one pair off by ``misclosure``."""
    images = [f"i{k}" for k in range(n)]
    links = [(k, (k + 1) % n) for k in range(n)] + [(k, (k + 3) % n) for k in range(0, n, 2)]
    pairs = []
    for number, (i, j) in enumerate(sorted((min(p), max(p)) for p in links)):
        measured = rng.normal(0.0, noise * np.sqrt(2)) + (misclosure if number == 0 else 0.0)
        pairs.append(side_pair(images[i], images[j], measured, noise))
    return images, pairs


def solve(images, pairs, options=None):
    skies = [{"image": i, "sky": 1.0, "npix": 10} for i in images]
    return solve_tables([footprint(i) for i in images], skies, pairs, "match", True, False, options)


def test_pairs_within_their_noise_are_consistent(caplog):
    images, pairs = ring_with_chords(12, 0.0, 0.01, np.random.default_rng(3))
    with caplog.at_level(logging.INFO):
        sky, table = solve(images, pairs)
    assert np.allclose(table["noise"], 0.01 * np.sqrt(2))  # the two sides' noises in quadrature
    line = table.meta["verdict"]
    assert line.startswith("Match verdict: consistent with the noise: chi2/dof ")
    assert line in caplog.text and "\n" not in line


def test_a_biased_pair_is_flagged_with_the_option_to_try(caplog):
    images, pairs = ring_with_chords(12, 0.5, 0.01, np.random.default_rng(3))  # one pair 35 noise off
    with caplog.at_level(logging.INFO):
        sky, table = solve(images, pairs)
    line = table.meta["verdict"]
    assert line.startswith("Match verdict: NOT consistent with the noise: chi2/dof ")
    assert "worst i0~i1 by" in line and line.endswith(ADVICE["reference"])
    assert line in caplog.text


def test_advice_follows_the_options_in_use():
    images, pairs = ring_with_chords(12, 0.3, 0.01, np.random.default_rng(3))  # one pair 20 noise off
    measured = [p | {"statistic": "difference", "noise": 0.01} for p in pairs]
    assert solve(images, measured)[1].meta["verdict"].endswith(ADVICE["difference"])
    robust = solve(images, measured, {"match_weights": "robust"})[1].meta["verdict"]
    assert robust.endswith(ADVICE["robust"])
    # every pair off by its own bias (a gradient the constant sky cannot follow): no option of weights helps
    spread = [p | {"a": dict(p["a"], sky=p["a"]["sky"] + 0.2 * np.sin(3 * k))} for k, p in enumerate(measured)]
    assert solve(images, spread)[1].meta["verdict"].endswith(ADVICE["widespread"])
    assert "`sky_model: plane`" in ADVICE["widespread"]
    # with planes already in use, the advice is not to try them
    assert advice(solve(images, spread)[1], "difference", "reference", "plane") == ADVICE["widespread_plane"]


def test_a_tree_cannot_be_judged():
    images = ["a", "b", "c"]
    pairs = [side_pair("a", "b", 1.0, 0.01), side_pair("b", "c", -3.0, 0.01)]
    line = solve(images, pairs)[1].meta["verdict"]
    assert line.startswith("Match verdict: cannot be judged: the overlap graph has no cycle")


def test_summary_carries_the_verdict_per_island_and_in_its_meta():
    images, pairs = ring_with_chords(12, 0.5, 0.01, np.random.default_rng(3))
    sky, table = solve(images, pairs)
    table.meta["config"] = {"skymethod": "match", "pair_statistic": "reference", "match_weights": "reference"}
    summary = summary_table(sky, table)
    assert list(summary["consistent"]) == ["no", "no"]  # island 0 and the total
    assert summary.meta["verdict"] == summary["verdict"][-1] == table.meta["verdict"]
