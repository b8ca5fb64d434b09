"""The conda environment and the pip requirements pin the same versions."""

import importlib.metadata
import re

import yaml

from helpers.paths import REPO


def pip_pins(path):
    pins = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s#]+)", line.strip())
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def test_conda_env_pins_equal_pip_pins():
    env = yaml.safe_load((REPO / "envs" / "skymatch.yaml").read_text())
    conda = dict(dep.split("=", 1) for dep in env["dependencies"] if isinstance(dep, str))
    pip = pip_pins(REPO / "envs" / "requirements.txt")
    assert conda.pop("python") == "3.11"
    assert conda == {name: version for name, version in pip.items() if name != "snakemake"}


def test_every_requirement_is_pinned():
    for name in ("requirements.txt", "requirements-test.txt", "requirements-jwst.txt", "requirements-slurm.txt"):
        for line in (REPO / "envs" / name).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith("-r"):
                assert "==" in line, f"{name}: {line} is not pinned"


def test_runtime_requirements_cover_snakemake_reports_extra():
    """`snakemake --report` must work from envs/requirements.txt alone.

    The test environment brings pygments through other packages, so a report
    run in the tests passed while the runtime environment lacked it. Here the
    runtime pins are compared with what snakemake[reports] declares.
    """
    extra = [
        re.match(r"[A-Za-z0-9_.-]+", req).group(0).lower()
        for req in importlib.metadata.requires("snakemake")
        if 'extra == "reports"' in req
    ]
    assert extra, "snakemake no longer declares a 'reports' extra"
    pins = pip_pins(REPO / "envs" / "requirements.txt")
    assert [name for name in extra if name not in pins] == []


def test_slurm_requirements_pin_the_executor_plugin_apart_from_the_runtime():
    """The SLURM plugin lives only in requirements-slurm.txt (it slows every start without a controller)."""
    slurm = pip_pins(REPO / "envs" / "requirements-slurm.txt")
    assert slurm["snakemake-executor-plugin-slurm"] == "2.8.0"
    for name in ("requirements.txt", "requirements-test.txt"):
        assert not any("slurm" in pkg for pkg in pip_pins(REPO / "envs" / name))
