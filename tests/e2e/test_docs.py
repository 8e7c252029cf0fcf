"""Every example of docs/ works as written, against a fresh `make dev` (issue 25).

- Each page's ```sh blocks run in order in one bash (`set -euo pipefail`), as a reader
  pasting them into a terminal would, in a folder laid out like a checkout; a jq
  error, an unset variable, a 5xx or a traceback fails the test. A line `#> <text>`
  in a block is what the command before it prints: it must be in the output.
- Each ```python block runs: a script against the embedded AWS (`source
  .dev/aws.env`), a test module with pytest.
- Each ```json block parses, and is checked against what the code does: the alert
  message against a message the adapter builds, filter policies against the
  attributes alerts carry, policy documents with the policy validator.
Blocks that need a deployed stack (```text in deploy.md and operations.md) are not
run here; the deployer's policy of deploy.md is checked against the packaged
template by tests/integration/test_stack.py."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import (
    BAD_OUTPUT,
    ROOT,
    Stack,
    aws_free_env,
    read_env,
    reader_checkout,
    require_jq,
    run_as_reader,
    running_stack,
)

pytestmark = pytest.mark.e2e
DOCS = ROOT / "docs"
BLOCK = re.compile(r"^ *```(\w+)\n(.*?)^ *```", re.MULTILINE | re.DOTALL)
# the order a reader would follow (writing-policies moves demo-aivo to a copy of its policy)
RUN_ORDER = ("local-stack.md", "walkthrough.md", "charges.md", "partners.md", "writing-policies.md")
# What each page's examples claim to show, beyond their `#>` lines.
CLAIMS: dict[str, list[str]] = {
    "local-stack.md": [r'"evaluated": \d+, "alerts": [1-9]\d*'],  # check --at fired
    "walkthrough.md": [
        r"^opened tkt_\w+$",
        r'\{"error":\{"code":"unauthorized"',  # the 401 in the contract's shape
        r'"fields\.affected_users"',  # K4: every missing intake field at once
        r'"priority":"high"',  # set_priority shows what it did
        r'"logged_minutes":40',  # log_time too
        r'"status":"closed"',
        r'"code":"action_not_allowed"',  # the last reopen: the 422, not a jq error
        r'"priority":"\w+","tickets":[1-9]',  # the report saw them
        r"^204\n404$",  # a key revoked, an unknown one
    ],
    "partners.md": [
        # a partner's signed delivery opens a ticket once; its retry has no second effect
        r'^\{"ticket_id":"tkt_\w+","applied":true\}\n\{"ticket_id":"tkt_\w+","applied":false\}$',
        r'^\{"previous_valid_until":"\S+Z"\}$',
    ],
}
ALERT_ATTRIBUTES = {"type", "tenant_id", "priority", "level"}


def blocks(page: str, kind: str) -> list[str]:
    return [body for lang, body in BLOCK.findall((DOCS / page).read_text()) if lang == kind]


def shell_blocks(page: str) -> list[str]:
    return [b for b in blocks(page, "sh") if not re.match(r"\s*make\b", b)]


def expectations(script: str) -> list[str]:
    return [line.split("#>", 1)[1].strip() for line in script.splitlines() if line.startswith("#>")]


# Pages whose shell blocks a test of their own runs (on a stack of its own, or
# against the repository itself).
RUN_ELSEWHERE = {
    "queue.md": "tests/e2e/test_docs_queue.py",
    "proposals.md": "tests/e2e/test_docs_proposals.py",
    "changing-a-ticket.md": "tests/services/test_docs_changing_a_ticket.py",
}


def test_every_page_with_shell_blocks_is_run() -> None:
    pages = {p.name for p in DOCS.glob("*.md") if shell_blocks(p.name)}
    assert pages == set(RUN_ORDER) | set(RUN_ELSEWHERE)
    assert all((ROOT / test).exists() for test in RUN_ELSEWHERE.values())


def test_the_docs_index_lists_every_page() -> None:
    index = (DOCS / "README.md").read_text()
    listed = set(re.findall(r"\]\(([\w-]+\.md)\)", index))
    assert listed == {p.name for p in DOCS.glob("*.md")} - {"README.md"}
    readme = (ROOT / "README.md").read_text()
    assert {f"docs/{name}" for name in listed} <= set(
        re.findall(r"\]\((docs/[\w-]+\.md)\)", readme)
    )


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Stack]]:
    require_jq("the docs' examples")
    folder = reader_checkout(tmp_path_factory.mktemp("docs") / "checkout")
    with running_stack(folder / ".dev") as stack:
        yield folder, stack


CHECKED: dict[str, int] = {}


@pytest.mark.parametrize("page", RUN_ORDER)
def test_every_shell_block_of_the_page_works_as_written(
    page: str, checkout: tuple[Path, Stack]
) -> None:
    folder, _ = checkout
    script = "\n".join(shell_blocks(page))
    done = run_as_reader(shell_blocks(page), folder)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for bad in BAD_OUTPUT:
        assert bad not in out + done.stderr, bad
    lines = [line.strip() for line in out.splitlines()]
    shown = expectations(script)
    for expected in shown:
        assert expected in lines, (expected, out)
    for claim in CLAIMS.get(page, []):
        assert re.search(claim, out, re.MULTILINE), (claim, out)
    CHECKED[page] = len(shell_blocks(page)) + len(shown) + len(CLAIMS.get(page, []))


def test_the_alert_subscriber_script_runs_against_the_embedded_aws(
    checkout: tuple[Path, Stack],
) -> None:
    folder, _ = checkout
    (script,) = blocks("alerts.md", "python")
    env = {**aws_free_env(), **read_env(folder / ".dev" / "aws.env")}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=folder, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    CHECKED["alerts.md python"] = 1


def test_the_policy_test_of_writing_policies_passes_on_the_documented_policy(
    tmp_path: Path,
) -> None:
    """The example test module, beside the `my-policy.json` the page's shell block
    writes (a copy of Aivo under a new id)."""
    (module,) = blocks("writing-policies.md", "python")
    aivo = json.loads((ROOT / "chalicelib" / "policies" / "aivo.json").read_text())
    (tmp_path / "my-policy.json").write_text(json.dumps({**aivo, "id": "my-policy"}))
    (tmp_path / "test_my_policy.py").write_text(module)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    CHECKED["writing-policies.md python"] = 1


def _json_blocks() -> list[tuple[str, Any]]:
    return [
        (page.name, json.loads(body))
        for page in sorted(DOCS.glob("*.md"))
        for body in blocks(page.name, "json")
    ]


def test_every_json_block_parses_and_says_what_the_code_does() -> None:
    from chalicelib import alerts
    from chalicelib.domain.policy import validate_policy_document
    from chalicelib.policies import load_shipped

    priorities = {
        p
        for policy in load_shipped().values()
        for kind in policy.kinds.values()
        for p in kind.priorities
    }
    types = {
        "sla.warning",
        "sla.breached",
        "sla.escalated",
        "ticket.prime_opened",
        "billing.order",
        "charge.waived",
        "commercial.review_required",
    }
    seen = {"message": 0, "filter": 0, "policy": 0, "other": 0}
    for page, doc in _json_blocks():
        if "ticket_id" in doc and "summary" in doc:  # the alert message (alerts.md)
            built = alerts.message(
                key=doc["id"].split(":", 1)[1],
                type_=doc["type"],
                tenant_id=doc["tenant_id"],
                ticket_id=doc["ticket_id"],
                priority=doc["priority"],
                occurred_at=doc["occurred_at"],
                metric=doc["metric"],
                level=doc["level"],
                threshold_pct=doc["threshold_pct"],
                due_at=doc["due_at"],
                timezone=doc["timezone"],
                title=doc["title"],
            )
            assert {**built, "summary": alerts.summary(built, alerts.Audience("Acme SA"))} == doc
            seen["message"] += 1
        elif set(doc) <= ALERT_ATTRIBUTES:  # a subscription's filter policy
            for name, values in doc.items():
                assert isinstance(values, list), (page, name)
                plain = [v for v in values if isinstance(v, str)]
                if name == "type":
                    assert set(plain) <= types, (page, plain)
                if name == "priority":
                    assert set(plain) <= priorities, (page, plain)
            seen["filter"] += 1
        elif "target_rules" in doc:  # a policy document
            validate_policy_document({**doc, "version": 1})
            seen["policy"] += 1
        else:  # the deployer's IAM policy, a partner's payload template
            assert isinstance(doc, dict), page
            seen["other"] += 1
    assert seen["message"] == 1
    assert seen["filter"] >= 3
    assert seen["policy"] >= 1
    CHECKED["json"] = sum(seen.values())


def test_zz_report_the_count_of_checked_examples(capsys: pytest.CaptureFixture[str]) -> None:
    """Runs last in this module: how many examples the tests above checked."""
    total = sum(CHECKED.values())
    with capsys.disabled():
        print(f"\ndocs examples checked: {total} {CHECKED}")
    assert total > 0
