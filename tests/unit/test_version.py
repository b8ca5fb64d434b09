"""One version, written once: the package's, which the changelog, the citation file and the results repeat."""

import re

import yaml

from helpers.paths import REPO
from skymatchflow import __version__
from skymatchflow.io.stagefiles import software_versions

SEMVER = r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"


def test_the_version_is_semantic():
    assert re.fullmatch(SEMVER, __version__)


def test_the_changelog_s_latest_entry_is_the_version():
    entries = re.findall(rf"^## \[({SEMVER})\] - (\d{{4}}-\d\d-\d\d)$", (REPO / "CHANGELOG.md").read_text(), re.MULTILINE)
    assert entries and entries[0][0] == __version__
    assert len({entry[0] for entry in entries}) == len(entries)  # each version once


def test_the_citation_file_cites_the_version_and_credits_the_reference():
    citation = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert citation["version"] == __version__ and citation["license"] == "BSD-3-Clause"
    changelog_date = re.search(rf"^## \[{re.escape(__version__)}\] - (\S+)$", (REPO / "CHANGELOG.md").read_text(), re.MULTILINE)
    assert citation["date-released"] == changelog_date.group(1)
    codes = {ref["repository-code"] for ref in citation["references"]}
    assert codes == {"https://github.com/spacetelescope/stcal", "https://github.com/spacetelescope/jwst"}


def test_the_licence_is_bsd_3_clause_and_keeps_the_reference_s_notice():
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("BSD 3-Clause License")
    assert "Association of Universities for Research in Astronomy (AURA)" in text


def test_results_record_the_version():
    assert software_versions()["skymatchflow"] == __version__
