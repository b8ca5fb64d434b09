"""What a pair record is made from: its members' product keys and input states, and the pair's key.

A pair's key is made from its definition, the statistic's parameters and
its members' footprint and mask keys, which follow from the image specs,
the per-image parameters and the input checksums an image batch recorded
(products/images.product_keys). The pair stage, the solve and the audit
ask here for the keys they expect, and for the one-line errors when a
product or an input is not what they expect.
"""

from pathlib import Path

from skymatchflow.errors import InputError
from skymatchflow.io.stagefiles import unchanged_since
from skymatchflow.jobs.batches import PAIR_FIELDS
from skymatchflow.products.images import product_is_sound, product_keys, read_input_states, repair_hint
from skymatchflow.products.store import product_key


class MemberKeys:
    """Expected product keys and input states of member images, read once per image batch."""

    def __init__(self, made_from, images):
        self.made_from = made_from
        self.images = images
        self._states = {}
        self._keys = {}

    def states(self, image):
        batch_dir = self.images[image]["batch_dir"]
        if batch_dir not in self._states:
            self._states[batch_dir] = read_input_states(batch_dir)
        states = self._states[batch_dir]
        if states is None or image not in states:
            raise InputError(f"{batch_dir}/inputs.json", f"missing or damaged; {repair_hint(batch_dir)}")
        return states[image]

    def keys(self, image):
        """{"footprint": key, "mask": key, "sky": key} expected for ``image``."""
        if image not in self._keys:
            spec_params = self.made_from["images"][image]
            self._keys[image] = product_keys(spec_params, self.made_from, self.states(image))
        return self._keys[image]


def unsound_product(path, batch_dir):
    """The one-line error for a stage file that is missing, damaged or made from other inputs."""
    reason = "missing" if not Path(path).exists() else "damaged or made from other inputs"
    return InputError(path, f"{reason}; {repair_hint(batch_dir)}")


def checked_product(path, product, key, batch_dir):
    """``path`` if the product there is intact and made under ``key``; else a one-line error."""
    if not product_is_sound(path, product, key):
        raise unsound_product(path, batch_dir)
    return path


def check_unchanged(image, state):
    """A one-line error when an input file no longer holds the bytes its products were made from."""
    if not unchanged_since(state["path"], state):
        raise InputError(
            state["path"],
            f"changed after the products of image {image} were made (replaced during the run?); "
            "run snakemake again",
        )


def members_made_from(pair, member_keys):
    """{member: {"footprint": key, "mask": key}}: what a pair's pixels and geometry come from."""
    members = sorted(pair["members_a"] + pair["members_b"])
    return {m: {p: member_keys.keys(m)[p] for p in ("footprint", "mask")} for m in members}


#: what a pair record holds; raised when a record gains a field (2: each side's noise, the
#: difference's noise floor), so that records stored before are made again, not read without it
PAIR_RECORD_LAYOUT = 2


def pair_key(pair, stat_params, member_keys):
    """The store key of one pair record."""
    definition = {name: pair[name] for name in PAIR_FIELDS}  # not its position: that only picks the batch
    return product_key(
        "pair", {"pair": definition, "stat": stat_params, "members": members_made_from(pair, member_keys),
                 "layout": PAIR_RECORD_LAYOUT}
    )
