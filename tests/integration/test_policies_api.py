"""Policies through the API (issue 4): list, read, store (PUT validates, bumps the
version, 409 on a lost race) and E9: a stored change re-targets the open tickets
under it in bounded batches, the breach checker finishing with `refresh_if_stale`.

Policies changed here are copies of a shipped one under a fresh id, so the shipped
policies the rest of the suite relies on never change. Request time is frozen at
Mon 2026-11-23 12:00 Buenos Aires (UTC-3), an Argentine holiday.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.integration.helpers import INCIDENT, Api, Customer, run_checker_until_done

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
H = 3600


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> datetime:
    from chalicelib.api import http

    monkeypatch.setattr(http, "utcnow", lambda: NOW)
    return NOW


def error_fields(status: int, body: Any, expected: int = 400) -> dict[str, str]:
    assert status == expected, body
    return dict(body["error"].get("fields", {}))


def targets(ticket: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["metric"]: t for t in ticket["sla"]["targets"]}


def aivo_doc(api: Api, admin_key: str) -> dict[str, Any]:
    status, doc = api.get("/admin/policies/aivo", admin_key)
    assert status == 200, doc
    return dict(doc)


def rule(doc: dict[str, Any], rule_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in doc["target_rules"] if r["id"] == rule_id)
    return found


def new_policy_id() -> str:
    return f"aivo-copy-{uuid.uuid4().hex[:8]}"


def put(api: Api, admin_key: str, policy_id: str, doc: dict[str, Any]) -> dict[str, Any]:
    status, stored = api.put(f"/admin/policies/{policy_id}", admin_key, doc)
    assert status == 200, stored
    return dict(stored)


@pytest.fixture
def custom(api: Api, admin_key: str, new_customer: Any) -> tuple[str, dict[str, Any], Customer]:
    """A copy of Aivo stored under a new id (version 1) and a customer under it."""
    doc = aivo_doc(api, admin_key)
    policy_id = new_policy_id()
    stored = put(api, admin_key, policy_id, {**doc, "id": policy_id})
    assert stored["version"] == 1
    return policy_id, stored, new_customer(policy=policy_id)


def events_of(api: Api, key: str, ticket_id: str) -> list[dict[str, Any]]:
    status, page = api.get(f"/tickets/{ticket_id}/events?limit=100", key)
    assert status == 200, page
    return list(page["items"])


# --- read ---------------------------------------------------------------------


def test_list_shows_the_shipped_policies_with_their_versions(api: Api, admin_key: str) -> None:
    status, page = api.get("/admin/policies?limit=100", admin_key)
    assert status == 200, page
    by_id = {p["id"]: p for p in page["items"]}
    for shipped in ("aivo", "keybe", "clever_ideas", "digital_express"):
        assert by_id[shipped]["source"] == "shipped"
        assert by_id[shipped]["version"] >= 1
        assert by_id[shipped]["name"]
    assert page["next_cursor"] is None


def test_a_policy_document_reads_back_as_stored(api: Api, admin_key: str) -> None:
    doc = aivo_doc(api, admin_key)
    assert doc["id"] == "aivo"
    assert doc["calendar"]["timezone"] == "America/Argentina/Buenos_Aires"
    assert rule(doc, "A2.high")["targets"][0] == {
        "metric": "first_response",
        "clock": "business",
        "hours": 2.0,
        "seconds": None,
        "minutes": None,
        "business_days": None,
        "starts_on": "reported",
        "ladder": None,
    }
    status, body = api.get("/admin/policies/no-such-policy", admin_key)
    assert error_fields(status, body, 404) == {}
    assert body["error"]["code"] == "policy_not_found"


def test_only_admins_see_or_change_policies(api: Api, agent_key: str, customer: Customer) -> None:
    for key in (agent_key, customer.key):
        assert api.get("/admin/policies", key)[0] == 403
        assert api.get("/admin/policies/aivo", key)[0] == 403
        assert api.put("/admin/policies/aivo", key, {"name": "mine"})[0] == 403
    assert api.get("/admin/policies")[0] == 401


def test_the_list_pages_through_every_policy_once(
    api: Api, admin_key: str, custom: tuple[str, dict[str, Any], Customer]
) -> None:
    policy_id, _, _ = custom
    seen: list[str] = []
    cursor = None
    while True:
        path = "/admin/policies?limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, page = api.get(path, admin_key)
        assert status == 200, page
        assert len(page["items"]) <= 2
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(set(seen))
    assert {"aivo", "keybe", policy_id} <= set(seen)
    mine = next(
        p
        for p in api.get("/admin/policies?limit=100", admin_key)[1]["items"]
        if p["id"] == policy_id
    )
    assert (mine["source"], mine["version"]) == ("custom", 1)
    assert error_fields(*api.get("/admin/policies?cursor=nonsense!", admin_key)).keys() == {
        "cursor"
    }


# --- store ----------------------------------------------------------------------


def test_each_put_stores_the_next_version(
    api: Api, admin_key: str, custom: tuple[str, dict[str, Any], Customer]
) -> None:
    policy_id, stored, _ = custom
    doc = {k: v for k, v in stored.items() if k not in ("retargeted", "remaining")}
    second = put(api, admin_key, policy_id, {**doc, "name": "Aivo, revised", "version": 77})
    assert (second["version"], second["name"]) == (2, "Aivo, revised")  # body version ignored
    body_without_id = {k: v for k, v in doc.items() if k != "id"}
    third = put(api, admin_key, policy_id, body_without_id)  # the path gives the id
    assert (third["id"], third["version"]) == (policy_id, 3)
    assert api.get(f"/admin/policies/{policy_id}", admin_key)[1]["version"] == 3
    listed = api.get("/admin/policies?limit=100", admin_key)[1]["items"]
    assert next(p for p in listed if p["id"] == policy_id)["version"] == 3


def test_a_stored_copy_of_a_shipped_policy_is_that_policy(
    api: Api, admin_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shipped policy an admin changes keeps its id and source; its version goes
    on from the shipped one (here a stand-in shipped policy at version 3)."""
    import chalicelib.policies as shipped_module
    from chalicelib.domain.policy import validate_policy_document

    doc = aivo_doc(api, admin_key)
    shipped_id = f"shipped-{uuid.uuid4().hex[:8]}"
    stand_in = validate_policy_document({**doc, "id": shipped_id, "version": 3})
    real = shipped_module.load_shipped
    monkeypatch.setattr(shipped_module, "load_shipped", lambda: {**real(), shipped_id: stand_in})
    listed = {p["id"]: p for p in api.get("/admin/policies?limit=100", admin_key)[1]["items"]}
    assert (listed[shipped_id]["source"], listed[shipped_id]["version"]) == ("shipped", 3)
    stored = put(api, admin_key, shipped_id, {**doc, "id": shipped_id, "name": "Changed"})
    assert stored["version"] == 4
    listed = {p["id"]: p for p in api.get("/admin/policies?limit=100", admin_key)[1]["items"]}
    assert [p for p in listed if p == shipped_id] == [shipped_id]
    assert (listed[shipped_id]["source"], listed[shipped_id]["version"]) == ("shipped", 4)
    assert listed[shipped_id]["name"] == "Changed"


def test_an_invalid_document_names_each_bad_field(api: Api, admin_key: str) -> None:
    doc = aivo_doc(api, admin_key)
    broken = copy.deepcopy(doc)
    broken["calendar"]["timezone"] = "Mars/Olympus"
    broken["kinds"]["incident"]["priorities"] = []
    broken["surprise"] = True
    broken["first_response_met_by"] = 42
    status, body = api.put(f"/admin/policies/{new_policy_id()}", admin_key, broken)
    fields = error_fields(status, body)
    assert body["error"]["code"] == "invalid_policy"
    assert {
        "calendar.timezone",
        "kinds.incident.priorities",
        "surprise",
        "first_response_met_by",
    } <= set(fields), fields
    # References between parts of the document are checked too.
    dangling = copy.deepcopy(doc)
    rule(dangling, "A2.high")["when"]["priorities"] = ["urgentissimo"]
    target_rules = dangling["target_rules"]
    index = next(i for i, r in enumerate(target_rules) if r["id"] == "A2.high")
    fields = error_fields(*api.put(f"/admin/policies/{new_policy_id()}", admin_key, dangling))
    assert f"target_rules.{index}.when.priorities" in fields


def test_the_path_id_is_the_policy_id(api: Api, admin_key: str) -> None:
    doc = aivo_doc(api, admin_key)
    fields = error_fields(*api.put(f"/admin/policies/{new_policy_id()}", admin_key, doc))
    assert set(fields) == {"id"}  # the body says "aivo"
    for bad_id in ("Not-An-Id", "x" * 3000):
        fields = error_fields(
            *api.put(f"/admin/policies/{bad_id}", admin_key, {**doc, "id": bad_id})
        )
        assert set(fields) == {"id"}
        assert api.get(f"/admin/policies/{bad_id}", admin_key)[0] == 404


def test_a_body_that_is_not_a_policy_object_is_400_not_500(api: Api, admin_key: str) -> None:
    path = f"/admin/policies/{new_policy_id()}"
    for raw in ("[1, 2]", '"aivo"', "42", "null"):
        status, body = api.call("PUT", path, admin_key, raw=raw)
        assert error_fields(status, body) == {"body": "must be an object"}, raw
    status, body = api.call("PUT", path, admin_key, raw='{"name": ')
    assert status == 400
    assert body["error"]["code"] == "malformed_json"
    fields = error_fields(*api.put(path, admin_key, {}))
    assert {"name", "calendar", "kinds"} <= set(fields)
    fields = error_fields(*api.put(path, admin_key, {"name": ["x"], "kinds": "all"}))
    assert {"name", "kinds", "calendar"} <= set(fields)


def test_two_puts_from_the_same_version_cannot_both_win(
    api: Api,
    admin_key: str,
    custom: tuple[str, dict[str, Any], Customer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another admin stores version 2 after this request read version 1: 409, and
    the other admin's version stays."""
    from chalicelib.store import policies

    policy_id, stored, _ = custom
    doc = {k: v for k, v in stored.items() if k not in ("retargeted", "remaining")}
    read = policies.current

    def read_then_lose_the_race(pid: str) -> Any:
        seen = read(pid)
        monkeypatch.setattr(policies, "current", read)
        put(api, admin_key, policy_id, {**doc, "name": "The other admin's"})
        return seen

    monkeypatch.setattr(policies, "current", read_then_lose_the_race)
    status, body = api.put(f"/admin/policies/{policy_id}", admin_key, {**doc, "name": "Mine"})
    assert status == 409, body
    assert body["error"]["code"] == "concurrent_update"
    current = api.get(f"/admin/policies/{policy_id}", admin_key)[1]
    assert (current["version"], current["name"]) == (2, "The other admin's")


# --- E9: a stored change reaches the open tickets ---------------------------------


def test_e9_a_changed_policy_retargets_its_open_tickets(
    api: Api,
    admin_key: str,
    custom: tuple[str, dict[str, Any], Customer],
    frozen: datetime,
) -> None:
    """A2.high first response 2 -> 3 business h. A ticket opened on the holiday
    (Mon 23) starts counting Tue 24 09:00 local: due 11:00, then 12:00 local."""
    policy_id, stored, tenant = custom
    status, ticket = api.post("/tickets", tenant.key, INCIDENT)
    assert status == 201, ticket
    assert ticket["sla"]["policy_version"] == 1
    assert targets(ticket)["first_response"]["due_at"] == "2026-11-24T14:00:00Z"
    changed = {k: v for k, v in stored.items() if k not in ("retargeted", "remaining")}
    rule(changed, "A2.high")["targets"][0]["hours"] = 3

    result = put(api, admin_key, policy_id, changed)

    assert (result["version"], result["retargeted"], result["remaining"]) == (2, 1, 0)
    _, seen = api.get(f"/tickets/{ticket['id']}", tenant.key)
    assert seen["sla"]["policy_version"] == 2
    first = targets(seen)["first_response"]
    assert (first["target_seconds"], first["due_at"]) == (3 * H, "2026-11-24T15:00:00Z")
    assert targets(seen)["resolution"]["due_at"] == "2026-11-24T20:00:00Z"  # unchanged 8 h
    (event,) = [
        e for e in events_of(api, tenant.key, ticket["id"]) if e["type"] == "policy.retargeted"
    ]
    assert event["actor"]["role"] == "admin"
    assert (event["data"]["old_policy_version"], event["data"]["new_policy_version"]) == (1, 2)
    assert event["data"]["cause"] == "policy.updated"
    assert "kept_targets" not in event["data"]


def test_e9_a_ticket_that_no_longer_fits_keeps_its_targets(
    api: Api,
    admin_key: str,
    custom: tuple[str, dict[str, Any], Customer],
    frozen: datetime,
) -> None:
    """The new version drops priority `high`: the high ticket cannot be re-planned;
    it keeps its targets, takes the new version and its history says why."""
    policy_id, stored, tenant = custom
    _, ticket = api.post("/tickets", tenant.key, INCIDENT)
    doc = {k: v for k, v in stored.items() if k not in ("retargeted", "remaining")}
    for kind in doc["kinds"].values():
        kind["priorities"] = [p for p in kind["priorities"] if p != "high"]
    doc["target_rules"] = [r for r in doc["target_rules"] if r["id"] not in ("A3", "A2.high")]

    result = put(api, admin_key, policy_id, doc)

    assert result["retargeted"] == 1
    status, seen = api.get(f"/tickets/{ticket['id']}", tenant.key)
    assert status == 200
    assert seen["sla"]["policy_version"] == 2
    assert seen["priority"] == "high"
    assert targets(seen) == targets(ticket)
    (event,) = [
        e for e in events_of(api, tenant.key, ticket["id"]) if e["type"] == "policy.retargeted"
    ]
    assert event["data"]["kept_targets"] is True
    assert "'high'" in event["data"]["fields"]["priority"], event["data"]
    assert event["data"]["reason"]


def test_an_unchanged_document_keeps_its_version_and_retargets_nothing(
    api: Api,
    admin_key: str,
    custom: tuple[str, dict[str, Any], Customer],
    frozen: datetime,
    aws_calls: Counter[str],
) -> None:
    """Issue 25: a PUT of the document as it stands (its `version` aside, as a
    client that read it and sends it back) answers 200 with the current version,
    writes nothing and re-targets no ticket (E9 has nothing to do): one GetItem."""
    policy_id, stored, tenant = custom
    status, ticket = api.post("/tickets", tenant.key, INCIDENT)
    assert status == 201, ticket
    doc = {k: v for k, v in stored.items() if k not in ("retargeted", "remaining")}
    aws_calls.clear()
    again = put(api, admin_key, policy_id, {**doc, "version": 41})
    assert (again["version"], again["retargeted"], again["remaining"]) == (1, 0, 0)
    assert {k: v for k, v in again.items() if k not in ("retargeted", "remaining")} == doc
    assert dict(aws_calls) == {"GetItem": 1}, aws_calls
    assert api.get(f"/admin/policies/{policy_id}", admin_key)[1]["version"] == 1
    events = events_of(api, tenant.key, ticket["id"])
    assert not [e for e in events if e["type"] == "policy.retargeted"]
    # a shipped policy sent back as read: the shipped version, nothing stored
    status, aivo = api.get("/admin/policies/aivo", admin_key)
    assert status == 200
    assert put(api, admin_key, "aivo", aivo)["version"] == aivo["version"]


def test_e9_put_costs_a_bounded_number_of_dynamodb_calls(
    api: Api,
    admin_key: str,
    custom: tuple[str, dict[str, Any], Customer],
    frozen: datetime,
    aws_calls: Counter[str],
) -> None:
    """Four open tickets of one tenant: policy, tenant (GetItem; the admin key is
    resolved already on this warm container); the policy
    and its catalog entry (one transaction); the index (Query); the tickets
    (BatchGetItem); one transaction per ticket. Never a Scan."""
    policy_id, stored, tenant = custom
    for _ in range(4):
        assert api.post("/tickets", tenant.key, INCIDENT)[0] == 201
    doc = {k: v for k, v in stored.items() if k not in ("retargeted", "remaining")}
    aws_calls.clear()
    result = put(api, admin_key, policy_id, {**doc, "name": "v2"})
    assert (result["retargeted"], result["remaining"]) == (4, 0)
    assert dict(aws_calls) == {
        "GetItem": 2,
        "TransactWriteItems": 5,
        "Query": 1,
        "BatchGetItem": 1,
    }, aws_calls


def test_e9_bounded_batch_then_the_checker_finishes(
    api: Api,
    admin_key: str,
    custom: tuple[str, dict[str, Any], Customer],
    frozen: datetime,
    monkeypatch: pytest.MonkeyPatch,
    aws_calls: Counter[str],
) -> None:
    """With a batch of 2, a PUT over 3 open tickets re-targets 2 and reports 1
    remaining; `refresh_if_stale` (what the checker calls before deciding an alert)
    re-targets the last one, reading the policy and tenant once per run."""
    from chalicelib.services import retarget, unit_of_work
    from chalicelib.services.lookups import Lookups

    monkeypatch.setattr(retarget, "BATCH_SIZE", 2)
    policy_id, stored, tenant = custom
    opened = [api.post("/tickets", tenant.key, INCIDENT)[1]["id"] for _ in range(3)]
    changed = {k: v for k, v in stored.items() if k not in ("retargeted", "remaining")}
    rule(changed, "A2.high")["targets"][0]["hours"] = 3

    result = put(api, admin_key, policy_id, changed)

    assert (result["retargeted"], result["remaining"]) == (2, 1)
    versions = {t: api.get(f"/tickets/{t}", tenant.key)[1]["sla"]["policy_version"] for t in opened}
    (left,) = [t for t, v in versions.items() if v == 1]
    assert left == max(opened)  # oldest first: the last id is the one not reached

    aws_calls.clear()
    lookups = Lookups()
    refreshed = []
    for ticket_id in sorted(opened):
        uow = unit_of_work.start(NOW, unit_of_work.SYSTEM_ACTOR, lookups=lookups)
        ticket = uow.get(ticket_id)
        assert ticket is not None
        if retarget.refresh_if_stale(ticket, NOW, lookups):
            committed = uow.commit()
            refreshed.append((ticket_id, [e["type"] for e in committed.entries]))
    assert refreshed == [(left, ["policy.retargeted"])]
    assert aws_calls["GetItem"] == 3 + 1 + 1  # the 3 tickets, the tenant, the policy once
    _, seen = api.get(f"/tickets/{left}", tenant.key)
    assert seen["sla"]["policy_version"] == 2
    assert targets(seen)["first_response"]["target_seconds"] == 3 * H
    (event,) = [e for e in events_of(api, tenant.key, left) if e["type"] == "policy.retargeted"]
    assert (event["actor"]["role"], event["data"]["cause"]) == ("system", "stale")


def test_e9_a_ticket_changed_meanwhile_is_read_again_and_retargeted(
    api: Api,
    admin_key: str,
    custom: tuple[str, dict[str, Any], Customer],
    frozen: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A concurrent update wins the first commit (Conflict); the re-target reads
    the ticket again and commits on top of it: both changes survive."""
    from chalicelib.store import tickets as store

    policy_id, stored, tenant = custom
    _, ticket = api.post("/tickets", tenant.key, INCIDENT)
    real_write = store.write
    raced: list[str] = []

    def write_after_someone_else(t: Any, events: Any, *args: Any, **kw: Any) -> Any:
        if not raced:
            other = store.get(t.id)
            assert other is not None
            other.title = "Renamed meanwhile"
            raced.append(t.id)
            real_write(other, [])
        return real_write(t, events, *args, **kw)

    monkeypatch.setattr(store, "write", write_after_someone_else)
    doc = {k: v for k, v in stored.items() if k not in ("retargeted", "remaining")}
    result = put(api, admin_key, policy_id, {**doc, "name": "v2"})

    assert raced == [ticket["id"]]
    assert (result["retargeted"], result["remaining"]) == (1, 0)
    _, seen = api.get(f"/tickets/{ticket['id']}", tenant.key)
    assert (seen["title"], seen["sla"]["policy_version"]) == ("Renamed meanwhile", 2)


def test_openapi_documents_the_policy_routes(api: Api) -> None:
    _, doc = api.get("/openapi.json")
    assert {"get"} <= set(doc["paths"]["/admin/policies"])
    assert {"get", "put"} <= set(doc["paths"]["/admin/policies/{policy_id}"])
    put_op = doc["paths"]["/admin/policies/{policy_id}"]["put"]
    assert "409" in put_op["responses"]
    assert "calendar" in doc["components"]["schemas"]["Policy"]["properties"]


def test_values_that_could_not_be_stored_are_400_not_500(api: Api, admin_key: str) -> None:
    """Infinity (1e999 parses as float inf), giant integers, absurd nesting: each
    named by its path, before anything is stored."""
    doc = aivo_doc(api, admin_key)
    index = next(i for i, r in enumerate(doc["target_rules"]) if r["id"] == "A2.high")
    text = json.dumps(doc)
    text = text.replace('"hours": 8.0', '"hours": 1e999', 1)
    broken = json.loads(text)
    broken["kinds"]["incident"]["fields"] = {
        "deep": {
            "type": "string",
            "required": False,
            "required_if": {"deep": [[[[[[[[[[[[1]]]]]]]]]]]]},
        }
    }
    broken["target_rules"][index]["targets"][0]["seconds"] = 10**40
    del broken["target_rules"][index]["targets"][0]["hours"]
    path = f"/admin/policies/{new_policy_id()}"
    fields = error_fields(*api.call("PUT", path, admin_key, raw=json.dumps(broken)))
    assert f"target_rules.{index}.targets.1.hours" in fields, fields
    assert f"target_rules.{index}.targets.0.seconds" in fields, fields
    assert any(f.startswith("kinds.incident.fields.deep.required_if") for f in fields), fields
    assert api.get(path, admin_key)[0] == 404  # nothing stored


@pytest.mark.parametrize("pct", ["75", True, 75.0])
def test_a_policy_document_is_strict_about_types(api: Api, admin_key: str, pct: Any) -> None:
    """Types are strict in a policy PUT too: a percent sent as text, a boolean or
    a float is a 400 naming its path, and nothing is stored."""
    doc = aivo_doc(api, admin_key)
    policy_id = new_policy_id()
    ladder = [{"pct": pct, "type": "sla.warning", "level": 1}]
    status, body = api.put(f"/admin/policies/{policy_id}", admin_key, {**doc, "ladder": ladder})
    assert "ladder.0.pct" in error_fields(status, body), body
    status, _ = api.get(f"/admin/policies/{policy_id}", admin_key)
    assert status == 404


def test_set_priority_after_a_tenant_switched_policy_plans_under_the_new_one(
    api: Api,
    admin_key: str,
    agent_key: str,
    custom: tuple[str, dict[str, Any], Customer],
    frozen: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """E7 and E9 read one answer to "which policy is in force": the tenant's current
    one. A ticket the tenant PATCH did not reach (outside its batch) re-planned by
    set_priority takes the new policy's targets, not the old policy's."""
    from chalicelib.services import retarget

    monkeypatch.setattr(retarget, "BATCH_SIZE", 1)
    old_id, stored, tenant = custom
    older, newer = (api.post("/tickets", tenant.key, INCIDENT)[1]["id"] for _ in range(2))
    doc = {k: v for k, v in stored.items() if k not in ("retargeted", "remaining")}
    rule(doc, "A2.high")["targets"][0]["hours"] = 5
    new_id = new_policy_id()
    put(api, admin_key, new_id, {**doc, "id": new_id})
    status, _ = api.patch(f"/admin/tenants/{tenant.tenant_id}", admin_key, {"policy": new_id})
    assert status == 200
    _, before = api.get(f"/tickets/{older}", tenant.key)
    assert before["sla"]["policy"] == old_id  # the PATCH re-planned only the newest

    status, after = api.post(
        f"/tickets/{older}/actions", agent_key, {"action": "set_priority", "priority": "high"}
    )

    assert status == 200, after
    assert after["sla"]["policy"] == new_id
    assert targets(after)["first_response"]["target_seconds"] == 5 * H
    assert api.get(f"/tickets/{newer}", tenant.key)[1]["sla"]["policy"] == new_id


def test_set_priority_when_the_tenant_is_gone_is_422_not_a_priority_error(
    api: Api, agent_key: str, customer: Customer
) -> None:
    from chalicelib import aws
    from chalicelib.settings import get_settings
    from chalicelib.store.models import TenantItem

    _, ticket = api.post("/tickets", customer.key, INCIDENT)
    key = {"pk": {"S": TenantItem.key(customer.tenant_id)}, "sk": {"S": "TENANT"}}
    aws.client("dynamodb").delete_item(TableName=get_settings().table_name, Key=key)

    status, body = api.post(
        f"/tickets/{ticket['id']}/actions", agent_key, {"action": "set_priority", "priority": "low"}
    )

    assert status == 422, body
    assert body["error"]["code"] == "policy_unavailable"
    assert "priority" not in body["error"]["fields"]


def test_e9_a_put_out_of_time_leaves_the_batch_to_the_checker(
    api: Api,
    admin_key: str,
    custom: tuple[str, dict[str, Any], Customer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A request spends at most BATCH_SECONDS on re-targeting (API Gateway stops
    waiting at 29 s): with no time left the PUT answers at once with every open
    ticket remaining, and the next checker run re-targets them."""
    from chalicelib.services import retarget

    monkeypatch.setattr(retarget, "BATCH_SECONDS", 0.0)
    policy_id, stored, tenant = custom
    opened = [api.post("/tickets", tenant.key, INCIDENT)[1]["id"] for _ in range(2)]
    changed = {k: v for k, v in stored.items() if k not in ("retargeted", "remaining")}
    rule(changed, "A2.high")["targets"][0]["hours"] = 3

    result = put(api, admin_key, policy_id, changed)

    assert (result["retargeted"], result["remaining"]) == (0, 2)
    run_checker_until_done(api, datetime.now(UTC))
    for ticket_id in opened:
        _, seen = api.get(f"/tickets/{ticket_id}", tenant.key)
        assert seen["sla"]["policy_version"] == 2


def test_a_warm_container_parses_a_stored_policy_once_per_version_and_sees_a_change_at_once(
    api: Api, admin_key: str, aws_calls: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`store.policies.find` (every re-plan's policy) reads only the stored version
    once it parsed that version; another container's PUT is seen on the next read
    (one more GetItem, once), the writing container's without reading it again."""
    from chalicelib.domain.policy import Policy
    from chalicelib.store import policies

    policy_id = new_policy_id()
    doc = {**aivo_doc(api, admin_key), "id": policy_id}
    put(api, admin_key, policy_id, doc)
    parsed = Counter[int]()
    validate = Policy.model_validate

    def counting(value: Any, **kw: Any) -> Policy:
        found = validate(value, **kw)
        parsed[found.version] += 1
        return found

    def find() -> tuple[Policy, dict[str, int]]:
        aws_calls.clear()
        found = policies.find(policy_id)
        assert found is not None
        return found, dict(aws_calls)

    monkeypatch.setattr(Policy, "model_validate", counting)
    monkeypatch.setattr(policies, "_parsed", {})  # a container that has read nothing yet
    first, _ = find()
    again, calls = find()
    assert again == first
    assert calls == {"GetItem": 1}  # the version, not the document again
    assert parsed == {first.version: 1}

    elsewhere = dict(policies._parsed)  # what a container that does not write it knows
    changed = {**doc, "name": "Aivo, changed"}
    put(api, admin_key, policy_id, changed)
    parsed.clear()
    written, calls = find()  # the writing container
    assert (written.name, written.version) == ("Aivo, changed", first.version + 1)
    assert calls == {"GetItem": 1}
    assert parsed == {}
    monkeypatch.setattr(policies, "_parsed", elsewhere)
    after, calls = find()
    assert after == written
    assert calls == {"GetItem": 2}  # the version, then the changed document
    assert parsed == {after.version: 1}
    assert find() == (after, {"GetItem": 1})
