# Diagnostics: pictures of the match (footprint map, overlap graph, residuals,
# mosaic preview before and after) and the summary table, from stage files
# only: the sky table, the pair table, the footprints and the per-image
# previews (never the full images). In two jobs: the map (footprints on the
# map, previews resampled onto the mosaic's grid) needs the image batches
# only and runs beside the pair batches and the solve; the figures and the
# summary are all that is left after the solve, in one job (its imports, a
# second of matplotlib and astropy.table, cost more than drawing the four
# figures: two jobs paid them twice). A figure whose inputs did not change is
# linked from the figure store, not drawn (diagnostics/figurestore). The
# demo's figure is in demo.smk.


rule diagnostics_map:
    input:
        image_batches=ALL_IMAGE_BATCHES,
        identity=request_path("diagnostics_map"),
    output:
        map="results/diagnostics/map.npz",
    log:
        "logs/diagnostics_map.log",
    benchmark:
        "benchmarks/diagnostics_map.tsv"
    conda:
        ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        cfg=diagnostics_map_params,
    script:
        entry_script("diagnostics_map.py")


rule diagnostics:
    input:
        sky="results/sky.ecsv",
        pairs="results/pair_differences.ecsv",
        map=rules.diagnostics_map.output.map,
        identity=request_path("diagnostics"),
    output:
        tables=report(
            "results/diagnostics/tables.html",
            caption="../report/tables.rst",
            category="Diagnostics",
        ),
        summary=report(
            "results/summary.ecsv",
            caption="../report/summary.rst",
            category="Diagnostics",
            labels=refuse_stale_report,
        ),
        residuals=report(
            "results/diagnostics/residuals.png",
            caption="../report/residuals.rst",
            category="Diagnostics",
            labels=refuse_stale_report,
        ),
        mosaic=report(
            "results/diagnostics/mosaic.png",
            caption="../report/mosaic.rst",
            category="Diagnostics",
            labels=refuse_stale_report,
        ),
        footprints=report(
            "results/diagnostics/footprints.png",
            caption="../report/footprints.rst",
            category="Diagnostics",
            labels=refuse_stale_report,
        ),
        overlap_graph=report(
            "results/diagnostics/overlap_graph.png",
            caption="../report/overlap_graph.rst",
            category="Diagnostics",
            labels=refuse_stale_report,
        ),
    log:
        "logs/diagnostics.log",
    benchmark:
        "benchmarks/diagnostics.tsv"
    conda:
        ENV
    threads: 2  # the figures that need no summary are drawn by a forked copy of the job (diagnostics/stage)
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        cfg=diagnostics_params,
    script:
        entry_script("diagnostics.py")
