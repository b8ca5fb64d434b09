"""Where the repository, its config schema and the shared test data are."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
