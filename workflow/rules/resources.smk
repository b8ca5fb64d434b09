# Threads, memory (mem_mb) and run time (runtime, minutes) of every rule, for
# cluster executors: computed from the files each job reads, with the measured
# peak models and margins of scripts/skymatchflow/jobs/jobresources.py; a
# submitted job's memory also holds its two Snakemake processes. Kept apart
# from the rules (which only name these functions) so that the estimates can be
# changed in one place. Included after common.smk, whose input functions these
# reuse; nothing here opens a file (only os.stat, when a job is planned).
from skymatchflow.snakefile import jobresources

# Rules that run beside Snakemake itself instead of as cluster jobs: the
# overlap graph and the solve took 7.4 s and 7.7 s (100-110 MB) at 300 images,
# against 23-32 s of job start inside each SLURM job plus a polling round;
# both are linear in the images (13 s for the overlap search at 10,000 images,
# bench_overlaps.py); the graph's job also writes the pair batch plans. The demo's
# comparison is a 16-row table.


localrules:
    all,
    matched,
    demo_compare,
    overlap_graph,
    solve_sky,


def image_batch_mem_mb(wildcards):
    """One member in memory at a time: the process plus the largest member."""
    return jobresources.image_batch_mem_mb(
        jobresources.file_sizes_mb(IMAGE_BATCH_FILES[wildcards.batch])
    )


def image_batch_runtime(wildcards):
    """Per member, plus reading every member once."""
    return jobresources.image_batch_runtime(
        jobresources.file_sizes_mb(IMAGE_BATCH_FILES[wildcards.batch])
    )


def pair_batch_mem_mb(wildcards):
    """Two members' overlaps at a time."""
    sizes = jobresources.file_sizes_mb(input_files(batch_images(wildcards.batch)))
    return jobresources.pair_batch_mem_mb(sizes)


def pair_batch_runtime(wildcards):
    """Per pair, plus reading the members' overlaps."""
    sizes = jobresources.file_sizes_mb(input_files(batch_images(wildcards.batch)))
    return jobresources.pair_batch_runtime(
        len(batch_plan(wildcards.batch)["pairs"]), sizes
    )


# The solve reads every pair file; surveys have up to ~10 pairs per image
# (98,896 pairs among 10,000 footprints in bench_overlaps.py).
PAIRS_PER_IMAGE = 10
CATALOG_MEM_MB = jobresources.catalog_mem_mb(len(IMAGES), PAIRS_PER_IMAGE * len(IMAGES))
CATALOG_RUNTIME = jobresources.catalog_runtime(
    len(IMAGES), PAIRS_PER_IMAGE * len(IMAGES)
)


def apply_mem_mb(wildcards):
    """The input file's arrays, their copy and the output."""
    return jobresources.copy_mem_mb(
        sum(jobresources.file_sizes_mb([matched_source(wildcards)]))
    )


def apply_runtime(wildcards):
    """Read once, written once."""
    return jobresources.copy_runtime(
        sum(jobresources.file_sizes_mb([matched_source(wildcards)]))
    )


# The demo's generator: 152 MB and 10 s measured at 1024x1024 detectors.
DEMO_MOSAIC_MEM_MB = jobresources.demo_mosaic_mem_mb()
DEMO_MOSAIC_RUNTIME = 10

# The demo's figure of recovered against injected sky levels.
FIGURE_MEM_MB = jobresources.figure_mem_mb()
