"""docs/writing-policies.md, "Edit, simulate, publish": its example is a real
answer. The test builds the doc's scenario (three Aivo tickets of Monday
2026-11-02 on a tenant of its own, which the doc calls `demo-aivo`), makes the
doc's edit, and compares the CLI's table and the API's answer with the doc's
blocks (ticket ids read as `tkt_1`, `tkt_2`, ... in the order they were opened)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.helpers import INCIDENT, ROOT, Api, RequestClock, done, with_target

DOC = ROOT / "docs" / "writing-policies.md"
MONDAY = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)  # 09:00 in Buenos Aires
WINDOW = ("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z")


def blocks(kind: str) -> list[str]:
    """The doc's fenced blocks of that kind in its "Edit, simulate, publish" section."""
    text = DOC.read_text()
    section = text.split("## Edit, simulate, publish", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{kind}\n(.*?)```", section, flags=re.DOTALL)


def the_edit(doc: dict[str, Any]) -> dict[str, Any]:
    """The doc's jq edit: high incidents get 10 business hours to resolution."""
    return with_target(doc, "A2.high", "resolution", hours=10)


def test_the_edit_simulate_publish_example_is_a_real_answer(
    api: Api,
    admin_key: str,
    agent_key: str,
    new_customer: Any,
    clock: RequestClock,
    tmp_path: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from chalicelib import cli

    assert any(".hours) = 10" in b for b in blocks("sh")), "the doc's edit is the_edit's"
    customer = new_customer()
    names: dict[str, str] = {customer.tenant_id: "demo-aivo"}
    # Monday 09:00: two high incidents and a blocker
    clock.now = MONDAY
    opened = [
        api.post("/tickets", customer.key, {**INCIDENT, "priority": p})[1]["id"]
        for p in ("high", "high", "blocker")
    ]
    names.update({t: f"tkt_{n}" for n, t in enumerate(opened, start=1)})
    slow, quick, blocker = opened
    for minutes, ticket, action in (
        (20, blocker, "assign"),
        (30, slow, "assign"),
        (60, quick, "assign"),
        (240, blocker, "resolve"),
        (7 * 60, quick, "resolve"),  # 16:00: 7 business hours
        (8 * 60 + 30, slow, "resolve"),  # 17:30: 8.5 business hours, late for 8
    ):
        clock.now = MONDAY + timedelta(minutes=minutes)
        params = {"agent": "ana"} if action == "assign" else {}
        done(api, agent_key, ticket, action, **params)

    def named(text: str) -> str:
        for real, name in names.items():
            text = text.replace(real, name)
        return text

    draft = the_edit(api.get("/admin/policies/aivo", admin_key)[1])
    path = tmp_path / "draft.json"
    path.write_text(json.dumps(draft))
    args = ["simulate", "--policy-file", str(path), "--tenant-id", customer.tenant_id]
    assert cli.main([*args, "--from", WINDOW[0], "--to", WINDOW[1]]) == 0
    assert named(capsys.readouterr().out) == blocks("text")[0]

    clock.now = MONDAY + timedelta(days=10)
    status, answer = api.post(
        "/admin/policies/aivo/simulate",
        admin_key,
        {"policy": draft, "from": WINDOW[0], "to": WINDOW[1], "tenant_id": customer.tenant_id},
    )
    assert status == 200, answer
    shown = {k: answer[k] for k in ("tickets", "changed", "changed_total")}
    assert json.loads(named(json.dumps(shown))) == json.loads(blocks("json")[0])
