"""Write the synthetic JWST-like demo mosaic and its truth table.

Command line:  python scripts/demo_mosaic.py OUTDIR [--detector-size N] [--seed S]
                                          [--n-exposures K]
Snakemake:     script: "../../scripts/demo_mosaic.py" with
               output: the image paths (demo_file_names order, one directory)
                       plus a named output ``truth``;
               params: cfg = {"seed": ..., "detector_size": ...}
"""

# No ``from __future__`` import here: Snakemake's script: directive puts its
# preamble above this file's first line, where such an import is an error.
import argparse
import shutil
import sys
from pathlib import Path

# Make ``import skymatchflow`` work both from the command line and under
# Snakemake's ``script:`` (which sets __file__ to this file's real path).
from skymatchflow.demo.generate import make_demo_mosaic
from skymatchflow.demo.names import demo_file_names


def _run_snakemake(smk) -> None:
    """Generate into the outputs' common directory, checking the names."""
    cfg = dict(smk.params.cfg)
    truth_out = Path(smk.output.truth)
    images = [Path(p) for p in smk.output if Path(p) != truth_out]
    expected = demo_file_names()
    dirs = {p.parent for p in images}
    if len(dirs) != 1:
        raise ValueError(
            f"demo images must share one directory, got {sorted(map(str, dirs))}"
        )
    if sorted(p.name for p in images) != sorted(expected):
        raise ValueError(
            "Snakemake image outputs must be named as demo_file_names(): "
            f"expected {expected}, "
            f"got {[p.name for p in images]}"
        )
    outdir = dirs.pop()
    _, truth = make_demo_mosaic(
        outdir,
        seed=int(cfg["seed"]),
        detector_size=int(cfg["detector_size"]),
    )
    if truth.resolve() != truth_out.resolve():
        truth_out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(truth), str(truth_out))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write the synthetic JWST/NIRCam-like demo mosaic "
        "(*_cal.fits) and truth.ecsv into OUTDIR."
    )
    parser.add_argument("outdir", type=Path, help="output directory (created)")
    parser.add_argument("--detector-size", type=int, default=1024, metavar="N")
    parser.add_argument("--seed", type=int, default=20261123, metavar="S")
    parser.add_argument("--n-exposures", type=int, default=4, metavar="K")
    args = parser.parse_args(argv)
    paths, truth = make_demo_mosaic(
        args.outdir,
        seed=args.seed,
        detector_size=args.detector_size,
        n_exposures=args.n_exposures,
    )
    for p in [*paths, truth]:
        print(p)
    return 0


if __name__ == "__main__":
    if "snakemake" in globals():
        from skymatchflow.jobs.rulerunner import run_rule

        run_rule(_run_snakemake, snakemake)  # noqa: F821 (injected by Snakemake)
    else:
        sys.exit(main())
