"""The register of proposals through the real routes and the SNS -> SQS path
(docs/api.md, Proposals; POLICIES A7, A8): shared by every customer, subscriptions
idempotent per tenant and contact, a customer never sees who else follows, and an
approval notifies each subscription exactly once through the alerts' outbox (SNS
failing in between, the decision retried, the checker continuing large ones); a
decline notifies nobody."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.helpers import Alerts, Api, Customer, assert_error, run_checker

PROPOSAL_KEYS = {
    "id",
    "title",
    "description",
    "status",
    "created_at",
    "decided_at",
    "note",
    "subscribers",
    "subscribed",
}
NOTICE_KEYS = {"type", "proposal_id", "tenant_id", "contact", "title", "occurred_at", "summary"}
AT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def _propose(api: Api, key: str, title: str = "Export chats to CSV", **more: Any) -> Any:
    status, body = api.post(
        "/proposals", key, {"title": title, "description": "Monthly, per channel", **more}
    )
    assert status == 201, body
    return body


def _subscribe(api: Api, key: str, proposal_id: str, contact: str | None = None) -> tuple[int, Any]:
    body = {"contact": contact} if contact else None
    return api.post(f"/proposals/{proposal_id}/subscriptions", key, body)


def _decide(
    api: Api, admin_key: str, proposal_id: str, status: str, **more: Any
) -> tuple[int, Any]:
    return api.post(f"/proposals/{proposal_id}/decision", admin_key, {"status": status, **more})


def _spanish(api: Api, admin_key: str, new_customer: Any) -> Customer:
    customer: Customer = new_customer()
    status, body = api.patch(
        f"/admin/tenants/{customer.tenant_id}", admin_key, {"locale": "es", "name": "Brand SRL"}
    )
    assert status == 200, body
    return customer


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The publishers' real-time clock (outbox claims), moved by adding seconds."""
    from chalicelib.services import outbox

    offset = [0.0]
    monkeypatch.setattr(outbox, "wall_clock", lambda: time.time() + offset[0])
    return offset


def test_a_customer_registers_a_proposal_every_customer_reads_it(
    api: Api, new_customer: Any, agent_key: str, admin_key: str
) -> None:
    acme, brand = new_customer(), new_customer()
    created = _propose(api, acme.key)
    assert set(created) == PROPOSAL_KEYS
    assert created["id"].startswith("prp_")
    assert (created["status"], created["subscribers"], created["subscribed"]) == (
        "registered",
        1,  # the author is subscribed
        True,
    )
    assert (created["decided_at"], created["note"]) == (None, None)
    status, seen = api.get(f"/proposals/{created['id']}", brand.key)
    assert status == 200
    assert (seen["subscribers"], seen["subscribed"]) == (1, False)  # another tenant's view
    for provider in (agent_key, admin_key):
        status, seen = api.get(f"/proposals/{created['id']}", provider)
        assert (status, seen["subscribers"], seen["subscribed"]) == (200, 1, False)
    assert_error(*api.get("/proposals/prp_01UNKNOWN0000000000000000", acme.key), 404)
    assert_error(*api.get("/proposals/tkt_nope", acme.key), 404)


def test_an_agent_registers_for_a_customer_naming_it(
    api: Api, new_customer: Any, agent_key: str, admin_key: str
) -> None:
    acme = new_customer()
    assert_error(*api.post("/proposals", agent_key, {"title": "T", "description": "D"}), 400)
    unknown = {"title": "T", "description": "D", "tenant_id": "no-such-tenant"}
    assert_error(*api.post("/proposals", agent_key, unknown), 400)
    made = _propose(api, agent_key, tenant_id=acme.tenant_id, contact="ana@acme.example")
    assert (made["subscribers"], made["subscribed"]) == (1, False)  # agents never "subscribed"
    _, seen = api.get(f"/proposals/{made['id']}", acme.key)
    assert seen["subscribed"] is True  # the author's tenant holds the subscription
    other = {"title": "T", "description": "D", "tenant_id": "someone-else"}
    assert_error(*api.post("/proposals", acme.key, other), 403)  # a customer's own tenant only
    assert_error(*api.post("/proposals", admin_key, {"title": "T", "description": "D"}), 403)


def test_the_list_is_newest_first_filtered_by_status_and_paged(
    api: Api, new_customer: Any, admin_key: str
) -> None:
    acme = new_customer()
    made = [_propose(api, acme.key, title=f"Idea {n}")["id"] for n in range(3)]
    status, page = api.get("/proposals?limit=2", acme.key)
    assert status == 200
    assert [p["id"] for p in page["items"]] == made[::-1][:2]  # newest first
    _, rest = api.get(f"/proposals?limit=2&cursor={page['next_cursor']}", acme.key)
    assert rest["items"][0]["id"] == made[0]
    assert all(p["subscribed"] for p in page["items"])
    assert _decide(api, admin_key, made[1], "under_review")[0] == 200
    _, reviewed = api.get("/proposals?status=under_review&limit=100", acme.key)
    ids = [p["id"] for p in reviewed["items"]]
    assert made[1] in ids
    assert made[0] not in ids
    assert made[2] not in ids
    assert {p["status"] for p in reviewed["items"]} == {"under_review"}
    assert_error(*api.get("/proposals?status=maybe", acme.key), 400)
    assert_error(
        *api.get(f"/proposals?status=approved&cursor={page['next_cursor']}", acme.key), 400
    )


def test_subscribing_is_idempotent_per_tenant_and_contact_and_counted_once(
    api: Api, new_customer: Any
) -> None:
    acme, brand = new_customer(), new_customer()
    proposal = _propose(api, acme.key)["id"]
    status, first = _subscribe(api, brand.key, proposal)
    assert (status, first["subscribers"], first["subscribed"]) == (201, 2, True)
    status, again = _subscribe(api, brand.key, proposal)  # a retry: no second subscription
    assert (status, again["subscribers"]) == (200, 2)
    status, other = _subscribe(api, brand.key, proposal, "boss@brand.example")
    assert (status, other["subscribers"]) == (201, 3)  # another contact of the same tenant
    path = f"/proposals/{proposal}/subscriptions"
    status, _ = api.call("DELETE", path, brand.key)
    assert status == 204
    assert_error(*api.call("DELETE", path, brand.key), 404, "not_subscribed")
    _, seen = api.get(f"/proposals/{proposal}", brand.key)
    assert (seen["subscribers"], seen["subscribed"]) == (2, True)  # boss still follows
    status, _ = api.call("DELETE", f"{path}?contact=boss@brand.example", brand.key)
    assert status == 204
    _, seen = api.get(f"/proposals/{proposal}", brand.key)
    assert (seen["subscribers"], seen["subscribed"]) == (1, False)
    assert_error(*_subscribe(api, brand.key, "prp_01UNKNOWN0000000000000000"), 404)


def test_a_key_without_a_contact_names_the_person_to_notify(
    api: Api, new_customer: Any, admin_key: str
) -> None:
    acme = new_customer()
    status, issued = api.post(
        f"/admin/tenants/{acme.tenant_id}/keys", admin_key, {"role": "customer"}
    )
    assert status == 201, issued
    anonymous = issued["api_key"]
    status, body = api.post("/proposals", anonymous, {"title": "T", "description": "D"})
    assert_error(status, body, 400)
    assert "contact" in body["error"]["fields"]
    proposal = _propose(api, anonymous, contact="ana@acme.example")["id"]
    assert_error(*_subscribe(api, anonymous, proposal), 400)
    assert _subscribe(api, anonymous, proposal, "bi@acme.example")[0] == 201


def test_roles_are_the_contracts(
    api: Api, new_customer: Any, agent_key: str, admin_key: str
) -> None:
    acme = new_customer()
    proposal = _propose(api, acme.key)["id"]
    assert_error(*_subscribe(api, agent_key, proposal), 403)
    assert_error(*_subscribe(api, admin_key, proposal), 403)
    for key in (acme.key, agent_key):
        assert_error(*_decide(api, key, proposal, "approved"), 403)
    assert_error(*api.get("/proposals"), 401)


def test_a_customer_never_sees_who_else_subscribed(api: Api, new_customer: Any) -> None:
    acme, brand = new_customer(), new_customer()
    proposal = _propose(api, acme.key, contact="secret-author@acme.example")["id"]
    _subscribe(api, acme.key, proposal, "second@acme.example")
    seen = [
        api.get(f"/proposals/{proposal}", brand.key)[1],
        *api.get("/proposals?limit=100", brand.key)[1]["items"],
        _subscribe(api, brand.key, proposal)[1],
    ]
    for answer in seen:
        assert set(answer) == PROPOSAL_KEYS
        text = str(answer)
        assert "acme.example" not in text
        assert acme.tenant_id not in text


def test_decisions_under_review_then_final(api: Api, new_customer: Any, admin_key: str) -> None:
    acme = new_customer()
    proposal = _propose(api, acme.key)["id"]
    status, reviewed = _decide(api, admin_key, proposal, "under_review", note="Sizing it")
    assert (status, reviewed["status"], reviewed["note"], reviewed["decided_at"]) == (
        200,
        "under_review",
        "Sizing it",
        None,
    )
    status, declined = _decide(api, admin_key, proposal, "declined")
    assert (status, declined["status"], declined["note"]) == (200, "declined", "Sizing it")
    assert declined["decided_at"] is not None
    for later in ("approved", "under_review", "declined"):
        assert_error(*_decide(api, admin_key, proposal, later), 422, "proposal_decided")
    assert_error(*_subscribe(api, acme.key, proposal, "late@acme.example"), 422, "proposal_decided")
    assert_error(*_decide(api, admin_key, proposal, "maybe"), 400)
    assert_error(*_decide(api, admin_key, "prp_01UNKNOWN0000000000000000", "approved"), 404)


def test_an_approval_notifies_each_subscription_once_through_sns_failing_once(
    api: Api,
    new_customer: Any,
    admin_key: str,
    monkeypatch: pytest.MonkeyPatch,
    wall: list[float],
) -> None:
    from chalicelib import aws

    acme, brand = new_customer(), _spanish(api, admin_key, new_customer)
    alerts = Alerts()
    proposal = _propose(api, acme.key, title="Exportar chats")["id"]  # ana@acme.example
    assert _subscribe(api, brand.key, proposal)[0] == 201  # ana@acme.example, of Brand
    assert _subscribe(api, brand.key, proposal, "boss@brand.example")[0] == 201
    sns = aws.client("sns")
    real = sns.publish_batch
    refused: list[int] = []

    def once_down(**kwargs: Any) -> Any:
        if not refused:
            refused.append(len(kwargs["PublishBatchRequestEntries"]))
            raise ClientError(
                {"Error": {"Code": "InternalError", "Message": "down"}}, "PublishBatch"
            )
        return real(**kwargs)

    monkeypatch.setattr(sns, "publish_batch", once_down)
    status, approved = _decide(api, admin_key, proposal, "approved", note="Q1")
    assert (status, approved["status"]) == (200, "approved")
    assert refused == [3]  # the request wrote the 3 notices; SNS refused them
    assert alerts.notices(proposal) == []
    assert_error(*_decide(api, admin_key, proposal, "approved"), 422)  # a retried decision
    run_checker(api, AT)  # the writer's claim still holds: nothing yet, nothing twice
    assert alerts.notices(proposal) == []
    wall[0] += 60  # the claim lapses: the next run's outbox retry publishes them
    run_checker(api, AT + timedelta(minutes=1))
    got = alerts.notices(proposal)
    assert sorted((m["tenant_id"], m["contact"]) for m in got) == sorted(
        [
            (acme.tenant_id, "ana@acme.example"),
            (brand.tenant_id, "ana@acme.example"),
            (brand.tenant_id, "boss@brand.example"),
        ]
    )
    for m in got:
        assert set(m) == NOTICE_KEYS | {"_attributes"}
        assert m["_attributes"] == {"type": "proposal.approved", "tenant_id": m["tenant_id"]}
        assert (m["type"], m["title"], m["occurred_at"]) == (
            "proposal.approved",
            "Exportar chats",
            approved["decided_at"],
        )
    by_tenant = {m["tenant_id"]: m["summary"] for m in got}
    assert by_tenant[acme.tenant_id] == (
        f"Proposal approved: Exportar chats ({proposal}), which ana@acme.example of Acme SA follows"
    )
    assert by_tenant[brand.tenant_id].startswith(f"Propuesta aprobada: Exportar chats ({proposal})")
    for minute in (2, 3):
        wall[0] += 60
        run_checker(api, AT + timedelta(minutes=minute))
    assert alerts.notices(proposal) == []  # exactly once


def test_a_decline_or_a_review_notifies_nobody(
    api: Api, new_customer: Any, admin_key: str, aws_calls: Counter[str]
) -> None:
    acme, brand = new_customer(), new_customer()
    alerts = Alerts()
    proposal = _propose(api, acme.key)["id"]
    _subscribe(api, brand.key, proposal)
    aws_calls.clear()
    assert _decide(api, admin_key, proposal, "under_review")[0] == 200
    assert _decide(api, admin_key, proposal, "declined")[0] == 200
    assert "PublishBatch" not in aws_calls
    run_checker(api, AT)
    assert alerts.notices(proposal) == []


def test_a_large_approval_is_continued_by_the_checker_in_bounded_batches(
    api: Api, new_customer: Any, admin_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small batches: 3 subscriptions a batch, the request 1 batch, a run 2 batches."""
    from chalicelib.services import proposals

    monkeypatch.setattr(proposals, "NOTICE_BATCH", 3)
    monkeypatch.setattr(proposals, "REQUEST_BATCHES", 1)
    monkeypatch.setattr(proposals, "RUN_BATCHES", 2)
    acme, brand = new_customer(), new_customer()
    alerts = Alerts()
    proposal = _propose(api, acme.key)["id"]
    for n in range(16):
        assert _subscribe(api, brand.key, proposal, f"c{n:02}@brand.example")[0] == 201
    assert _decide(api, admin_key, proposal, "approved")[0] == 200
    heard = [len(alerts.notices(proposal))]
    for minute in range(4):
        run_checker(api, AT + timedelta(minutes=minute))
        heard.append(len(alerts.notices(proposal)))
    # 17 subscriptions: 3 by the request, then 6 a run; the last run finds none left
    assert heard == [3, 6, 6, 2, 0]
    assert _pending_notice_jobs(proposal) == []


def _pending_notice_jobs(proposal_id: str) -> list[str]:
    from chalicelib.store import jobs

    return [job.sk for job in jobs.pending(jobs.NOTIFY) if job.proposal_id == proposal_id]


def test_an_approval_throttled_after_its_decision_is_answered_and_notified_later(
    api: Api, new_customer: Any, admin_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The decision is stored before the first batch: DynamoDB throttling that batch
    leaves it to the checker (a 503 would invite a retry the final decision refuses)."""
    from chalicelib.store import proposals as store

    acme = new_customer()
    alerts = Alerts()
    proposal = _propose(api, acme.key)["id"]
    busy = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}}

    def throttled(*args: Any) -> Any:
        raise ClientError(busy, "Query")

    with monkeypatch.context() as m:
        m.setattr(store, "subscriptions_after", throttled)
        status, approved = _decide(api, admin_key, proposal, "approved")
    assert (status, approved["status"]) == (200, "approved")
    assert store.subscriptions_after(proposal, None, 5)  # still to notify
    assert alerts.notices(proposal) == []
    run_checker(api, AT)
    assert [m["contact"] for m in alerts.notices(proposal)] == ["ana@acme.example"]
