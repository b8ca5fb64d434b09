# The embedded demo: a generated JWST-like mosaic with known injected skies,
# and the recovered skies against the injected ones (a table and a figure).


rule demo_mosaic:
    output:
        images=DEMO_FILES,
        truth=f"{DEMO_DIR}/truth.ecsv",
    log:
        "logs/demo_mosaic.log",
    benchmark:
        "benchmarks/demo_mosaic.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=DEMO_MOSAIC_MEM_MB,
        runtime=DEMO_MOSAIC_RUNTIME,
    params:
        cfg={
            "seed": config["demo"]["seed"],
            "detector_size": config["demo"]["detector_size"],
        },
    script:
        entry_script("demo_mosaic.py")


rule demo_compare:
    input:
        sky="results/sky.ecsv",
        truth=f"{DEMO_DIR}/truth.ecsv",
    output:
        report(
            "results/demo_recovered_vs_injected.ecsv",
            caption="../report/demo.rst",
            category="Demo",
            labels=refuse_stale_report,
        ),
    log:
        "logs/demo_compare.log",
    benchmark:
        "benchmarks/demo_compare.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=200,
        runtime=5,
    script:
        entry_script("demo_compare.py")


rule demo_figure:
    input:
        "results/demo_recovered_vs_injected.ecsv",
    output:
        report(
            "results/diagnostics/demo_recovered_vs_injected.png",
            caption="../report/demo_figure.rst",
            category="Demo",
            labels=refuse_stale_report,
        ),
    log:
        "logs/demo_figure.log",
    benchmark:
        "benchmarks/demo_figure.tsv"
    conda:
        ENV
    resources:
        mem_mb=FIGURE_MEM_MB,
        runtime=5,
    script:
        entry_script("demo_figure.py")
