# Matched copies of the inputs (target `matched`): sky keywords set, and the
# sky subtracted from SCI when `subtract` is true. Inputs are never modified.


rule apply_sky:
    input:
        image=matched_source,
        sky="results/sky.ecsv",
        identity=request_path("apply_sky"),
    output:
        "results/matched/{filename}",
    log:
        "logs/apply_sky/{filename}.log",
    benchmark:
        "benchmarks/apply_sky/{filename}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=apply_mem_mb,
        runtime=apply_runtime,
    params:
        cfg=apply_params,
    script:
        entry_script("apply_sky.py")


rule matched:
    input:
        expand("results/matched/{filename}", filename=MATCHED),
