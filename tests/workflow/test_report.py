"""`--report` never packages results out of date for the config (README, "One dataset, one directory").

The issue's case, on real 2MASS tiles: a run on one field, a run on another
field in the same directory, then `matched` on the first again (which
re-makes the sky table but not the figures): the report would hold the first
field's sky table beside the second field's figures. It must stop with one
line instead, and work again once the run is complete.
"""

import pytest
import yaml
from astropy.table import Table

from helpers.paths import SHARED_DATA
from helpers.workflow_runner import run_snakemake

pytestmark = pytest.mark.e2e

TILES = sorted((SHARED_DATA / "m17_2mass").glob("*.fits.gz"))
FIELD_A, FIELD_B = TILES[:2], TILES[2:4]


def write_config(path, tiles):
    path.write_text(yaml.safe_dump({"images": [str(t) for t in tiles], "image_batches": 1, "pair_batches": 1}))


def run(workdir, *args):
    result = run_snakemake(workdir, *args)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_a_report_of_results_out_of_date_for_the_config_is_refused(tmp_path):
    (tmp_path / "config").mkdir()
    write_config(tmp_path / "config" / "config.yaml", FIELD_A)
    write_config(tmp_path / "b.yaml", FIELD_B)
    run(tmp_path)
    run(tmp_path, "--configfile", "b.yaml")
    run(tmp_path, "matched")  # field A's sky table again; the figures are still field B's

    report = tmp_path / "report.html"
    refused = run_snakemake(tmp_path, "--report", str(report))
    assert refused.returncode == 1 and not report.exists()
    (line,) = [line for line in refused.stderr.splitlines() if line.startswith("Error")]
    assert "out of date for this config" in line and "results/diagnostics/mosaic.png" in line
    assert "run the same snakemake command without --report first" in line
    # the same for a config changed since the last complete run
    refused = run_snakemake(tmp_path, "--report", str(report), "--configfile", "b.yaml")
    assert refused.returncode == 1 and not report.exists()

    run(tmp_path)  # complete again for field A: the report is made, and it is field A's
    run(tmp_path, "--report", str(report))
    html = report.read_text(errors="replace")
    assert "filename=mosaic.png;base64,iVBORw0KGgo" in html
    sky = Table.read(tmp_path / "results" / "sky.ecsv")
    assert sorted(sky["file"]) == sorted(str(t) for t in FIELD_A)
