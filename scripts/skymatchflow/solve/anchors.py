"""Anchors (``anchor``): sky groups held at a given sky, per island.

Why: the match stage fixes only sky differences; the reference then shifts
every island together so that the lowest (``match_down``) or highest delta
is 0, which leaves islands unrelated and puts the zero point on whichever
image happens to be lowest. An anchor names a reference field (an image id
or a sky group id) and the match sky it must get. Each island that holds
anchors is shifted so that they get their values (the mean offset if an
island holds several); islands without an anchor keep the reference's rule,
applied among themselves.
"""

import numpy as np

from skymatchflow.io.errors import InputError


def anchor_elements(anchor, elements):
    """{element index: value} for the config's ``anchor`` {image or group id: sky}."""
    index = {}
    for k, element in enumerate(elements):
        index[element.group] = k
        for member in element.members:
            index.setdefault(member, k)
    out = {}
    for name, value in (anchor or {}).items():
        if name not in index:
            raise InputError("config key 'anchor'", f"{name!r} is neither an image id nor a sky group id")
        k = index[name]
        if k in out and out[k] != value:
            raise InputError("config key 'anchor'", f"{name!r}: its sky group already has anchor {out[k]}")
        out[k] = float(value)
    return out


def anchored_shift(anchors, match_down):
    """A ``shift(deltas, islands)`` for solve.skymatch that honours ``anchors`` {element: value}."""

    def shift(deltas, islands):
        deltas = np.array(deltas, float)
        good = np.isfinite(deltas)
        islands = np.asarray(islands)
        free = good.copy()
        for label in np.unique(islands[good]):
            nodes = good & (islands == label)
            held = [k for k in anchors if nodes[k]]
            if not held:
                continue
            offset = np.mean([anchors[k] - deltas[k] for k in held])
            deltas[nodes] += offset
            free &= ~nodes
        if free.any():
            deltas[free] -= deltas[free].min() if match_down else deltas[free].max()
        return deltas

    return shift
