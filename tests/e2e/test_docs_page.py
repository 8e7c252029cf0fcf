"""GET /docs in a real headless browser (Debian's Chromium): the page loads its
assets from the app itself and lists every operation of /openapi.json."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Flags that work on these machines: no sandbox as root, no background networking.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=20000",
]


def rendered(url: str, profile: Path, *extra: str) -> str:
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, url],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def test_the_reference_page_renders_every_operation(stack: Stack, tmp_path: Path) -> None:
    if CHROMIUM is None:
        if os.environ.get("SLAGUARD_REQUIRE_TOOLS"):  # .ci/run installs it
            pytest.fail("chromium is required here: apt-get install chromium")
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does)")
    doc = requests.get(stack.api + "/openapi.json", timeout=10).json()
    operations = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    dom = rendered(stack.api + "/docs", tmp_path / "profile", "--dump-dom")
    assert "swagger-ui" in dom
    shown = set(
        re.findall(
            r'opblock-summary-method">(\w+)</span>.*?data-path="([^"]+)"', dom, flags=re.DOTALL
        )
    )
    assert shown == operations, operations ^ shown
    assert "slaguard" in dom


def test_docs_with_a_trailing_slash_reaches_the_page(stack: Stack) -> None:
    """Issue 25: `/docs/` was a blank page (its relative asset URLs missed)."""
    slash = requests.get(stack.api + "/docs/", timeout=10)
    assert slash.status_code == 200
    assert slash.url == stack.api + "/docs"
    assert "swagger-ui" in slash.text
