"""Reading a pair batch plan in Snakemake's own process (written by planfiles.write_batch_plans).

Apart from the pair stage so that Snakemake, which reads every plan after
the checkpoint at each start, imports neither astropy nor the stage's
modules for it (about 0.6 s per start).
"""

import json
from pathlib import Path

from skymatchflow.errors import InputError


def read_plan(path):
    """A pair batch's plan as written (member images in first-use order); a damaged one is refused in one line."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise InputError(path, f"missing or damaged ({type(err).__name__}); run: snakemake --forcerun overlap_graph") from None


def batch_of_pair(plans_dir):
    """{pair id: its pair batch} as the plans decided it (the one place a pair's batch is decided)."""
    plans = sorted(Path(plans_dir).glob("*.json"))
    return {pair["pair"]: plan["batch"] for plan in map(read_plan, plans) for pair in plan["pairs"]}
