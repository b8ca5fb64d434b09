# The overlap graph and the pair batch plans, made by one job (a checkpoint:
# which batches exist is known only after it). The graph's job writes the
# plans too: a job of its own was one more process start, about a second of
# imports, on the critical path. The overlap graph reads footprints, not
# input files: a changed file reaches it through its image batch (Snakemake
# would otherwise hash every input file under 1 MB each time the graph
# finishes).


checkpoint overlap_graph:
    input:
        image_batches=ALL_IMAGE_BATCHES,
        identity=request_path("overlap_graph"),
    output:
        pairs="results/overlaps/pairs.ecsv",
        groups="results/overlaps/groups.ecsv",
        plans=directory("results/overlaps/batches"),
    log:
        "logs/overlap_graph.log",
    benchmark:
        "benchmarks/overlap_graph.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=CATALOG_MEM_MB,
        runtime=CATALOG_RUNTIME,
    params:
        cfg=graph_params,
    script:
        entry_script("overlap_graph.py")
