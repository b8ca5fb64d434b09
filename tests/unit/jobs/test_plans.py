"""What Snakemake's own process reads: pair batch plans, without the pair stage or astropy."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from skymatchflow.errors import InputError
from skymatchflow.jobs.plans import read_plan

REPO = Path(__file__).resolve().parents[3]
SCRIPTS = REPO / "scripts"
# the modules workflow/rules/common.smk imports at every Snakemake start, plus the plan reader
PARSE_TIME = re.findall(r"^from (skymatchflow[.\w]+) import", (REPO / "workflow/rules/common.smk").read_text(), re.M) + [
    "skymatchflow.jobs.plans"
]


def test_a_plan_reads_back_and_a_damaged_one_is_refused_in_one_line(tmp_path):
    plan = {"batch": "b000", "pairs": [{"pair": "a~b"}], "made_from": {"images": {"b": {}, "a": {}}}}
    path = tmp_path / "b000.json"
    path.write_text(json.dumps(plan))
    assert read_plan(path) == plan and list(read_plan(path)["made_from"]["images"]) == ["b", "a"]
    path.write_text('{"batch": ')
    with pytest.raises(InputError, match="b000.json.*damaged.*--forcerun overlap_graph"):
        read_plan(path)


def test_snakemake_start_imports_no_astropy():
    assert len(PARSE_TIME) > 5
    # astropy.io.fits costs about 0.6 s of every start, no-ops included; only a file of unknown layout needs it
    code = f"import sys; sys.path.insert(0, {str(SCRIPTS)!r}); " + "; ".join(f"import {m}" for m in PARSE_TIME) + \
        "; print(sorted(m for m in sys.modules if m.startswith('astropy')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
