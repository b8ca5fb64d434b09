"""The verdict on the match, on the synthetic scenes and on the real M17 tiles.

It must flag the scenes where the reference's statistic fails (and name the
option that fixes them), stay quiet on a clean field with every statistic,
and read correctly on M17: the defaults fail (one overlap through the
nebula), and with ``pair_statistic: difference`` the tiles still disagree
everywhere, by their real gradients, which constant skies cannot follow.
"""

import gzip
import logging
import shutil

import numpy as np
import pytest

from helpers.config import schema_defaults
from helpers.in_process import run_in_process
from helpers.paths import SHARED_DATA
from helpers.scenes import make_scene, recovered_rms
from skymatchflow.diagnostics._summary import summary_table
from skymatchflow.solve.verdict import ADVICE

DIFFERENCE = {"pair_statistic": "difference"}


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    root = tmp_path_factory.mktemp("scenes")
    return {scene: make_scene(root / scene, scene, scale=0.5) for scene in ("clean", "nebula", "artefact")}


def verdict(paths, tmp_path, **options):
    config = schema_defaults() | {"images": paths, "skymethod": "match"} | options
    sky, pairs = run_in_process(config, tmp_path)
    pairs.meta["config"] = config
    summary = summary_table(sky, pairs)
    assert summary.meta["verdict"] == pairs.meta["verdict"]  # the solve's line is the summary's
    return sky, summary["consistent"][-1], summary.meta["verdict"]


@pytest.mark.parametrize("options", [{}, {"skystat": "median"}, {"skystat": "mean"}, DIFFERENCE,
                                     DIFFERENCE | {"skystat": "median"}], ids=str)
def test_quiet_on_a_clean_field(scenes, tmp_path, options):
    _, consistent, line = verdict(scenes["clean"][0], tmp_path, **options)
    assert consistent == "yes", line


@pytest.mark.parametrize("skystat", ["mode", "median"])
def test_flags_the_nebula_and_names_the_option_that_fixes_it(scenes, tmp_path, skystat):
    paths, truth = scenes["nebula"]
    sky, consistent, line = verdict(paths, tmp_path / "reference", skystat=skystat)
    assert recovered_rms(sky, truth) > 1.0  # the scene fails: skies off by sigmas
    assert consistent == "no" and line.endswith(ADVICE["reference"])
    sky, consistent, line = verdict(paths, tmp_path / "difference", skystat=skystat, **DIFFERENCE)
    assert recovered_rms(sky, truth) < 0.3
    assert consistent == "yes", line


def test_flags_the_artefact_with_median(scenes, tmp_path):
    """A 3-sigma glow in one overlap: the median sees it (the mode's own noise hides it: RMS 0.14 as clean)."""
    _, consistent, line = verdict(scenes["artefact"][0], tmp_path, skystat="median")
    assert consistent == "no" and line.endswith(ADVICE["reference"])


M17_FILES = sorted((SHARED_DATA / "m17_2mass").glob("*.fits.gz"))


@pytest.fixture(scope="module")
def m17(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("m17")
    paths = []
    for path in M17_FILES:
        target = outdir / path.name.removesuffix(".gz")
        with gzip.open(path, "rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
        paths.append(str(target))
    return paths


def test_m17_reads_correctly(m17, tmp_path, caplog):
    assert len(m17) == 8
    with caplog.at_level(logging.INFO):
        _, consistent, line = verdict(m17, tmp_path / "defaults", dqbits=None)
    assert consistent == "no" and line.endswith(ADVICE["reference"]) and line in caplog.text
    config = schema_defaults() | {"images": m17, "dqbits": None, "skymethod": "match", "skystat": "median"}
    sky, pairs = run_in_process(config | DIFFERENCE, tmp_path / "difference")
    noise = np.asarray(pairs["noise"])[np.asarray(pairs["valid"], bool)]
    # neighbouring tiles of one scan share pixels: 2e-5 DN measured; the floor (half their own pixel noise
    # over sqrt(npix)) puts them at 0.007-0.015 DN, beside the other pairs' 0.01-0.02 measured
    assert noise.min() > 0.005
    pairs.meta["config"] = config | DIFFERENCE
    summary = summary_table(sky, pairs)
    assert summary["consistent"][-1] == "no" and summary.meta["verdict"].endswith(ADVICE["widespread"])
