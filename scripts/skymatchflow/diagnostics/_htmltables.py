"""The summary and the first rows of the sky table as one HTML page, for the report.

Snakemake's report shows an HTML result inline, but offers an ECSV only as a
download; this page is what a reader of the report sees of the numbers. The
ECSV files stay the record (full precision, every row, the metadata).
"""

import html

import numpy as np

SKY_ROWS = 50  # the sky table's first rows shown; SKIPPED images are shown first
SUMMARY_ROWS = 50  # islands shown before the total row

STYLE = """
body { font-family: sans-serif; font-size: 13px; }
table { border-collapse: collapse; margin-bottom: 1em; }
th, td { border: 1px solid #bbb; padding: 2px 6px; text-align: right; }
th { background: #eee; }
td.text { text-align: left; }
tr.skipped td { background: #fde2e2; }
"""


def cell_text(value):
    """A cell as text: floats to 5 significant digits, everything else as it is."""
    if isinstance(value, (float, np.floating)):
        return "nan" if not np.isfinite(value) else f"{value:.5g}"
    return str(value)


def table_html(table, rows, caption):
    """One <table> of ``rows`` (indices) of an astropy table, its column descriptions as tooltips."""
    head = "".join(
        f'<th title="{html.escape(table[name].description or "")}">{html.escape(name)}</th>' for name in table.colnames
    )
    body = []
    for index in rows:
        row = table[index]
        skipped = "status" in table.colnames and row["status"] != "COMPLETE"
        cells = "".join(
            f'<td class="text">{html.escape(cell_text(row[name]))}</td>' if table[name].dtype.kind in "SUO"
            else f"<td>{html.escape(cell_text(row[name]))}</td>"
            for name in table.colnames
        )
        body.append(f'<tr class="skipped">{cells}</tr>' if skipped else f"<tr>{cells}</tr>")
    return f"<table><caption>{html.escape(caption)}</caption><tr>{head}</tr>{''.join(body)}</table>"


def summary_rows(summary):
    """The first SUMMARY_ROWS islands, and always the total (the last row)."""
    n = len(summary)
    return [*range(min(n - 1, SUMMARY_ROWS)), n - 1] if n else []


def sky_rows(sky):
    """The first SKY_ROWS rows, SKIPPED images first (they are what to look at)."""
    status = np.asarray(sky["status"]) if "status" in sky.colnames else np.full(len(sky), "COMPLETE")
    skipped = [i for i in range(len(sky)) if status[i] != "COMPLETE"]
    complete = [i for i in range(len(sky)) if status[i] == "COMPLETE"]
    return (skipped + complete)[:SKY_ROWS]


def tables_page(summary, sky):
    """The HTML page: the summary (per island, then totals), then the sky table's first rows."""
    shown_islands = len(summary_rows(summary)) - 1
    shown_sky = len(sky_rows(sky))
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>{STYLE}</style></head><body>",
        "<h3>Summary (results/summary.ecsv)</h3>",
        "<p>Per island of the overlap graph: rms_after much below rms_before means the match removed the "
        "sky steps; closure_rms and chi2_dof near the noise mean the pairs agree around cycles.</p>",
        table_html(summary, summary_rows(summary),
                   f"{shown_islands} of {max(len(summary) - 1, 0)} islands, then the total"),
        "<h3>Sky table (results/sky.ecsv)</h3>",
        table_html(sky, sky_rows(sky),
                   f"{shown_sky} of {len(sky)} images (SKIPPED first); every row is in results/sky.ecsv"),
        "</body></html>",
    ]
    return "\n".join(parts)
