"""Read an ECSV table (the sky and pair tables) with its metadata parsed by libyaml.

Why: the tables' metadata hold the run's config, with every image path, and
astropy's ECSV reader parses its YAML header in pure Python: at 2,000 images
that was 0.3 s per table, ten times the rows' parsing. Here astropy reads
the file without its ``meta`` block (the columns, their types and
descriptions exactly as before) and the block is parsed by yaml's C loader,
``!!omap`` by astropy's own constructor. A block the C loader cannot read
(a tag only astropy's loader knows) falls back to astropy's reader of the
whole file.
"""

import re

import yaml

# a key at the header's top level (datatype, meta, schema, ...): where the meta block ends
_TOP_KEY = re.compile(r"# [A-Za-z_][\w-]*:")


def _meta_loader():
    """yaml's C safe loader with astropy's own ``!!omap`` constructor (the meta as astropy makes it), or None."""
    try:
        from astropy.table.meta import _construct_odict
    except ImportError:  # astropy moved it: read the whole file with astropy
        return None
    if not hasattr(yaml, "CSafeLoader"):  # no libyaml: nothing to gain
        return None

    class MetaLoader(yaml.CSafeLoader):
        pass

    MetaLoader.add_constructor("tag:yaml.org,2002:omap", _construct_odict)
    return MetaLoader


def meta_block(lines):
    """(first, end) line indices of the header's ``meta:`` block, or None when it has none."""
    for first, line in enumerate(lines):
        if not line.startswith("#"):
            return None
        if line.startswith("# meta:"):
            end = first + 1
            while end < len(lines) and lines[end].startswith("# ") and not _TOP_KEY.match(lines[end]):
                end += 1
            return first, end
    return None


def read_ecsv(path):
    """The astropy Table of the ECSV file ``path``, as ``Table.read(path, format="ascii.ecsv")`` reads it."""
    from astropy.table import Table

    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    block, loader = meta_block(lines), _meta_loader()
    if block is None or loader is None:
        return Table.read(lines, format="ascii.ecsv")
    first, end = block
    try:
        meta = yaml.load("\n".join(line[2:] for line in lines[first:end]), Loader=loader)["meta"]
    except (yaml.YAMLError, TypeError, KeyError):
        meta = None
    if not isinstance(meta, dict) or "__serialized_columns__" in meta:
        # a tag only astropy's loader knows, meta astropy wraps, or mixin columns it rebuilds from the meta
        return Table.read(lines, format="ascii.ecsv")
    table = Table.read(lines[:first] + lines[end:], format="ascii.ecsv")
    table.meta = meta
    return table
