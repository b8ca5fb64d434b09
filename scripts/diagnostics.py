"""Snakemake entry: the diagnostics figures and the summary table, from stage files only."""

from skymatchflow.diagnostics.stage import make_diagnostics
from skymatchflow.jobs.rulerunner import run_rule
from skymatchflow.products.images import image_batch_dirs, product_path, read_skipped


def main(smk):
    cfg = smk.params.cfg
    skipped = read_skipped(smk.input.image_batches)  # bad images (on_bad_input: skip) have no products
    images = [image for image in cfg["images"] if image not in skipped]
    dirs = image_batch_dirs(smk.input.image_batches, images)
    footprints = [product_path(dirs[image], image, "footprint") for image in images]
    previews = {image: product_path(dirs[image], image, "preview") for image in images} if cfg["previews"] else {}
    make_diagnostics(smk.input.sky, smk.input.pairs, footprints, previews, dict(smk.output.items()))


run_rule(main, snakemake)  # noqa: F821
