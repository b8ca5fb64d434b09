"""The conda environment and the pip requirements pin the same versions."""

import re

import yaml

from conftest import REPO


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
    for name in ("requirements.txt", "requirements-test.txt", "requirements-jwst.txt"):
        for line in (REPO / "envs" / name).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line and not line.startswith("-r"):
                assert "==" in line, f"{name}: {line} is not pinned"
