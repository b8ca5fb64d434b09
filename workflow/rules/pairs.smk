# The overlap graph and the pair batch plans, made by one job (a checkpoint:
# which batches exist is known only after it), and the per-pair overlap
# statistics, computed in stable batches. The graph's job writes the plans
# too: a job of its own was one more process start, about a second of
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


rule pair_batch:
    input:
        unpack(pair_batch_inputs),
        identity=request_path("pair_batch"),
    output:
        directory("results/pairs/{batch}"),
    log:
        "logs/pair_batch/{batch}.log",
    benchmark:
        "benchmarks/pair_batch/{batch}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=pair_batch_mem_mb,
        runtime=pair_batch_runtime,
    params:
        cfg=pair_batch_params,
    message:
        # instead of Snakemake's input list: every member's files
        "pair batch {wildcards.batch}: the pairs of {input.plan}"
    script:
        entry_script("pair_batch.py")
