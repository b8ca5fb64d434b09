"""Results that verify themselves: a change to the code, a method switch, a lost ``.snakemake/``, a deleted
results folder or input is noticed by the next plain run, which ends with the table of a clean run.

Each test works on a copy of one small clean run (the demo at 128 px, two
detectors of each of its two exposures as the user's own files, each its own
sky group) and compares the tables, byte for byte, with a clean run of the same
code, config and inputs.
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

from helpers.paths import REPO
from helpers.user_runs import TABLES, config_with, tables, write_config
from helpers.workflow_runner import copy_run

pytestmark = pytest.mark.e2e

CHECKOUT_PARTS = ("workflow", "scripts", "config", "envs")


def run(workdir, *args, checkout=REPO):
    command = [
        "timeout", "-s", "KILL", "900", sys.executable, "-m", "snakemake",
        "--snakefile", str(checkout / "workflow" / "Snakefile"), "--directory", str(workdir), "--cores", "2",
        *(args or ("all",)),
    ]
    result = subprocess.run(command, capture_output=True, text=True, cwd=workdir)
    return result.returncode, result.stdout + result.stderr


def run_ok(workdir, *args, checkout=REPO):
    code, output = run(workdir, *args, checkout=checkout)
    assert code == 0, output[-3000:]
    return output


def planned(workdir, checkout=REPO):
    """{rule: jobs} a dry run plans."""
    output = run_ok(workdir, "all", "--dry-run", checkout=checkout)
    if "Nothing to be done" in output:
        return {}
    block = output.split("Job stats:")[1].split("total")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", block, re.MULTILINE)}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Two detectors of each of the first two exposures of the demo, as the user's own files."""
    workdir = tmp_path_factory.mktemp("provenance_demo")
    shipped = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    write_config(workdir, config_with(images=shipped["images"]))
    run_ok(workdir, "demo_mosaic")
    files = sorted((workdir / "resources" / "demo").glob("*_0000[12]_nrca[12]_cal.fits"))
    assert len(files) == 4  # two detectors of each exposure: they overlap across the dither
    return files


def fresh(tmp_path_factory, data, **changes):
    """A new working directory with copies of the inputs and a config; not run."""
    workdir = tmp_path_factory.mktemp("provenance_run")
    (workdir / "data").mkdir()
    for path in data:
        shutil.copy2(path, workdir / "data" / path.name)
    write_config(workdir, config_with(**changes))
    return workdir


@pytest.fixture(scope="module")
def clean(tmp_path_factory, data):
    """clean(**config changes) -> the tables of a clean run (cached)."""
    cache = {}

    def tables_of(checkout=REPO, **changes):
        key = (str(checkout), tuple(sorted(changes.items())))
        if key not in cache:
            workdir = fresh(tmp_path_factory, data, **changes)
            run_ok(workdir, checkout=checkout)
            cache[key] = tables(workdir)
        return cache[key]

    return tables_of


@pytest.fixture(scope="module")
def base(tmp_path_factory, data, clean):
    workdir = fresh(tmp_path_factory, data)
    run_ok(workdir)
    assert tables(workdir) == clean()
    return workdir


@pytest.fixture
def copy(base, tmp_path):
    return copy_run(base, tmp_path)


@pytest.fixture
def checkout(tmp_path):
    """A copy of the repository's code (no .git), to patch."""
    root = tmp_path / "checkout"
    for part in CHECKOUT_PARTS:
        shutil.copytree(REPO / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def patch(path, old, new):
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


STATISTIC = ("scripts/skymatchflow/stats/imagestats.py", "    x = _as_float32_flat(data)\n")


@pytest.mark.parametrize("how", [(), ("--forceall",)], ids=["plain", "forceall"])
def test_a_code_upgrade_that_changes_the_statistic_gives_the_upgraded_clean_table(copy, checkout, clean, how):
    run_ok(copy, checkout=checkout)  # Snakemake's own records name the script's path: settle them first
    assert planned(copy, checkout) == {}
    path, line = STATISTIC
    patch(checkout / path, line, line + "    x = x * np.float32(1.25)  # a stand-in for a fix\n")
    output = run_ok(copy, "all", *how, checkout=checkout)
    assert "Nothing to be done" not in output
    upgraded = clean(checkout=checkout)
    assert upgraded != clean()
    assert tables(copy) == upgraded
    assert planned(copy, checkout) == {}


def test_a_change_to_the_solve_reruns_the_solve_and_what_follows_only(copy, checkout):
    run_ok(copy, checkout=checkout)
    patch(checkout / "scripts/skymatchflow/solve/skymatch.py", '"""', '"""(patched) ')
    jobs = planned(copy, checkout)
    assert "solve_sky" in jobs
    assert not {"image_batch", "overlap_graph", "pair_batch"} & set(jobs), jobs


def test_a_change_to_a_rule_file_reruns_jobs_but_computes_no_product(copy, checkout, clean):
    run_ok(copy, checkout=checkout)
    rules = checkout / "workflow" / "rules" / "solve_sky.smk"
    rules.write_text(rules.read_text() + "# a comment\n")
    started = time.time_ns()
    run_ok(copy, checkout=checkout)
    logs = [log for log in (copy / "logs" / "image_batch").glob("*.log") if log.stat().st_mtime_ns >= started]
    assert logs  # every job re-ran (its code is part of its identity) ...
    for log in logs:  # ... and linked its products
        made = re.findall(r"(?:footprint|mask|sky) (\d+) made", log.read_text())
        assert made and all(n == "0" for n in made), log.read_text()
    assert tables(copy) == clean(checkout=checkout)  # the tables record the code: compare with the same code


@pytest.mark.parametrize(
    "before, after",
    [("global", "global+match"), ("global+match", "global"), ("local", "match"), ("match", "local"),
     ("match", "global+match"), ("global+match", "match")],
)
def test_a_skymethod_switch_gives_the_clean_table(tmp_path_factory, data, clean, before, after):
    workdir = fresh(tmp_path_factory, data, skymethod=before)
    run_ok(workdir)
    write_config(workdir, config_with(skymethod=after))
    output = run_ok(workdir)
    assert "Nothing to be done" not in output
    assert tables(workdir) == clean(skymethod=after)


@pytest.mark.parametrize(
    "change",
    [{"dqbits": 4}, {"match_down": False}, {"skystat": "median"}, {"stepsize": 64}, {"subtract": True},
     {"skymethod": "local"}],
    ids=lambda change: ",".join(change),
)
def test_without_snakemake_records_a_config_change_gives_the_clean_table(copy, clean, change):
    shutil.rmtree(copy / ".snakemake")
    write_config(copy, config_with(**change))
    run_ok(copy)
    assert tables(copy) == clean(**change)
    assert planned(copy) == {}


def test_without_snakemake_records_an_input_replaced_by_cp_p_is_noticed(copy, tmp_path, clean):
    shutil.rmtree(copy / ".snakemake")
    target = sorted((copy / "data").glob("*.fits"))[1]
    other = tmp_path / "other.fits"
    from astropy.io import fits

    with fits.open(target) as hdul:
        hdul["SCI"].data = hdul["SCI"].data + 0.5
        hdul.writeto(other)
    os.utime(other, ns=(target.stat().st_mtime_ns - 10**12,) * 2)
    subprocess.run(["cp", "-p", str(other), str(target)], check=True)
    output = run_ok(copy)
    assert "Nothing to be done" not in output
    assert tables(copy) != clean()
    assert planned(copy) == {}


@pytest.mark.parametrize("folder", ["images", "overlaps", "overlaps/batches", "pairs", "store", ".identity",
                                    "diagnostics"])
def test_a_deleted_results_folder_is_made_again(copy, clean, folder):
    shutil.rmtree(copy / "results" / folder)
    output = run_ok(copy)
    assert tables(copy) == clean()
    if folder != "store":  # the batch directories still hold every product: nothing is missing
        assert "Nothing to be done" not in output
    assert planned(copy) == {}


def test_a_deleted_input_found_by_a_glob_gives_the_clean_table_without_it(copy, clean, tmp_path_factory, data):
    removed = sorted((copy / "data").glob("*.fits"))[2]
    removed.unlink()
    output = run_ok(copy)
    assert "Nothing to be done" not in output
    workdir = fresh(tmp_path_factory, [path for path in data if path.name != removed.name])
    run_ok(workdir)
    assert tables(copy) == tables(workdir)


def test_a_deleted_input_listed_by_path_stops_the_next_run_before_any_job_naming_it(copy):
    listed = sorted(f"data/{path.name}" for path in (copy / "data").glob("*.fits"))
    write_config(copy, config_with(images=listed))
    run_ok(copy)
    before = tables(copy)
    (copy / listed[2]).unlink()
    started = time.time_ns()
    code, output = run(copy)
    assert code != 0
    errors = [line for line in output.splitlines() if line.startswith("Error")]
    assert errors == [f"Error: {listed[2]}: file not found (a listed input); put it back or take it off the list"], output
    assert "Traceback" not in output
    assert not [log for log in (copy / "logs").rglob("*.log") if log.stat().st_mtime_ns >= started]
    assert tables(copy) == before  # nothing was run: the next run, with the list fixed, decides


def damage_a_batch_product(workdir):
    path = sorted((workdir / "results" / "images").glob("*/*.footprint.json"))[0]
    text = path.read_text()
    path.unlink()  # a new file: the store's linked copy stays sound
    path.write_text(text.replace('"image"', '"imagE"', 1))
    return rf"{re.escape(str(path.relative_to(workdir)))}: damaged"


def damage_a_stored_product(workdir):
    path = sorted((workdir / "results" / "store" / "images").glob("*/*.mask.fits"))[0]
    with open(path, "r+b") as handle:  # in place: its batch directory's link is damaged too
        handle.seek(-100, os.SEEK_END)
        handle.write(b"\1")
    return rf"{re.escape(str(path.relative_to(workdir)))}: damaged \(its seal does not hold\)"


def delete_a_pair_record(workdir):
    path = sorted((workdir / "results" / "pairs").glob("*/*.json"))[0]
    path.unlink()
    return rf"{re.escape(str(path.relative_to(workdir)))}: missing"


def change_an_input_keeping_its_dates(workdir):
    path = sorted((workdir / "data").glob("*.fits"))[0]
    info = path.stat()
    with open(path, "r+b") as handle:
        handle.seek(-10, os.SEEK_END)
        handle.write(b"\7")
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    return rf"data/{re.escape(path.name)}: changed since the products of image \S+ were made"


def change_the_config_without_running(workdir):
    write_config(workdir, config_with(match_down=False))
    return r"results/sky\.ecsv: made with another config"


@pytest.mark.parametrize(
    "damage",
    [damage_a_batch_product, damage_a_stored_product, delete_a_pair_record, change_an_input_keeping_its_dates,
     change_the_config_without_running],
    ids=lambda damage: damage.__name__,
)
def test_the_audit_finds_each_kind_of_damage_one_line_each(copy, damage):
    output = run_ok(copy, "audit")
    assert re.search(r"^audit: OK \(\d+ products, 4 inputs\)$", output, re.MULTILINE), output[-2000:]
    expected = damage(copy)
    code, output = run(copy, "audit")
    assert code != 0
    assert re.search(rf"^{expected}", output, re.MULTILINE), output[-3000:]
    assert re.search(r"^audit: \d+ problems?$", output, re.MULTILINE)


def test_the_audit_finds_results_made_by_other_code(copy, checkout):
    path, line = STATISTIC
    patch(checkout / path, line, line + "    x = x * np.float32(1.25)  # a stand-in for a fix\n")
    code, output = run(copy, "audit", checkout=checkout)
    assert code != 0
    assert re.search(r"^results/sky\.ecsv: made by other code than this checkout's", output, re.MULTILINE), output
    assert re.search(r"^results/images/\S+: damaged or made from other inputs, parameters or code", output,
                     re.MULTILINE)


def test_matched_copies_record_their_identity_and_the_audit_finds_stale_ones(copy):
    from skymatchflow.stages.apply_sky import recorded_identity

    run_ok(copy, "matched")
    copies = sorted((copy / "results" / "matched").glob("*.fits"))
    assert len(copies) == 4 and len({recorded_identity(path)["key"] for path in copies}) == 4
    assert re.search(r"^audit: OK \(\d+ products, 4 inputs\)$", run_ok(copy, "audit"), re.MULTILINE)
    write_config(copy, config_with(match_down=False))
    run_ok(copy)  # a new sky table; the copies stay as they were
    code, output = run(copy, "audit")
    assert code != 0
    for path in copies:
        assert re.search(rf"^results/matched/{re.escape(path.name)}: made from another sky table", output,
                         re.MULTILINE), output[-3000:]
    run_ok(copy, "matched")
    assert re.search(r"^audit: OK ", run_ok(copy, "audit"), re.MULTILINE)


def disk_bytes(folder):
    """Bytes of the files under ``folder``, each inode counted once (hard links share their bytes)."""
    seen, total = set(), 0
    for root, _, names in os.walk(folder):
        for name in names:
            info = os.lstat(os.path.join(root, name))
            if info.st_ino not in seen:
                seen.add(info.st_ino)
                total += info.st_size
    return total


def start(workdir):
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "workflow" / "Snakefile"),
               "--directory", str(workdir), "--cores", "2", "all"]
    return subprocess.Popen(command, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def kill_when_products_appear(process, store, before, timeout=300):
    """SIGKILL the run's process group once the store holds more products than ``before`` (or the run ended)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if len(list(store.glob("images/*/*"))) > before:
            break
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def test_ten_kill_cycles_leave_results_no_larger_than_a_clean_run(copy, tmp_path_factory, data):
    store = copy / "results" / "store"
    for cycle in range(10):
        write_config(copy, config_with(dqbits=2 ** (cycle + 1)))  # every cycle supersedes the masks
        run_ok(copy, "--unlock")
        kill_when_products_appear(start(copy), store, len(list(store.glob("images/*/*"))))
    run_ok(copy, "--unlock")
    run_ok(copy)
    clean_run = fresh(tmp_path_factory, data, dqbits=2**10)
    run_ok(clean_run)
    assert tables(copy) == tables(clean_run)
    assert disk_bytes(copy / "results") <= 1.05 * disk_bytes(clean_run / "results")
    assert not list((copy / "results").glob("*/.*.tmp"))


def test_a_read_only_results_folder_is_one_line_naming_it(copy):
    results = copy / "results"
    write_config(copy, config_with(dqbits=4))  # something to write
    subprocess.run(["mount", "--bind", str(results), str(results)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(results)], check=True)
        code, output = run(copy)
    finally:
        subprocess.run(["umount", "-l", str(results)], check=False)
    assert code != 0
    assert re.search(r"^Error: results/\S+: read-only file system; run where results/ can be written$", output,
                     re.MULTILINE), output[-3000:]
    assert "Traceback" not in output and "a bug" not in output


def test_every_table_and_product_records_its_identity_and_code(base):
    from astropy.table import Table

    from skymatchflow.io.codeid import package_digest
    from skymatchflow.io.stagefiles import sha256_file

    request = yaml.safe_load((base / "results" / ".identity" / "solve_sky.json").read_text())
    for name in TABLES:
        meta = Table.read(base / "results" / name).meta
        assert meta["made_from_key"] == request["identity"]
        assert meta["software"]["skymatchflow_code"] == package_digest()
        assert len(meta["inputs"]) == 4
    summary = Table.read(base / "results" / "summary.ecsv").meta
    assert summary["made_from"] == {f"results/{name}": sha256_file(base / "results" / name) for name in TABLES}
    assert summary["software"]["skymatchflow_code"] == package_digest()
    sky = yaml.safe_load(next((base / "results" / "images").glob("*/*.sky.json")).read_text())
    assert sky["provenance"]["software"]["skymatchflow_code"] == package_digest()
