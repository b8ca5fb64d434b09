"""The product store's retention: what no output links to goes."""

import os

from skymatchflow.products.store import prune_store


def test_prune_store_removes_what_no_output_links_and_temporary_leftovers(tmp_path):
    store = tmp_path / "store"
    linked = store / "images" / "a" / "k1.sky.json"
    orphan = store / "images" / "b" / "k2.sky.json"
    leftover = store / "images" / "a" / ".k3.sky.json.abc.tmp"
    for path in (linked, orphan, leftover):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    os.link(linked, tmp_path / "output.json")
    assert prune_store(store) == 2
    assert linked.exists() and not orphan.exists() and not leftover.exists()
    assert not orphan.parent.exists()  # the removed image's folder goes too


def test_prune_store_deletes_nothing_where_files_cannot_be_linked(tmp_path):
    from skymatchflow.products.store import prune_store

    copy = tmp_path / "store" / "images" / "a" / "k1.sky.json"
    copy.parent.mkdir(parents=True)
    copy.write_text("{}")
    assert prune_store(tmp_path / "store") == 0
    assert copy.exists()


def test_a_batch_prunes_its_folder_by_the_same_rule_keeping_what_it_links_and_temporary_files(tmp_path):
    import os

    from skymatchflow.products.store import link_into, prune_unlinked

    folder = tmp_path / "store" / "images" / "a"
    folder.mkdir(parents=True)
    kept, linked, orphan, busy = (folder / name for name in ("k1.json", "k2.json", "k3.json", ".k4.json.x.tmp"))
    for path in (kept, linked, orphan, busy):
        path.write_text("{}")
    link_into(linked, tmp_path / "out" / "a.json")  # an output links it
    assert os.path.samefile(linked, tmp_path / "out" / "a.json")
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no temporary name left
    prune_unlinked(folder, [kept])
    assert kept.exists() and linked.exists() and busy.exists() and not orphan.exists()
