"""The pair batch plans the overlap graph's job writes (jobs/planfiles.py), as the pair batches read them."""

import pytest

from skymatchflow.errors import InputError
from skymatchflow.jobs.planfiles import write_batch_plans
from skymatchflow.jobs.plans import read_plan


def test_batch_plans_hold_each_batch_pairs_and_only_its_members(tmp_path):
    pairs = [{"pair": f"g{a}~g{b}", "group_a": f"g{a}", "group_b": f"g{b}", "members_a": [f"i{a}"],
              "members_b": [f"i{b}"], "ra_a": 10.0 + 5.0 * a, "dec_a": 0.0, "size_a": 0.1}
             for a in range(6) for b in range(a + 1, 6)]
    made_from = {"images": {f"i{k}": {"image": f"i{k}"} for k in range(7)}, "stepsize": None, "dqbits": 0}
    pair_batch_of = {f"i{k}": f"b{k % 3:03d}" for k in range(7)}
    assert write_batch_plans(pairs, made_from, {"skystat": "mode"}, pair_batch_of, tmp_path / "plans") == 3
    seen = []
    for path in sorted((tmp_path / "plans").glob("*.json")):
        plan = read_plan(path)
        assert plan["batch"] == path.stem and plan["stat"] == {"skystat": "mode"}
        assert all(pair_batch_of[p["members_a"][0]] == path.stem for p in plan["pairs"])
        members = {m for p in plan["pairs"] for m in p["members_a"] + p["members_b"]}
        assert set(plan["made_from"]["images"]) == members  # i6 is in no pair: in no plan
        assert plan["made_from"]["dqbits"] == 0
        seen += plan["pairs"]
    assert sorted(p["pair"] for p in seen) == sorted(p["pair"] for p in pairs)
    first = {p.name: p.read_bytes() for p in (tmp_path / "plans").iterdir()}
    write_batch_plans(pairs, made_from, {"skystat": "mode"}, pair_batch_of, tmp_path / "plans")  # same bytes
    assert {p.name: p.read_bytes() for p in (tmp_path / "plans").iterdir()} == first
    (tmp_path / "plans" / "b000.json").write_text("{")
    with pytest.raises(InputError, match="forcerun overlap_graph"):
        read_plan(tmp_path / "plans" / "b000.json")
