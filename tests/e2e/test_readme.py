"""The README's tour works as written against a fresh `make dev` (docs/' examples:
test_docs.py).

The ```sh blocks run in order in one bash (`set -euo pipefail`, as a reader pasting
them into one terminal would), in a folder laid out like a checkout (`.venv`,
`chalicelib`, and `.dev/` of a stack started on free ports). Only the quick-start
block, which starts `make` itself, is left out. A jq error, an unset variable, a
5xx or a traceback fails the test, and so does an example that shows nothing of
what it claims."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.conftest import (
    BAD_OUTPUT,
    ROOT,
    reader_checkout,
    require_jq,
    run_as_reader,
    running_stack,
)

pytestmark = pytest.mark.e2e
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)


def shell_blocks() -> list[str]:
    blocks = BLOCK.findall((ROOT / "README.md").read_text())
    return [b for b in blocks if not re.match(r"\s*make\b", b)]


def test_the_readme_has_its_tour_to_run_and_stays_short() -> None:
    assert len(shell_blocks()) == 1  # the 5-minute tour
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200  # issue 25


def test_every_readme_shell_block_works_as_written(tmp_path: Path) -> None:
    require_jq("the README's examples")
    checkout = reader_checkout(tmp_path / "checkout")
    with running_stack(checkout / ".dev") as stack:
        done = run_as_reader(shell_blocks(), checkout)
        # the script's own failure first: without it no alert comes to wait for
        assert done.returncode == 0, done.stdout + done.stderr
        stack.read_until(lambda line: "resolution 100%" in line, 30)
    out = done.stdout
    for bad in BAD_OUTPUT:
        assert bad not in out + done.stderr, bad
    # what the tour claims to show
    assert re.search(r"^opened tkt_\w+$", out, re.MULTILINE)
    assert re.search(r'^\{"status":"new","sla":\[\{"metric":"first_response"', out, re.MULTILINE)
    assert '{"metric":"first_response","state":"met"}' in out  # the assignment met it (A5)
    assert '["created","action.assign"]' in out
    assert re.search(r'^\{"code":"invalid_request",.*"title":', out, re.MULTILINE)
    assert re.search(r'"evaluated": \d+, "alerts": [1-9]\d*', out)  # check --at fired
    assert done.stderr == ""  # check --at prints its result line only
