"""JWST association files (``*_asn.json``) as input: their science members, in order.

jwst's SkyMatchStep reads an association through ``ModelLibrary``: the
members of the FIRST product, in listed order, each in the sky group named
by its ``group_id`` key when it has one, else by a meta.group_id stored in
the file's ASDF tree, else by the exposure (the
``jw{program}{observation}{visit}_{visit_group}{sequence}{activity}_{exposure}``
id of meta.observation, which the config's default ``groups: exposure``
builds from the same header keywords). Groups are ordered by first
appearance, which the workflow does from the input order. The members taken
are those of exptype "science", as calwebb_image3 gives them to the step.
Member file names are relative to the association's directory.
"""

import importlib.util
import io
import json
from pathlib import Path

from astropy.io import fits

from skymatchflow.errors import InputError

SCIENCE = "science"


def _load(asn_path):
    try:
        with open(asn_path) as handle:
            asn = json.load(handle)
    except FileNotFoundError:
        raise InputError(asn_path, "association file not found") from None
    except (OSError, ValueError) as err:
        raise InputError(asn_path, f"not a JSON association ({err})") from None
    try:
        members = asn["products"][0]["members"]
    except (KeyError, IndexError, TypeError):
        raise InputError(asn_path, "no products[0].members: not a JWST association") from None
    if not isinstance(members, list):
        raise InputError(asn_path, "products[0].members is not a list")
    return members


def _stored_group_id(hdul):
    """meta.group_id of the file's ASDF tree (saved there by a library run), or "".

    ModelLibrary takes it before the exposure keywords when the member has no
    group_id. Read as plain YAML (as stdatamodels' read_metadata does), only
    when the file has an ASDF extension and asdf is installed.
    """
    if "ASDF" not in hdul or importlib.util.find_spec("asdf") is None:
        return ""
    import asdf

    try:
        tree = asdf.util.load_yaml(io.BytesIO(hdul["ASDF"].data.tobytes()))
    except Exception:  # an unreadable tree: the step would fail; here the keywords decide
        return ""
    meta = tree.get("meta") if isinstance(tree, dict) else None
    return str(meta.get("group_id") or "") if isinstance(meta, dict) else ""


def _check_member(asn_path, expname, path):
    """The member's stored group id; one line naming the association and the member when it is not a 2-D image file."""
    where = f"{asn_path}: member {expname!r}"
    try:
        with fits.open(path, mode="readonly", memmap=True) as hdul:
            names = [(hdu.name, hdu.header.get("NAXIS", 0)) for hdu in hdul]
            stored = _stored_group_id(hdul)
    except FileNotFoundError:
        raise InputError(where, f"file not found ({path})") from None
    except OSError as err:
        raise InputError(where, f"not a readable FITS file ({err})") from None
    sci = [naxis for name, naxis in names if name == "SCI"]
    if len(sci) != 1 or sci[0] != 2:
        found = "no SCI extension" if not sci else f"SCI with NAXIS={sci[0]}" if len(sci) == 1 else f"{len(sci)} SCI extensions"
        raise InputError(where, f"not an image ({found}; a cal file has one 2-D SCI)")
    return stored


def association_entries(asn_paths):
    """Input entries ({"file", "group"}) of the science members of each association, in order.

    ``group`` is the member's ``group_id`` when the association gives one,
    else the file's stored meta.group_id (both win over the ``groups`` rule,
    as in the step), else empty.
    """
    entries = []
    for asn_path in asn_paths:
        base = Path(asn_path).parent
        for number, member in enumerate(_load(asn_path)):
            if not isinstance(member, dict) or "expname" not in member:
                raise InputError(asn_path, f"member {number} has no 'expname'")
            if str(member.get("exptype", "")).lower() != SCIENCE:
                continue
            expname = member["expname"]
            path = base / expname
            stored = _check_member(asn_path, expname, path)
            entries.append({"file": str(path), "group": str(member.get("group_id") or stored)})
        if not entries:
            raise InputError(asn_path, "lists no science member")
    return entries
