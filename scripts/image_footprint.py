"""Snakemake entry: one image's sky footprint (reads only the header)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir)))  # noqa: F821

from skymatchflow.footprint import footprint_polygon, polygon_to_dict  # noqa: E402
from skymatchflow.errors import InputError  # noqa: E402
from skymatchflow.inputs import ImageSpec  # noqa: E402
from skymatchflow.readers import group_id, read_header  # noqa: E402
from skymatchflow.rulerunner import run_rule  # noqa: E402
from skymatchflow.stagefiles import provenance, write_json  # noqa: E402

import numpy as np  # noqa: E402


def main(smk):
    cfg = smk.params.cfg
    spec = ImageSpec.from_params(cfg)
    header = read_header(spec)
    polygon, ra, dec = footprint_polygon(header.shape, header.wcs, cfg["stepsize"])
    if not (np.all(np.isfinite(ra)) and np.all(np.isfinite(dec))):
        raise InputError(spec.path, f"extension {spec.sci!r}: the WCS gives no sky position for the image outline")
    record = {
        "image": spec.image_id,
        "file": spec.path,
        "sci": spec.sci,
        "group": group_id(spec, header.primary, header.sci, cfg["groups"]),
        "shape": list(header.shape),
        "stepsize": cfg["stepsize"],
        "ra": ra.tolist(),
        "dec": dec.tolist(),
        "area_sr": abs(float(polygon.area())),
        "polygon": polygon_to_dict(polygon),
        "provenance": provenance(cfg, {"image": spec.path}),
    }
    write_json(smk.output[0], record)


run_rule(main, snakemake)  # noqa: F821
