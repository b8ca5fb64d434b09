# The solve: every image's sky from whole-image skies and pair statistics.


rule solve_sky:
    input:
        unpack(solve_inputs),
        footprints=expand("results/footprints/{image}.json", image=IMAGES),
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
    params:
        cfg=solve_params,
    script:
        "../../scripts/solve_sky.py"
