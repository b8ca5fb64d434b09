"""What Snakemake's own process reads: pair batch plans, without the pair stage or astropy."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from skymatchflow.errors import InputError
from skymatchflow.jobs.plans import batch_of_pair, read_plan

REPO = Path(__file__).resolve().parents[3]
SCRIPTS = REPO / "scripts"
# the modules the workflow's files import at every Snakemake start (skymatchflow.snakefile), plus what that module
# imports on first call: the plan reader and the run's progress line
PARSE_TIME = sorted({
    "".join(names)
    for rules in [REPO / "workflow/Snakefile", *(REPO / "workflow/rules").glob("*.smk")]
    for names in re.findall(r"^(?:from (skymatchflow[.\w]+) import|import (skymatchflow[.\w]+))", rules.read_text(), re.M)
}) + ["skymatchflow.jobs.plans", "skymatchflow.jobs.runprogress"]


def test_a_plan_reads_back_and_a_damaged_one_is_refused_in_one_line(tmp_path):
    plan = {"batch": "b000", "pairs": [{"pair": "a~b"}], "made_from": {"images": {"b": {}, "a": {}}}}
    path = tmp_path / "b000.json"
    path.write_text(json.dumps(plan))
    assert read_plan(path) == plan and list(read_plan(path)["made_from"]["images"]) == ["b", "a"]
    path.write_text('{"batch": ')
    with pytest.raises(InputError, match="b000.json.*damaged.*--forcerun overlap_graph"):
        read_plan(path)


def test_each_pair_is_in_the_batch_its_plan_put_it_in(tmp_path):
    from skymatchflow.jobs.planfiles import write_batch_plans

    pairs = [{"pair": f"g{a}~g{b}", "group_a": f"g{a}", "group_b": f"g{b}", "members_a": [f"i{a}"],
              "members_b": [f"i{b}"], "ra_a": 10.0 + 5.0 * a, "dec_a": 0.0, "size_a": 0.1}
             for a in range(5) for b in range(a + 1, 5)]
    made_from = {"images": {f"i{k}": {"image": f"i{k}"} for k in range(5)}, "wcs": "fits"}
    pair_batch_of = {f"i{k}": f"b{k % 3:03d}" for k in range(5)}
    assert write_batch_plans(pairs, made_from, {}, pair_batch_of, tmp_path / "plans") == 3
    in_batch = batch_of_pair(tmp_path / "plans")
    assert in_batch == {p["pair"]: pair_batch_of[p["members_a"][0]] for p in pairs}
    assert len(set(in_batch.values())) == 3


def test_snakemake_start_imports_no_astropy():
    assert "skymatchflow.snakefile" in PARSE_TIME
    # astropy.io.fits costs about 0.6 s of every start, no-ops included; only a file of unknown layout needs it
    code = f"import sys; sys.path.insert(0, {str(SCRIPTS)!r}); " + "; ".join(f"import {m}" for m in PARSE_TIME) + \
        "; print(sorted(m for m in sys.modules if m.startswith('astropy')));" + \
        "print(sum(m.startswith('skymatchflow.') for m in sys.modules), 'skymatchflow.products.ruleparams' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    astropy, (count, ruleparams) = out.stdout.splitlines()[0], out.stdout.splitlines()[1].split()
    assert astropy == "[]", out.stdout
    assert int(count) > 5 and ruleparams == "True"  # what a start really imports was measured
