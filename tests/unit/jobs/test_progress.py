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
