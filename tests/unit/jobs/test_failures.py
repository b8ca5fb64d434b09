"""The failure summary: one line per error of each failed job's log, in Snakemake's order."""

from skymatchflow.jobs.failures import failure_lines

SNAKEMAKE_LOG = """Error in rule image_batch:
    jobid: 3
    log: {a} (check log file(s) for error details)
Error in rule pair_batch:
    jobid: 7
    log: {b} (check log file(s) for error details)
Error in rule image_batch:
    log: {a} (check log file(s) for error details)
"""


def test_one_line_per_error_of_each_failed_log(tmp_path):
    a, b = tmp_path / "i000.log", tmp_path / "b001.log"
    a.write_text("2026-12-06 06:00:00,000 INFO started\n"
                 "2026-12-06 06:00:01,000 ERROR x.fits: no celestial WCS\n"
                 "2026-12-06 06:00:01,000 ERROR y.fits: DQ holds negative values\n")
    b.write_text("")
    main = tmp_path / "snakemake.log"
    main.write_text(SNAKEMAKE_LOG.format(a=a, b=b))
    assert failure_lines(main) == [f"failed: x.fits: no celestial WCS  [{a}]",
                                   f"failed: y.fits: DQ holds negative values  [{a}]",
                                   f"failed: see {b}"]


def test_many_errors_are_cut(tmp_path):
    a = tmp_path / "i000.log"
    a.write_text("".join(f"2026-12-06 06:00:01,000 ERROR f{k}.fits: bad\n" for k in range(50)))
    main = tmp_path / "snakemake.log"
    main.write_text(SNAKEMAKE_LOG.format(a=a, b=tmp_path / "missing.log"))
    lines = failure_lines(main, max_lines=5)
    assert len(lines) == 6 and lines[-1] == "... and 46 more in the logs above"


def test_no_log_no_lines(tmp_path):
    assert failure_lines(tmp_path / "absent.log") == [] and failure_lines(None) == []


def test_snakemake_9_gives_a_list_of_logs(tmp_path):
    a = tmp_path / "i000.log"
    a.write_text("2026-12-06 06:00:01,000 ERROR x.fits: no celestial WCS\n")
    main = tmp_path / "snakemake.log"
    main.write_text(SNAKEMAKE_LOG.format(a=a, b=a))
    assert failure_lines([str(main)]) == [f"failed: x.fits: no celestial WCS  [{a}]"]
