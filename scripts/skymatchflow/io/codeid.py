"""The identity of the code: a digest of the source files a product or a rule runs.

``__version__`` does not change when the package does, so a fix to the
statistic would leave every product key, and every table, as it was: a
re-run (even ``--forceall``) linked the old products back. Keys and rule
parameters therefore carry a digest of the source that makes them: the
package modules a stage imports (found by reading their ``import`` lines,
not by importing them: Snakemake's process must not import astropy), and
for rules also the Snakefile and rule files. A change to the solve then
re-runs the solve only; a change to a module that the image stage imports
recomputes the image products.

Only standard-library imports here: the Snakemake process reads it at
every start (about 5 ms for the whole package).
"""

import functools
import hashlib
import re
import subprocess
from pathlib import Path

from skymatchflow import __version__

PACKAGE = "skymatchflow"
SCRIPTS_DIR = Path(__file__).resolve().parents[2]  # holds the package and the rule entry scripts
REPO_DIR = SCRIPTS_DIR.parent
WORKFLOW_DIR = REPO_DIR / "workflow"

# the module whose imports make each kind of product (the store's kinds)
KIND_SOURCES = {
    "footprint": "skymatchflow.stages.image_batch",
    "mask": "skymatchflow.stages.image_batch",
    "sky": "skymatchflow.stages.image_batch",
    "preview": "skymatchflow.stages.image_batch",
    "graph": "skymatchflow.stages.overlap_graph",
    "pair": "skymatchflow.stages.pair_batch",
}

_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(skymatchflow(?:\.\w+)*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#]*)|import[ \t]+(skymatchflow(?:\.\w+)*))",
    re.M,
)


@functools.cache
def module_file(name):
    """The source file of a package module (or of a sub-package's ``__init__``), or None."""
    base = SCRIPTS_DIR.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate.resolve()
    return None


@functools.cache
def _imported_modules(path):
    """Package modules named by the import lines of one file (lazy imports inside functions included)."""
    names = set()
    for match in _IMPORT.finditer(Path(path).read_text()):
        base, imported, plain = match.groups()
        if plain:
            names.add(plain)
            continue
        names.add(base)
        for word in re.findall(r"\w+", imported):
            names.add(f"{base}.{word}")  # kept only when it is a module file
    return names


def _with_parents(name):
    """A module and the packages above it (their ``__init__`` runs on import)."""
    parts = name.split(".")
    return [".".join(parts[:n]) for n in range(1, len(parts) + 1)]


def source_closure(*paths):
    """Every package source file that ``paths`` (files) import, directly or not, and the files themselves."""
    seen = set()
    todo = [Path(path).resolve() for path in paths]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in _imported_modules(path):
            for parent in _with_parents(name):
                found = module_file(parent)
                if found is not None and found not in seen:
                    todo.append(found)
    return seen


@functools.cache
def _file_digest(path):
    try:
        name = path.relative_to(REPO_DIR).as_posix()
    except ValueError:
        name = path.name
    return hashlib.sha256(name.encode() + b"\0" + path.read_bytes()).hexdigest()


def digest_files(paths):
    """Hex SHA-256 over the files' paths (relative to the repository) and bytes, in sorted order."""
    digests = sorted(_file_digest(p if isinstance(p, Path) and p.is_absolute() else Path(p).resolve()) for p in paths)
    return hashlib.sha256("\n".join(digests).encode()).hexdigest()


@functools.cache
def module_digest(name):
    """Digest of one package module's source and of everything it imports from the package."""
    path = module_file(name)
    if path is None:
        raise ValueError(f"no module {name} in {SCRIPTS_DIR}")
    return digest_files(source_closure(path))


def kind_digest(kind):
    """Digest of the code that makes one kind of product (KIND_SOURCES); the whole package for other kinds."""
    return module_digest(KIND_SOURCES[kind]) if kind in KIND_SOURCES else package_digest()


@functools.lru_cache(maxsize=1)
def workflow_files():
    """The Snakefile and every rule file (absolute paths)."""
    return frozenset(path.resolve() for path in [WORKFLOW_DIR / "Snakefile", *(WORKFLOW_DIR / "rules").glob("*.smk")])


def rule_digest(script):
    """Digest of a rule's code: its entry script, the package modules it imports, the Snakefile and rule files."""
    return digest_files(source_closure(script) | workflow_files())


@functools.cache
def package_digest():
    """Digest of every source file of the package (what a table records as its code)."""
    return digest_files((SCRIPTS_DIR / PACKAGE).rglob("*.py"))


# written by workflow/rules/source.smk into its copy of a commit's code (a workflow
# deployed from a Git address): that copy is no checkout, and may lie inside the
# user's own repository, whose commit git would give
COMMIT_FILE = REPO_DIR / "SOURCE_COMMIT"


@functools.lru_cache(maxsize=1)
def git_commit():
    """The repository's commit, or None outside a git checkout (an installed copy, a tarball)."""
    if COMMIT_FILE.is_file():
        return COMMIT_FILE.read_text().strip()
    try:
        done = subprocess.run(
            ["git", "-C", str(REPO_DIR), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", commit) else None


def code_identity():
    """{"version", "digest", "commit"}: what every product and table records about the code that made it."""
    return {"version": __version__, "digest": package_digest(), "commit": git_commit()}
