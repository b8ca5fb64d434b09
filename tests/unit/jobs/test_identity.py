"""Identity requests: rewritten exactly when what a job depends on changed."""

import os

from skymatchflow.jobs.identity import job_identity, missing_stage_files, read_request, write_request


def test_the_identity_ignores_key_order_and_follows_every_value():
    assert job_identity({"a": 1, "b": [1, 2]}) == job_identity({"b": [1, 2], "a": 1})
    assert job_identity({"a": 1}) != job_identity({"a": 2})


def test_a_request_is_rewritten_only_when_its_identity_changes_or_a_rerun_is_forced(tmp_path):
    path = tmp_path / "identity" / "solve_sky.json"
    assert write_request(path, "x")
    os.utime(path, ns=(0, 0))
    assert not write_request(path, "x")
    assert path.stat().st_mtime_ns == 0  # untouched: its job does not re-run
    assert write_request(path, "y")
    assert read_request(path) == {"identity": "y"}
    assert write_request(path, "y", forced="results/overlaps/pairs.ecsv was missing")
    path.write_text("not json")
    assert write_request(path, "y")  # a damaged request is written again


def test_missing_stage_files_are_named(tmp_path, monkeypatch):
    (tmp_path / "results/images/i000").mkdir(parents=True)
    (tmp_path / "results/overlaps/batches").mkdir(parents=True)
    (tmp_path / "results/overlaps/batches/b000.json").write_text("{}")
    (tmp_path / "results/overlaps/pairs.ecsv").write_text("")
    monkeypatch.chdir(tmp_path)
    dirs = ["results/images/i000", "results/images/i001"]
    assert missing_stage_files(dirs, matching=False) == ["results/images/i001"]
    assert missing_stage_files(dirs, matching=True) == [
        "results/images/i001", "results/overlaps/groups.ecsv", "results/pairs/b000"
    ]


def test_params_identity_digests_made_from_once_and_follows_it():
    from skymatchflow.jobs.identity import params_identity

    params = {"made_from": {"images": {"a": {"file": "a.fits"}}}, "skymethod": "match"}
    digest = job_identity(params["made_from"])
    assert params_identity(params) == params_identity(params, digest)
    changed = dict(params, made_from={"images": {"a": {"file": "b.fits"}}})
    assert params_identity(changed) != params_identity(params)
    assert params_identity({"code": "x"}) == job_identity({"code": "x"})
