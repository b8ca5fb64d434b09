# Identity requests (scripts/skymatchflow/jobs/identity.py): at every start,
# each job's request file records the digest of everything its outputs
# depend on, rewritten only when that digest changed. A request is an input
# of its job, so a changed config, input or code re-runs exactly the jobs it
# concerns whatever .snakemake/ holds; a stage file deleted by hand re-runs
# the solve, which makes it again. Requests are written in every run, a dry
# run too (it then shows what the next run does).
from skymatchflow.snakefile import (
    missing_stage_files,
    params_identity,
    write_request,
)


def _write_requests():
    """Write every job's request whose identity changed; returns the rules whose requests were written."""
    written = []
    made_from = job_identity(all_made_from())
    for batch in IMAGE_BATCHES:
        cfg = image_batch_params_of(batch)
        if write_request(request_path("image_batch", batch), job_identity(cfg)):
            written.append("image_batch")
    shared = {
        "overlap_graph": graph_params,
        "pair_batch": shared_pair_params,
        "apply_sky": shared_apply_params,
        "diagnostics": diagnostics_params,
        "diagnostics_map": diagnostics_map_params,
    }
    for rule_name, params in shared.items():
        if write_request(
            request_path(rule_name), params_identity(params(None), made_from)
        ):
            written.append(rule_name)
    forced = None
    if os.path.exists("results/sky.ecsv"):
        missing = missing_stage_files(ALL_IMAGE_BATCHES, MATCHING)
        if missing:
            forced = f"{missing[0]} was missing"
            logger.info(f"{forced}: the solve re-runs and it is made again")
    if write_request(
        request_path("solve_sky"),
        params_identity(
            solve_params_dict(), made_from
        ),  # what the solve records as made_from_key
        forced,
    ):
        written.append("solve_sky")
        # the solve waits for the checkpoint: Snakemake does not compare its
        # inputs' dates while the plans are missing (a method switch to one
        # that matches), so its stale tables go and it runs for want of them
        for table in SOLVE_TABLES:
            if os.path.exists(table):
                os.remove(table)
                logger.info(
                    f"{table} no longer matches the config, inputs or code: removed, the solve re-runs"
                )
    return written


# the audit checks the results as they are: a run that asks for it changes nothing
AUDITING = "audit" in sys.argv[1:]
if workflow.is_main_process and not AUDITING:
    _IDENTITY_CHANGED = stop_on_bad_input(_write_requests)
