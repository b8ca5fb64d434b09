"""Benchmark: what the console shows when one image is added to a survey (issue 28).

Not a test. Run from the repository root::

    .venv/bin/python tests/benchmarks/bench_console.py                       # N = 200
    .venv/bin/python tests/benchmarks/bench_console.py --n 200 --other /tmp/main_tree

On the survey strip of bench_workflow.py (N images of 256x256, default
config, 4 image and 4 pair batches): a cold run, then the same survey with
one image more. Prints, for the re-run's console output (stdout + stderr of
``snakemake``): its longest line, the lines over 2,000 characters, its total
size, and the longest "reason:" line; for the cold run, the progress it
shows: lines with the count across batches ("all N batches"), how often
Snakemake's "N of M steps" total M changed and its percentage went back. With ``--other DIR`` (a checkout, e.g.
``git archive main | tar -x -C DIR``) the same is measured with that tree's
Snakefile and printed beside this one's, with ratios.
"""

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_workflow import REPO, make_survey, write_workflow_config

LIMIT = 2000


def snakemake(repo, workdir, timeout=3600):
    """The console text of one ``snakemake`` run of ``repo``'s workflow in ``workdir``."""
    command = ["timeout", "-s", "KILL", str(timeout), sys.executable, "-m", "snakemake",
               "--snakefile", str(Path(repo) / "workflow" / "Snakefile"), "--directory", str(workdir),
               "--cores", "2"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=workdir,
                            env={"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"})
    if result.returncode != 0:
        raise SystemExit(f"snakemake failed in {workdir}:\n{result.stderr[-3000:]}")
    return result.stdout + result.stderr


def console_figures(text):
    """(longest line, lines over LIMIT, characters, longest reason line) of a console text."""
    lines = text.splitlines()
    reasons = [len(line) for line in lines if line.strip().startswith("reason:")]
    return max(map(len, lines)), sum(len(line) > LIMIT for line in lines), len(text), max(reasons, default=0)


STEPS = re.compile(r"^(\d+) of (\d+) steps", re.M)


def progress_figures(text):
    """(lines with the count across batches, changes of Snakemake's step total, times its percentage went back)."""
    steps = [(int(done), int(total)) for done, total in STEPS.findall(text)]
    totals = [total for _, total in steps]
    percents = [done / total for done, total in steps]
    return (sum("| all " in line for line in text.splitlines()),
            sum(a != b for a, b in zip(totals, totals[1:])),
            sum(b < a for a, b in zip(percents, percents[1:])))


def write_config(repo, workdir, paths):
    """bench_workflow's config, without the keys ``repo``'s schema does not know (an older tree)."""
    write_workflow_config(workdir, paths)
    path = workdir / "config" / "config.yaml"
    known = yaml.safe_load((Path(repo) / "workflow" / "schemas" / "config.schema.yaml").read_text())["properties"]
    config = {k: v for k, v in yaml.safe_load(path.read_text()).items() if k in known}
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def add_one_image(repo, scratch, paths, extra):
    """Console figures of adding ``extra`` to a survey of ``paths`` run cold by ``repo``'s workflow."""
    workdir = scratch / f"work_{Path(repo).name}"
    write_config(repo, workdir, paths)
    cold = progress_figures(snakemake(repo, workdir))
    write_config(repo, workdir, paths + [extra])
    return console_figures(snakemake(repo, workdir)) + cold


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="survey size (default 200)")
    parser.add_argument("--other", type=Path, default=None, help="another tree to compare with (e.g. main)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench_console_") as tmp:
        scratch = Path(tmp)
        paths = make_survey(scratch / "data", args.n + 1, seed=12)
        extra, paths = paths[-1], paths[:-1]
        trees = [("this tree", REPO)] + ([("other", args.other)] if args.other else [])
        figures = {label: add_one_image(repo, scratch, paths, extra) for label, repo in trees}
    names = ("longest line", f"lines over {LIMIT}", "console characters", "longest reason line",
             "cold run: lines with the count across batches", "cold run: changes of Snakemake's step total",
             "cold run: times Snakemake's step percentage went back")
    print(f"Adding one image to a survey of {args.n} (console of the re-run)\n")
    header = "| figure | " + " | ".join(label for label, _ in trees) + (" | other / this |" if args.other else " |")
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    for k, name in enumerate(names):
        values = [figures[label][k] for label, _ in trees]
        ratio = f" | {values[1] / values[0]:.1f}" if args.other and values[0] else (" | -" if args.other else "")
        print(f"| {name} | " + " | ".join(f"{v:,}" for v in values) + ratio + " |")


if __name__ == "__main__":
    main()
