"""Batches: chosen from an item's own key, so additions move nothing else."""

from skymatchflow.jobs.batches import batch_name, batch_pairs, pair_batch_of


def test_batch_names_are_stable_and_in_range():
    names = [batch_name(f"image{k}", 7, "i") for k in range(200)]
    assert names == [batch_name(f"image{k}", 7, "i") for k in range(200)]  # no salted hash()
    assert set(names) <= {f"i{k:03d}" for k in range(7)} and len(set(names)) == 7


def test_pairs_are_batched_by_their_first_group_and_keep_their_order():
    pairs = [{"pair": f"g{a}~g{b}", "group_a": f"g{a}", "group_b": f"g{b}"} for a in range(12) for b in range(a + 1, 12)]
    batches = batch_pairs(pairs, 3)
    assert sorted(p["pair"] for ps in batches.values() for p in ps) == sorted(p["pair"] for p in pairs)
    for name, members in batches.items():
        assert all(pair_batch_of(p, 3) == name for p in members)
        assert members == [p for p in pairs if pair_batch_of(p, 3) == name]
    grown = batch_pairs(pairs + [{"pair": "g99~g100", "group_a": "g99", "group_b": "g100"}], 3)
    for name, members in batches.items():  # an added pair moves no other pair
        assert [p for p in grown[name] if p["group_a"] != "g99"] == members
