# The solve: every image's sky from whole-image skies and pair statistics.


rule solve_sky:
    input:
        image_batches=ALL_IMAGE_BATCHES,
        skylist=solve_skylist,
        groups=solve_graph_files("groups"),
        pair_list=solve_graph_files("pairs"),
        pairs=solve_pairs,
    output:
        sky=report(
            "results/sky.ecsv",
            caption="../report/sky.rst",
            category="Sky table",
        ),
        pairs=report(
            "results/pair_differences.ecsv",
            caption="../report/pair_differences.rst",
            category="Sky table",
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
        "../../scripts/solve_sky.py"
