"""Memory and run time to ask a scheduler for, from what a job will read.

A cluster job that asks for too little is killed; one that asks for far too
much waits longer in the queue and blocks other work (a guessed 1,000 MB was
7-10x the real peak). Every estimate here is a measured peak model times a
margin, from the sizes of the files the job reads. Measured on this project's
machine with the benchmark files Snakemake writes (``benchmarks/``, max_rss
and s), Snakemake 9.27, 2026-11-30 (see README "On a cluster"):

- a job's Python process with numpy, astropy and spherical-geometry loaded:
  90-107 MB RSS whatever it reads (image batches of 75 images of 256x256 and
  of 2 images of 1024x1024, overlap graph and solve of the demo and of 300
  images);
- an image batch holds one member at a time: SCI, DQ, the mask and the
  statistic's buffers, at most about 1.3x the member's file size (142 MB for
  2048x2048 images, 33.6 MB files);
- a pair batch holds the overlap of two members at a time.

A cluster job holds more than the rule's script: the job's own Snakemake
(the SLURM batch step) and the job step's Snakemake, which starts the script,
run beside it. Sites enforce the request on all of them together (a cgroup
per job; OverMemoryKill on each step). Measured whole-job peaks on the CI's
SLURM (tests/cluster/, the sum of every job process's peak RSS), 2026-12-06:
349-408 MB for every job of the demo and 357-403 MB at 300 images, of which
each Snakemake process took 130-133 MB and srun and the shells about 13 MB;
requests of 200-250 MB (the script's peak alone) were killed.
So every submitted job asks for MARGIN x (two Snakemake processes + the
script's peak model); rules that run beside the main Snakemake
(``localrules``: the overlap graph, the pair plans, the solve) have no job
processes and ask for the script's model alone.

Run times are wall-clock limits, so they are generous (a shared node or a
slow parallel file system can be 10x slower than the CPU time measured here):
a floor of 5 minutes, plus per item and per MB read.
"""

import math
import os

PROCESS_MB = 110  # a job's interpreter with its imports (measured 90-107 MB)
SNAKEMAKE_MB = 140  # one Snakemake process inside a cluster job (measured 130-133 MB, plus srun's share)
JOB_SNAKEMAKES = 2  # the job's and its job step's
MARGIN = 1.5  # on every memory peak model (measured peaks x 1.5, rounded up)
MEM_STEP_MB = 50  # requests rounded up to this
RUNTIME_FLOOR_MIN = 5
READ_MB_PER_MIN = 100  # ~20x slower than measured on local disk
SECONDS_PER_IMAGE = 1.0  # per-image work in a batch (measured ~0.02 s at 256x256)
SECONDS_PER_PAIR = 2.0  # per pair (scan fill and statistic of one overlap)
FOOTPRINT_MB = 0.05  # one footprint held by graph/solve (overlap graph, 300 images: +17 MB)
PAIR_MB = 0.005  # one pair row held by the solve
ITEMS_PER_MIN = 1000  # graph and solve: 10,000 footprints in ~13 s measured


def file_sizes_mb(paths):
    """Sizes in MB of ``paths``; a file not made yet counts 0.

    Snakemake evaluates resources when it plans the DAG, before upstream jobs
    have written their outputs (the demo's images), and evaluates them again
    when the job is ready, with every input present.
    """
    sizes = []
    for path in paths:
        try:
            sizes.append(os.path.getsize(path) / 1e6)
        except OSError:
            sizes.append(0.0)
    return sizes


def _mem(peak_mb):
    return int(math.ceil(MARGIN * peak_mb / MEM_STEP_MB) * MEM_STEP_MB)


def _job_mem(script_peak_mb):
    """A submitted job: its two Snakemake processes beside the script."""
    return _mem(JOB_SNAKEMAKES * SNAKEMAKE_MB + script_peak_mb)


def _minutes(seconds=0.0, read_mb=0.0, items=0):
    return int(
        math.ceil(
            RUNTIME_FLOOR_MIN + seconds / 60 + read_mb / READ_MB_PER_MIN + items / ITEMS_PER_MIN
        )
    )


def image_batch_mem_mb(sizes_mb):
    """An image batch: one member in memory at a time."""
    return _job_mem(PROCESS_MB + 2 * max(sizes_mb, default=0.0))


def image_batch_runtime(sizes_mb):
    """An image batch: per member, plus reading every member once."""
    return _minutes(seconds=SECONDS_PER_IMAGE * len(sizes_mb), read_mb=sum(sizes_mb))


def pair_batch_mem_mb(sizes_mb):
    """A pair batch: the overlap of two members at a time."""
    return _job_mem(PROCESS_MB + 3 * max(sizes_mb, default=0.0))


def pair_batch_runtime(n_pairs, sizes_mb):
    """A pair batch: per pair, plus reading its members' overlaps."""
    return _minutes(seconds=SECONDS_PER_PAIR * n_pairs, read_mb=sum(sizes_mb))


def catalog_mem_mb(n_images, n_pairs=0):
    """Overlap graph and solve (local rules): every footprint, sky and pair row in memory."""
    return _mem(PROCESS_MB + FOOTPRINT_MB * n_images + PAIR_MB * n_pairs)


def catalog_runtime(n_images, n_pairs=0):
    """Overlap graph and solve: linear in images and pairs."""
    return _minutes(items=n_images + n_pairs)


def copy_mem_mb(size_mb):
    """A matched copy: the file's arrays, their copy and the output."""
    return _job_mem(PROCESS_MB + 3 * size_mb)


def copy_runtime(size_mb):
    """A matched copy: read once, written once."""
    return _minutes(read_mb=2 * size_mb)


def demo_mosaic_mem_mb():
    """The demo's generator (a submitted job): 152 MB measured at 1024x1024 detectors."""
    return _job_mem(152)


def figure_mem_mb():
    """A figure of a small table (a submitted job): 107 MB measured with matplotlib loaded."""
    return _job_mem(PROCESS_MB + 20)
