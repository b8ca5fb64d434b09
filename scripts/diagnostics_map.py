"""Snakemake entry: the diagnostics' map file (footprints on the map, previews on the mosaic grid), before the solve."""

from skymatchflow.diagnostics.mapstage import make_map
from skymatchflow.jobs.rulerunner import run_rule
from skymatchflow.products.images import batch_dir_of_each_image, product_path, read_skipped


def main(smk):
    cfg = smk.params.cfg
    skipped = read_skipped(smk.input.image_batches)  # bad images (on_bad_input: skip) have no products
    images = [image for image in cfg["images"] if image not in skipped]
    dirs = batch_dir_of_each_image(smk.input.image_batches, images)
    footprints = [product_path(dirs[image], image, "footprint") for image in images]
    previews = {image: product_path(dirs[image], image, "preview") for image in images} if cfg["previews"] else {}
    make_map(footprints, previews, smk.output.map)


run_rule(main, snakemake)  # noqa: F821
