"""Progress lines: one every few percent of a loop, with the rate."""

import logging

from skymatchflow.jobs.progress import Progress, tracked


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_line_every_five_percent_with_the_rate():
    lines, clock = [], FakeClock()
    done = []
    for item in tracked(list(range(20_000)), "pairs", log=lambda fmt, *args: lines.append(fmt % args), clock=clock):
        clock.now += 0.01  # 100 pairs per second
        done.append(item)
    assert len(done) == 20_000 and len(lines) == 20
    assert lines[0] == "1000/20000 pairs (5 %), 100.0 pairs/s, about 3 min left"
    assert lines[-1] == "20000/20000 pairs (100 %), 100.0 pairs/s"


def test_each_line_names_its_batch_and_the_time_left():
    lines, clock = [], FakeClock()
    for _ in tracked(list(range(100)), "images", every=50, log=lambda fmt, *args: lines.append(fmt % args),
                     clock=clock, name="i003"):
        clock.now += 2.0  # half an image per second
    assert lines == ["i003: 50/100 images (50 %), 0.5 images/s, about 2 min left",
                     "i003: 100/100 images (100 %), 0.5 images/s"]


def test_short_and_empty_loops():
    lines = []
    progress = Progress(3, "pairs", log=lambda fmt, *args: lines.append(fmt % args))
    for _ in range(3):
        progress.step()
    assert [line.split(" pairs")[0] for line in lines] == ["1/3", "2/3", "3/3"]
    assert list(tracked([], "pairs", log=lines.append)) == [] and len(lines) == 3


def test_a_skipped_item_still_counts(caplog):
    caplog.set_level(logging.INFO)
    for item in tracked([1, 2], "pairs", every=50):
        if item == 1:
            continue
    assert [r.getMessage().split(" pairs")[0] for r in caplog.records] == ["1/2", "2/2"]


def test_parallel_batches_add_a_count_and_time_left_across_them(tmp_path, monkeypatch):
    """Two batches of one stage run side by side, a third waits: each line carries the stage's count."""
    from skymatchflow.jobs.runprogress import overall, write_expected

    monkeypatch.chdir(tmp_path)
    write_expected("images", {"i000": 100, "i001": 100, "i002": None})
    lines, clock = [], FakeClock()

    def log(fmt, *args):
        lines.append(fmt % args)

    first = tracked(list(range(100)), "images", every=50, log=log, clock=clock, name="i000", stage="images")
    second = tracked(list(range(100)), "images", every=50, log=log, clock=clock, name="i001", stage="images")
    for _ in zip(first, second):
        clock.now += 1.0  # each batch: one image per second
    # i001 has logged nothing yet: 50 of 300 (the waiting batch counted at the mean size), 1 image/s
    assert lines[0] == "i000: 50/100 images (50 %), 1.0 images/s, about 50 s left | all 3 batches: 50/300 images (17 %), about 4 min left"
    # both have: 2 images per second for the 200 left
    assert lines[1].startswith("i001: 50/100 images (50 %), 1.0 images/s, about 50 s left | all 3 batches: 100/300 images (33 %)")
    assert lines[1].endswith("about 2 min left")
    list(second)  # zip stopped at first's end, before second's last step
    assert overall("images")[1:3] == (200, 300) and "all 3 batches: 200/300 images (67 %)" in lines[-1]


def test_one_batch_or_no_record_adds_nothing(tmp_path, monkeypatch):
    from skymatchflow.jobs.runprogress import overall_text, start_of_run

    monkeypatch.chdir(tmp_path)
    assert overall_text("pairs", "pairs") == ""
    line = start_of_run([("image_batch", {"batch": "i000"}), ("overlap_graph", {})], {"i000": 7})
    assert line.startswith("skymatchflow: this run has 1 image batches (7 images); the pair batch plan then adds")
    assert "grows once (2 now)" in line
    assert "adds up to 4 pair batches" in start_of_run([("overlap_graph", {})], {}, 4)
    lines = []
    for _ in tracked(list(range(4)), "images", every=50, log=lambda fmt, *a: lines.append(fmt % a), name="i000",
                     stage="images"):
        pass
    assert "all" not in lines[-1] and len(lines) == 2
    assert start_of_run([("solve_sky", {})], {}) is None
