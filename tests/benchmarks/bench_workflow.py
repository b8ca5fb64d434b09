"""Benchmark: the Snakemake workflow end to end against the reference engine (issue 8).

Not a test (no ``test_`` prefix; pytest does not collect it).  Run from the
repository root::

    .venv/bin/python tests/benchmarks/bench_workflow.py            # full run
    .venv/bin/python tests/benchmarks/bench_workflow.py --quick    # smoke run
    .venv/bin/python tests/benchmarks/bench_workflow.py --survey-n 500 --skip-survey --keep /tmp/bw
    .venv/bin/python tests/benchmarks/bench_workflow.py --skip-survey --mosaic-side 8   # 64 x 2048x2048
    .venv/bin/python tests/benchmarks/bench_workflow.py --skip-survey --mosaic-side 4 8 # 16, then 64 (issue 29's rows)

Everything is measured in one run on the same machine and printed as ONE
Markdown table (wall time, CPU time, peak RSS, ratios against issue 29's
targets: cold workflow / reference <= 0.6 at 16 images and <= 0.3 at 64,
workflow / single-pass floor <= 3), then a profile of each cold workflow run
of case 1(b): Snakemake's own start and end, the critical path of job times
and the process starts in sequence on it.

Case 1, a JWST-like mosaic: 16 images of 2048x2048 (0.06"/px) on a 4x4 grid (``--mosaic-side``)
with ~10 % overlap between neighbours, one sky group per image (``groups:
none``), SCI float32 = sky offset + noise + stars, DQ uint32 with a few flagged
pixels, TAN WCS; ``skymethod: global+match``, ``skystat: mode``, ``dqbits: 0``.

  (a) the reference engine, stcal 1.20 ``skymatch`` on ``SkyImage`` objects
      built as jwst's SkyMatchStep does (float32 SCI, mask = DQ under dqbits 0
      & isfinite, astropy WCS wrapped as wcs_fwd/wcs_inv, one SkyStats), in a
      fresh subprocess: wall from process start (imports included) to exit
      right after the skies are computed;
  (b) the workflow, cold: fresh WORKDIR, the default profile, ``--cores 2``,
      wall of the whole ``snakemake`` command (target ``all``);
  (c) the same WORKDIR after a 17th image (overlapping one edge image) is
      added to its config: the incremental re-run;
  (d) the floor: one subprocess that reads every SCI and DQ once and computes
      one whole-image statistic per image (``sky_statistic`` on good pixels);
  (e) the same WORKDIR once more, with nothing left to do: Snakemake's own
      start, config check, input discovery and DAG, the floor under (c);
  (f) the workflow, cold, to the sky table alone: a fresh WORKDIR, target
      ``results/sky.ecsv`` (no diagnostics), beside (b)'s whole target: the
      difference is what the diagnostics add after the solve.

Case 2, a survey strip: N images of 256x256 (0.5"/px) in two rows along RA with
random dithers and rolls (each overlaps ~5 neighbours).  The reference runs on
the first n1 and n2 images only and is extrapolated to N with
T = a*N^2 + b*N fitted through the two measurements (rows marked
"extrapolated"); the workflow runs on all N.

How things are measured:
  * every command runs under a tiny launcher process (see LAUNCHER) that
    times it and reports its getrusage(RUSAGE_CHILDREN): a fresh launcher per
    command, because ru_maxrss is a running maximum and a child's ru_maxrss
    starts at the RSS of the process it was forked from;
  * wall: time.perf_counter in the launcher around the command (process
    start to exit);
  * CPU: user+sys of the command and all its waited-for descendants;
  * peak RSS: ru_maxrss = the largest RSS of any single process in the
    command's tree (the snakemake main process or one job);
  * per-job RSS: max_rss of Snakemake's per-job benchmark TSVs under
    WORKDIR/benchmarks/ (only files written by the run being measured);
  * the profile: per-rule totals from those TSVs, plus a trace of Snakemake's
    log lines timestamped as they arrive (job dispatch -> "Finished jobid"),
    from which startup, idle and per-job bookkeeping time are derived, the
    solve's end to the last job's end (the figures after the solve) and the
    critical path of job times through the workflow's DAG; the diagnostics'
    CPU is their TSVs' cpu_time (psutil samples: a forked helper's last
    fraction of a second can be missed).

Every snakemake call is guarded by ``timeout -s KILL``.  Data are generated
with a fixed seed under a temporary directory (or ``--data DIR``), never in
the repository.
"""

import argparse
import csv
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

REPO = Path(__file__).resolve().parents[2]
SNAKEFILE = REPO / "workflow" / "Snakefile"
SCRIPTS = REPO / "scripts"
PYTHON = sys.executable
SEED = 20260808

sys.path[:0] = [str(SCRIPTS), str(REPO / "tests")]  # the package and the test helpers
from helpers.config import schema_defaults

# the step's defaults (from the workflow's schema), every image its own group
STEP_CONFIG = schema_defaults()
STEP_CONFIG.pop("demo")
STEP_CONFIG["groups"] = "none"

# --------------------------------------------------------------------------
# Child programs (run with ``python -c``; argv[1] = JSON list of files,
# argv[2] = JSON output).

REFERENCE_CHILD = r"""
import json, sys, warnings
import numpy as np
from astropy.io import fits
from astropy.nddata.bitmask import bitfield_to_boolean_mask, interpret_bit_flags
from astropy.wcs import WCS, FITSFixedWarning
from stcal.skymatch import skymatch
from stcal.skymatch.skyimage import SkyImage
from stcal.skymatch.skystatistics import SkyStats

cfg = json.loads(sys.argv[3])
paths = json.load(open(sys.argv[1]))
stats = SkyStats(skystat=cfg["skystat"], lower=cfg["lower"], upper=cfg["upper"], nclip=cfg["nclip"],
                 lsig=cfg["lsigma"], usig=cfg["usigma"], binwidth=cfg["binwidth"])
bits = interpret_bit_flags(cfg["dqbits"])
images, names = [], []
for index, path in enumerate(paths):
    with fits.open(path, memmap=False) as hdul:
        sci = np.array(hdul["SCI"].data, dtype=np.float32)
        dq = np.array(hdul["DQ"].data, dtype=np.uint32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)
            wcs = WCS(hdul["SCI"].header, fobj=hdul, relax=True).celestial
    mask = bitfield_to_boolean_mask(dq, bits, good_mask_value=True) & np.isfinite(sci)
    del dq

    def fwd(x, y, with_bounding_box=False, wcs=wcs):
        return wcs.all_pix2world(x, y, 0)

    def inv(ra, dec, with_bounding_box=False, wcs=wcs):
        return wcs.all_world2pix(ra, dec, 0)

    name = path.rsplit("/", 1)[-1].removesuffix(".fits")
    images.append(SkyImage(image=sci, mask=mask, wcs_fwd=fwd, wcs_inv=inv, skystat=stats,
                           sky_id=name, stepsize=cfg["stepsize"], meta={"index": index}))
    names.append(name)
skymatch(images, skymethod=cfg["skymethod"], match_down=cfg["match_down"], subtract=cfg["subtract"])
json.dump({n: [float(im.sky), bool(im.is_sky_valid)] for n, im in zip(names, images)}, open(sys.argv[2], "w"))
"""

# Every measured command runs under this small launcher: a child's ru_maxrss
# starts at the RSS of the process it was forked from (Linux records the
# forked/vforked address space's high-water mark at exec), so measuring from
# this (large) benchmark process would put a floor of its own RSS under every
# number.  The launcher is a bare Python (~10 MB); it reports
# getrusage(RUSAGE_CHILDREN) of the command's whole waited-for process tree:
# user+sys CPU and the largest RSS of any single process in it.
LAUNCHER = r"""
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
rc = subprocess.call(sys.argv[2:])
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
json.dump({"rc": rc, "wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "maxrss_kb": ru.ru_maxrss},
          open(sys.argv[1], "w"))
"""

FLOOR_CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[3])
import numpy as np
from astropy.io import fits
from skymatchflow.stats.imagestats import sky_statistic

out = {}
for path in json.load(open(sys.argv[1])):
    with fits.open(path, memmap=False) as hdul:
        sci = np.asarray(hdul["SCI"].data, dtype=np.float32)
        dq = np.asarray(hdul["DQ"].data)
    good = (dq == 0) & np.isfinite(sci)
    out[path] = sky_statistic(sci[good], skystat="mode").value
json.dump(out, open(sys.argv[2], "w"))
"""


# --------------------------------------------------------------------------
# Data


def tan_wcs(shape, crval, scale_arcsec, rotation_deg=0.0):
    ny, nx = shape
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [float(crval[0]), float(crval[1])]
    wcs.wcs.crpix = [nx / 2 + 0.5, ny / 2 + 0.5]
    theta = np.deg2rad(rotation_deg)
    scale = scale_arcsec / 3600.0
    wcs.wcs.cd = scale * np.array([[-np.cos(theta), np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    return wcs


def write_image(path, rng, shape, wcs, sky, n_stars, noise=1.0):
    """SCI = sky + noise + Gaussian stars (float32); DQ with a few flagged pixels (uint32)."""
    ny, nx = shape
    sci = rng.standard_normal(shape, dtype=np.float32)
    sci *= np.float32(noise)
    sci += np.float32(sky)
    half = 7
    yy, xx = np.mgrid[-half:half + 1, -half:half + 1]
    for _ in range(n_stars):
        cy, cx = rng.integers(half, ny - half), rng.integers(half, nx - half)
        sigma = rng.uniform(1.0, 2.5)
        flux = rng.uniform(50, 2000)
        stamp = flux / (2 * np.pi * sigma**2) * np.exp(-(xx**2 + yy**2) / (2 * sigma**2))
        sci[cy - half:cy + half + 1, cx - half:cx + half + 1] += stamp.astype(np.float32)
    dq = np.zeros(shape, dtype=np.uint32)
    n_bad = max(4, ny * nx // 2000)
    dq[rng.integers(0, ny, n_bad), rng.integers(0, nx, n_bad)] = 1  # DO_NOT_USE
    col = int(rng.integers(0, nx))
    dq[: ny // 3, col] |= 4  # a JUMP-flagged column segment
    sat = rng.integers(0, ny, 3), rng.integers(0, nx, 3)
    dq[sat] |= 2
    sci[sat] = np.float32(65000.0)
    header = wcs.to_header()
    hdul = fits.HDUList([
        fits.PrimaryHDU(),
        fits.ImageHDU(sci, header=header, name="SCI"),
        fits.ImageHDU(dq, name="DQ"),
    ])
    hdul.writeto(path, overwrite=True)


def mosaic_center(ix, iy, size, scale_arcsec, spacing, center=(150.0, 2.0)):
    """(ra, dec) of tile (ix, iy) of a grid with ``spacing`` (fraction of the size) between centres."""
    master = tan_wcs((1, 1), center, scale_arcsec)
    x = ix * spacing * size
    y = iy * spacing * size
    ra, dec = master.all_pix2world([[x, y]], 0)[0]
    return ra, dec


def make_mosaic(directory, n_side, size, seed):
    """n_side x n_side grid of size x size images with ~10 % overlap, plus an extra image
    to the right of the bottom-right image (returned separately)."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    scale = 0.06
    spacing = 0.9  # 10 % overlap between neighbours
    paths = []
    n_stars = max(3, size * size // 200_000)
    for iy in range(n_side):
        for ix in range(n_side):
            path = directory / f"mos_{iy:02d}_{ix:02d}_cal.fits"
            wcs = tan_wcs((size, size), mosaic_center(ix, iy, size, scale, spacing), scale)
            write_image(path, rng, (size, size), wcs, 1.0 + rng.uniform(-0.4, 0.4), n_stars, noise=0.05)
            paths.append(path)
    extra = directory / f"mos_{0:02d}_{n_side:02d}_cal.fits"
    wcs = tan_wcs((size, size), mosaic_center(n_side, 0, size, scale, spacing), scale)
    write_image(extra, rng, (size, size), wcs, 1.0 + rng.uniform(-0.4, 0.4), n_stars, noise=0.05)
    return paths, extra


def make_survey(directory, n, seed, size=256):
    """A strip of two rows along RA (0.5"/px), 0.8 tile steps, random dithers and rolls."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    scale = 0.5
    tile = size * scale / 3600.0
    paths = []
    for k in range(n):
        col, row = divmod(k, 2)
        ra = 20.0 + col * 0.8 * tile + rng.uniform(-0.08, 0.08) * tile
        dec = (row - 0.5) * 0.85 * tile + rng.uniform(-0.08, 0.08) * tile
        wcs = tan_wcs((size, size), (ra, dec), scale, rng.uniform(-3, 3))
        path = directory / f"srv_{k:05d}_cal.fits"
        write_image(path, rng, (size, size), wcs, 10.0 + rng.normal(0, 0.5), 3)
        paths.append(path)
    return paths


# --------------------------------------------------------------------------
# Measurement


@dataclass
class Run:
    label: str
    wall: float = float("nan")
    cpu: float = float("nan")
    maxrss_mb: float = float("nan")
    rc: int = 0
    timed_out: bool = False
    trace: list = field(default_factory=list)  # (t, line)
    log: Path = None

    @property
    def ok(self):
        return self.rc == 0 and not self.timed_out


def measure(label, cmd, log_path, cwd=None, timeout=None):
    """Run ``cmd`` through LAUNCHER; wall, CPU and max RSS of its whole process tree
    (the launcher's getrusage(RUSAGE_CHILDREN)); its output lines timestamped
    (seconds since launch) and written to ``log_path``."""
    if timeout:
        cmd = ["timeout", "-s", "KILL", str(int(timeout))] + list(cmd)
    usage_path = Path(str(log_path) + ".rusage.json")
    t0 = time.perf_counter()
    proc = subprocess.Popen([PYTHON, "-c", LAUNCHER, str(usage_path)] + list(cmd), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, cwd=cwd, text=True, bufsize=1)
    trace = []
    with open(log_path, "w") as log:
        for line in proc.stdout:
            t = time.perf_counter() - t0
            trace.append((t, line.rstrip("\n")))
            log.write(f"{t:9.3f} {line}")
    proc.wait()
    try:
        usage = json.loads(usage_path.read_text())
    except (OSError, ValueError):
        usage = {"rc": proc.returncode or -1, "wall": time.perf_counter() - t0, "cpu": float("nan"),
                 "maxrss_kb": float("nan")}
    wall, cpu = usage["wall"], usage["cpu"]
    proc.returncode = usage["rc"]
    run = Run(label, wall, cpu, usage["maxrss_kb"] / 1024.0, proc.returncode, False, trace, log_path)
    # timeout -s KILL: exit status 137 (128 + 9) when the command was killed
    if timeout and proc.returncode in (137, -9):
        run.timed_out = True
        print(f"TIMEOUT: {label}: killed by `timeout -s KILL {int(timeout)}` after {wall:.0f} s "
              f"(log: {log_path})", flush=True)
    elif proc.returncode != 0:
        print(f"FAILED: {label}: exit status {proc.returncode} (log: {log_path}); last lines:", flush=True)
        for _, line in trace[-15:]:
            print("    " + line)
    else:
        print(f"done: {label}: wall {wall:.1f} s, CPU {cpu:.1f} s, max RSS {run.maxrss_mb:.0f} MB",
              flush=True)
    return run


def run_reference(label, paths, scratch, timeout):
    files = scratch / f"{label}_files.json"
    out = scratch / f"{label}_skies.json"
    files.write_text(json.dumps([str(p) for p in paths]))
    cfg = json.dumps(STEP_CONFIG)
    run = measure(label, [PYTHON, "-c", REFERENCE_CHILD, str(files), str(out), cfg],
                  scratch / f"{label}.log", timeout=timeout)
    skies = json.loads(out.read_text()) if run.ok and out.exists() else {}
    return run, skies


def run_floor(label, paths, scratch, timeout):
    files = scratch / f"{label}_files.json"
    files.write_text(json.dumps([str(p) for p in paths]))
    return measure(label, [PYTHON, "-c", FLOOR_CHILD, str(files), str(scratch / f"{label}_out.json"),
                           str(SCRIPTS)], scratch / f"{label}.log", timeout=timeout)


def write_workflow_config(workdir, paths):
    (workdir / "config").mkdir(parents=True, exist_ok=True)
    config = dict(STEP_CONFIG, images=[str(p) for p in paths], image_sheet=None)
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def run_workflow(label, workdir, scratch, timeout, targets=()):
    """One snakemake call in ``workdir`` (its targets: ``targets``, or the workflow's default, ``all``)."""
    cmd = [PYTHON, "-m", "snakemake", "--snakefile", str(SNAKEFILE), "--directory", str(workdir),
           "--cores", "2", *targets]
    start_wall = time.time()
    run = measure(label, cmd, scratch / f"{label}.log", cwd=workdir, timeout=timeout)
    run.jobs = job_benchmarks(workdir, start_wall)
    return run


def job_benchmarks(workdir, since):
    """[(rule, name, s, max_rss MB)] of benchmark TSVs written since ``since`` (epoch s)."""
    rows = []
    root = workdir / "benchmarks"
    if not root.is_dir():
        return rows
    for tsv in sorted(root.rglob("*.tsv")):
        if tsv.stat().st_mtime < since - 1.0:
            continue
        rel = tsv.relative_to(root)
        rule = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        with open(tsv) as handle:
            for rec in csv.DictReader(handle, delimiter="\t"):
                rows.append((rule, rel.stem, _num(rec.get("s")), _num(rec.get("max_rss")),
                             _num(rec.get("cpu_time"))))
    return rows


def _num(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def max_job_rss(run):
    values = [r[3] for r in getattr(run, "jobs", []) if np.isfinite(r[3])]
    return max(values) if values else float("nan")


def workflow_skies(workdir):
    path = workdir / "results" / "sky.ecsv"
    if not path.exists():
        return {}
    table = Table.read(path, format="ascii.ecsv")
    return {str(r["image"]): (float(r["sky"]) if r["sky"] is not None else float("nan"), str(r["status"]))
            for r in table}


def compare_skies(ref, wf):
    common = [k for k in ref if k in wf]
    if not common:
        return "no common images"
    diffs = [abs(ref[k][0] - wf[k][0]) for k in common if np.isfinite(ref[k][0]) and np.isfinite(wf[k][0])]
    status = sum((ref[k][1]) == (wf[k][1] == "COMPLETE") for k in common)
    return (f"{len(common)} images, max |sky_ref - sky_workflow| = {max(diffs) if diffs else float('nan'):.2e}, "
            f"status agrees for {status}/{len(common)}")


# --------------------------------------------------------------------------
# Profile of one workflow run


RULE_RE = re.compile(r"^\s*(?:local)?(?:rule|checkpoint) (\w+):\s*$")
JOBID_RE = re.compile(r"^\s*jobid: (\d+)\s*$")
MESSAGE_JOB_RE = re.compile(r"^Job (\d+): ")  # a rule with a message: directive (image and pair batches)
FINISHED_RE = re.compile(r"Finished job(?:id:)? (\d+)(?: \(Rule: (\w+)\))?")


def job_intervals(trace):
    """{jobid: [rule, dispatch t, finish t]} from the timestamped log lines."""
    jobs, current = {}, None
    for t, line in trace:
        m = RULE_RE.match(line)
        if m:
            current = (m.group(1), t)
            continue
        m = JOBID_RE.match(line)
        if m and current is not None:
            jobs[int(m.group(1))] = [current[0], current[1], None]
            current = None
            continue
        m = MESSAGE_JOB_RE.match(line)
        if m:
            jobs[int(m.group(1))] = [None, t, None]
            continue
        m = FINISHED_RE.search(line)
        if m and int(m.group(1)) in jobs:
            jobs[int(m.group(1))][2] = t
            if m.group(2):
                jobs[int(m.group(1))][0] = m.group(2)
    return jobs


def occupancy(intervals, t_end):
    """(time with 0 jobs running, time with exactly 1) between the first dispatch and t_end."""
    events = sorted([(s, 1) for s, e in intervals] + [(e, -1) for s, e in intervals])
    if not events:
        return 0.0, 0.0
    level, last, zero, one = 0, events[0][0], 0.0, 0.0
    for t, d in events:
        if level == 0:
            zero += t - last
        elif level == 1:
            one += t - last
        level += d
        last = t
    zero += max(0.0, t_end - last)
    return zero, one


def critical_path(jobs):
    """Longest chain of benchmark job times through the workflow's DAG.

    The overlap graph waits for every image batch, every pair batch for
    the graph (a checkpoint), the solve for the pair batches and the
    diagnostics (which the run's target waits for) for the solve, so the
    chain is: slowest image batch -> overlap graph -> slowest pair batch ->
    solve -> diagnostics (without a graph: image batch -> solve ->
    diagnostics).  A lower bound: with more batches than cores, batches run
    in rounds.
    """
    s = {}
    for rule, name, sec, _, _ in jobs:
        s[(rule, name)] = sec if np.isfinite(sec) else 0.0

    def slowest(rule):
        return max((v for (r, _), v in s.items() if r == rule), default=0.0)

    return sum(slowest(rule) for rule in CHAIN)


# the rules of the critical path, in order
CHAIN = ("image_batch", "overlap_graph", "pair_batch", "solve_sky", "diagnostics")


def profile(run, workdir, cores=2):
    """Markdown lines: per-rule totals and Snakemake's overhead for one workflow run."""
    jobs = run.jobs
    lines = [f"### Profile: {run.label} (wall {run.wall:.1f} s, CPU {run.cpu:.1f} s, "
             f"{len(jobs)} jobs with a benchmark file)", "",
             "| rule | jobs | sum of s | mean s | max s | sum of cpu_time | max max_rss (MB) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    by_rule = {}
    for rule, _, sec, rss, cpu in jobs:
        by_rule.setdefault(rule, []).append((sec, rss, cpu))
    total_s = 0.0
    for rule, vals in sorted(by_rule.items(), key=lambda kv: -sum(v[0] for v in kv[1])):
        secs = [v[0] for v in vals]
        total_s += sum(secs)
        lines.append(f"| {rule} | {len(vals)} | {sum(secs):.1f} | {np.mean(secs):.2f} | {max(secs):.2f} | "
                     f"{np.nansum([v[2] for v in vals]):.1f} | {np.nanmax([v[1] for v in vals]):.0f} |")
    lines.append(f"| **all jobs** | {len(jobs)} | {total_s:.1f} | | | "
                 f"{np.nansum([j[4] for j in jobs]):.1f} | {max_job_rss(run):.0f} |")
    cp = critical_path(jobs)
    bound = max(cp, total_s / cores)
    intervals = job_intervals(run.trace)
    done = [(v[1], v[2]) for v in intervals.values() if v[2] is not None]
    first = min((a for a, _ in done), default=float("nan"))
    last = max((b for _, b in done), default=float("nan"))
    zero, one = occupancy(done, last)
    span_sum = sum(b - a for a, b in done)
    traced = {v[0] for v in intervals.values() if v[2] is not None}
    traced_s = sum(sec for rule, _, sec, _, _ in jobs if rule in traced and np.isfinite(sec))
    solved = max((v[2] for v in intervals.values() if v[0] == "solve_sky" and v[2] is not None), default=float("nan"))
    after_solve = last - solved  # the diagnostics' figures after the solve (issue 29: <= 1.5 s at 16 images)
    diagnostics_cpu = sum(cpu for rule, _, _, _, cpu in jobs if rule.startswith("diagnostics") and np.isfinite(cpu))
    rounds = {rule: math.ceil(sum(1 for j in jobs if j[0] == rule) / cores) for rule in CHAIN}
    starts = sum(rounds.values())
    lines += [
        "",
        "| quantity | seconds |",
        "|---|---:|",
        f"| wall of the snakemake command | {run.wall:.1f} |",
        f"| critical path of job times (benchmark s through the DAG) | {cp:.1f} |",
        f"| **Snakemake overhead = wall - critical path** | **{run.wall - cp:.1f}** |",
        f"| sum of job times / {cores} cores | {total_s / cores:.1f} |",
        f"| overhead beyond the {cores}-core bound, wall - max(critical path, sum/{cores}) | {run.wall - bound:.1f} |",
        f"| startup: launch to first job dispatched (imports, config, discovery, DAG) | {first:.1f} |",
        f"| tail: last job finished to exit | {run.wall - last:.1f} |",
        f"| the solve's end to the last job's end (the figures after the solve) | {after_solve:.1f} |",
        f"| cpu_time of the diagnostics jobs (every rule diagnostics*) | {diagnostics_cpu:.1f} |",
        f"| **Snakemake's own start + end** | **{first + run.wall - last:.1f}** |",
        f"| between first dispatch and last finish: no job running | {zero:.1f} |",
        f"| between first dispatch and last finish: exactly 1 job running | {one:.1f} |",
        f"| per-job bookkeeping: sum over jobs of (dispatch->finish in the log - benchmark s) "
        f"| {span_sum - traced_s:.1f} ({len(done)} jobs traced, {len(jobs)} benchmark files) |",
        f"| process starts in sequence on the chain ({' -> '.join(f'{r} x{n}' for r, n in rounds.items() if n)}, "
        f"{cores} cores) | {starts} |",
    ]
    return lines


# --------------------------------------------------------------------------
# Report


def load_average():
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def fmt(x, digits=1):
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def status_of(run):
    if run is None:
        return "not run"
    if run.timed_out:
        return "TIMED OUT"
    if run.rc != 0:
        return f"FAILED (exit {run.rc})"
    return ""


def row(case, what, run=None, wall=None, cpu=None, rss=None, job_rss=None, ratio="", target="", note=""):
    if run is not None:
        wall = run.wall if wall is None else wall
        cpu = run.cpu if cpu is None else cpu
        rss = run.maxrss_mb if rss is None else rss
        note = " ".join(x for x in (status_of(run), note) if x)
    return (f"| {case} | {what} | {fmt(wall)} | {fmt(cpu)} | {fmt(rss, 0)} | "
            f"{fmt(job_rss, 0) if job_rss is not None else ''} | {ratio} | {target} | {note} |")


def ratio_row(case, what, num, den, target, note=""):
    value = num / den if (np.isfinite(num) and np.isfinite(den) and den > 0) else float("nan")
    if not target:
        met = "no target at this size"
    else:
        limit = float(target.split()[-1])
        met = "n/a" if not np.isfinite(value) else ("yes" if value <= limit else "**no**")
    return f"| {case} | {what} | | | | | **{fmt(value, 3)}** | {target} | met: {met} {note} |"


# issue 29's targets for a cold run, workflow / reference, by number of images
COLD_TARGETS = {16: "<= 0.6", 64: "<= 0.3"}


def run_mosaic(n_side, size, data, scratch, timeout, tag=""):
    """Case 1 on an n_side x n_side mosaic: (a) reference, (b) cold, (f) cold to the sky table, (c) +1 image,
    (e) nothing to do, (d) floor."""
    t = time.perf_counter()
    mosaic_dir = data / f"mosaic_{n_side}x{n_side}_{size}"
    paths, extra = make_mosaic(mosaic_dir, n_side, size, SEED)
    print(f"generated {len(paths)} + 1 images of {size}x{size} in {time.perf_counter() - t:.1f} s", flush=True)

    ref, ref_skies = run_reference(f"1a_reference{tag}", paths, scratch, timeout)
    wd = scratch / f"wf_mosaic{tag}"
    wd.mkdir()
    write_workflow_config(wd, paths)
    cold = run_workflow(f"1b_workflow_cold{tag}", wd, scratch, timeout)
    agreement = compare_skies(ref_skies, workflow_skies(wd)) if ref_skies else "reference failed"
    profile_lines = profile(cold, wd)
    sky_wd = scratch / f"wf_mosaic_sky{tag}"
    sky_wd.mkdir()
    write_workflow_config(sky_wd, paths)
    sky_only = run_workflow(f"1f_workflow_cold_sky_table{tag}", sky_wd, scratch, timeout,
                            targets=("results/sky.ecsv",))
    write_workflow_config(wd, paths + [extra])
    incr = run_workflow(f"1c_workflow_plus_one{tag}", wd, scratch, timeout)
    noop = run_workflow(f"1e_workflow_nothing_to_do{tag}", wd, scratch, timeout)
    floor = run_floor(f"1d_floor{tag}", paths, scratch, timeout)
    return {"n": len(paths), "size": size, "ref": ref, "cold": cold, "incr": incr, "noop": noop, "floor": floor,
            "sky_only": sky_only, "agreement": agreement, "profile": profile_lines}


def mosaic_rows(mosaic):
    """The table rows of one mosaic size: measurements, then the ratios against issue 29's targets."""
    n_img, size = mosaic["n"], mosaic["size"]
    ref, cold, incr, noop, floor, sky_only = (mosaic[k] for k in ("ref", "cold", "incr", "noop", "floor", "sky_only"))
    mpx = size * size / 1e6
    case = f"1 ({n_img})"
    rows = [
        row(f"1a ({n_img})", f"reference engine, {n_img} x {size}^2 ({mpx:.1f} Mpx each), global+match, "
                             "fresh process incl. imports", ref),
        row(f"1b ({n_img})", "workflow, cold start (fresh WORKDIR)", cold, job_rss=max_job_rss(cold),
            note=f"{len(cold.jobs)} jobs"),
        row(f"1c ({n_img})", f"workflow, +1 image ({n_img + 1}th, next to an edge image), same WORKDIR",
            incr, job_rss=max_job_rss(incr),
            note=f"{len(incr.jobs)} jobs re-run: "
                 + ", ".join(f"{r} x{sum(1 for j in incr.jobs if j[0] == r)}" for r in sorted({j[0] for j in incr.jobs}))),
        row(f"1d ({n_img})", "floor: read every SCI+DQ once, one whole-image mode per image (1 process)", floor),
        row(f"1e ({n_img})", "workflow, nothing to do (Snakemake start, config, discovery, DAG): the floor of any re-run",
            noop, note=f"{len(noop.jobs)} jobs"),
        row(f"1f ({n_img})", "workflow, cold start to the sky table alone (target results/sky.ecsv, fresh WORKDIR)",
            sky_only, job_rss=max_job_rss(sky_only), note=f"{len(sky_only.jobs)} jobs"),
        ratio_row(case, "wall b / a (workflow cold / reference)", cold.wall, ref.wall, COLD_TARGETS.get(n_img, "")),
        ratio_row(case, "wall f / a (workflow cold to the sky table / reference)", sky_only.wall, ref.wall,
                  COLD_TARGETS.get(n_img, "")),
        ratio_row(case, "wall (b - f) / b (what the diagnostics add to a cold run)", cold.wall - sky_only.wall,
                  cold.wall, ""),
        ratio_row(case, "wall b / d (workflow cold / single-pass floor)", cold.wall, floor.wall, "<= 3"),
        ratio_row(case, "wall c / b (+1 image / cold)", incr.wall, cold.wall, "<= 0.15"),
        ratio_row(case, "wall e / b (nothing to do / cold)", noop.wall, cold.wall, ""),
        ratio_row(case, "max per-job RSS (MB) of b and c, ratio = MB / 300",
                  max(max_job_rss(cold), max_job_rss(incr)), 300.0, "<= 1",
                  f"({fmt(max(max_job_rss(cold), max_job_rss(incr)), 0)} MB; target <= 300 MB)"),
    ]
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--skip-survey", action="store_true", help="case 1 only")
    parser.add_argument("--survey-n", type=int, default=None, help="survey size N (default 2000; 60 with --quick)")
    parser.add_argument("--extrapolate-to", type=int, default=2000, metavar="N",
                        help="when the survey runs on fewer images, also print both sides extrapolated to N "
                             "(reference: a*N^2+b*N; workflow: linear in N, an optimistic bound)")
    parser.add_argument("--ref-subsets", type=int, nargs=2, default=None, metavar=("N1", "N2"),
                        help="survey sizes the reference runs on (default 100 200; 20 40 with --quick)")
    parser.add_argument("--keep", type=Path, default=None, metavar="WORKDIR",
                        help="keep scratch (workflow directories, logs) under WORKDIR")
    parser.add_argument("--data", type=Path, default=None, metavar="DIR",
                        help="generated data go here (reused if present); default: a temporary directory")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds for each snakemake call (timeout -s KILL)")
    parser.add_argument("--mosaic-side", type=int, nargs="+", default=None, metavar="K",
                        help="case 1 on a K x K grid of 2048x2048 images (default 4: 16 images; 8: 64); "
                             "several sizes (--mosaic-side 4 8) run one after the other in this invocation")
    parser.add_argument("--survey-timeout", type=int, default=2700, help="seconds for the survey workflow run")
    args = parser.parse_args(argv)

    n_side, size = (2, 512) if args.quick else (4, 2048)
    sides = args.mosaic_side or [n_side]
    survey_n = args.survey_n or (60 if args.quick else 2000)
    n1, n2 = args.ref_subsets or ((20, 40) if args.quick else (100, 200))
    n1, n2 = min(n1, survey_n), min(n2, survey_n)

    for path in (args.keep, args.data):
        if path is not None and (path.resolve() == REPO or REPO in path.resolve().parents):
            parser.error(f"{path} is inside the repository; use a directory outside it")
    if args.keep and args.keep.exists() and any(args.keep.iterdir()):
        parser.error(f"--keep {args.keep}: the directory exists and is not empty")
    tmp = Path(tempfile.mkdtemp(prefix="bench_workflow_"))
    scratch = args.keep.resolve() if args.keep else tmp / "scratch"
    data = args.data.resolve() if args.data else tmp / "data"
    scratch.mkdir(parents=True, exist_ok=True)

    print(f"repo {REPO}\nscratch {scratch}\ndata {data}\npython {PYTHON}\n"
          f"machine: {os.cpu_count()} CPUs, load average {load_average()}", flush=True)
    load_start = load_average()

    # ---- case 1, at each mosaic size
    mosaics = [run_mosaic(n_side, size, data, scratch, args.timeout, tag=f"_n{n_side * n_side}" if len(sides) > 1 else "")
               for n_side in sides]

    # ---- case 2
    survey = None
    if not args.skip_survey:
        t = time.perf_counter()
        spaths = make_survey(data / f"survey_{survey_n}", survey_n, SEED + 1)
        print(f"generated survey of {survey_n} images of 256x256 in {time.perf_counter() - t:.1f} s", flush=True)
        r1, _ = run_reference(f"2_reference_n{n1}", spaths[:n1], scratch, args.timeout)
        r2, r2_skies = run_reference(f"2_reference_n{n2}", spaths[:n2], scratch, args.timeout)
        swd = scratch / "wf_survey"
        swd.mkdir()
        write_workflow_config(swd, spaths)
        swf = run_workflow(f"2_workflow_n{survey_n}", swd, scratch, args.survey_timeout)
        s_sky = workflow_skies(swd)
        survey = (r1, r2, swf, r2_skies, s_sky, swd)

    # ---- table
    out = ["", f"## Workflow benchmark ({time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, "
           f"snakemake --cores 2, greedy scheduler from the default profile; load average "
           f"{load_start} at start, {load_average()} at end, other sessions share the machine)", "",
           "| case | measurement | wall (s) | CPU user+sys (s) | peak RSS, max over processes (MB) | "
           "max per-job RSS (MB) | ratio | target | notes |",
           "|---|---|---:|---:|---:|---:|---:|---|---|"]
    for mosaic in mosaics:
        out += mosaic_rows(mosaic)
    if survey:
        r1, r2, swf, r2_skies, s_sky, swd = survey
        fits_ok = r1.ok and r2.ok and n2 > n1
        if fits_ok:
            design = np.array([[n1**2, n1], [n2**2, n2]], float)
            coeff = np.linalg.solve(design, np.array([r1.wall, r2.wall]))
            ccpu = np.linalg.solve(design, np.array([r1.cpu, r2.cpu]))
            slope = (r2.maxrss_mb - r1.maxrss_mb) / (n2 - n1)
        else:
            coeff = ccpu = (float("nan"), float("nan"))
            slope = float("nan")

        def ref_at(n):
            return (float(coeff[0] * n**2 + coeff[1] * n), float(ccpu[0] * n**2 + ccpu[1] * n),
                    r2.maxrss_mb + slope * (n - n2))

        law = (f"T = {coeff[0]:.3g} N^2 + {coeff[1]:.3g} N fitted on the measured N={n1},{n2}; RSS linear in N"
               if fits_ok else "fit not possible")
        if fits_ok and coeff[0] < 0:
            law += " (negative N^2 term: subsets too small or too noisy, extrapolation unreliable)"
        out.append(row("2", f"reference, first {n1} images of the survey (measured)", r1))
        if n2 == survey_n:
            ref_wall = r2.wall if r2.ok else float("nan")
            out.append(row("2", f"reference, all N={n2} images (measured)", r2))
        else:
            out.append(row("2", f"reference, first {n2} images of the survey (measured)", r2))
            ref_wall, ref_cpu, ref_rss = ref_at(survey_n)
            out.append(row("2", f"reference at N={survey_n}: **EXTRAPOLATED**", wall=ref_wall, cpu=ref_cpu,
                           rss=ref_rss, note=law))
        out.append(row("2", f"workflow, cold, all N={survey_n} images (measured)", swf,
                       job_rss=max_job_rss(swf), note=f"{len(swf.jobs)} jobs"))
        out.append(ratio_row("2", f"wall workflow / reference at N={survey_n}"
                             + (" (reference measured)" if n2 == survey_n else " (reference extrapolated)"),
                             swf.wall if swf.ok else float("nan"), ref_wall, "<= 0.1"))
        big = args.extrapolate_to
        if big and big != survey_n:
            e_wall, e_cpu, e_rss = ref_at(big)
            out.append(row("2", f"reference at N={big}: **EXTRAPOLATED**", wall=e_wall, cpu=e_cpu, rss=e_rss,
                           note=law))
            w_wall = swf.wall * big / survey_n if swf.ok else float("nan")
            out.append(row("2", f"workflow at N={big}: **EXTRAPOLATED** (linear in N from N={survey_n})",
                           wall=w_wall, cpu=swf.cpu * big / survey_n, rss=float("nan"),
                           note="optimistic: Snakemake's per-job cost grows with the DAG size"))
            out.append(ratio_row("2", f"wall workflow / reference at N={big} (**both extrapolated**)",
                                 w_wall, e_wall, "<= 0.1"))
    out.append("")
    for mosaic in mosaics:
        out.append(f"Case 1 skies at {mosaic['n']} images, workflow vs reference: {mosaic['agreement']}.")
    if survey:
        out.append(f"Survey reference measured on N={n1} and N={n2}; every reference number at another N is "
                   "extrapolated (rows marked EXTRAPOLATED).")
    for mosaic in mosaics:
        out += [""] + mosaic["profile"]
    if survey:
        out += [""] + profile(survey[2], survey[5])
    print("\n".join(out), flush=True)

    shutil.rmtree(tmp, ignore_errors=True)  # the temporary scratch and data (not --keep / --data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
