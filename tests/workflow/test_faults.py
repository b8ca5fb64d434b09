"""Fault injection: after a kill, damage, a replaced input or a full disk, the next run is sound.

The invariant (README, "Re-runs and provenance"): the next plain run either
reproduces the sky table of a clean run on the same inputs bit for bit, or
stops with one line naming the file and the command that repairs it; it
never exits 0 with a stale or partial table. Each test works on a copy of
one small clean run (the demo at 128 px, every image its own sky group).
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest
import yaml
from astropy.io import fits

from helpers.paths import REPO
from helpers.user_runs import config_with, tables, write_config
from helpers.workflow_runner import SNAKEFILE, copy_run, run_snakemake

pytestmark = pytest.mark.e2e


def run(workdir, *args):
    result = run_snakemake(workdir, *(args or ("all",)))
    return result.returncode, result.stdout + result.stderr


def run_ok(workdir, *args):
    code, output = run(workdir, *args)
    assert code == 0, output[-3000:]
    return output


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A clean run; the demo files are kept by every copy."""
    workdir = tmp_path_factory.mktemp("faults_base")
    shipped = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    write_config(workdir, config_with(images=shipped["images"]))
    run_ok(workdir, "demo_mosaic")
    shutil.copytree(workdir / "resources" / "demo", workdir / "data", ignore=shutil.ignore_patterns("*.ecsv"))
    shutil.rmtree(workdir / "resources")
    write_config(workdir, config_with())
    run_ok(workdir, "all", "matched")
    return workdir


@pytest.fixture(scope="module")
def clean(tmp_path_factory, base):
    """clean(config changes, replaced input) -> the tables of a clean run on a fresh copy of the inputs."""
    cache = {}

    def tables_of(changes=(), replace=None):
        key = (tuple(sorted(changes)), replace)
        if key not in cache:
            workdir = tmp_path_factory.mktemp("faults_clean")
            shutil.copytree(base / "data", workdir / "data")
            write_config(workdir, config_with(**dict(changes)))
            if replace:
                brighten(workdir / replace)
            run_ok(workdir)
            cache[key] = tables(workdir)
        return cache[key]

    return tables_of


@pytest.fixture
def copy(base, tmp_path):
    return copy_run(base, tmp_path)


def demo_file(index):
    from skymatchflow.demo.names import demo_file_names

    return f"data/{demo_file_names()[index]}"


def brighten(path, mtime_ns=None):
    """Replace an input by a new file whose sky is 0.5 higher (optionally with an older mtime)."""
    with fits.open(path) as hdul:
        hdul = fits.HDUList([hdu.copy() for hdu in hdul])
    hdul["SCI"].data = hdul["SCI"].data + 0.5
    tmp = path.with_name(path.name + ".new")
    hdul.writeto(tmp)
    if mtime_ns is not None:
        os.utime(tmp, ns=(mtime_ns, mtime_ns))
    os.replace(tmp, path)


def start(workdir, *targets):
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE), "--directory", str(workdir),
               "--cores", "2", *(targets or ("all",))]
    return subprocess.Popen(command, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)


def wait_for(process, workdir, pattern, timeout=300):
    """Poll until a file matching ``pattern`` exists under ``workdir``; False if the run ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(workdir.glob(pattern)):
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.01)
    raise AssertionError(f"{pattern} never appeared")


def kill_group(process):
    """SIGKILL to the run's whole process group, as a scheduler's time limit does."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def cold(workdir):
    """Forget every result and Snakemake's records, keep the inputs."""
    for name in ("results", ".snakemake", "logs", "benchmarks"):
        shutil.rmtree(workdir / name, ignore_errors=True)


# the first file each stage writes: the kill lands inside that stage
STAGE_MARKS = {
    "image": "results/store/images/*/*",
    "graph": "logs/overlap_graph.log",
    "pairs": "results/store/pairs/*/*",
    "solve": "logs/solve_sky.log",
    "apply": "logs/apply_sky/*.log",
}


@pytest.mark.parametrize("stage", list(STAGE_MARKS))
def test_a_run_killed_inside_a_stage_resumes_to_the_clean_table(copy, clean, stage):
    cold(copy)
    process = start(copy, "all", "matched")
    reached = wait_for(process, copy, STAGE_MARKS[stage])
    kill_group(process)
    assert reached, f"the run ended before the {stage} stage was seen"
    run_ok(copy, "--unlock")
    run_ok(copy, "all", "matched")
    assert tables(copy) == clean()
    assert "Nothing to be done" in run_ok(copy, "all", "matched", "--dry-run")


def test_a_rerun_killed_in_its_pair_stage_resumes_to_the_clean_table(copy, clean):
    write_config(copy, config_with(skystat="median"))
    process = start(copy)
    reached = wait_for(process, copy, "logs/pair_batch/*.log")
    kill_group(process)
    assert reached
    run_ok(copy, "--unlock")
    run_ok(copy)
    assert tables(copy) == clean({"skystat": "median"}.items())


def damage(path, how):
    if how == "delete":
        path.unlink()
        return
    data = bytearray(path.read_bytes())
    # in place (a hard-linked store copy is damaged too); in a table, inside its last row
    data[len(data) - 20 if path.suffix == ".ecsv" else len(data) // 2] ^= 0x01
    with open(path, "r+b") as handle:
        handle.write(data)


ONE_LINE = re.compile(r"^.*(results/\S+): .*; run: (snakemake --forcerun \S+)$", re.MULTILINE)


@pytest.mark.parametrize(
    "pattern, how",
    [
        ("results/images/*/*.footprint.json", "flip"),
        ("results/images/*/*.sky.json", "delete"),
        ("results/images/*/*.mask.fits", "flip"),
        ("results/images/*/inputs.json", "delete"),
        ("results/pairs/*/*.json", "flip"),
        ("results/pairs/*/*.json", "delete"),
        ("results/overlaps/pairs.ecsv", "flip"),
    ],
    ids=lambda v: v.split("/")[-1] if "/" in v else v,
)
def test_a_damaged_stage_file_is_repaired_or_named_with_its_repair(copy, clean, pattern, how):
    victim = sorted(copy.glob(pattern))[1 if "pairs/*" in pattern else 0]
    damage(victim, how)
    # the solve must run again (as after any solve-only change) and check what it reads
    code, output = run(copy, "all", "--forcerun", "solve_sky")
    if code != 0:
        found = ONE_LINE.findall(output)
        assert found, output[-3000:]
        named, repair = found[0]
        assert (copy / named).resolve() == victim.resolve() or named in str(victim), (named, victim)
        assert "Traceback (most recent call last)" not in output
        run_ok(copy, "all", *repair.split()[1:])
    assert tables(copy) == clean()


def test_an_input_replaced_mid_run_is_never_left_in_a_clean_exit(copy, clean):
    cold(copy)
    target = demo_file(0)
    process = start(copy)
    assert wait_for(process, copy, "results/overlaps/pairs.ecsv")
    brighten(copy / target)
    output = process.communicate()[0].decode()
    if process.returncode != 0:
        assert re.search(rf"{re.escape(target)}: changed after the products of image \S+ were made", output), \
            output[-3000:]
    run_ok(copy)
    assert tables(copy) == clean(replace=target)


def test_an_input_replaced_by_a_copy_with_an_older_mtime_is_noticed(copy, clean):
    target = copy / demo_file(3)
    old = target.stat().st_mtime_ns - 10**12
    brighten(target, mtime_ns=old)
    assert target.stat().st_mtime_ns == old
    output = run_ok(copy)
    assert "Nothing to be done" not in output
    assert tables(copy) == clean(replace=demo_file(3))


def fill(directory):
    """Write until the file system is full."""
    with open(directory / "filler", "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass


def test_a_disk_that_fills_up_during_a_rerun_leaves_a_state_the_next_run_repairs(base, clean, tmp_path):
    mount = tmp_path / "small_disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(mount)], check=True)
    try:
        workdir = mount / "run"
        shutil.copytree(base, workdir, symlinks=True, ignore=shutil.ignore_patterns("matched"))
        shutil.rmtree(workdir / "logs")
        write_config(workdir, config_with(dqbits=4))
        process = start(workdir)
        assert wait_for(process, workdir, "logs/image_batch/*.log")
        fill(mount)  # the disk fills up while the image batches re-run
        output = process.communicate()[0].decode()
        assert process.returncode != 0, output[-3000:]
        (mount / "filler").unlink()
        run_ok(workdir, "--unlock")
        run_ok(workdir)
        assert tables(workdir) == clean({"dqbits": 4}.items())
        assert not (workdir / ".snakemake" / "backups").exists()
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
