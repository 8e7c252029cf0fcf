"""docs/queue.md as a reader meets it: its shell blocks work as written against a
running `make dev` and print lines of the shape the page shows, and the line the
console prints to watch the queue answers the queue."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT, Stack, aws_free_env, reader_checkout, require_jq

pytestmark = pytest.mark.e2e
PAGE = ROOT / "docs" / "queue.md"
BLOCK = re.compile(r"^```(sh|text)\n(.*?)^```", re.MULTILINE | re.DOTALL)
QUEUE_LINE = re.compile(
    r"(breached|at_risk|on_track)\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\t-?\d+\t[a-z0-9_-]+"
    r"\ttkt_[0-9A-Z]{26}\t[^\t]+"
)
TENANT_LINE = re.compile(r"[a-z0-9][a-z0-9_-]*\t[^\t]+\tpolicy [a-z0-9_-]+(\ttier [a-z_]+)?")
PARTNER_FIELDS = {
    "id",
    "tenant_id",
    "format",
    "priority_map",
    "default_kind",
    "created_at",
    "secret_rotated_at",
}


def blocks(kind: str) -> list[str]:
    return [text for found, text in BLOCK.findall(PAGE.read_text()) if found == kind]


def test_the_page_shows_output_of_the_shape_its_commands_print() -> None:
    queue_out, tenants_out = blocks("text")
    assert all(QUEUE_LINE.fullmatch(line) for line in queue_out.splitlines()), queue_out
    assert all(TENANT_LINE.fullmatch(line) for line in tenants_out.splitlines()), tenants_out


def test_the_shell_blocks_work_as_written_against_make_dev(stack: Stack, tmp_path: Path) -> None:
    require_jq("the page's examples")
    agent, admin = stack.keys["AGENT"], stack.keys["ADMIN"]
    reported = datetime.now(UTC) - timedelta(hours=2)
    r = stack.call(
        "POST",
        "/tickets",
        agent,
        {
            "tenant_id": "demo-aivo",
            "title": "Queue docs: platform down",
            "description": "All customers",
            "kind": "incident",
            "priority": "blocker",
            "reported_at": reported.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    )
    assert r.status_code == 201, r.text
    ticket_id = r.json()["id"]
    partner = {
        "id": "docs-queue-desk",
        "tenant_id": "demo-keybe",
        "format": "generic",
        "priority_map": {"urgent": "emergency", "normal": "normal"},  # Keybe's (K1)
    }
    r = stack.call("POST", "/admin/partners", admin, partner)
    assert r.status_code == 201, r.text
    checkout = reader_checkout(tmp_path / "checkout")
    (checkout / ".dev").symlink_to(stack.state)
    done = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + "\n".join(blocks("sh"))],  # noqa: S607
        cwd=checkout,
        env=aws_free_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    queue = [line for line in lines if QUEUE_LINE.fullmatch(line)]
    tenants = [line for line in lines if TENANT_LINE.fullmatch(line)]
    partners = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(queue) + len(tenants) + len(partners) == len(lines), lines
    assert any(line.startswith("breached\t") and ticket_id in line for line in queue), queue
    assert "demo-aivo\tDemo Aivo SA\tpolicy aivo" in tenants
    assert "demo-keybe\tDemo Keybe\tpolicy keybe\ttier premium" in tenants
    assert all(set(p) == PARTNER_FIELDS for p in partners), partners
    assert {"id": "docs-queue-desk", "tenant_id": "demo-keybe"}.items() <= next(
        p for p in partners if p["id"] == "docs-queue-desk"
    ).items()


def test_the_console_s_queue_line_answers_the_queue(stack: Stack) -> None:
    (line,) = [line for line in stack.lines if line.startswith("agents' queue: ")]
    command = line.removeprefix("agents' queue: ").split("  (", 1)[0]
    done = subprocess.run(
        ["bash", "-c", command],  # noqa: S607
        env={**aws_free_env(), "AGENT": stack.keys["AGENT"]},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    page = json.loads(done.stdout)
    assert set(page) == {"items", "next_cursor"}
    for item in page["items"]:
        assert item["state"] in ("on_track", "at_risk", "breached")
