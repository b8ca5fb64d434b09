"""One small Snakemake run with every option of issue 19 on (end to end)."""


import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from helpers.config import schema_defaults
from helpers.in_process import run_in_process
from helpers.scenes import make_scene
from helpers.workflow_runner import image_product, run_snakemake, write_config

pytestmark = pytest.mark.e2e


def test_workflow_with_difference_robust_anchor_and_exclude(tmp_path):
    paths, truth = make_scene(tmp_path / "scene", "artefact", scale=0.3, n_cols=3, n_rows=2)
    options = {
        "pair_statistic": "difference",
        "match_weights": "robust",
        "robust_loss": "tukey",
        "anchor": {"tile_00": 1.5},
        "exclude": {"regions": [str(tmp_path / "scene" / "artefact.reg")]},
    }
    config = {"images": paths, "skymethod": "match", "skystat": "median", "pair_batches": 2, "image_batches": 2}
    write_config(tmp_path, **config, **options)
    result = run_snakemake(tmp_path, "all")
    assert result.returncode == 0, result.stderr[-4000:]
    sky = Table.read(tmp_path / "results" / "sky.ecsv")
    pairs = Table.read(tmp_path / "results" / "pair_differences.ecsv")
    assert "weight" in pairs.colnames and np.all(pairs["weight"][pairs["valid"]] > 0)
    assert sky["delta_match"][list(sky["image"]).index("tile_00")] == pytest.approx(1.5)
    # the artefact tile lost the region's pixels from its mask
    with fits.open(image_product(tmp_path, "tile_04", "mask")) as hdul:
        assert hdul["MASK"].header["NGOOD"] < hdul["MASK"].header["NPIX"]
    with fits.open(image_product(tmp_path, "tile_00", "mask")) as hdul:
        assert hdul["MASK"].header["NGOOD"] == hdul["MASK"].header["NPIX"]
    # the rules give what the package's in-process runner gives
    full = schema_defaults() | config | options
    in_process, _ = run_in_process(full, tmp_path / "in_process")
    assert np.allclose(sky["sky"], in_process["sky"], rtol=0, atol=1e-9)
    # a changed option re-runs only what depends on it: for the statistic, the pair batch plans (the overlap
    # graph's job, whose pair batches then follow), not the images
    write_config(tmp_path, **config, **(options | {"pair_statistic": "reference"}))
    dry = run_snakemake(tmp_path, "all", "--dry-run", "--quiet", "rules")
    assert "overlap_graph" in dry.stdout and "image_batch" not in dry.stdout, dry.stdout
    # an edited region file remakes the masks (its checksum is part of what they are made from)
    write_config(tmp_path, **config, **options)
    region = tmp_path / "scene" / "artefact.reg"
    region.write_text(region.read_text().replace('")', '1")'))
    dry = run_snakemake(tmp_path, "all", "--dry-run", "--quiet", "rules")
    assert "image_batch" in dry.stdout and "overlap_graph" in dry.stdout, dry.stdout
