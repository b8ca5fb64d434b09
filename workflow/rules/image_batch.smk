# Per image: the sky footprint (header only), the good-pixel mask (SCI + DQ)
# and the whole-image sky, made in a few stable batches of images. A batch
# directory links its products from the product store: a re-run computes only
# the products whose key (parameters, input checksums) is new (see
# scripts/skymatchflow/products/ and stages/image_batch.py).


rule image_batch:
    input:
        lookup(dpath="{ibatch}", within=IMAGE_BATCH_FILES),
        identity=request_path("image_batch", "{ibatch}"),
    output:
        directory("results/images/{ibatch}"),
    log:
        "logs/image_batch/{ibatch}.log",
    benchmark:
        "benchmarks/image_batch/{ibatch}.tsv"
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=image_batch_mem_mb,
        runtime=image_batch_runtime,
    params:
        cfg=lambda wildcards: image_batch_params_of(wildcards.ibatch),
    message:
        # instead of Snakemake's input and output lists, one line per file at survey scale
        "image batch {wildcards.ibatch}: {params.cfg[images]} images"
    script:
        entry_script("image_batch.py")
