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

import re

import numpy as np

from skymatchflow.errors import InputError

#: the form of a JWST exposure group id (readers.group_id): jw{ppppp}{ooo}{vvv}_{gg}{s}{aa}_{eeeee}
JWST_GROUP_ID = re.compile(r"^jw[^_]*_[^_]*_[^_]*$")


def check_anchor_names(anchor, images, grouping):
    """Stop before any job on an ``anchor`` key that cannot name an image or a sky group.

    ``images``: {image id: ImageSpec} as discovered at parse time. Image ids
    and the image sheet's (or associations') explicit groups are known then;
    so are the group ids of ``groups: none`` (the image ids) and, for
    ``groups: exposure``, their possible forms (a file's stem, or a JWST
    exposure id ``jw..._..._...`` from the headers). A header keyword's
    values are not known before the footprints: such names are left to the
    solve job's check (anchor_elements).
    """
    if not anchor:
        return
    specs = list(images.values())
    known = set(images) | {spec.group for spec in specs if spec.group}
    implicit = [spec for spec in specs if not spec.group]
    if implicit and grouping == "exposure":
        from skymatchflow.io.inputs import file_stem

        known |= {file_stem(spec.file) for spec in implicit}
    elif implicit and grouping != "none":
        return  # a header keyword names the groups: values unknown until the footprints
    for name in anchor:
        if name in known or (implicit and grouping == "exposure" and JWST_GROUP_ID.match(name)):
            continue
        raise InputError("config key 'anchor'", f"{name!r} is neither an image id nor a sky group id of the inputs")


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
