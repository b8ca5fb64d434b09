# The per-pair overlap statistics, computed in stable batches: one job per
# pair batch plan that the overlap graph's checkpoint wrote.


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
