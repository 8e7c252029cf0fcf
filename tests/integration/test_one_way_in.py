"""One way to change a ticket (the unit of work): the same changes made through the
API and through each partner format leave the same ticket, the same history and
the same alerts. What a partner's event says about itself (its external id, its
name and time) and who acted are the only differences."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from tests.integration.helpers import Api, Helpdesk, RequestClock, history, relink
from tests.partner_helpdesks import FORMATS, LIFE, dumps, fixture, retimed

PARTNER_CONTEXT = ("external_id", "partner_event", "occurred_at")
STEP = timedelta(minutes=10)


def _lowered(fmt: str, data: dict[str, Any]) -> None:
    """The priority-raised fixture turned into "back to high" (Aivo's `high`)."""
    if fmt == "generic":
        data["ticket"]["priority"] = "high"
    elif fmt == "zendesk":
        data["id"] = f"{data['id']}-down"
        data["detail"]["priority"] = "HIGH"
        data["event"].update(current="HIGH", previous="URGENT")
    elif fmt == "jira":
        data["issue"]["fields"]["priority"]["name"] = "High"
        data["changelog"]["items"][0].update(fromString="Highest", toString="High")
    else:
        data["freshdesk_webhook"].update(
            ticket_priority="High", triggered_event="{priority:{from:4,to:3}}"
        )


class Run:
    """One way of making the changes, at the same request instants as the other."""

    def __init__(self, api: Api, clock: RequestClock, agent_key: str) -> None:
        self.api, self.clock, self.agent_key = api, clock, agent_key
        self.start = clock.now
        self.ticket_id = ""

    def at(self, step: int) -> None:
        self.clock.now = self.start + step * STEP

    def api_action(self, action: str, **params: Any) -> None:
        status, body = self.api.post(
            f"/tickets/{self.ticket_id}/actions", self.agent_key, {"action": action, **params}
        )
        assert status == 200, body

    def ticket(self) -> dict[str, Any]:
        status, body = self.api.get(f"/tickets/{self.ticket_id}", self.agent_key)
        assert status == 200, body
        return dict(body)


def _partner_run(run: Run, desk: Helpdesk, fmt: str) -> dict[str, Any]:
    created, raised, assigned, replied, solved = LIFE[fmt]
    said: dict[str, Any] = {}

    def send(name: str, step: int, change: Callable[[dict[str, Any]], None] | None = None) -> None:
        data = retimed(fixture(fmt, name), desk.start + step * STEP)
        relink(fmt, data, desk.external)
        if change is not None:
            change(data)
        # Standard Webhooks' library checks its timestamp against the real clock
        signed_at = None if fmt == "generic" else run.clock.now
        status, body = desk.post(dumps(data), at=signed_at)
        assert (status, body.get("applied")) == (200, True), (name, body)
        run.ticket_id = body["ticket_id"]

    run.at(0)
    send(created, 0)
    said["reported_at"] = run.ticket()["reported_at"]
    run.at(1)
    send(raised, 1)
    run.at(2)
    send(assigned, 2)
    said["assignee"] = run.ticket()["assignee"]
    run.at(3)
    send(raised, 3, lambda data: _lowered(fmt, data))
    run.at(4)
    run.api_action("wait_on_customer")  # partners do not pause: slaguard's agents do
    run.at(5)
    run.api_action("resume")
    run.at(6)
    send(replied, 6)
    said["reply"] = next(
        e["data"]["body"]
        for e in history(run.api, run.agent_key, run.ticket_id)
        if e["type"] == "comment"
    )
    run.at(7)
    send(solved, 7)
    run.at(8)
    run.api_action("reopen")
    return said


def _api_run(run: Run, tenant_id: str, said: dict[str, Any]) -> None:
    run.at(0)
    status, body = run.api.post(
        "/tickets",
        run.agent_key,
        {
            "title": "The same problem",
            "description": "Reported through the API",
            "kind": "incident",
            "priority": "high",
            "tenant_id": tenant_id,
            "reported_at": said["reported_at"],
        },
    )
    assert status == 201, body
    run.ticket_id = body["id"]
    run.at(1)
    run.api_action("set_priority", priority="blocker")
    run.at(2)
    run.api_action("assign", agent=said["assignee"])
    run.at(3)
    run.api_action("set_priority", priority="high")
    run.at(4)
    run.api_action("wait_on_customer")
    run.at(5)
    run.api_action("resume")
    run.at(6)
    status, body = run.api.post(
        f"/tickets/{run.ticket_id}/comments", run.agent_key, {"body": said["reply"]}
    )
    assert status == 201, body
    run.at(7)
    run.api_action("resolve")
    run.at(8)
    run.api_action("reopen")


def _state(run: Run) -> dict[str, Any]:
    ticket = run.ticket()
    return {k: ticket[k] for k in ("status", "priority", "assignee", "charge", "sla")}


def _history(run: Run) -> list[tuple[str, str]]:
    """Types and data, actor and the partner event's own words aside; the ticket's
    id (in alert ids) as T."""
    out = []
    for entry in history(run.api, run.agent_key, run.ticket_id):
        data = {k: v for k, v in entry["data"].items() if k not in PARTNER_CONTEXT}
        text = repr(data).replace(run.ticket_id, "T")
        out.append((entry["type"], text))
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_api_and_each_partner_format_change_a_ticket_alike(
    fmt: str,
    api: Api,
    admin_key: str,
    agent_key: str,
    new_customer: Any,
    clock: RequestClock,
) -> None:
    # Given an Aivo customer with a partner helpdesk of this format
    customer = new_customer("aivo")
    partner_id = f"p-{fmt}-{uuid.uuid4().hex[:8]}"
    status, body = api.post(
        "/admin/partners",
        admin_key,
        {"id": partner_id, "tenant_id": customer.tenant_id, "format": fmt},
    )
    assert status == 201, body
    desk = Helpdesk(api, fmt, partner_id, body["secret"], customer.tenant_id)
    clock.set("2026-11-23T15:00:00Z")  # a Monday, 12:00 in Buenos Aires
    desk.start = clock.now - timedelta(hours=1)

    # When the partner's helpdesk makes its ticket's changes (and slaguard's agents
    # pause, resume and reopen it)
    partner = Run(api, clock, agent_key)
    said = _partner_run(partner, desk, fmt)
    # and an agent makes the same changes to another ticket through the API
    clock.set("2026-11-23T15:00:00Z")
    direct = Run(api, clock, agent_key)
    _api_run(direct, customer.tenant_id, said)

    # Then both tickets, their histories and their alerts are the same
    assert _state(partner) == _state(direct)
    assert _history(partner) == _history(direct)


def test_dx4_a_partners_late_assignment_waives_the_fee(
    api: Api, admin_key: str, agent_key: str, new_customer: Any, clock: RequestClock
) -> None:
    """DX4 is the aggregate's: a partner's agent taking a paid ticket after its first
    response was due waives the fee, as an API assignment does (it did not before:
    the webhook path forgot the waiver)."""
    # Given a Digital Express copy that also takes partner tickets without a contract
    status, doc = api.get("/admin/policies/digital_express", admin_key)
    assert status == 200, doc
    policy_id = f"dx-partners-{uuid.uuid4().hex[:8]}"
    doc = {k: v for k, v in doc.items() if k not in ("version", "source", "updated_at")}
    doc["channel_rules"][0]["channels"] = ["email", "webhook"]
    status, stored = api.put(f"/admin/policies/{policy_id}", admin_key, {**doc, "id": policy_id})
    assert status == 200, stored
    customer = new_customer(policy_id, contract={"active": False})
    status, body = api.post(
        "/admin/partners",
        admin_key,
        {
            "id": f"p-dx-{uuid.uuid4().hex[:8]}",
            "tenant_id": customer.tenant_id,
            "format": "generic",
            "priority_map": {"high": "normal", "blocker": "urgent"},
        },
    )
    assert status == 201, body
    desk = Helpdesk(api, "generic", body["id"], body["secret"], customer.tenant_id)
    clock.set("2026-11-23T15:00:00Z")
    desk.start = clock.now - timedelta(minutes=5)
    status, opened = desk.send("ticket_created", at=None)
    assert status == 200, opened
    tid = opened["ticket_id"]
    # and the customer approved the fee and administration marked it paid
    status, body = api.post(f"/tickets/{tid}/actions", customer.key, {"action": "approve_charge"})
    assert status == 200, body
    status, body = api.post(f"/tickets/{tid}/actions", admin_key, {"action": "mark_paid"})
    assert (status, body["charge"]["status"]) == (200, "paid"), body

    # When the partner's agent takes the ticket two days later
    clock.now += timedelta(days=2)
    desk.start = clock.now - timedelta(hours=1)  # the fixture's times stay in the past
    status, body = desk.send("ticket_assigned", at=None)
    assert (status, body.get("applied")) == (200, True), body

    # Then the fee is waived (credited), recorded and alerted once
    status, ticket = api.get(f"/tickets/{tid}", agent_key)
    assert ticket["charge"]["status"] == "waived", ticket["charge"]
    entries = history(api, agent_key, tid)
    waived = [e for e in entries if e["type"] == "charge.waived"]
    assert len(waived) == 1
    assert waived[0]["data"]["alert_id"] == f"{tid}:charge.waived"


def test_a_partners_resolution_records_its_cause(
    api: Api, admin_key: str, agent_key: str, new_customer: Any, clock: RequestClock
) -> None:
    """A4: a resolution's history entry says its cause whichever way it came (the
    partner's did not)."""
    customer = new_customer("aivo")
    status, body = api.post(
        "/admin/partners",
        admin_key,
        {"id": f"p-j-{uuid.uuid4().hex[:8]}", "tenant_id": customer.tenant_id, "format": "jira"},
    )
    assert status == 201, body
    desk = Helpdesk(api, "jira", body["id"], body["secret"], customer.tenant_id)
    clock.set("2026-11-23T15:00:00Z")
    desk.start = clock.now - timedelta(hours=1)
    for name in ("issue_created", "issue_updated_assignee", "issue_updated_resolved"):
        status, body = desk.send(name, at=clock.now)
        assert status == 200, body
    (resolved,) = [
        e for e in history(api, agent_key, body["ticket_id"]) if e["type"] == "action.resolve"
    ]
    assert resolved["data"]["resolution_cause"] == "fixed"
