"""One run's progress across the parallel batches of a stage: an overall count and time left.

Each batch is its own job and knows only its own items. A batch records its
count in a small file (``<stage>/<batch>.json``) each time it logs a line,
and appends the stage's total from every batch's file: "all 4 batches:
210/2000 images (10 %), about 9 min left". Which batches run is written
before they start (``expected.json``) by the Snakefile's ``onstart``: the
image batches, and the pair batches when their plans are kept from an
earlier run. A batch not yet started counts with the mean size of those
that have. After the pair batch plans (written by the overlap graph, a checkpoint) no one knows which pair
batches will run (a batch whose plan kept its bytes does not), so the pair
stage counts the batches that have started. Files are best
effort: a read-only or missing directory only drops the overall part.
"""

import json
import os
import shutil
import time
from pathlib import Path

PROGRESS_DIR = Path(".snakemake/skymatchflow/progress")
EXPECTED = "expected.json"


def write_expected(stage, batches, root=PROGRESS_DIR):
    """Start a stage's count afresh: ``batches`` = {batch name: item count, or None if unknown yet}."""
    stage_dir = Path(root) / stage
    try:
        shutil.rmtree(stage_dir, ignore_errors=True)
        stage_dir.mkdir(parents=True, exist_ok=True)
        _write(stage_dir / EXPECTED, dict(batches))
    except OSError:
        pass


def record(stage, batch, done, total, elapsed, root=PROGRESS_DIR):
    """Record one batch's count (``elapsed``: its seconds so far)."""
    try:
        _write(Path(root) / stage / f"{batch}.json", {"done": done, "total": total, "elapsed": elapsed})
    except OSError:
        pass


def overall(stage, root=PROGRESS_DIR):
    """(batches, done, total, seconds left or None) of a stage across its batches, or None without records."""
    stage_dir = Path(root) / stage
    expected = _read(stage_dir / EXPECTED) or {}
    states = {}
    for path in stage_dir.glob("*.json") if stage_dir.is_dir() else []:
        if path.name != EXPECTED:
            state = _read(path)
            if state:
                states[path.stem] = state
    if not states:
        return None
    batches = set(expected) | set(states)
    known = [states[b]["total"] if b in states else expected.get(b) for b in sorted(batches)]
    sizes = [n for n in known if n is not None]
    mean = sum(sizes) / len(sizes) if sizes else 0
    total = round(sum(n if n is not None else mean for n in known))
    done = sum(state["done"] for state in states.values())
    running = [s for s in states.values() if s["done"] < s["total"]] or list(states.values())
    rate = sum(s["done"] / max(s["elapsed"], 1e-9) for s in running)
    left = (total - done) / rate if rate > 0 else None
    return len(batches), done, total, left


def overall_text(stage, what, root=PROGRESS_DIR):
    """' | all 4 batches: 210/2000 images (10 %), about 9 min left', or '' with one batch or no records."""
    figures = overall(stage, root)
    if figures is None or figures[0] < 2:
        return ""
    batches, done, total, left = figures
    percent = 100.0 * done / max(total, 1)
    return (f" | all {batches} batches: {done}/{total} {what} ({percent:.0f} %)"
            f"{time_left(left) if left is not None else ''}")


def _write(path, value):
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    tmp.write_text(json.dumps(value))
    os.replace(tmp, path)


def _read(path):
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def start_of_run(jobs, image_batch_sizes, max_pair_batches=None, root=PROGRESS_DIR):
    """At the run's start (the Snakefile's ``onstart``): which batches run; the one line that says so.

    ``jobs``: (rule name, wildcards dict) of the jobs to run; ``image_batch_sizes``:
    {image batch: its image count}; ``max_pair_batches``: the config's
    ``pair_batches`` (the plan makes at most that many). Returns the line, or
    None with no batch job.
    """
    image_batches = {w["batch"]: image_batch_sizes.get(w["batch"]) for rule, w in jobs if rule == "image_batch"}
    pair_batches = {w["batch"]: None for rule, w in jobs if rule == "pair_batch"}
    plans = any(rule == "overlap_graph" for rule, _ in jobs)  # the checkpoint that writes the pair batch plans
    write_expected("images", image_batches, root)  # also clears an earlier run's counts
    write_expected("pairs", pair_batches, root)
    if not (image_batches or pair_batches or plans):
        return None
    parts = []
    if image_batches:
        parts.append(f"{len(image_batches)} image batches ({sum(n or 0 for n in image_batches.values())} images)")
    if pair_batches:
        parts.append(f"{len(pair_batches)} pair batches")
    line = "skymatchflow: this run has " + (", ".join(parts) or "no batch before the pair plan")
    if plans:
        up_to = f"up to {max_pair_batches} " if max_pair_batches else ""
        line += (f"; the pair batch plan then adds {up_to}pair batches, so Snakemake's 'of M steps' grows once "
                 f"({len(jobs)} now): 'all N batches' in the progress lines counts each stage across its batches")
    return line


def time_left(seconds):
    """', about 3 min left' (nothing when done or under a second)."""
    if seconds < 1:
        return ""
    if seconds < 90:
        return f", about {seconds:.0f} s left"
    if seconds < 5400:
        return f", about {seconds / 60:.0f} min left"
    return f", about {seconds / 3600:.1f} h left"
