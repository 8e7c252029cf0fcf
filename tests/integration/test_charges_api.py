"""Charges over the API (issue 11; docs/policies.md C1-C4, DX1-DX5, E9): the `charge`
of every ticket under a billing policy, its history events `charge.<status>`, the
DX2 automatic reply, the DX4 waiver by the breach checker, the DX5 blocks, the
charges report and a policy PUT changing a fee. The request clock is frozen
(Mexico City is UTC-6, Buenos Aires UTC-3 all year)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.integration.helpers import (
    Alerts,
    Api,
    Customer,
    RequestClock,
    assert_error,
    done,
    history,
    iso,
    run_checker,
)


def opened(api: Api, key: str, body: dict[str, Any]) -> dict[str, Any]:
    status, ticket = api.post("/tickets", key, body)
    assert status == 201, ticket
    return dict(ticket)


def charges_report(api: Api, key: str, query: str) -> tuple[int, Any]:
    return api.get(f"/reports/charges?{query}", key)


RANGE = "from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z"
QUERY = {"title": "Question", "description": "How do I export?", "kind": "query"}


def request(product: str, action: str) -> dict[str, Any]:
    return {
        "title": f"{action} please",
        "description": "See the attached screenshot",
        "kind": "service_request",
        "fields": {"product": product, "action": action},
    }


# ------------------------------------------------------------------ Clever Ideas


def test_c4_hours_follow_the_time_logged_exactly_and_each_change_is_in_the_history(
    api: Api, new_customer: Any, agent_key: str, clock: RequestClock
) -> None:
    """15 minutes at 10.10/h is 2.525, billed 2.53 (floats say 2.52); 45 more
    minutes make 60 minutes, 10.10."""
    clock.set("2026-11-16T16:00:00Z")
    tenant = new_customer(
        policy="clever_ideas",
        billing={"hourly_rate": "10.10"},
        operation_started_on="2025-01-06",
    )
    ticket = opened(api, tenant.key, request("ucontact", "dialers"))
    assert ticket["charge"]["kind"] == "hours"
    assert ticket["charge"]["status"] == "approved"
    assert ticket["charge"]["amount"] == "0.00"
    assert ticket["charge"]["hourly_rate"] == "10.10"
    logged = done(api, agent_key, ticket["id"], "log_time", minutes=15)
    assert (logged["charge"]["amount"], logged["charge"]["hours"]) == ("2.53", "0.25")
    logged = done(api, agent_key, ticket["id"], "log_time", minutes=45)
    assert (logged["charge"]["amount"], logged["charge"]["minutes"]) == ("10.10", 60)
    events = history(api, tenant.key, ticket["id"])
    changes = [(e["type"], e["data"]["charge"]["amount"]) for e in events if "charge" in e["data"]]
    assert changes == [
        ("charge.approved", "0.00"),
        ("charge.approved", "2.53"),
        ("charge.approved", "10.10"),
    ]
    status, report = charges_report(api, tenant.key, RANGE)
    assert status == 200, report
    assert report["items"] == [
        {
            "tenant_id": tenant.tenant_id,
            "currency": "USD",
            "tickets_charged": 1,
            "tickets_waived": 0,
            "hours": "1.00",
            "amount_due": "10.10",
        }
    ]


def test_c1_c2_free_tickets_say_why_and_stay_free(
    api: Api, new_customer: Any, agent_key: str, clock: RequestClock
) -> None:
    clock.set("2026-11-16T16:00:00Z")
    tenant = new_customer(policy="clever_ideas", operation_started_on="2025-01-06")
    incident = opened(
        api, tenant.key, {"title": "Calls drop", "description": "Since 9:00", "kind": "incident"}
    )
    assert incident["charge"]["status"] == "not_billable"
    assert incident["charge"]["reason"].startswith("C1:")
    logged = done(api, agent_key, incident["id"], "log_time", minutes=120)
    assert logged["charge"] == incident["charge"]  # whatever time is logged
    provider = opened(api, tenant.key, request("bot", "uploading_media_files"))
    assert provider["charge"]["status"] == "not_billable"
    assert provider["charge"]["rule"] == "C2"
    types = [e["type"] for e in history(api, tenant.key, incident["id"])]
    assert types == ["created", "charge.not_billable", "action.log_time"]


def test_c3_the_nesting_period_and_retraining(
    api: Api, new_customer: Any, clock: RequestClock
) -> None:
    clock.set("2026-11-16T16:00:00Z")
    tenant = new_customer(policy="clever_ideas", operation_started_on="2026-11-02")
    training = opened(api, tenant.key, request("line_pbx", "training"))
    assert (training["charge"]["status"], training["charge"]["rule"]) == ("not_billable", "C3")
    retraining = opened(api, tenant.key, request("line_pbx", "retraining"))
    assert (retraining["charge"]["kind"], retraining["charge"]["rule"]) == ("hours", "C3")


# ------------------------------------------------------------------ Digital Express


def test_dx2_the_automatic_reply_is_a_public_system_comment_in_the_tenants_language(
    api: Api, new_customer: Any, clock: RequestClock
) -> None:
    clock.set("2026-11-10T13:00:00Z")
    tenant = new_customer(
        policy="digital_express",
        contract={"active": False},
        locale="es",
        billing={"ticket_fee": "38.50"},
    )
    ticket = opened(api, tenant.key, {**QUERY, "channel": "email"})
    assert ticket["status"] == "awaiting_approval"
    assert ticket["charge"] == {
        "kind": "fixed_fee",
        "amount": "38.50",
        "currency": "USD",
        "status": "quoted",
        "reason": "DX3: fixed fee per ticket without a contract, 38.50 USD",
        "rule": "DX3",
        "waived_if_breached": "first_response",
    }
    reply = [e for e in history(api, tenant.key, ticket["id"]) if e["type"] == "comment"]
    assert len(reply) == 1
    assert reply[0]["actor"] == {"role": "system", "key_id": None, "partner_id": None}
    assert reply[0]["data"]["public"] is True
    assert reply[0]["data"]["locale"] == "es"
    body = reply[0]["data"]["body"]
    assert "costo fijo de 38,50 USD" in body
    assert "approve_charge" in body
    assert ticket["id"] in body


def test_dx1_contract_tickets_are_free(api: Api, new_customer: Any, clock: RequestClock) -> None:
    tenant = new_customer(policy="digital_express", contract={"active": True})
    ticket = opened(api, tenant.key, {**QUERY, "priority": "urgent"})
    assert ticket["charge"]["status"] == "not_billable"
    assert ticket["charge"]["rule"] == "DX1"
    types = [e["type"] for e in history(api, tenant.key, ticket["id"])]
    assert types == ["created", "charge.not_billable"]  # no automatic reply


@pytest.mark.parametrize(
    ("tenant", "reasons"),
    [
        ({"flags": ["disabled"]}, ["disabled"]),
        ({"flags": ["auto_service_problems"]}, ["auto_service_problems"]),
        ({"flags": ["collection_problems"]}, ["collection_problems"]),
        ({"flags": ["no_auto_service"]}, ["no_auto_service"]),
        ({"authorized_contacts": ["boss@acme.example"]}, ["unauthorized_contact"]),
    ],
)
def test_dx5_every_block_goes_to_commercial_review_with_one_alert(
    api: Api, new_customer: Any, clock: RequestClock, tenant: dict[str, Any], reasons: list[str]
) -> None:
    clock.set("2026-11-10T13:00:00Z")
    customer = new_customer(policy="digital_express", contract={"active": False}, **tenant)
    alerts = Alerts({"type": ["commercial.review_required"]})
    ticket = opened(api, customer.key, {**QUERY, "channel": "email"})
    assert ticket["status"] == "commercial_review"
    assert ticket["charge"]["rule"] == "DX5"
    (alert,) = alerts.drain({ticket["id"]})
    assert (alert["type"], alert["tenant_id"]) == ("commercial.review_required", customer.tenant_id)
    events = history(api, customer.key, ticket["id"])
    assert [e["type"] for e in events] == [
        "created",
        "charge.quoted",
        "commercial.review_required",
    ]  # no automatic reply: the commercial team takes it
    assert events[0]["data"]["commercial_review"] == reasons


def test_dx4_the_checker_waives_the_fee_once_and_credits_a_payment(
    api: Api, new_customer: Any, agent_key: str, admin_key: str, clock: RequestClock
) -> None:
    clock.set("2026-11-10T13:00:00Z")
    tenant = new_customer(policy="digital_express", contract={"active": False})
    alerts = Alerts({"type": ["charge.waived", "billing.order"]})
    ticket = opened(api, tenant.key, {**QUERY, "channel": "email"})
    tid = ticket["id"]
    clock.set("2026-11-10T13:30:00Z")
    done(api, tenant.key, tid, "approve_charge")
    clock.set("2026-11-10T14:00:00Z")
    paid = done(api, admin_key, tid, "mark_paid")
    assert paid["charge"]["status"] == "paid"
    run_checker(api, datetime(2026, 11, 10, 16, 59, tzinfo=UTC))
    _, still = api.get(f"/tickets/{tid}", tenant.key)
    assert still["charge"]["status"] == "paid"
    for _ in range(2):  # the breach instant, and a repeated run
        run_checker(api, datetime(2026, 11, 10, 17, 0, tzinfo=UTC))
    clock.set("2026-11-10T17:05:00Z")
    _, waived = api.get(f"/tickets/{tid}", tenant.key)
    assert waived["charge"]["status"] == "waived"
    assert waived["charge"]["credit"] == "45.00"
    assert waived["charge"]["rule"] == "DX4"
    late = done(api, agent_key, tid, "assign", agent="ana")  # taken late: nothing more
    assert late["charge"] == waived["charge"]
    received = sorted(m["type"] for m in alerts.drain({tid}))
    assert received == ["billing.order", "charge.waived"]
    events = [e for e in history(api, tenant.key, tid) if e["type"] == "charge.waived"]
    assert len(events) == 1
    assert events[0]["data"]["previous_status"] == "paid"
    assert events[0]["data"]["alert_id"] == f"{tid}:charge.waived"
    status, report = charges_report(api, admin_key, f"{RANGE}&tenant_id={tenant.tenant_id}")
    assert status == 200, report
    assert report["items"] == [
        {
            "tenant_id": tenant.tenant_id,
            "currency": "USD",
            "tickets_charged": 0,
            "tickets_waived": 1,
            "hours": "0.00",
            "amount_due": "0.00",
        }
    ]


def test_dx4_an_assignment_after_the_due_instant_waives_before_the_checker_runs(
    api: Api, new_customer: Any, agent_key: str, admin_key: str, clock: RequestClock
) -> None:
    clock.set("2026-11-11T13:00:00Z")
    tenant = new_customer(policy="digital_express", contract={"active": False})
    tid = opened(api, tenant.key, {**QUERY, "channel": "email"})["id"]
    done(api, tenant.key, tid, "approve_charge")
    done(api, admin_key, tid, "mark_paid")
    clock.set("2026-11-11T16:00:30Z")  # 3 h and 30 s after payment
    late = done(api, agent_key, tid, "assign", agent="ana")
    assert late["charge"]["status"] == "waived"
    assert [t["state"] for t in late["sla"]["targets"]] == ["breached"]


# ------------------------------------------------------------------ the report


def test_the_charges_report_per_tenant_never_scans(
    api: Api,
    new_customer: Any,
    agent_key: str,
    admin_key: str,
    clock: RequestClock,
    aws_calls: Counter[str],
) -> None:
    clock.set("2026-11-12T13:00:00Z")
    tenant = new_customer(policy="digital_express", contract={"active": False})
    other = new_customer(policy="digital_express", contract={"active": False})
    approved = opened(api, tenant.key, {**QUERY, "channel": "email"})
    done(api, tenant.key, approved["id"], "approve_charge")  # 45.00 due
    paid = opened(api, tenant.key, {**QUERY, "channel": "email"})
    done(api, tenant.key, paid["id"], "approve_charge")
    done(api, admin_key, paid["id"], "mark_paid")  # charged, nothing due
    opened(api, tenant.key, {**QUERY, "channel": "email"})  # quoted: not charged
    opened(api, other.key, {**QUERY, "channel": "email"})
    aws_calls.clear()
    status, report = charges_report(api, tenant.key, RANGE)
    assert status == 200, report
    # The tenant, the policy, one Query of its day counters (the key was read warm, cached).
    assert dict(aws_calls) == {"GetItem": 2, "Query": 1}
    assert report == {
        "from": "2026-11-01T00:00:00Z",
        "to": "2026-12-01T00:00:00Z",
        "tenant_id": tenant.tenant_id,
        "items": [
            {
                "tenant_id": tenant.tenant_id,
                "currency": "USD",
                "tickets_charged": 2,
                "tickets_waived": 0,
                "hours": "0.00",
                "amount_due": "45.00",
            }
        ],
    }
    # A customer sees its own tenant only; agents any, or every customer.
    assert_error(*charges_report(api, tenant.key, f"{RANGE}&tenant_id={other.tenant_id}"), 403)
    status, every = charges_report(api, agent_key, RANGE)
    assert status == 200, every
    assert every["tenant_id"] is None
    mine = [i for i in every["items"] if i["tenant_id"] in (tenant.tenant_id, other.tenant_id)]
    assert [(i["tenant_id"], i["tickets_charged"]) for i in mine] == sorted(
        [(tenant.tenant_id, 2), (other.tenant_id, 0)]
    )
    # The same bounds as /reports/sla.
    bad = charges_report(api, agent_key, "from=2026-11-01T00:00:00Z&to=2026-11-01T00:00:00Z")
    assert_error(*bad, 400)
    long = charges_report(api, agent_key, "from=2025-01-01T00:00:00Z&to=2026-11-01T00:00:00Z")
    assert_error(*long, 400)
    assert_error(*charges_report(api, agent_key, "from=yesterday&to=2026-11-01T00:00:00Z"), 400)


def test_a_tenant_whose_policy_does_not_bill_has_no_rows(
    api: Api, customer: Customer, clock: RequestClock
) -> None:
    status, report = charges_report(api, customer.key, RANGE)
    assert status == 200, report
    assert report["items"] == []


# ------------------------------------------------------------------ E9


def test_e9_a_new_fee_reaches_quoted_tickets_and_not_approved_ones(
    api: Api, new_customer: Any, admin_key: str, clock: RequestClock
) -> None:
    clock.set("2026-11-13T13:00:00Z")
    status, policy = api.get("/admin/policies/digital_express", admin_key)
    assert status == 200, policy
    custom = {**policy, "id": "dx-e9-fee", "name": "DX with a changing fee"}
    status, stored = api.put("/admin/policies/dx-e9-fee", admin_key, custom)
    assert status == 200, stored
    tenant = new_customer(policy="dx-e9-fee", contract={"active": False})
    quoted = opened(api, tenant.key, {**QUERY, "channel": "email"})
    approved = opened(api, tenant.key, {**QUERY, "channel": "email"})
    done(api, tenant.key, approved["id"], "approve_charge")
    custom["billing"] = {**custom["billing"], "ticket_fee": "50.00"}
    status, stored = api.put("/admin/policies/dx-e9-fee", admin_key, custom)
    assert status == 200, stored
    assert stored["retargeted"] == 2
    _, now_quoted = api.get(f"/tickets/{quoted['id']}", tenant.key)
    assert (now_quoted["charge"]["status"], now_quoted["charge"]["amount"]) == ("quoted", "50.00")
    _, kept = api.get(f"/tickets/{approved['id']}", tenant.key)
    assert (kept["charge"]["status"], kept["charge"]["amount"]) == ("approved", "45.00")
    types = [e["type"] for e in history(api, tenant.key, quoted["id"])]
    assert types[-2:] == ["policy.retargeted", "charge.quoted"]
    assert iso(datetime(2026, 11, 13, 13, tzinfo=UTC)) == now_quoted["updated_at"]


# ------------------------------------------------------------------ cost


def test_charge_affecting_requests_cost_what_the_others_do(
    api: Api,
    new_customer: Any,
    agent_key: str,
    admin_key: str,
    clock: RequestClock,
    aws_calls: Counter[str],
) -> None:
    """The charge rides in the ticket's own transaction: opening reads the tenant
    and the policy and writes one TransactWriteItems; an action reads the ticket
    and writes one TransactWriteItems (an alert adds a BatchGetItem of the tenant
    for its summary, one PublishBatch and one BatchWriteItem). The API key is read
    once, then cached warm."""
    clock.set("2026-11-17T13:00:00Z")
    dx = new_customer(policy="digital_express", contract={"active": False})
    aws_calls.clear()
    tid = opened(api, dx.key, {**QUERY, "channel": "email"})["id"]
    assert dict(aws_calls) == {"GetItem": 3, "TransactWriteItems": 1}  # + the key, cold
    aws_calls.clear()
    done(api, dx.key, tid, "approve_charge")  # + the billing.order alert
    assert dict(aws_calls) == {
        "GetItem": 1,
        "TransactWriteItems": 1,
        "BatchGetItem": 1,  # the tenant's name and locale for the alert's summary
        "PublishBatch": 1,
        "BatchWriteItem": 1,
    }
    aws_calls.clear()
    done(api, admin_key, tid, "mark_paid")
    assert dict(aws_calls) == {"GetItem": 1, "TransactWriteItems": 1}
    clever = new_customer(policy="clever_ideas", operation_started_on="2025-01-06")
    hours = opened(api, clever.key, request("ucontact", "user_creation"))["id"]
    aws_calls.clear()
    done(api, agent_key, hours, "log_time", minutes=20)
    assert dict(aws_calls) == {"GetItem": 1, "TransactWriteItems": 1}


def test_e9_a_tenants_new_fee_reaches_its_quoted_tickets(
    api: Api, new_customer: Any, admin_key: str, clock: RequestClock
) -> None:
    clock.set("2026-11-18T13:00:00Z")
    tenant = new_customer(policy="digital_express", contract={"active": False})
    quoted = opened(api, tenant.key, {**QUERY, "channel": "email"})
    status, body = api.patch(
        f"/admin/tenants/{tenant.tenant_id}", admin_key, {"billing": {"ticket_fee": "39.90"}}
    )
    assert status == 200, body
    _, now_quoted = api.get(f"/tickets/{quoted['id']}", tenant.key)
    assert (now_quoted["charge"]["status"], now_quoted["charge"]["amount"]) == ("quoted", "39.90")
    assert history(api, tenant.key, quoted["id"])[-1]["data"]["previous_amount"] == "45.00"


def test_e9_the_checker_re_plans_the_tickets_a_tenant_patch_did_not_reach(
    api: Api,
    new_customer: Any,
    admin_key: str,
    clock: RequestClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DX3 + E9: a PATCH re-plans its newest open tickets itself and leaves a job;
    the next checker runs re-plan the older ones, a batch each, though none of
    them is due (a quoted fee runs no target), then drop the job."""
    from chalicelib.services import retarget
    from chalicelib.store import jobs

    clock.set("2026-11-18T13:00:00Z")
    tenant = new_customer(policy="digital_express", contract={"active": False})
    quoted = [opened(api, tenant.key, {**QUERY, "channel": "email"})["id"] for _ in range(5)]
    monkeypatch.setattr(retarget, "BATCH_SIZE", 2)
    status, body = api.patch(
        f"/admin/tenants/{tenant.tenant_id}", admin_key, {"billing": {"ticket_fee": "39.90"}}
    )
    assert status == 200, body

    def fees() -> list[str]:
        return [api.get(f"/tickets/{t}", tenant.key)[1]["charge"]["amount"] for t in quoted]

    assert fees() == ["45.00"] * 3 + ["39.90"] * 2  # the newest two, in the request
    job = f"TENANT#{tenant.tenant_id}"
    assert any(j.sk == job for j in jobs.pending())

    run_checker(api, datetime(2026, 11, 18, 13, 1, tzinfo=UTC))  # takes the next 2
    assert fees() == ["45.00"] + ["39.90"] * 4
    run_checker(api, datetime(2026, 11, 18, 13, 2, tzinfo=UTC))
    assert fees() == ["39.90"] * 5
    assert all(j.sk != job for j in jobs.pending())
    assert history(api, tenant.key, quoted[0])[-1]["data"]["previous_amount"] == "45.00"
