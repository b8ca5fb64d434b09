# Per image: the sky footprint (header only), the good-pixel mask (SCI + DQ)
# and the whole-image sky, made in a few stable batches of images. A batch
# directory links its products from the product store: a re-run computes only
# the products whose key (parameters, input checksums) is new (see
# scripts/skymatchflow/products/ and stages/image_batch.py).


rule image_batch:
    input:
        lookup(dpath="{batch}", within=IMAGE_BATCH_FILES),
        identity=request_path("image_batch", "{batch}"),
    output:
        directory("results/images/{batch}"),
    log:
        "logs/image_batch/{batch}.log",
    benchmark:
        "benchmarks/image_batch/{batch}.tsv"
    wildcard_constraints:
        batch=r"i[0-9]+",  # an image batch (a pair batch is b[0-9]+)
    conda:
        ENV
    threads: 1
    resources:
        mem_mb=image_batch_mem_mb,
        runtime=image_batch_runtime,
    params:
        cfg=lambda wildcards: image_batch_params_of(wildcards.batch),
    message:
        # instead of Snakemake's input and output lists, one line per file at survey scale
        "image batch {wildcards.batch}: {params.cfg[images]} images"
    script:
        entry_script("image_batch.py")
