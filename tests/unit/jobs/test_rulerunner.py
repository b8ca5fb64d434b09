"""The rule runner: a bad input is one line in the log (after the version line) and on stderr; a bug keeps its traceback."""

import subprocess
import sys
import textwrap

from helpers.paths import REPO
from skymatchflow import __version__

SCRIPT = textwrap.dedent("""
    import sys, types
    from skymatchflow.errors import InputError
    from skymatchflow.jobs.rulerunner import run_rule

    def bad_input(smk):
        raise InputError("x.fits", "not a FITS file")

    def bug(smk):
        {}["missing"]

    def fine(smk):
        import logging
        logging.info("made it")
        logging.getLogger("per.image").info("image 1 of 20000", extra={"log_only": True})

    smk = types.SimpleNamespace(log=[sys.argv[2]])
    run_rule({"bad_input": bad_input, "bug": bug, "fine": fine}[sys.argv[1]], smk)
""")


def run(tmp_path, which):
    log = tmp_path / f"{which}.log"
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, which, str(log)], capture_output=True, text=True,
        env={"PYTHONPATH": str(REPO / "scripts")},
    )
    return result, log.read_text()


def test_a_bad_input_is_one_line_in_the_log_and_on_stderr(tmp_path):
    result, log = run(tmp_path, "bad_input")
    assert result.returncode == 1
    head, *rest = log.splitlines()
    assert rest == [rest[0]] and "ERROR x.fits: not a FITS file" in rest[0]
    assert result.stderr.count("\n") == 1
    assert "x.fits: not a FITS file" in result.stderr and "Traceback" not in result.stderr + log


def test_a_bug_keeps_its_traceback_in_the_log(tmp_path):
    result, log = run(tmp_path, "bug")
    assert result.returncode == 1
    assert "unexpected error (a bug" in log and "KeyError: 'missing'" in log and "Traceback" in log


def test_success_logs_and_exits_0(tmp_path):
    result, log = run(tmp_path, "fine")
    assert result.returncode == 0 and "INFO made it" in log
    # a per-image line reaches the log only, the console keeps the rest
    assert "image 1 of 20000" in log and "image 1 of 20000" not in result.stderr and "made it" in result.stderr


def test_every_log_starts_with_the_version(tmp_path):
    for which in ("fine", "bad_input", "bug"):
        head = run(tmp_path, which)[1].splitlines()[0]
        assert head.endswith(f" INFO skymatchflow {__version__}"), head
    assert "skymatchflow" not in run(tmp_path, "bad_input")[0].stderr  # the console keeps its one line


ENVIRONMENT = textwrap.dedent("""
    import errno, sys, types
    from skymatchflow.jobs.rulerunner import run_rule

    def full_disk(smk):
        raise OSError(errno.ENOSPC, "No space left on device", "results/store/images/a/k.mask.fits")

    def read_only(smk):
        raise OSError(errno.EROFS, "Read-only file system", "results/images/.i000.tmp")

    def other(smk):
        raise OSError(errno.EIO, "Input/output error", "results/x")

    smk = types.SimpleNamespace(log=[sys.argv[2]])
    run_rule({"full_disk": full_disk, "read_only": read_only, "other": other}[sys.argv[1]], smk)
""")


def run_environment(tmp_path, which):
    log = tmp_path / f"{which}.log"
    result = subprocess.run(
        [sys.executable, "-c", ENVIRONMENT, which, str(log)], capture_output=True, text=True,
        env={"PYTHONPATH": str(REPO / "scripts")},
    )
    return result, log.read_text()


def test_an_environment_fault_is_one_line_naming_the_path_and_the_cause(tmp_path):
    for which, expected in [
        ("full_disk", "results/store/images/a/k.mask.fits: no space left on the device; free space"),
        ("read_only", "results/images/.i000.tmp: read-only file system"),
    ]:
        result, log = run_environment(tmp_path, which)
        assert result.returncode == 1
        assert result.stderr.count("\n") == 1 and expected in result.stderr, result.stderr
        assert "Traceback" not in log and "a bug" not in log


def test_an_other_os_error_is_a_bug_with_its_traceback(tmp_path):
    result, log = run_environment(tmp_path, "other")
    assert result.returncode == 1
    assert "a bug" in log and "Traceback" in log


SHADOWED = textwrap.dedent("""
    import sys, types
    from skymatchflow.jobs.rulerunner import run_rule

    def fine(smk):
        print("ran")

    smk = types.SimpleNamespace(log=[sys.argv[2]], scriptdir=sys.argv[1])
    run_rule(fine, smk)
""")


def test_a_package_other_than_the_one_beside_the_entry_script_is_refused(tmp_path):
    """Another copy ahead on the path (one installed in the environment) stops the job with one line naming both."""
    elsewhere = tmp_path / "workflow_scripts"
    (elsewhere / "skymatchflow").mkdir(parents=True)
    results = {}
    for name, scriptdir in (("own", REPO / "scripts"), ("other", elsewhere)):
        log = tmp_path / f"{name}.log"
        results[name] = subprocess.run(
            [sys.executable, "-c", SHADOWED, str(scriptdir), str(log)], capture_output=True, text=True,
            env={"PYTHONPATH": str(REPO / "scripts")},
        ), log.read_text()
    own, _ = results["own"]
    assert own.returncode == 0 and own.stdout == "ran\n"
    other, log = results["other"]
    assert other.returncode == 1 and "ran" not in other.stdout
    line = f"{REPO / 'scripts' / 'skymatchflow'}: skymatchflow {__version__} was imported from there, not from the workflow's {elsewhere / 'skymatchflow'}"
    assert line in other.stderr and other.stderr.count("\n") == 1 and line in log
