"""Every shell block of docs/proposals.md works as written against a fresh `make dev`
(as tests/e2e/test_readme.py does for the README), and the approval it shows is
heard once per subscription on the console (A8)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, aws_free_env, running_stack

pytestmark = pytest.mark.e2e
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)
PAGE = ROOT / "docs" / "proposals.md"


def test_the_proposals_walk_through_works_and_notifies_each_subscriber_once(
    tmp_path: Path,
) -> None:
    if shutil.which("jq") is None:
        if os.environ.get("SLAGUARD_REQUIRE_TOOLS"):  # .ci/run installs it
            pytest.fail("jq is required here: apt-get install jq")
        pytest.skip("the examples need jq (apt-get install jq; .ci/run does)")
    blocks = BLOCK.findall(PAGE.read_text())
    assert len(blocks) == 2
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in (".venv", "chalicelib", "app.py", ".chalice"):
        (checkout / name).symlink_to(ROOT / name)
    with running_stack(checkout / ".dev") as stack:
        done = subprocess.run(
            ["bash", "-c", "set -euo pipefail\n" + "\n".join(blocks)],  # noqa: S607
            cwd=checkout,
            env=aws_free_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        proposal = re.search(r"^registered (prp_\w+)$", done.stdout, re.MULTILINE)
        assert proposal, done.stdout
        approved = "ALERT proposal.approved"
        heard = [stack.read_until(lambda line: approved in line, 30) for _ in (1, 2)]
        with pytest.raises(AssertionError):  # and no third: each subscription once
            stack.read_until(lambda line: approved in line, 5)
    out = done.stdout
    for bad in ("jq: error", "internal_error", "Traceback", "parse error"):
        assert bad not in out + done.stderr, bad
    assert '{"kind":"feature_request","targets":[],"proposals_url":"/proposals"}' in out
    assert f'{{"id":"{proposal.group(1)}","subscribers":1,"subscribed":false}}' in out
    assert re.search(r"^201\n200$", out, re.MULTILINE)  # subscribed once, then already
    assert '{"subscribers":2,"subscribed":true}' in out
    assert '{"status":"under_review","decided_at":null}' in out
    assert re.search(r'^\{"status":"approved","subscribers":2,"decided_at":"\S+Z"\}$', out, re.M)
    assert '"proposal_decided"' in out
    tenants = sorted(re.search(r"\((demo-[\w-]+), ", line).group(1) for line in heard)  # type: ignore[union-attr]
    assert tenants == ["demo-aivo", "demo-keybe"]
    assert all(proposal.group(1) in line for line in heard)
    assert not any(
        "ALERT proposal.approved" in line for line in stack.lines[-50:] if line not in heard
    )
