"""A job's parameters travel as a digest plus a file: same dict back, any change seen."""

import pytest

from skymatchflow.errors import InputError
from skymatchflow.jobs.paramfiles import by_digest, resolve_params

PARAMS = {"images": {"b": {"path": "/x/b.fits"}, "a": {"path": "/x/a.fits"}}, "stat": [1.5, None, True]}


def test_the_dict_comes_back_with_its_key_order(tmp_path):
    ref = by_digest(PARAMS, {"images": 2}, directory=tmp_path)
    assert ref["images"] == 2 and len(ref["params_sha256"]) == 64 and set(ref) == {"images", "params_sha256"}
    back = resolve_params(ref, tmp_path)
    assert back == PARAMS and list(back["images"]) == ["b", "a"]


def test_the_reference_is_short_and_changes_with_any_value(tmp_path):
    big = {"signatures": {f"/data/img{i:05d}.fits": [i, 1.0, 2.0, i] for i in range(2000)}}
    ref = by_digest(big, directory=tmp_path)
    assert len(repr(ref)) < 100
    changed = {"signatures": dict(big["signatures"]) | {"/data/img00000.fits": [0, 1.0, 2.0, 1]}}
    assert by_digest(changed, directory=tmp_path)["params_sha256"] != ref["params_sha256"]
    reordered = {"signatures": dict(reversed(big["signatures"].items()))}
    assert by_digest(reordered, directory=tmp_path)["params_sha256"] != ref["params_sha256"]


def test_a_plain_dict_is_its_own_params():
    plain = {"file": "/x/a.fits", "skymethod": "match"}
    assert resolve_params(plain) is plain


def test_a_missing_or_edited_file_stops_with_one_line(tmp_path):
    ref = by_digest(PARAMS, directory=tmp_path)
    path = tmp_path / f"{ref['params_sha256']}.json"
    path.write_text(path.read_text().replace("a.fits", "c.fits"))
    with pytest.raises(InputError, match="changed since Snakemake wrote it"):
        resolve_params(ref, tmp_path)
    path.unlink()
    with pytest.raises(InputError, match="cannot read the job's parameters"):
        resolve_params(ref, tmp_path)


def test_a_value_given_by_reference_comes_back_checked(tmp_path):
    table = {"images": {f"i{n}": {"file": f"/x/{n}.fits"} for n in range(300)}, "stepsize": None}
    params = {"made_from": by_digest(table, directory=tmp_path), "code": "c"}
    ref = by_digest(params, {"images": 300}, directory=tmp_path)
    back = resolve_params(ref, tmp_path)
    assert back == {"made_from": table, "code": "c"} and list(back["made_from"]["images"])[:2] == ["i0", "i1"]
    assert resolve_params(params, tmp_path) == back  # a reference in plain params too
    assert len(repr(params)) < 120  # the rule's params name the table, they do not hold it
    path = tmp_path / f"{params['made_from']['params_sha256']}.json"
    path.write_text(path.read_text().replace("i1", "i9"))
    with pytest.raises(InputError, match="changed since Snakemake wrote it"):
        resolve_params(ref, tmp_path)
