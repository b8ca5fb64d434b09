"""Snakemake entry: the diagnostics figures and the summary table, from stage files only."""

from skymatchflow.diagnostics.stage import make_diagnostics
from skymatchflow.jobs.rulerunner import run_rule
from skymatchflow.stages.image_batch import image_batch_dirs, product_path


def main(smk):
    cfg = smk.params.cfg
    dirs = image_batch_dirs(smk.input.image_batches, cfg["images"])
    footprints = [product_path(dirs[image], image, "footprint") for image in cfg["images"]]
    previews = {image: product_path(dirs[image], image, "preview") for image in cfg["images"]} if cfg["previews"] else {}
    make_diagnostics(smk.input.sky, smk.input.pairs, footprints, previews, dict(smk.output.items()))


run_rule(main, snakemake)  # noqa: F821
