# Config validation, input discovery and input functions.
import functools
import mimetypes
import os
import sys
from pathlib import Path
from types import SimpleNamespace

from snakemake.logging import logger
from snakemake.io import is_flagged
from snakemake.utils import validate

# workflow/, from source.smk: workflow.basedir is the user's own Snakefile's directory
# when the workflow is used as a module, a Git address when deployed from one
WORKFLOW_DIR = WORKFLOW_TREE / "workflow"
sys.path.insert(0, str(WORKFLOW_DIR.parent / "scripts"))

# every name the workflow takes from the package comes from one module (scripts/skymatchflow/snakefile.py)
from skymatchflow.snakefile import (
    LayoutCache,
    __version__ as skymatchflow_version,
    assign_image_batches,
    batch_counts,
    by_digest,
    check_anchor_names,
    check_config,
    check_headers,
    check_listed_files_exist,
    demo_file_names,
    describe_policy,
    describe_refused,
    discover_images,
    image_places,
    job_identity,
    looks_like_jwst,
    print_failure_summary,
    read_plan,
    read_skylist,
    refused_images,
    request_path,
    rule_digest,
    ruleparams,
    shipped_config,
    start_of_run,
    stat_signature,
    stop_on_bad_input,
)

# the report offers ECSV tables as text downloads (Snakemake would warn it cannot tell their type)
mimetypes.add_type("text/plain", ".ecsv")
CONFIG_SCHEMA = WORKFLOW_DIR / "schemas" / "config.schema.yaml"
# The checks of the config and of the inputs' headers run in the main Snakemake
# only: it made them before any job, and each cluster job starts Snakemake twice
# (about 0.2 s of CPU per start saved; the input layout cache is written once).
CHECKING = workflow.is_main_process
if CHECKING:
    stop_on_bad_input(check_config, config, CONFIG_SCHEMA, shipped_config())
validate(config, str(CONFIG_SCHEMA))  # also fills in the schema's defaults

DEMO_DIR = "resources/demo"
DEMO_FILES = [f"{DEMO_DIR}/{name}" for name in demo_file_names()]
MADE_BY_WORKFLOW = set(DEMO_FILES)
_LAYOUTS = LayoutCache()
# on_bad_input: skip: files refused at start ({path: line}) are SKIPPED, not a stop
_REFUSED_PATHS = {} if config["on_bad_input"] == "skip" else None
IMAGES = stop_on_bad_input(discover_images, config, _LAYOUTS, _REFUSED_PATHS)
# with skip, a job needs the refusals too: they are in its batch's params
if CHECKING or _REFUSED_PATHS is not None:
    stop_on_bad_input(check_headers, IMAGES, _LAYOUTS, _REFUSED_PATHS)
if CHECKING:
    _LAYOUTS.save()
# {image: "path: reason"}; their batches record them as skipped without reading them
REFUSED = (
    {}
    if _REFUSED_PATHS is None
    else refused_images(IMAGES, _REFUSED_PATHS, MADE_BY_WORKFLOW)
)
if REFUSED and CHECKING:
    logger.warning(describe_refused(REFUSED))
if CHECKING and _REFUSED_PATHS is None:  # with skip, a missing file is SKIPPED above
    stop_on_bad_input(check_listed_files_exist, IMAGES, MADE_BY_WORKFLOW)
if CHECKING:
    stop_on_bad_input(check_anchor_names, config["anchor"], IMAGES, config["groups"])
logger.info(f"skymatchflow {skymatchflow_version} ({WORKFLOW_ORIGIN})")
if CHECKING:
    logger.info(
        describe_policy(
            ruleparams.wcs_mode(config),
            any(looks_like_jwst(spec.file) for spec in IMAGES.values()),
        )
    )
# the per-image parameters every image shares (the wcs policy, exclusions hashed, previews' size), once
IMAGE_SETTINGS = stop_on_bad_input(ruleparams.image_settings, config, len(IMAGES))
USER_SKIES = config["skymethod"] == "user"
MATCHING = "match" in config["skymethod"]
if USER_SKIES and CHECKING:
    stop_on_bad_input(
        read_skylist, config["skylist"], sorted({spec.file for spec in IMAGES.values()})
    )
ENV = "../../envs/skymatch.yaml"
SCRIPTS = WORKFLOW_DIR.parent / "scripts"


@functools.cache
def rule_code(script):
    """Digest of a rule's code (its script, the package modules it imports, the Snakefile and rule files).

    In every rule's params, so a change to the code re-runs the rules it
    concerns (Snakemake's own code trigger sees the entry script only).
    """
    return rule_digest(SCRIPTS / script)


USES_DEMO = sorted(spec.file for spec in IMAGES.values()) == sorted(DEMO_FILES)


# {batch}: a pair batch, b[0-9]+; rule image_batch narrows it to an image batch, i[0-9]+
wildcard_constraints:
    batch=r"b[0-9]+",


# where each image lies (its header's sky position, from the layout cache the header checks filled)
# and its pixel count; the demo's files, made by a rule, and files refused at start are batched by their id
IMAGE_PLACES = image_places(IMAGES, _LAYOUTS, set(REFUSED) | MADE_BY_WORKFLOW)
if CHECKING:
    _LAYOUTS.save()
# 'auto' batch counts become numbers here: every later use (params, tables' metadata) sees the number
config["image_batches"], config["pair_batches"] = batch_counts(
    config["image_batches"],
    config["pair_batches"],
    sum(place["pixels"] for place in IMAGE_PLACES.values())
    # the demo's files, not made yet at the first start: its detectors' size
    + sum(1 for spec in IMAGES.values() if spec.file in MADE_BY_WORKFLOW)
    * config.get("demo", {}).get("detector_size", 1024) ** 2,
    len(IMAGE_PLACES),
)
# by sky cell, or on a field of few cells in spatial order cut into equal pixel shares (jobs/batches.py)
IMAGE_BATCH_OF = assign_image_batches(IMAGE_PLACES, config["image_batches"], "i")
# the pair batch of the pairs each image leads (first member of their first side): by the same rule
PAIR_BATCH_OF = assign_image_batches(IMAGE_PLACES, config["pair_batches"], "b")


def image_batch_of(image):
    """The per-image batch an image belongs to (IMAGE_BATCH_OF: by where it lies, else its id)."""
    return IMAGE_BATCH_OF[image]


IMAGE_BATCHES = {}  # batch -> member image ids, in input order
for _image in IMAGES:
    IMAGE_BATCHES.setdefault(image_batch_of(_image), []).append(_image)


def image_batch_dirs(images):
    """The batch directories holding the products of ``images``."""
    return sorted({f"results/images/{image_batch_of(i)}" for i in images})


def input_files(images, refused_too=False):
    """The input files ``images`` are read from (images and separate DQ files).

    Without those of images refused at start (on_bad_input: skip), which no job reads.
    """
    files = set()
    for image in images:
        spec = IMAGES[image]
        if refused_too or image not in REFUSED:
            files.update(path for path in (spec.file, spec.dq_file) if path)
    return sorted(files)


def file_signatures(images):
    """{path: stat signature} of the input files of ``images`` not made by this workflow.

    In a job's params, so a file replaced by one with an older mtime (``cp -p``)
    still re-runs its batch; files a rule makes (the demo) are Snakemake's to track.
    """
    return {
        path: stat_signature(path) if os.path.exists(path) else None
        # refused files too: one fixed re-runs its batch
        for path in input_files(images, refused_too=True)
        if path not in MADE_BY_WORKFLOW
    }


@functools.cache
def image_batch_params_of(batch):
    """image_batch_params, computed once per start (the identity requests and Snakemake both ask)."""
    return image_batch_params(SimpleNamespace(batch=batch))


def image_batch_params(wildcards):
    """Everything a batch's products depend on, as one dict (a change re-runs it)."""
    images = IMAGE_BATCHES[wildcards.batch]
    refused = {i: REFUSED[i] for i in images if i in REFUSED}
    spec = ruleparams.image_batch_params(
        {i: IMAGES[i] for i in images}, config, IMAGE_SETTINGS, refused
    )
    params = spec | {
        "signatures": file_signatures(images),
        "code": rule_code("image_batch.py"),
    }
    return by_digest(params, {"images": len(images)})


@functools.cache
def all_made_from():
    """What every image's product keys are computed from (ruleparams.made_from_params), once per start."""
    return ruleparams.made_from_params(IMAGES, IMAGE_SETTINGS)


@functools.cache
def all_made_from_ref():
    """all_made_from as one params file, named by its digest (jobs/paramfiles), written once per start.

    The overlap graph, the solve and the audit check every image's products
    against it: their params hold this reference, and each job reads the
    dict back from the file, checked against the digest (one file, not a
    copy of a table of every image in the params of each of the three).
    """
    return by_digest(all_made_from())


ALL_IMAGE_BATCHES = image_batch_dirs(IMAGES)
IMAGE_BATCH_FILES = {
    batch: input_files(images) for batch, images in IMAGE_BATCHES.items()
}


def graph_params(wildcards):
    """The overlap graph's params (ruleparams.graph_params, all_made_from by its digest) as a digest."""
    params = ruleparams.graph_params(
        config, all_made_from_ref(), PAIR_BATCH_OF, rule_code("overlap_graph.py")
    )
    return by_digest(params, {"images": len(IMAGES)})


def shared_pair_params(wildcards):
    """What every pair batch depends on besides its plan and members (ruleparams.pair_batch_params; the identity request's part)."""
    return ruleparams.pair_batch_params(
        rule_code("pair_batch.py"), rule_code("image_batch.py")
    )


def pair_batch_params(wildcards):
    """A pair batch's pairs are in its plan; here the shared part, where its members' products are and the stat
    signatures of their files. Not the image batches as inputs: a re-run image batch re-runs only the pair
    batches whose plan or members' files changed, not every batch reading one of its images.
    """
    images = batch_images(wildcards.batch)
    params = shared_pair_params(wildcards) | {
        "image_batches": image_batch_dirs(images),
        "signatures": file_signatures(images),
    }
    return by_digest(params, {"images": len(images)})


@functools.lru_cache(maxsize=4096)
def _plan(path, mtime):
    # jobs/plans, not through the pair stage's module, which would import astropy into this process
    return stop_on_bad_input(read_plan, path)


def plan_dir():
    """The pair batch plans' directory (waits for the overlap graph's checkpoint)."""
    return checkpoints.overlap_graph.get().output.plans


def batch_plan(batch):
    """One pair batch's plan: its pairs and its member images' records."""
    path = f"{plan_dir()}/{batch}.json"
    return _plan(path, os.path.getmtime(path))


def batch_images(batch):
    """Member image ids of one pair batch, in first-use order."""
    return list(batch_plan(batch)["made_from"]["images"])


def pair_batch_inputs(wildcards):
    """The batch's plan, and the files its pixels and geometry come from: its members' files (their products'
    image batches come before the plans; pair_batch_params names them)."""
    images = batch_images(wildcards.batch)
    return {
        "plan": f"{plan_dir()}/{wildcards.batch}.json",
        "images": input_files(images),
    }


def pair_batch_dirs(wildcards):
    """All pair batch directories (the final targets of the pair stage), one per plan."""
    batches = sorted(
        name[:-5] for name in os.listdir(plan_dir()) if name.endswith(".json")
    )
    return expand("results/pairs/{batch}", batch=batches)


def solve_params_dict():
    """The solve's parameters (ruleparams.solve_params, all_made_from by its digest), also its identity request's.

    Its request (identity.smk) puts the digest of the table itself in place of
    the reference (jobs/identity.params_identity): the made_from_key the solve
    records from the table it reads back.
    """
    return ruleparams.solve_params(
        config, all_made_from_ref(), rule_code("solve_sky.py")
    )


def solve_params(wildcards):
    """The solve's parameters (solve_params_dict) as a digest (jobs/paramfiles)."""
    summary = {"images": len(IMAGES), "skymethod": config["skymethod"]}
    return by_digest(solve_params_dict(), summary)


def audit_params(wildcards):
    """What the audit checks results against: the solve's params, with the audit's own code."""
    params = ruleparams.audit_params(config, all_made_from_ref(), rule_code("audit.py"))
    return by_digest(params, {"images": len(IMAGES)})


SOLVE_TABLES = ["results/sky.ecsv", "results/pair_differences.ecsv"]

# Matched copies are named by the input file's name (unique, like the ids).
# A file refused at start (on_bad_input: skip) has no matched copy.
MATCHED = {
    Path(spec.file).name: spec.file
    for image, spec in IMAGES.items()
    if image not in REFUSED
}


def matched_source(wildcards):
    """The input file a matched copy is made from."""
    return MATCHED[wildcards.filename]


def shared_apply_params(wildcards):
    """What every matched copy depends on besides the sky table and its own file (its identity request)."""
    return ruleparams.shared_apply_params(config, rule_code("apply_sky.py"))


def apply_params(wildcards):
    """What a matched copy depends on besides the sky table, as one dict."""
    file = MATCHED[wildcards.filename]
    return ruleparams.apply_params(config, file, rule_code("apply_sky.py"))


def diagnostics_params(wildcards):
    """The images in input order, and whether they have previews (not with skymethod 'user')."""
    params = ruleparams.diagnostics_params(config, IMAGES, rule_code("diagnostics.py"))
    return by_digest(params, {"images": len(IMAGES)})


def diagnostics_map_params(wildcards):
    """The map job's params: the diagnostics' (ruleparams.diagnostics_params), with its own code."""
    params = ruleparams.diagnostics_params(
        config, IMAGES, rule_code("diagnostics_map.py")
    )
    return by_digest(params, {"images": len(IMAGES)})


def announce_batches():
    """At a run's start: which batches run (for the count across them, jobs/runprogress), in one line."""
    jobs = [
        (job.rule.name, dict(job.wildcards_dict)) for job in workflow.dag.needrun_jobs()
    ]
    sizes = {batch: len(images) for batch, images in IMAGE_BATCHES.items()}
    line = start_of_run(jobs, sizes, config["pair_batches"])
    if line:
        logger.info(line)


def refuse_stale_report(wildcards):
    """The labels of every report() file; only `--report` calls it, after building its DAG of jobs.

    Snakemake's report packages whatever files exist: after `matched` with
    another config, or a config edited since the last run, it would show
    figures of one dataset beside the sky table of another. Any job that
    would run now means some report file is out of date: stop with one line.
    Returns no labels, so the report is otherwise unchanged.
    """
    dag = workflow.dag
    stale = [
        job for job in dag.needrun_jobs() if job.rule.name not in ("all", "matched")
    ]
    if stale:
        files = sorted(
            {str(f) for job in stale for f in job.output if is_flagged(f, "report")}
        )
        first = stale[0]
        # e.g. "Params have changed since last execution"
        reason = str(dag.reason(first)).split(":")[0]
        print(
            f"Error: the report would hold results out of date for this config: "
            f"{', '.join(files) or 'the results'} ({len(stale)} jobs would run; "
            f"first {first.rule.name}, {reason}); run the same snakemake command "
            f"without --report first, then the report",
            file=sys.stderr,
        )
        sys.exit(1)
    return None
