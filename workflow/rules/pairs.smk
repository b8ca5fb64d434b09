# The overlap graph, the pair batch plans (a checkpoint: which batches exist
# is known only after it) and the per-pair overlap statistics, computed in
# stable batches. The overlap graph reads footprints, not input files: a
# changed file reaches it through its image batch (Snakemake would otherwise
# hash every input file under 1 MB each time the graph finishes).


rule overlap_graph:
    input:
        image_batches=ALL_IMAGE_BATCHES,
        identity=request_path("overlap_graph"),
    output:
        pairs="results/overlaps/pairs.ecsv",
        groups="results/overlaps/groups.ecsv",
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


checkpoint pair_batch_plans:
    input:
        pairs="results/overlaps/pairs.ecsv",
        identity=request_path("pair_batch_plans"),
    output:
        directory("results/overlaps/batches"),
    log:
        "logs/pair_batch_plans.log",
    benchmark:
        "benchmarks/pair_batch_plans.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=CATALOG_MEM_MB,
        runtime=CATALOG_RUNTIME,
    params:
        cfg=plan_params,
    script:
        entry_script("pair_batch_plans.py")


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
