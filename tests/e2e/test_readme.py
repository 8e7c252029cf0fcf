"""Every shell block of the README works as written against a fresh `make dev`.

The ```sh blocks run in order in one bash (`set -euo pipefail`, as a reader pasting
them into one terminal would), in a folder laid out like a checkout (`.venv`,
`chalicelib`, and `.dev/` of a stack started on free ports). Only the quick-start
block, which starts `make` itself, is left out. A jq error, an unset variable, a
5xx or a traceback fails the test, and so does an example that shows nothing of
what it claims."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, aws_free_env, need_jq, reader_checkout, running_stack

pytestmark = pytest.mark.e2e
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)


def shell_blocks() -> list[str]:
    blocks = BLOCK.findall((ROOT / "README.md").read_text())
    return [b for b in blocks if not re.match(r"\s*make\b", b)]


def test_the_readme_has_shell_blocks_to_run() -> None:
    assert len(shell_blocks()) >= 5


def test_every_readme_shell_block_works_as_written(tmp_path: Path) -> None:
    need_jq("the README's")
    checkout = reader_checkout(tmp_path / "checkout")
    with running_stack(checkout / ".dev") as stack:
        script = "set -euo pipefail\n" + "\n".join(shell_blocks())
        done = subprocess.run(
            ["bash", "-c", script],  # noqa: S607 - the reader's shell
            cwd=checkout,
            env=aws_free_env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        # the script's own failure first: without it no alert comes to wait for
        assert done.returncode == 0, done.stdout + done.stderr
        stack.read_until(lambda line: "resolution 100%" in line, 30)
    out = done.stdout
    for bad in ("jq: error", "internal_error", "Traceback", "command not found", "parse error"):
        assert bad not in out + done.stderr, bad
    # what the examples claim to show
    assert re.search(r"^opened tkt_\w+$", out, re.MULTILINE)
    assert '{"error":{"code":"unauthorized"' in out  # the 401 in the contract's shape
    assert '"fields.affected_users"' in out  # K4: every missing intake field at once
    assert '"priority":"high"' in out  # set_priority shows what it did
    assert '"logged_minutes":40' in out  # log_time too
    assert '"status":"closed"' in out
    assert '"code":"action_not_allowed"' in out  # the last reopen: the 422, not a jq error
    assert re.search(r'"evaluated": \d+, "alerts": [1-9]\d*', out)  # check --at fired
    assert re.search(r'"priority":"\w+","tickets":[1-9]', out)  # the report saw them
    assert re.search(r'\{"id":"aivo","version":2,', out)  # the policy PUT
    assert re.search(r"^204\n404$", out, re.MULTILINE)  # a key revoked, an unknown one
    # a partner's signed delivery opens a ticket once; its retry has no second effect
    assert re.search(
        r'^\{"ticket_id":"tkt_\w+","applied":true\}\n\{"ticket_id":"tkt_\w+","applied":false\}$',
        out,
        re.MULTILINE,
    )
    assert re.search(r'^\{"previous_valid_until":"\S+Z"\}$', out, re.MULTILINE)
