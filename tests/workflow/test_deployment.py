"""The workflow deployed from a Git address (README, "From a Git address, without a clone"), offline.

The repository is this working tree committed into a temporary Git
repository and tagged with the package's version. The README's Snakefile
names it by ``github("OWNER/skymatch", ...)``, as snakedeploy writes it:
Snakemake keeps its own bare clone of a GitHub repository in its source
cache and clones only when that is missing, so the test puts the repository
there (no network is reached; were it not found, the run would fail trying
GitHub). The same Snakefile with ``gitfile(path, ...)`` reads a repository
on disk.
"""

import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from helpers.paths import REPO, SHARED_DATA
from skymatchflow import __version__

pytestmark = pytest.mark.e2e

M17 = sorted((SHARED_DATA / "m17_2mass").glob("*.fits.gz"))[:2]
USER_KEYS = {"images": [str(p) for p in M17], "image_batches": 1, "pair_batches": 1}  # few jobs: a short test
TAG = f"v{__version__}"
RELEASED = ("workflow", "scripts", "config", "envs", "LICENSE")
GITHUB_CALL = 'github("OWNER/skymatch", path="workflow/Snakefile", tag="v0.2.0")'


def git(cwd, *args):
    command = ["git", "-c", "user.name=test", "-c", "user.email=test@example.org", *args]
    return subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def readme_git_snakefile():
    """The README's Snakefile naming the workflow by its Git address."""
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", readme, re.MULTILINE | re.DOTALL)
    (snakefile,) = [block for block in blocks if "github(" in block]
    return snakefile


def tagged_release(root):
    """root/work: the released parts of this checkout committed to a new repository and tagged TAG."""
    work = root / "work"
    work.mkdir()
    for name in RELEASED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, work / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, work / name)
    git(work, "init", "-q", "-b", "main")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "release")
    git(work, "tag", TAG)
    return work


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """A bare Git repository of this working tree, tagged with the version: (its path, the tag's commit)."""
    root = tmp_path_factory.mktemp("release")
    work = tagged_release(root)
    bare = root / "skymatch.git"
    git(root, "clone", "-q", "--bare", str(work), str(bare))
    return bare, git(bare, "rev-parse", f"{TAG}^{{commit}}")


def deployed_dir(root, snakefile):
    """A user's directory as snakedeploy leaves it: the shipped config/ (images set to two 2MASS tiles) and workflow/Snakefile."""
    shutil.copytree(REPO / "config", root / "config")
    config = yaml.safe_load((root / "config" / "config.yaml").read_text())
    (root / "config" / "config.yaml").write_text(yaml.safe_dump(config | USER_KEYS))
    (root / "workflow").mkdir()
    (root / "workflow" / "Snakefile").write_text(snakefile)
    return root


def snakemake(workdir, args, cache):
    env = dict(os.environ, XDG_CACHE_HOME=str(cache))
    command = ["timeout", "-s", "KILL", "600", sys.executable, "-m", "snakemake", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=workdir, env=env)


def test_every_rule_runs_its_entry_script_through_entry_script():
    """A `script:` path relative to the rule file would be fetched alone from a Git address, without its package."""
    scripts = re.findall(r"^    script:\n\s+(.+)$", "".join(
        path.read_text() for path in (REPO / "workflow" / "rules").glob("*.smk")), re.MULTILINE)
    assert len(scripts) >= 9
    assert all(re.fullmatch(r'entry_script\("\w+\.py"\)', script) for script in scripts), scripts


def test_the_readme_names_the_current_version_s_tag():
    """The README's Git Snakefile is the one deployed below, and its tag is this version's."""
    assert GITHUB_CALL in readme_git_snakefile()
    assert f'tag="{TAG}"' in GITHUB_CALL


def seeded_cache(root, bare):
    """A source cache in which Snakemake finds its clone of github.com/OWNER/skymatch (as after a first run)."""
    cache = root / "cache"
    seeded = cache / "snakemake" / "snakemake" / "source-cache" / "snakemake-git-cache" / "github.com" / "OWNER"
    seeded.mkdir(parents=True)
    git(root, "clone", "-q", "--bare", str(bare), str(seeded / "skymatch"))
    return cache, seeded / "skymatch"


def test_deployed_from_github_the_sky_table_is_a_clone_s(release, tmp_path):
    """snakedeploy's Snakefile (github(...)) runs every job from the tag's code; its sky table is byte for byte a clone's."""
    bare, commit = release
    cache, _ = seeded_cache(tmp_path, bare)
    deployed = deployed_dir(tmp_path / "m17", readme_git_snakefile())

    result = snakemake(deployed, ["--cores", "2", "results/sky.ecsv"], cache)
    assert result.returncode == 0, result.stderr[-3000:]
    head = [line for line in result.stderr.splitlines() if line.startswith("skymatchflow ")][0]
    assert head.startswith(f"skymatchflow {__version__} (github.com/OWNER/skymatch at {TAG}, commit {commit[:12]}"), head
    copy = deployed / ".snakemake" / "skymatchflow" / "code" / commit
    assert (copy / "SOURCE_COMMIT").read_text().strip() == commit
    for log in ("solve_sky.log", "overlap_graph.log"):
        assert f"skymatchflow {__version__}, rule" in (deployed / "logs" / log).read_text().splitlines()[0]
    again = snakemake(deployed, ["--cores", "2", "results/sky.ecsv", "--dry-run"], cache)
    assert "Nothing to be done" in again.stdout + again.stderr, again.stdout[-2000:]

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--branch", TAG, str(bare), str(clone))
    (clone / "my.yaml").write_text(yaml.safe_dump(USER_KEYS))
    result = snakemake(clone, ["--cores", "2", "results/sky.ecsv", "--configfile", "my.yaml"], cache)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (deployed / "results" / "sky.ecsv").read_bytes() == (clone / "results" / "sky.ecsv").read_bytes()
    from astropy.table import Table

    software = Table.read(deployed / "results" / "sky.ecsv").meta["software"]
    assert software["skymatchflow_commit"] == commit and software["skymatchflow"] == __version__


def test_a_changed_copy_is_made_again_and_a_new_tag_gets_its_own(release, tmp_path):
    """A file changed in the copy is named and copied again; a new tag's commit gets its own copy."""
    bare, commit = release
    cache, snakemake_clone = seeded_cache(tmp_path, bare)
    deployed = deployed_dir(tmp_path / "m17", readme_git_snakefile())

    result = snakemake(deployed, ["--cores", "1", "--dry-run"], cache)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "rule solve_sky:" in result.stdout
    package = deployed / ".snakemake" / "skymatchflow" / "code" / commit / "scripts" / "skymatchflow" / "__init__.py"
    shipped = package.read_bytes()
    assert shipped == (REPO / "scripts" / "skymatchflow" / "__init__.py").read_bytes()

    package.write_text(shipped.decode().replace(__version__, "9.9.9"))
    result = snakemake(deployed, ["--cores", "1", "--dry-run"], cache)
    assert result.returncode == 0, result.stderr[-3000:]
    console = result.stdout + result.stderr  # a dry run's lines go to stdout
    assert f"{package} differs from commit {commit}: copying the commit again" in console
    assert package.read_bytes() == shipped
    assert f"skymatchflow {__version__} (" in console

    # a new release, as Snakemake's clone has it after fetching: its own copy, the old one left as it was
    work = tmp_path / "next"
    git(tmp_path, "clone", "-q", str(bare), str(work))
    solve = work / "scripts" / "skymatchflow" / "solve" / "__init__.py"
    solve.write_text(solve.read_text() + "\n# a change of the solve's code\n")
    git(work, "commit", "-q", "-am", "next")
    git(work, "tag", "v99.0.0")
    git(work, "push", "-q", str(snakemake_clone), "v99.0.0")
    snakefile = readme_git_snakefile().replace(f'tag="{TAG}"', 'tag="v99.0.0"')
    (deployed / "workflow" / "Snakefile").write_text(snakefile)
    result = snakemake(deployed, ["--cores", "1", "--dry-run"], cache)
    assert result.returncode == 0, result.stderr[-3000:]
    following = git(work, "rev-parse", "v99.0.0^{commit}")
    assert (deployed / ".snakemake" / "skymatchflow" / "code" / following / "SOURCE_COMMIT").is_file()
    assert package.read_bytes() == shipped


def test_a_gitfile_source_is_refused_with_one_line(release, tmp_path):
    """gitfile(...): Snakemake cannot run local scripts beside it, so the run stops before any job saying what to use."""
    bare, _ = release
    local = tmp_path / "skymatch"  # a clone: Snakemake's gitfile needs a work tree
    git(tmp_path, "clone", "-q", str(bare), str(local))
    snakefile = readme_git_snakefile().replace(GITHUB_CALL, f'gitfile("{local}", path="workflow/Snakefile", tag="{TAG}")')
    deployed = deployed_dir(tmp_path / "m17", snakefile)
    result = snakemake(deployed, ["--cores", "1", "--dry-run"], tmp_path / "cache")
    assert result.returncode == 1
    assert "a gitfile(...) source, with which Snakemake cannot run local scripts; name it by github(...)" in (
        result.stdout + result.stderr
    )
    assert not (deployed / "results").exists()
