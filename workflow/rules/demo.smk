# The embedded demo: a generated JWST-like mosaic with known injected skies.


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
    params:
        cfg={
            "seed": config["demo"]["seed"],
            "detector_size": config["demo"]["detector_size"],
        },
    script:
        "../../scripts/make_demo.py"
