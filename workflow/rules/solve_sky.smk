# The solve: every image's sky from whole-image skies and pair statistics.
# When matching, it waits for the overlap-graph checkpoint (it reads every
# pair batch the plans name); with skymethod 'user' it reads the skylist
# instead of any pair.


rule solve_sky:
    input:
        image_batches=ALL_IMAGE_BATCHES,
        skylist=branch(USER_SKIES, then=config["skylist"]),
        graph_groups=branch(MATCHING, then="results/overlaps/groups.ecsv"),
        graph_pairs=branch(MATCHING, then="results/overlaps/pairs.ecsv"),
        plans=branch(MATCHING, then="results/overlaps/batches"),
        pair_batches=branch(MATCHING, then=pair_batch_dirs),
        identity=request_path("solve_sky"),
    output:
        sky=report(
            SOLVE_TABLES[0],
            caption="../report/sky.rst",
            category="Sky table",
            labels=refuse_stale_report,
        ),
        pairs=report(
            SOLVE_TABLES[1],
            caption="../report/pair_differences.rst",
            category="Sky table",
            labels=refuse_stale_report,
        ),
    log:
        "logs/solve_sky.log",
    benchmark:
        "benchmarks/solve_sky.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=CATALOG_MEM_MB,
        runtime=CATALOG_RUNTIME,
    params:
        cfg=solve_params,
    script:
        entry_script("solve_sky.py")
