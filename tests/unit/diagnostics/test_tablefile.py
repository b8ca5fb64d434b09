"""The diagnostics' ECSV reader gives the table astropy's reader gives, metadata and all."""

from collections import OrderedDict

import numpy as np
import pytest
from astropy import units as u
from astropy.table import Table
from astropy.time import Time

from skymatchflow.diagnostics._tablefile import meta_block, read_ecsv


def assert_same_table(path):
    ours, astropy_s = read_ecsv(path), Table.read(path, format="ascii.ecsv")
    assert ours.colnames == astropy_s.colnames
    for name in ours.colnames:
        assert ours[name].dtype == astropy_s[name].dtype, name
        assert ours[name].description == astropy_s[name].description, name
        assert ours[name].unit == astropy_s[name].unit, name
        assert np.asarray(ours[name]).tobytes() == np.asarray(astropy_s[name]).tobytes(), name
    assert type(ours.meta) is type(astropy_s.meta)
    assert list(ours.meta.items()) == list(astropy_s.meta.items())
    return ours


def table(meta):
    out = Table(meta=meta)
    out["image"] = ["a b", 'say "x"', ""]
    out["sky"] = [1.5, np.nan, -2.25e-17]
    out["sky"].description = "sky level, with 'quotes' and a colon: here"
    out["npix"] = np.array([1, 2, -3], np.int64)
    out["valid"] = [True, False, True]
    return out


@pytest.mark.parametrize("meta", [
    OrderedDict([("made_from_key", "k"), ("config", {"images": [f"/d/i{k}.fits" for k in range(300)], "a": None}),
                 ("verdict", "Match verdict: consistent\n over two lines"), ("software", {"x": "1.0"})]),
    {"only": 1},
    {},
])
def test_the_same_table_as_astropy_reads(tmp_path, meta):
    path = tmp_path / "t.ecsv"
    table(meta).write(path, format="ascii.ecsv")
    read = assert_same_table(path)
    assert (meta_block(path.read_text().splitlines()) is None) == (not meta)
    assert dict(read.meta) == dict(meta)


def test_metadata_only_astropy_reads_falls_back_to_its_reader(tmp_path):
    path = tmp_path / "t.ecsv"
    table(OrderedDict([("exposure", 3.0 * u.s), ("config", {"a": 1})])).write(path, format="ascii.ecsv")
    assert "!astropy" in path.read_text()  # a tag yaml's safe loader does not know
    assert assert_same_table(path).meta["exposure"] == 3.0 * u.s


def test_mixin_columns_are_rebuilt_as_astropy_rebuilds_them(tmp_path):
    path = tmp_path / "t.ecsv"
    written = table({"config": {"a": 1}})
    written["time"] = Time([60000.0, 60001.0, 60002.5], format="mjd")
    written.write(path, format="ascii.ecsv")
    read = read_ecsv(path)
    assert isinstance(read["time"], Time) and list(read["time"].mjd) == [60000.0, 60001.0, 60002.5]
    assert list(read.meta.items()) == list(Table.read(path, format="ascii.ecsv").meta.items())
