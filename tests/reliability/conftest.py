import json
from pathlib import Path

import pytest

FIGURES = Path(__file__).resolve().parent.parent.parent / "test-artifacts" / "reliability.json"


@pytest.fixture
def record_figure(request):
    """Keep a measured figure for docs/RELIABILITY.md (test-artifacts/reliability.json)."""

    def record(**figures):
        FIGURES.parent.mkdir(exist_ok=True)
        known = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
        known[request.node.name] = figures
        FIGURES.write_text(json.dumps(known, indent=2, sort_keys=True))

    return record
