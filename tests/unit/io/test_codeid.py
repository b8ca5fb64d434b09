"""The code's identity: which source files a stage's products depend on, and their digest."""

import shutil

from skymatchflow.io import codeid


def names(paths):
    return {path.relative_to(codeid.SCRIPTS_DIR).as_posix() for path in paths}


def test_a_stage_depends_on_what_it_imports_and_not_on_later_stages():
    image = names(codeid.source_closure(codeid.module_file("skymatchflow.stages.image_batch")))
    assert "skymatchflow/stages/image_batch.py" in image
    assert "skymatchflow/stats/imagestats.py" in image  # imported inside a function: still found
    assert "skymatchflow/__init__.py" in image and "skymatchflow/stats/__init__.py" in image
    assert not any(name.startswith(("skymatchflow/solve/", "skymatchflow/diagnostics/")) for name in image)


def test_a_rule_depends_on_its_script_the_modules_it_imports_and_the_workflow_files():
    solve = names(codeid.source_closure(codeid.SCRIPTS_DIR / "solve_sky.py"))
    assert {"solve_sky.py", "skymatchflow/solve/skymatch.py", "skymatchflow/products/checked.py"} <= solve


def test_the_digest_follows_the_bytes_not_the_place(tmp_path):
    copy = tmp_path / "a.py"
    shutil.copy(codeid.module_file("skymatchflow.errors"), copy)
    first = codeid.digest_files([copy])
    codeid._file_digest.cache_clear()
    assert codeid.digest_files([copy]) == first
    copy.write_text(copy.read_text() + "# changed\n")
    codeid._file_digest.cache_clear()
    assert codeid.digest_files([copy]) != first


def test_every_kind_of_product_has_a_digest_and_the_code_identity_names_version_and_digest():
    digests = {kind: codeid.kind_digest(kind) for kind in codeid.KIND_SOURCES}
    assert all(len(d) == 64 for d in digests.values())
    assert digests["pair"] != digests["sky"]
    identity = codeid.code_identity()
    assert identity["digest"] == codeid.package_digest() and identity["version"]
    assert identity["commit"] is None or len(identity["commit"]) == 40
