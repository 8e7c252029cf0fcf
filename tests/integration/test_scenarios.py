"""One scenario per seed document, start to finish over the API, as the provider
and its customers would live it: the request clock is frozen and moved by hand,
tickets are back-dated with `reported_at` where a phone call is logged later, and
the breach checker runs through the real scheduled handler at chosen instants.
Each asserts statuses, SLA states, charges, history and the alerts an SQS queue
subscribed to the topic receives.

Buenos Aires is UTC-3 and Mexico City UTC-6 all year (no DST). November 2026:
Fri 13 and Mon 16 are Argentine working days; Mon 23 is a holiday (not used)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.integration.helpers import (
    INCIDENT,
    KEYBE_FAILURE,
    Alerts,
    Api,
    RequestClock,
    act,
    done,
    history,
    run_checker,
)
from tests.integration.helpers import targets_by_metric as targets


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def check(api: Api, text: str) -> None:
    """One breach-checker run at that instant (as EventBridge invokes it)."""
    run_checker(api, at(text))


def opened(api: Api, key: str, body: dict[str, Any]) -> dict[str, Any]:
    status, ticket = api.post("/tickets", key, body)
    assert status == 201, ticket
    return dict(ticket)


def ticket(api: Api, key: str, ticket_id: str) -> dict[str, Any]:
    status, body = api.get(f"/tickets/{ticket_id}", key)
    assert status == 200, body
    return dict(body)


def states(body: dict[str, Any]) -> dict[str, str]:
    return {metric: t["state"] for metric, t in targets(body).items()}


def received(alerts: Alerts, *ticket_ids: str) -> list[tuple[str, str, str | None, int | None]]:
    """What the subscriber got: (ticket, type, metric, threshold), sorted."""
    messages = alerts.drain(set(ticket_ids))
    return sorted((m["ticket_id"], m["type"], m["metric"], m["threshold_pct"]) for m in messages)


def types(api: Api, key: str, ticket_id: str) -> list[str]:
    return [e["type"] for e in history(api, key, ticket_id)]


# --------------------------------------------------------------- 002/003 Aivo


def test_aivo_a_high_incident_on_a_friday_evening(
    api: Api, new_customer: Any, agent_key: str, clock: RequestClock
) -> None:
    """A1 calendar, A2 high (first response 2 business h, resolution 8 business h),
    A5 (a reply without assignment does not meet first response), A6/E6 pause,
    E8 ladder, report."""
    alerts = Alerts()
    acme = new_customer(policy="aivo")
    clock.set("2026-11-13T20:00:00Z")  # Fri 17:00 in Buenos Aires: one working hour left
    tid = opened(api, acme.key, {**INCIDENT, "priority": "high"})["id"]
    first = ticket(api, acme.key, tid)
    assert first["status"] == "new"
    assert first["charge"] is None  # Aivo does not bill
    assert targets(first)["first_response"]["due_at"] == "2026-11-16T13:00:00Z"  # Mon 10:00
    assert targets(first)["resolution"]["due_at"] == "2026-11-16T19:00:00Z"  # Mon 16:00

    check(api, "2026-11-13T21:00:00Z")  # the weekend counts nothing
    check(api, "2026-11-16T12:30:00Z")  # 75 % of 2 business hours: Mon 09:30
    clock.set("2026-11-16T12:45:00Z")
    status, _ = api.post(f"/tickets/{tid}/comments", agent_key, {"body": "Looking into it"})
    assert status == 201
    assert states(ticket(api, acme.key, tid))["first_response"] == "running"  # A5
    check(api, "2026-11-16T13:00:00Z")  # due: breached
    clock.set("2026-11-16T13:10:00Z")
    taken = done(api, agent_key, tid, "assign", agent="lucia@aivo.example")
    assert (taken["status"], states(taken)) == (
        "open",
        {"first_response": "breached", "resolution": "running"},
    )
    clock.set("2026-11-16T14:00:00Z")  # Mon 11:00: waiting on the customer for an hour
    done(api, agent_key, tid, "wait_on_customer")
    check(api, "2026-11-16T14:30:00Z")
    clock.set("2026-11-16T15:00:00Z")
    resumed = done(api, acme.key, tid, "resume")
    assert targets(resumed)["resolution"]["due_at"] == "2026-11-16T20:00:00Z"  # one hour later
    check(api, "2026-11-16T17:00:00Z")  # would be 75 % without the pause: nothing
    check(api, "2026-11-16T18:00:00Z")  # 75 % of 8 business hours, paused hour excluded
    clock.set("2026-11-16T19:30:00Z")
    solved = done(api, agent_key, tid, "resolve")
    assert states(solved) == {"first_response": "breached", "resolution": "met"}
    assert done(api, acme.key, tid, "close")["status"] == "closed"
    check(api, "2026-11-17T12:00:00Z")  # nothing more: met, or breached and taken

    assert received(alerts, tid) == [
        (tid, "sla.breached", "first_response", 100),
        (tid, "sla.warning", "first_response", 75),
        (tid, "sla.warning", "resolution", 75),
    ]
    assert types(api, acme.key, tid) == [
        "created",
        "sla.warning",
        "comment",
        "sla.breached",
        "action.assign",
        "action.wait_on_customer",
        "action.resume",
        "sla.warning",
        "action.resolve",
        "action.close",
    ]
    status, report = api.get(
        f"/reports/sla?from=2026-11-13T00:00:00Z&to=2026-11-14T00:00:00Z&tenant_id={acme.tenant_id}",
        agent_key,
    )
    assert status == 200, report
    high = next(i for i in report["items"] if i["priority"] == "high")
    assert (high["tickets"], high["met"], high["breached"]) == (1, 0, 1)


# --------------------------------------------------------------- 001 Keybe


FAILURE = KEYBE_FAILURE


def test_keybe_a_premium_failure_and_an_emergency(
    api: Api, new_customer: Any, agent_key: str, clock: RequestClock
) -> None:
    """K1 (tier from the contract plan: 30,000 daily chats is premium, 2 h 24x7),
    K4 intake, E6 pause, K3 emergency (1 h; 75 %, 100 %, 300 %, no 200 % rung)."""
    alerts = Alerts()
    brand = new_customer(policy="keybe", contract={"active": True, "plan": "30,000 daily chats"})
    clock.set("2026-11-10T14:10:00Z")
    incomplete = {**FAILURE, "tenant_id": brand.tenant_id, "reported_at": "2026-11-10T14:00:00Z"}
    incomplete["fields"] = {k: v for k, v in FAILURE["fields"].items() if k != "evidence"}
    status, body = api.post("/tickets", agent_key, incomplete)
    assert status == 400, body
    assert set(body["error"]["fields"]) == {"fields.evidence"}  # K4
    # The phone call came at 14:00; the agent logs it ten minutes later (E3).
    failure = opened(
        api,
        agent_key,
        {**FAILURE, "tenant_id": brand.tenant_id, "reported_at": "2026-11-10T14:00:00Z"},
    )
    fid = failure["id"]
    assert (failure["tier"], failure["priority"], failure["charge"]) == ("premium", "normal", None)
    assert targets(failure)["resolution"]["due_at"] == "2026-11-10T16:00:00Z"

    check(api, "2026-11-10T15:30:00Z")  # 75 % of 2 h
    clock.set("2026-11-10T15:40:00Z")
    done(api, agent_key, fid, "assign", agent="juan@keybe.example")
    clock.set("2026-11-10T15:45:00Z")  # asks the customer for the affected chat ids
    done(api, agent_key, fid, "wait_on_customer")
    check(api, "2026-11-10T16:30:00Z")  # paused: not breached at the old due instant
    clock.set("2026-11-10T16:45:00Z")
    resumed = done(api, brand.key, fid, "resume")
    assert targets(resumed)["resolution"]["due_at"] == "2026-11-10T17:00:00Z"
    check(api, "2026-11-10T17:00:00Z")
    clock.set("2026-11-10T17:20:00Z")
    solved = done(api, agent_key, fid, "resolve")
    assert states(solved) == {"resolution": "breached"}  # met late stays breached (E5)
    assert targets(solved)["resolution"]["met_at"] == "2026-11-10T17:20:00Z"

    clock.set("2026-11-10T18:00:00Z")
    emergency = opened(
        api,
        brand.key,
        {"title": "No chats at all", "description": "Operation stopped", "kind": "emergency"},
    )
    eid = emergency["id"]
    assert emergency["priority"] == "emergency"  # K1: the emergency kind
    assert targets(emergency)["resolution"]["target_seconds"] == 3600  # K3
    for instant in ("18:45", "19:00", "20:59", "21:00", "22:00", "23:59"):
        check(api, f"2026-11-10T{instant}:00Z")

    assert received(alerts, fid, eid) == sorted(
        [
            (fid, "sla.warning", "resolution", 75),
            (fid, "sla.breached", "resolution", 100),
            (eid, "sla.warning", "resolution", 75),
            (eid, "sla.breached", "resolution", 100),
            (eid, "sla.escalated", "resolution", 300),
        ]
    )
    assert types(api, agent_key, fid) == [
        "created",
        "sla.warning",
        "action.assign",
        "action.wait_on_customer",
        "action.resume",
        "sla.breached",
        "action.resolve",
    ]
    assert types(api, brand.key, eid) == ["created", "sla.warning", "sla.breached", "sla.escalated"]


# --------------------------------------------------------------- 000 Clever Ideas


def request(product: str, action: str) -> dict[str, Any]:
    return {
        "title": action.replace("_", " "),
        "description": "Please help",
        "kind": "service_request",
        "fields": {"product": product, "action": action},
    }


def test_clever_ideas_the_nesting_period_then_billable_hours(
    api: Api, new_customer: Any, agent_key: str, clock: RequestClock
) -> None:
    """C1 incidents free, C2 provider actions free, C3 30-day nesting period (from
    2026-10-12: covers up to 2026-11-10, in Mexico City) never covering retraining,
    C4 hours x rate on the ticket and summed in the report. No time targets."""
    alerts = Alerts()
    callcenter = new_customer(
        policy="clever_ideas",
        operation_started_on="2026-10-12",
        billing={"hourly_rate": "60.00"},
    )
    key = callcenter.key

    def work(tid: str, minutes: int, at_text: str) -> dict[str, Any]:
        clock.set(at_text)
        done(api, agent_key, tid, "assign", agent="pedro@cleverideas.example")
        done(api, agent_key, tid, "log_time", minutes=minutes)
        return done(api, agent_key, tid, "resolve")

    clock.set("2026-11-09T16:00:00Z")  # Mon 10:00 in Mexico City, within the nesting period
    training = opened(api, key, request("ucontact", "training"))
    assert training["sla"]["targets"] == []
    assert (training["charge"]["status"], training["charge"]["rule"]) == ("not_billable", "C3")
    trained = work(training["id"], 60, "2026-11-09T17:00:00Z")
    assert trained["charge"]["status"] == "not_billable"  # free, whatever the time

    clock.set("2026-11-10T16:00:00Z")
    retraining = opened(api, key, request("ucontact", "retraining"))
    assert (retraining["charge"]["kind"], retraining["charge"]["status"]) == ("hours", "approved")
    retrained = work(retraining["id"], 90, "2026-11-10T18:00:00Z")
    assert (retrained["charge"]["amount"], retrained["charge"]["hours"]) == ("90.00", "1.50")
    assert done(api, key, retraining["id"], "close")["status"] == "closed"

    clock.set("2026-11-16T16:00:00Z")  # the nesting period is over
    again = opened(api, key, request("ucontact", "training"))
    assert (again["charge"]["kind"], again["charge"]["rule"]) == ("hours", "C2")
    billed = work(again["id"], 30, "2026-11-16T17:00:00Z")
    assert billed["charge"]["amount"] == "30.00"
    incident = opened(api, key, {**INCIDENT, "priority": None})
    assert incident["charge"]["reason"].startswith("C1:")
    assert work(incident["id"], 45, "2026-11-16T18:00:00Z")["charge"]["status"] == "not_billable"
    clock.set("2026-11-16T19:00:00Z")
    extensions = opened(api, key, request("line_pbx", "create_modify_and_delete_extensions"))
    assert (extensions["charge"]["status"], extensions["charge"]["rule"]) == (
        "not_billable",
        "C2",
    )
    status, body = api.post("/tickets", key, request("line_pbx", "coffee"))
    assert status == 400, body
    assert set(body["error"]["fields"]) == {"fields.action"}

    check(api, "2026-11-17T12:00:00Z")
    ids = [t["id"] for t in (training, retraining, again, incident, extensions)]
    assert received(alerts, *ids) == []  # no targets, so nothing to alert
    charged = [
        (e["type"], e["data"]["charge"]["amount"])
        for e in history(api, key, retraining["id"])
        if e["type"].startswith("charge.")
    ]
    assert charged == [("charge.approved", "0.00"), ("charge.approved", "90.00")]
    assert types(api, key, retraining["id"]) == [
        "created",
        "charge.approved",
        "action.assign",
        "action.log_time",
        "charge.approved",
        "action.resolve",
        "action.close",
    ]
    status, report = api.get(
        "/reports/charges?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z", key
    )
    assert status == 200, report
    assert report["items"] == [
        {
            "tenant_id": callcenter.tenant_id,
            "currency": "USD",
            "tickets_charged": 2,
            "tickets_waived": 0,
            "hours": "2.00",
            "amount_due": "120.00",
        }
    ]


# --------------------------------------------------------------- 004 Digital Express


def test_digital_express_a_customer_without_contract_pays_and_the_fee_is_waived(
    api: Api, new_customer: Any, agent_key: str, admin_key: str, clock: RequestClock
) -> None:
    """DX2 flow (email only, automatic reply in Spanish, approve, pay, then the
    3 h first response), DX3 fee, DX4 waiver with a credit, DX5 an unauthorized
    contact goes to the commercial team, and the charges report."""
    alerts = Alerts()
    shop = new_customer(
        policy="digital_express",
        contract={"active": False},
        locale="es",
        authorized_contacts=["ana@acme.example"],
    )
    clock.set("2026-11-10T13:00:00Z")  # Tue 10:00 in Buenos Aires
    status, body = api.post("/tickets", shop.key, {**INCIDENT, "priority": None})
    assert status == 403, body
    assert body["error"]["code"] == "channel_not_in_contract"  # DX2: email only
    first = opened(api, shop.key, {**INCIDENT, "priority": None, "channel": "email"})
    tid = first["id"]
    assert (first["status"], first["priority"]) == ("awaiting_approval", "normal")
    assert (first["charge"]["status"], first["charge"]["amount"]) == ("quoted", "45.00")
    assert states(first) == {"first_response": "pending"}
    reply = history(api, shop.key, tid)[-1]
    assert (reply["type"], reply["actor"]["role"]) == ("comment", "system")
    assert "costo fijo de 45,00 USD" in reply["data"]["body"]

    clock.set("2026-11-10T13:30:00Z")
    approved = done(api, shop.key, tid, "approve_charge")
    assert (approved["status"], approved["charge"]["status"]) == ("awaiting_payment", "approved")
    clock.set("2026-11-10T14:00:00Z")
    paid = done(api, admin_key, tid, "mark_paid")
    assert (paid["status"], paid["charge"]["status"]) == ("queued", "paid")
    assert targets(paid)["first_response"]["due_at"] == "2026-11-10T17:00:00Z"
    check(api, "2026-11-10T16:15:00Z")  # 75 % of 3 h
    check(api, "2026-11-10T17:00:00Z")  # nobody took it: breached, and the fee waived
    check(api, "2026-11-10T17:01:00Z")
    clock.set("2026-11-10T17:20:00Z")
    late = done(api, agent_key, tid, "assign", agent="sofia@digitalexpress.example")
    assert (late["status"], states(late)) == ("open", {"first_response": "breached"})
    assert late["charge"]["status"] == "waived"
    assert late["charge"]["credit"] == "45.00"  # it had been paid (DX4)
    clock.set("2026-11-10T18:00:00Z")
    done(api, agent_key, tid, "resolve")
    assert done(api, shop.key, tid, "close")["status"] == "closed"

    # DX5: someone the customer never authorized writes in.
    clock.set("2026-11-10T19:00:00Z")
    stranger = opened(
        api,
        agent_key,
        {
            **INCIDENT,
            "priority": None,
            "channel": "email",
            "tenant_id": shop.tenant_id,
            "contact": "intruso@otro.example",
        },
    )
    sid = stranger["id"]
    assert stranger["status"] == "commercial_review"
    assert stranger["charge"]["rule"] == "DX5"
    assert done(api, agent_key, sid, "assign", agent="comercial")["status"] == "open"
    check(api, "2026-11-10T23:00:00Z")

    assert received(alerts, tid, sid) == sorted(
        [
            (tid, "billing.order", None, None),
            (tid, "sla.warning", "first_response", 75),
            (tid, "sla.breached", "first_response", 100),
            (tid, "charge.waived", "first_response", None),
            (sid, "commercial.review_required", None, None),
        ]
    )
    assert types(api, shop.key, tid) == [
        "created",
        "charge.quoted",
        "comment",
        "action.approve_charge",
        "charge.approved",
        "billing.order",
        "action.mark_paid",
        "charge.paid",
        "sla.warning",
        "sla.breached",
        "charge.waived",
        "action.assign",
        "action.resolve",
        "action.close",
    ]
    status, report = api.get(
        f"/reports/charges?from=2026-11-10T00:00:00Z&to=2026-11-11T00:00:00Z"
        f"&tenant_id={shop.tenant_id}",
        agent_key,
    )
    assert status == 200, report
    assert report["items"] == [
        {
            "tenant_id": shop.tenant_id,
            "currency": "USD",
            "tickets_charged": 0,
            "tickets_waived": 1,
            "hours": "0.00",
            "amount_due": "0.00",
        }
    ]
    status, _ = act(api, shop.key, sid, "approve_charge")
    assert status == 422  # held by the commercial team, no automatic flow
