# The workflow's own files on this machine (included first: common.smk imports
# the package from here). From a clone, the clone. From a Git address (a
# module whose snakefile is github(...) or gitlab(...), as snakedeploy writes
# it), Snakemake reads the rule files and fetches each rule's script alone,
# while the scripts import the package scripts/skymatchflow: so the commit's
# scripts/, workflow/ and config/ are copied once into
# .snakemake/skymatchflow/code/<commit>/, checked against the commit at every
# start, and every job runs its entry script from that copy (entry_script).
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger

CODE_CACHE = Path(".snakemake", "skymatchflow", "code")
COPIED = ("scripts", "workflow", "config")
COMMIT_FILE = "SOURCE_COMMIT"  # read by scripts/skymatchflow/io/codeid.py


def _git_source(basedir):
    """(git directory, ref) of a workflow read from a Git address, or None for a local one."""
    if isinstance(basedir, (str, os.PathLike)):
        return None
    ref = getattr(basedir, "ref", None)
    if hasattr(basedir, "repo_path"):  # gitfile(...), git+file:// (LocalGitFile)
        # Snakemake 9.27 then fails at every job (jobs.py joins a local script
        # path to the directory of a gitfile rule) so say it before any job
        raise WorkflowError(
            f"skymatch: the workflow is read from {basedir}, a gitfile(...) "
            "source, with which Snakemake cannot run local scripts; name it by "
            "github(...) or gitlab(...) (as snakedeploy does) or by a clone's "
            "path (module snakefile: /path/to/clone/workflow/Snakefile)"
        )
    # github(...), gitlab(...): Snakemake's bare clone of the repository
    if hasattr(basedir, "hosted_repo"):
        return str(basedir.hosted_repo.repo.git_dir), ref
    raise WorkflowError(
        f"skymatch: the workflow is read from {basedir}, which is neither a "
        "local directory nor a Git address; name it by github(...) or "
        "gitlab(...) (as snakedeploy does) or by a clone's path"
    )


def _git(git_dir, *args, **kwargs):
    return subprocess.run(
        ["git", "-C", git_dir, *args], check=True, capture_output=True, **kwargs
    ).stdout


def _blob_id(path):
    """Git's id of a file's bytes (what `git ls-tree` lists)."""
    data = path.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _copy_differs(tree, listing):
    """The first file of ``tree`` that is missing, changed or extra against the commit's listing, or None."""
    expected = {}
    for line in listing.decode().split("\0"):
        if not line:
            continue
        meta, name = line.split("\t", 1)
        expected[name] = meta.split()[2]
    for name, blob in expected.items():
        path = tree / name
        if not path.is_file() or _blob_id(path) != blob:
            return name
    for path in tree.rglob("*"):
        name = path.relative_to(tree).as_posix()
        if path.is_file() and name != COMMIT_FILE and "__pycache__" not in path.parts:
            if name not in expected:
                return name
    return None


def _materialise(git_dir, commit, tree):
    """Extract the commit's COPIED directories into ``tree`` (written aside, then renamed)."""
    tree.parent.mkdir(parents=True, exist_ok=True)
    aside = Path(tempfile.mkdtemp(prefix=f".{commit}.", dir=tree.parent))
    with tempfile.TemporaryFile() as archive:
        subprocess.run(
            ["git", "-C", git_dir, "archive", "--format=tar", commit, *COPIED],
            check=True,
            stdout=archive,
            stderr=subprocess.PIPE,
        )
        archive.seek(0)
        with tarfile.open(fileobj=archive) as tar:
            tar.extractall(aside, filter="data")
    (aside / COMMIT_FILE).write_text(f"{commit}\n")
    if tree.exists():  # a damaged copy: put aside, then removed
        stale = Path(tempfile.mkdtemp(prefix=f".{commit}.stale.", dir=tree.parent))
        tree.rename(stale / "tree")
        shutil.rmtree(stale, ignore_errors=True)
    try:
        aside.rename(tree)
    except OSError:  # another start made it meanwhile
        shutil.rmtree(aside, ignore_errors=True)


def workflow_tree(basedir):
    """(local directory holding the workflow's scripts/, workflow/ and config/, where it comes from).

    ``basedir``: this file's directory as Snakemake gives it (a path, or a
    Git source file). A copy from a Git address is keyed by its commit and
    made again when any of its files differs from the commit's, so the code
    run is always the code of the Snakefile's commit.
    """
    source = _git_source(basedir)
    if source is None:
        tree = Path(basedir).parents[1]
        return tree, str(tree / "workflow")
    git_dir, ref = source
    address = f"{basedir.host}/{basedir.repo}" if hasattr(basedir, "host") else git_dir
    try:
        commit = _git(
            git_dir, "rev-parse", "--verify", f"{ref}^{{commit}}", text=True
        ).strip()
        tree = CODE_CACHE.resolve() / commit
        listing = _git(git_dir, "ls-tree", "-r", "-z", commit, *COPIED)
        damaged = _copy_differs(tree, listing) if tree.is_dir() else None
        if damaged is not None:
            logger.warning(
                f"skymatch: {tree / damaged} differs from commit {commit}: copying the commit again"
            )
        if damaged is not None or not tree.is_dir():
            _materialise(git_dir, commit, tree)
            damaged = _copy_differs(tree, listing)
            if damaged is not None:
                raise WorkflowError(
                    f"skymatch: {tree / damaged} differs from commit {commit} after copying it"
                )
    except subprocess.CalledProcessError as err:
        raise WorkflowError(
            f"skymatch: cannot copy the workflow's code from {address} at {ref}: "
            f"{err.stderr.decode(errors='replace').strip()}"
        )
    return tree, f"{address} at {ref}, commit {commit[:12]}, copied to {tree}"


WORKFLOW_TREE, WORKFLOW_ORIGIN = workflow_tree(workflow.current_basedir)


def entry_script(name):
    """A rule's entry script, from WORKFLOW_TREE: the package beside it is the one the job imports."""
    return str(WORKFLOW_TREE / "scripts" / name)
