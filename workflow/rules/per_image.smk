# Per image: the sky footprint (header only) and the good-pixel mask (SCI + DQ).
# Two rules so that a new stepsize re-runs only footprints and a new dqbits
# only masks.


rule image_footprint:
    input:
        image=image_file,
    output:
        "results/footprints/{image}.json",
    log:
        "logs/image_footprint/{image}.log",
    benchmark:
        "benchmarks/image_footprint/{image}.tsv"
    conda:
        ENV
    params:
        cfg=footprint_params,
    script:
        "../../scripts/image_footprint.py"


rule image_mask:
    input:
        unpack(image_inputs),
    output:
        "results/masks/{image}.fits",
    log:
        "logs/image_mask/{image}.log",
    benchmark:
        "benchmarks/image_mask/{image}.tsv"
    conda:
        ENV
    params:
        cfg=mask_params,
    script:
        "../../scripts/image_mask.py"


rule image_sky:
    input:
        image=image_file,
        mask="results/masks/{image}.fits",
    output:
        "results/image_skies/{image}.json",
    log:
        "logs/image_sky/{image}.log",
    benchmark:
        "benchmarks/image_sky/{image}.tsv"
    conda:
        ENV
    params:
        cfg=image_sky_params,
    script:
        "../../scripts/image_sky.py"
