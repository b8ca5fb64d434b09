"""Every command shown in README.md, config/README.md and workflow/profiles/README.md works.

Commands are read from the documents themselves (```bash blocks, and inline
code that starts with a program), so a command added, changed or broken in
the docs is tested without touching this file; a program this file does not
know fails the test until a check is written for it. How each is checked:

- ``snakemake``: parsed with Snakemake's own argument parser (every
  ``--configfile`` value must be a config file, not a target swallowed by
  it), then run in a clone of the repository (symbolic links to ``workflow/``,
  ``scripts/``, ``envs/``, ``tests/``; the demo shrunk to 128 px detectors):
  the demo's commands for real after one full demo run, a ``--configfile
  my.yaml`` command as a dry run in a second clone whose ``my.yaml`` holds
  two real 2MASS tiles (one dataset, one directory); the commands of the
  README's "In your own directory" section in a temporary directory holding
  that section's own ``Snakefile`` (the workflow as a ``module``, its path
  put in) and a config of two 2MASS tiles. Commands through the
  SLURM profile are parsed only, and their profile must exist: the executor
  plugin lives in its own venv and a SLURM run is ``tests/cluster``'s job.
- ``pip install -r F``: every F exists and pins every package.
- ``python -m venv``: the interpreter's version is the one named.
- ``python -m pytest [paths]``: collected (``--collect-only``), never run.
- ``scancel``/``squeue``: options checked against the ones the docs may use;
  the recovery pipeline (``grep ... | xargs scancel``): bash syntax, its
  programs, and that tests/cluster runs it as written.
- options shown alone (``--forcerun solve_sky``): parsed by Snakemake, and
  ``--set-resources`` must name rules of the workflow; the few options of
  other programs (benchmark scripts, the SLURM plugin) are listed here.
"""

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers.paths import REPO, SHARED_DATA

pytestmark = pytest.mark.e2e

DOCUMENTS = ("README.md", "config/README.md", "workflow/profiles/README.md")
SLURM_OPTIONS = {"scancel": {"--name"}, "squeue": {"--me", "-o"}}
PROGRAMS = {"snakemake", "pip", "python", "python3.11", "scancel", "squeue"}
# snakemake actions that only look (run for real, in the demo clone)
LOOKING = {"--unlock", "--list-rules", "--version", "--help"}
M17 = sorted((SHARED_DATA / "m17_2mass").glob("*.fits.gz"))[:2]


def program_of(command):
    """The program a command runs (``.venv/bin/snakemake`` -> ``snakemake``), or None."""
    words = command.split()
    return Path(words[0]).name if words and Path(words[0]).name in PROGRAMS else None


def inline_commands(text):
    """Inline code spans that run a program (a lone SLURM program name is a name, not a command)."""
    for span in re.findall(r"`([^`\n]+)`", text):
        program = program_of(span)
        if program and not (program in SLURM_OPTIONS and len(span.split()) == 1):
            yield span.strip()


def block_commands(text):
    """Lines of ```bash blocks, comments dropped, split at ``&&``."""
    for block in re.findall(r"^ *```bash\n(.*?)^ *```", text, re.MULTILINE | re.DOTALL):
        for line in block.splitlines():
            line = line.split(" #")[0].strip()
            for part in line.split("&&"):
                if part.strip():
                    yield part.strip()


MODULE_SECTION = "In your own directory"


def documented_commands():
    """(document, section, command) for every distinct command, in document order."""
    seen = {}
    for name in DOCUMENTS:
        for section in re.split(r"^## ", (REPO / name).read_text(), flags=re.MULTILINE):
            title = section.splitlines()[0] if section else ""
            for command in [*block_commands(section), *inline_commands(section)]:
                seen.setdefault(command, (name, title))
    return [(name, title, command) for command, (name, title) in seen.items()]


COMMANDS = documented_commands()


def make_clone(root):
    """A directory that looks like a fresh clone, without copying the code or touching the repository."""
    root.mkdir()
    for name in ("workflow", "scripts", "envs", "tests", "pytest.ini"):
        (root / name).symlink_to(REPO / name)
    shutil.copytree(REPO / "config", root / "config")
    return root


@pytest.fixture(scope="module")
def demo_clone(tmp_path_factory):
    """A clone after the README's first command (the demo, 128 px detectors to keep it short)."""
    clone = make_clone(tmp_path_factory.mktemp("docs") / "clone")
    config_path = clone / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    config_path.write_text(yaml.safe_dump(config | {"demo": {"detector_size": 128}}))
    result = snakemake(clone, ["--cores", "2"])
    assert result.returncode == 0, result.stderr[-3000:]
    return clone


@pytest.fixture(scope="module")
def module_dir(tmp_path_factory):
    """A user's own directory: the README's module Snakefile (the clone's path put in) and two 2MASS tiles."""
    readme = (REPO / "README.md").read_text()
    section = next(s for s in re.split(r"^## ", readme, flags=re.MULTILINE) if s.startswith(MODULE_SECTION))
    # the clone's Snakefile (the Git address's is tests/workflow/test_deployment.py's)
    blocks = re.findall(r"^```python\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    (snakefile,) = [block for block in blocks if "/path/to/skymatch/workflow/Snakefile" in block]
    workdir = tmp_path_factory.mktemp("docs") / "m17"
    (workdir / "config").mkdir(parents=True)
    (workdir / "Snakefile").write_text(snakefile.replace("/path/to/skymatch", str(REPO)))
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump({"images": [str(p) for p in M17]}))
    workdir.joinpath(".clone_before").write_text("\n".join(clone_entries()))
    return workdir


def clone_entries():
    """The repository's top-level names (pytest's own cache aside): a run elsewhere must add none."""
    return sorted(path.name for path in REPO.iterdir() if path.name != ".pytest_cache")


@pytest.fixture(scope="module")
def data_clone(tmp_path_factory):
    """A second clone for a user's own data (two 2MASS tiles in ``my.yaml``)."""
    clone = make_clone(tmp_path_factory.mktemp("docs") / "clone")
    (clone / "my.yaml").write_text(yaml.safe_dump({"images": [str(p) for p in M17]}))
    return clone


def snakemake(clone, args):
    command = ["timeout", "-s", "KILL", "900", sys.executable, "-m", "snakemake", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=clone)


def parse_snakemake(args):
    from snakemake.cli import get_argument_parser

    parsed = get_argument_parser().parse_args(args)
    for path in parsed.configfile or []:
        assert Path(path).suffix in (".yaml", ".yml", ".json"), (
            f"--configfile takes {path} as a config file: put targets before --configfile"
        )
    return parsed


def check_snakemake(words, request, section):
    args = words[1:]
    if not {"--help", "--version"} & set(args):  # argparse would exit on these
        parsed = parse_snakemake(args)
    if "--workflow-profile" in args:
        profile = args[args.index("--workflow-profile") + 1]
        assert (REPO / "workflow" / "profiles" / profile / "config.yaml").is_file()
        if profile != "default":
            return  # needs the executor plugin's venv and a SLURM: tests/cluster
    if section.startswith(MODULE_SECTION):
        clone = request.getfixturevalue("module_dir")
    elif "--configfile" in args and not LOOKING & set(args):
        clone = request.getfixturevalue("data_clone")
        for path in parsed.configfile:
            assert (clone / path).is_file(), f"{path}: the docs use a config the test does not provide"
        args = [*args, "--dry-run"]
    else:
        clone = request.getfixturevalue("demo_clone")
    result = snakemake(clone, args)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    if "--report" in args:
        assert (clone / args[args.index("--report") + 1]).stat().st_size > 10_000


def check_pip(words):
    assert words[1] == "install"
    files = [words[i + 1] for i, word in enumerate(words) if word == "-r"]
    assert files and len(files) * 2 == len(words) - 2, f"only -r FILE arguments expected: {words}"
    for name in files:
        for line in (REPO / name).read_text().splitlines():
            line = line.split("#")[0].strip()
            assert not line or line.startswith("-r ") or "==" in line, f"{name}: {line} is not pinned"


def check_python(words, program):
    if words[1:3] == ["-m", "venv"]:
        assert len(words) == 4 and "/" not in words[3]
        assert program == f"python{sys.version_info.major}.{sys.version_info.minor}"
    elif words[1:3] == ["-m", "pytest"]:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *words[3:]],
            capture_output=True, text=True, cwd=REPO,
        )
        assert result.returncode == 0, result.stdout[-3000:]
        assert re.search(r"^\d+ tests? collected", result.stdout, re.MULTILINE), result.stdout[-500:]
    else:
        pytest.fail(f"no check for this python command: {' '.join(words)}")


PIPE_PROGRAMS = {"grep", "cut", "xargs"}


def check_pipeline(command):
    """A shell pipeline (the cluster recovery line): valid bash of known programs, ending in a checked scancel,
    and run as written on a real SLURM by tests/cluster (which asserts that the README holds it)."""
    subprocess.run(["bash", "-n", "-c", command], check=True)
    stages = [shlex.split(stage) for stage in command.split("|")]
    assert {stage[0] for stage in stages} <= PIPE_PROGRAMS, command
    last = stages[-1]
    scancel = last.index("scancel")
    check_slurm(last[scancel:], "scancel")
    assert "CANCEL_LOST_RUN in README" in (REPO / "tests" / "cluster" / "test_slurm.py").read_text()


def check_slurm(words, program):
    options = {word for word in words[1:] if word.startswith("-")}
    assert options <= SLURM_OPTIONS[program], f"{program}: {options - SLURM_OPTIONS[program]}"


@pytest.mark.parametrize(("document", "section", "command"), COMMANDS, ids=[c for _, _, c in COMMANDS])
def test_documented_command_works(document, section, command, request):
    words = shlex.split(command)
    program = program_of(command)
    if program == "snakemake":
        check_snakemake(words, request, section)
    elif program == "pip":
        check_pip(words)
    elif program is None and "|" in command:
        check_pipeline(command)
    elif program.startswith("python"):
        check_python(words, program)
    elif program in SLURM_OPTIONS:
        check_slurm(words, program)
    else:
        pytest.fail(f"{document}: no check for {command}")


# options of other programs, shown alone in the docs: the benchmark scripts' own
# (tests/benchmarks, not run by the suite) and the SLURM plugin's (tests/cluster)
NOT_SNAKEMAKE_OPTIONS = {"--n", "--mosaic-side", "--survey", "--slurm-status-command"}


def option_fragments():
    """Inline code of two or more words that starts with an option (``--forcerun solve_sky``)."""
    for name in DOCUMENTS:
        for span in re.findall(r"`(--[^`\n]+)`", (REPO / name).read_text()):
            if len(span.split()) > 1:
                yield span


SNAKEMAKE_FRAGMENTS = sorted({f for f in option_fragments() if f.split()[0] not in NOT_SNAKEMAKE_OPTIONS})


@pytest.mark.parametrize("fragment", SNAKEMAKE_FRAGMENTS)
def test_documented_option_fragment_parses(fragment):
    """Snakemake accepts each option shown alone (``...`` stands for a number); --set-resources names real rules."""
    words = shlex.split(fragment.replace("...", "1000"))
    parsed = parse_snakemake(words)
    if parsed.set_resources:
        rules = re.findall(r"^(?:rule|checkpoint) (\w+):", "".join(
            path.read_text() for path in (REPO / "workflow" / "rules").glob("*.smk")), re.MULTILINE)
        assert {entry.split(":")[0] for entry in parsed.set_resources} <= set(rules)


def test_every_document_has_commands():
    """The extraction finds the commands (an empty list would pass every test above vacuously)."""
    found = {document for document, _, _ in COMMANDS}
    assert found == set(DOCUMENTS)
    assert len(COMMANDS) >= 20
    assert {f.split()[0] for f in option_fragments()} >= NOT_SNAKEMAKE_OPTIONS  # none left over


def test_a_target_after_configfile_is_refused():
    """The README's old JWST command, which Snakemake read as two config files."""
    with pytest.raises(AssertionError, match="put targets before --configfile"):
        parse_snakemake(["--cores", "8", "--configfile", "my.yaml", "matched"])


def test_the_demo_run_records_the_version_in_every_result_and_log(demo_clone):
    """The README's first command's results and logs all name the package's version."""
    from astropy.io import fits
    from astropy.table import Table

    from skymatchflow import __version__

    result = snakemake(demo_clone, ["--cores", "2", "matched"])
    assert result.returncode == 0, result.stderr[-3000:]
    head = result.stderr.splitlines()[:3]  # the console's head (Snakemake names the profile first)
    assert any(line.startswith(f"skymatchflow {__version__} (") for line in head), head
    from PIL import Image

    for table in ("sky.ecsv", "pair_differences.ecsv", "summary.ecsv", "demo_recovered_vs_injected.ecsv"):
        assert Table.read(demo_clone / "results" / table).meta["software"]["skymatchflow"] == __version__, table
    figures = sorted((demo_clone / "results" / "diagnostics").glob("*.png"))
    assert len(figures) == 5  # four diagnostics and the demo's
    for figure in figures:
        assert Image.open(figure).info["Software"] == f"skymatchflow {__version__}", figure
    for copy in (demo_clone / "results" / "matched").iterdir():
        assert fits.getheader(copy)["SKYMFVER"] == __version__
    logs = sorted((demo_clone / "logs").rglob("*.log"))
    assert len(logs) >= 10  # the demo's jobs: mosaic, image and pair batches, graph, solve, diagnostics, apply
    for log in logs:
        assert f" INFO skymatchflow {__version__}, rule " in log.read_text().splitlines()[0], log


def test_the_workflow_runs_as_a_module_from_the_user_s_own_directory(module_dir):
    """The README's module section: results, logs and report in the user's directory, nothing in the clone."""
    from astropy.table import Table

    for args in (["--cores", "2", "matched"], ["--cores", "2"], ["--report", "report.html"]):
        result = snakemake(module_dir, args)
        assert result.returncode == 0, result.stderr[-3000:]
    assert clone_entries() == (module_dir / ".clone_before").read_text().splitlines()
    sky = Table.read(module_dir / "results" / "sky.ecsv")
    assert sorted(sky["file"]) == sorted(str(p) for p in M17) and set(sky["status"]) == {"COMPLETE"}
    assert len(list((module_dir / "results" / "matched").iterdir())) == len(M17)
    assert (module_dir / "logs" / "solve_sky.log").is_file()
    assert (module_dir / "results" / "diagnostics" / "mosaic.png").is_file()
    assert "filename=mosaic.png;base64,iVBORw0KGgo" in (module_dir / "report.html").read_text(errors="replace")
