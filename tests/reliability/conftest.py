import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection

FIGURES = Path(__file__).resolve().parent.parent.parent / "test-artifacts" / "reliability.json"
# PostgreSQL here allows 100 connections; the test process, its live server and the worker
# need some, so at most this many threads hold one at a time.
MAX_THREADS = 60


def run_at_once(calls):
    """Run every (function, kwargs) of `calls` in threads released together; returns each
    call's result or the exception it raised, in order."""
    go = threading.Event()

    def run(call):
        function, kwargs = call
        go.wait(timeout=30)
        try:
            return function(**kwargs)
        except Exception as error:
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=MAX_THREADS) as pool:
        futures = [pool.submit(run, call) for call in calls]
        go.set()
        return [future.result() for future in futures]


@pytest.fixture
def record_figure(request):
    """Keep a measured figure for docs/RELIABILITY.md (test-artifacts/reliability.json)."""

    def record(**figures):
        FIGURES.parent.mkdir(exist_ok=True)
        known = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
        known[request.node.name] = figures
        FIGURES.write_text(json.dumps(known, indent=2, sort_keys=True))

    return record
