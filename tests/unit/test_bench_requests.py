"""bench/requests.py (issue 24) works: run on a tiny N in a fresh process, its table
has every route of the app but those it says it leaves out, each route's requests
answered 2xx (the bench asserts it) and calling AWS, and the fresh-process figures.
Not timed: the figures themselves are the bench's to print, not a test's to judge."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(
    r"^((?:GET|POST|PUT|PATCH|DELETE) \S+)(?: \(.+\))?\s+([\d.]+)\s+([\d.]+)\s+[\d.]+\s+(\d+)$"
)
NO_AWS = {"GET /health", "GET /openapi.json"}  # answered from the process alone


def test_the_requests_bench_measures_every_route_and_the_first_requests() -> None:
    import app
    from bench.requests import FIRST, LEFT_OUT

    done = subprocess.run(
        [sys.executable, "-m", "bench.requests", "--requests", "2", "--runs", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    rows = [m.groups() for m in map(ROW.match, done.stdout.splitlines()) if m]
    measured = {route for route, *_ in rows}
    every = {f"{method} {path}" for path, methods in app.app.routes.items() for method in methods}
    assert measured == every - set(LEFT_OUT)
    assert set(LEFT_OUT) <= every  # nothing left out that the app does not have
    calls = {route: int(n) for route, _, _, n in rows if route not in NO_AWS}
    assert calls
    assert all(n > 0 for n in calls.values()), calls
    assert all(float(p95) >= float(p50) > 0 for _, p50, p95, _ in rows)
    for name in FIRST:
        assert re.search(rf"^import app \+ first {re.escape(name)}\s+[\d.]+ ms", done.stdout, re.M)
    assert re.search(r"^first POST /tickets: [\d.]+x the dependencies", done.stdout, re.M)
