"""Cost of a start when the workflow is deployed from a Git address, against a clone's.

A workflow named by github(...) copies its commit's scripts/, workflow/ and
config/ into .snakemake/skymatchflow/code/<commit>/ at its first start and
checks every file of that copy against the commit at every start (one
`git ls-tree`, a hash of ~130 files); every cluster job pays that check
again. This script commits this working tree into a temporary repository,
puts it where Snakemake keeps its clone of github.com/OWNER/skymatch (no
network), and times `snakemake --list-rules` (the Snakefile's top-level code
only) in fresh processes, on two 2MASS tiles:

- clone: inside a clone of the repository;
- first start: deployed, no copy yet (the copy is made);
- later start: deployed, the copy checked.

Usage: python tests/benchmarks/bench_deploy.py   Prints seconds (best of 3) and ratios to the clone.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "tests"), str(REPO / "scripts")]
from workflow.test_deployment import M17, deployed_dir, git, readme_git_snakefile, tagged_release

REPEATS = 3


def timed(cwd, env, before=None):
    best = None
    for _ in range(REPEATS):
        if before:
            before()
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "snakemake", "--list-rules"], cwd=cwd, env=env, check=True,
                       capture_output=True)
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return best


def main():
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        work = tagged_release(root)
        cache = root / "cache"
        seeded = cache / "snakemake" / "snakemake" / "source-cache" / "snakemake-git-cache" / "github.com" / "OWNER"
        seeded.mkdir(parents=True)
        git(root, "clone", "-q", "--bare", str(work), str(seeded / "skymatch"))
        env = dict(os.environ, XDG_CACHE_HOME=str(cache))
        deployed = deployed_dir(root / "m17", readme_git_snakefile())
        (work / "my.yaml").write_text(yaml.safe_dump({"images": [str(p) for p in M17]}))
        shutil.copy(work / "my.yaml", work / "config" / "config.yaml")  # the clone runs the same config
        code = deployed / ".snakemake" / "skymatchflow" / "code"
        clone = timed(work, env)
        first = timed(deployed, env, before=lambda: shutil.rmtree(code, ignore_errors=True))
        later = timed(deployed, env)
        print(f"load average {os.getloadavg()[0]:.1f}; best of {REPEATS}")
        print("| start | s | ratio to the clone's |")
        print("|---|---:|---:|")
        for name, seconds in (("clone", clone), ("deployed, first start", first), ("deployed, later start", later)):
            print(f"| {name} | {seconds:.2f} | {seconds / clone:.2f} |")


if __name__ == "__main__":
    main()
