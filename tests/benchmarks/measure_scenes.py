"""Measurement: recovered-minus-injected sky RMS on the synthetic scenes (issue 19).

For each scene (skymatchflow.demo.scenes: clean, nebula, extended, artefact),
each statistic (mode, median, mean) and each option (the defaults, then
the opt-in options of issue 19), runs the workflow's stage code in process
(skymethod match) and prints the RMS of recovered minus injected sky (mean
removed) in units of the noise sigma, as a markdown table.

    .venv/bin/python tests/benchmarks/measure_scenes.py [--scale 1.0] [--workdir /tmp/scenes]
"""

import argparse
import logging
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "scripts"), str(REPO / "tests")]  # the package and the test helpers
from helpers.config import schema_defaults  # noqa: E402
from helpers.in_process import run_in_process  # noqa: E402

from skymatchflow.demo.scenes import SCENES, make_scene, recovered_rms  # noqa: E402

STATISTICS = ("mode", "median", "mean")
OPTIONS = {
    "defaults": {},
    "difference": {"pair_statistic": "difference"},
    "robust (huber)": {"match_weights": "robust"},
    "robust (tukey)": {"match_weights": "robust", "robust_loss": "tukey"},
    "difference + robust (huber)": {"pair_statistic": "difference", "match_weights": "robust"},
}
EXCLUDE = "exclude (artefact.reg)"


def scene_config(paths, skystat, options):
    """A full config for a scene's tiles: the schema's defaults, skymethod match."""
    defaults = schema_defaults()
    return defaults | {"images": paths, "skymethod": "match", "skystat": skystat} | options


def measure(scene, skystat, options, directory, scale):
    """RMS (sigma) of recovered minus injected sky for one scene, statistic and option set."""
    scene_dir = Path(directory) / scene
    if not (scene_dir / "truth.ecsv").exists():
        make_scene(scene_dir, scene, scale=scale)
    from astropy.table import Table

    truth = Table.read(scene_dir / "truth.ecsv")
    paths = list(truth["file"])
    if options == EXCLUDE:
        options = {"exclude": {"regions": [str(scene_dir / "artefact.reg")]}}
    work = Path(directory) / "work" / f"{scene}-{skystat}-{abs(hash(str(options)))}"
    sky, _ = run_in_process(scene_config(paths, skystat, options), work)
    return recovered_rms(sky, truth)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--scenes", nargs="*", default=list(SCENES))
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    directory = args.workdir or tempfile.mkdtemp(prefix="scenes-")
    names = list(OPTIONS) + [EXCLUDE]
    print("| scene | statistic | " + " | ".join(names) + " |")
    print("|---|---|" + "---:|" * len(names))
    for scene in args.scenes:
        for skystat in STATISTICS:
            cells = []
            for name in names:
                if name == EXCLUDE and scene != "artefact":
                    cells.append("")
                    continue
                options = EXCLUDE if name == EXCLUDE else OPTIONS[name]
                cells.append(f"{measure(scene, skystat, options, directory, args.scale):.3f}")
            print(f"| {scene} | {skystat} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
