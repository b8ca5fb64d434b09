"""Pair batches: one file per pair; unchanged pairs are kept, changed ones recomputed."""

import json

import numpy as np

from conftest import tan_wcs, write_image
from skymatchflow.inputs import ImageSpec
from skymatchflow.maskfile import write_mask
from skymatchflow.pairbatch import run_batch
from skymatchflow.stagefiles import provenance, write_json
from skymatchflow.stages import footprint_record, sci_and_mask

STAT = {"skystat": "median", "lower": None, "upper": None, "nclip": 3, "lsigma": 4.0, "usigma": 4.0, "binwidth": 0.1}


def prepare(tmp_path, name, dx, dqbits=0):
    """Image file + footprint and mask stage files, as the per-image rules write them."""
    shape = (80, 90)
    path = tmp_path / f"{name}.fits"
    if not path.exists():
        dq = (np.arange(shape[0] * shape[1]).reshape(shape) % 7 == 0).astype(np.uint32) * 4
        write_image(path, shape=shape, dq=dq, wcs=tan_wcs(shape, crval=(150.1 + dx / 3600, 2.2)))
    spec = ImageSpec(name, str(path), "SCI")
    footprint = tmp_path / "fp" / f"{name}.json"
    write_json(footprint, footprint_record(spec, None, "none") | {"provenance": {}})
    mask = tmp_path / "mask" / f"{name}.fits"
    write_mask(mask, sci_and_mask(spec, dqbits)[1], name, provenance({"dqbits": dqbits}, {"image": str(path)}))
    return {"file": str(path), "sci": "SCI", "footprint": str(footprint), "mask": str(mask)}


def spec_for(images, pairs):
    return {
        "images": images,
        "pairs": [{"pair": f"{a}~{b}", "group_a": a, "group_b": b, "members_a": [a], "members_b": [b]}
                  for a, b in pairs],
    }


def test_unchanged_pairs_are_kept_and_new_or_changed_ones_computed(tmp_path):
    images = {name: prepare(tmp_path, name, dx) for name, dx in [("a", 0), ("b", 20), ("c", 40)]}
    out = tmp_path / "batch"
    assert run_batch(spec_for(images, [("a", "b")]), out, STAT) == (1, 0)
    first = json.loads((out / "a~b.json").read_text())
    assert first["valid"] and first["provenance"]["params"] == STAT

    # a new pair joins the batch: only it is computed
    assert run_batch(spec_for(images, [("a", "b"), ("b", "c")]), out, STAT) == (1, 1)
    assert json.loads((out / "a~b.json").read_text()) == first

    # c's mask is remade with other dqbits: only the pair with c is recomputed
    images["c"] = prepare(tmp_path, "c", 40, dqbits=4)
    assert run_batch(spec_for(images, [("a", "b"), ("b", "c")]), out, STAT) == (1, 1)

    # a new statistic recomputes everything; a pair that left the batch is removed
    assert run_batch(spec_for(images, [("b", "c")]), out, dict(STAT, skystat="mean")) == (1, 0)
    assert sorted(p.name for p in out.iterdir()) == ["b~c.json"]
