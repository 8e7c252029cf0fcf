"""DynamoDB calls per request, route by route (issue 14): the figures docs/performance.md's
table gives, measured through the real routes on a warm container (the caller's
key already cached), for a tenant with a few tickets and again with 25 more. No
route's count may grow with the number of tickets a tenant has."""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.helpers import INCIDENT, ROOT, Api, Helpdesk, done

_today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
REPORT_FROM = (_today - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
REPORT_TO = (_today + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
# A range starting within a day (read ticket by ticket), and a ticket reported then.
WITHIN_FROM = (_today - timedelta(days=30, hours=-1)).strftime("%Y-%m-%dT%H:%M:%SZ")
WITHIN_REPORTED = (_today - timedelta(days=30, hours=-12)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Tenant:
    id: str
    key: str
    ticket: str
    agent: str
    admin: str
    key_ids: list[str]
    rotated: str  # a partner whose secret each request rotates
    desk: Helpdesk  # a partner posting signed Standard Webhooks deliveries
    changes: int = 0  # partner events sent so far (each one newer than the last)


def _requests(api: Api) -> dict[str, Callable[[Tenant], tuple[int, Any]]]:
    """One request per route; each answers a 2xx (checked)."""

    def new_key(t: Tenant) -> tuple[int, Any]:
        status, body = api.post(f"/admin/tenants/{t.id}/keys", t.admin, {"role": "customer"})
        t.key_ids.append(body["key_id"])
        return status, body

    def partner_opens(t: Tenant) -> tuple[int, Any]:
        t.desk.external = uuid.uuid4().hex[:8]  # a ticket the helpdesk has not sent yet
        return t.desk.send("ticket_created")

    def partner_changes_priority(t: Tenant) -> tuple[int, Any]:
        t.changes += 1
        later = t.desk.start + timedelta(minutes=30 + t.changes)
        priority = ("high", "blocker")[t.changes % 2]
        return t.desk.post(
            t.desk.body(
                "ticket_updated",
                occurred_at=later.strftime("%Y-%m-%dT%H:%M:%SZ"),
                ticket={"priority": priority},
            )
        )

    return {
        "GET /health": lambda t: api.get("/health"),
        "GET /openapi.json": lambda t: api.get("/openapi.json"),
        "POST /admin/tenants": lambda t: api.post(
            "/admin/tenants",
            t.admin,
            {"id": f"c-{uuid.uuid4().hex[:8]}", "name": "Other SA", "policy": "aivo"},
        ),
        "GET /admin/tenants/{tenant_id}": lambda t: api.get(f"/admin/tenants/{t.id}", t.admin),
        "PATCH /admin/tenants/{tenant_id}": lambda t: api.patch(
            f"/admin/tenants/{t.id}", t.admin, {"name": f"Acme {uuid.uuid4().hex[:4]}"}
        ),
        "POST /admin/tenants/{tenant_id}/keys": new_key,
        "GET /admin/tenants/{tenant_id}/keys": lambda t: api.get(
            f"/admin/tenants/{t.id}/keys", t.admin
        ),
        "DELETE /admin/tenants/{tenant_id}/keys/{key_id}": lambda t: api.call(
            "DELETE", f"/admin/tenants/{t.id}/keys/{t.key_ids.pop()}", t.admin
        ),
        "GET /admin/policies": lambda t: api.get("/admin/policies", t.admin),
        "GET /admin/policies/{policy_id}": lambda t: api.get("/admin/policies/keybe", t.admin),
        "POST /tickets": lambda t: api.post("/tickets", t.key, INCIDENT),
        "GET /tickets": lambda t: api.get("/tickets", t.key),
        "GET /tickets?status=open&breached=true": lambda t: api.get(
            "/tickets?status=open&breached=true", t.key
        ),
        "GET /tickets/{ticket_id}": lambda t: api.get(f"/tickets/{t.ticket}", t.key),
        "GET /tickets/{ticket_id}/events": lambda t: api.get(f"/tickets/{t.ticket}/events", t.key),
        "POST /tickets/{ticket_id}/comments": lambda t: api.post(
            f"/tickets/{t.ticket}/comments", t.key, {"body": "Any news?"}
        ),
        "POST /tickets/{ticket_id}/actions (log_time)": lambda t: api.post(
            f"/tickets/{t.ticket}/actions", t.agent, {"action": "log_time", "minutes": 5}
        ),
        "POST /tickets/{ticket_id}/actions (set_priority)": lambda t: api.post(
            f"/tickets/{t.ticket}/actions", t.agent, {"action": "set_priority", "priority": "low"}
        ),
        "GET /reports/sla": lambda t: api.get(
            f"/reports/sla?tenant_id={t.id}&from={REPORT_FROM}&to={REPORT_TO}",
            t.agent,
        ),
        "GET /reports/sla (from within a day)": lambda t: api.get(
            f"/reports/sla?tenant_id={t.id}&from={WITHIN_FROM}&to={REPORT_TO}",
            t.agent,
        ),
        "GET /reports/charges": lambda t: api.get(
            f"/reports/charges?tenant_id={t.id}&from={REPORT_FROM}&to={REPORT_TO}",
            t.agent,
        ),
        "POST /admin/partners": lambda t: api.post(
            "/admin/partners",
            t.admin,
            {"id": f"p-{uuid.uuid4().hex[:8]}", "tenant_id": t.id, "format": "generic"},
        ),
        "GET /admin/tenants": lambda t: api.get("/admin/tenants", t.admin),
        "GET /admin/partners": lambda t: api.get("/admin/partners", t.admin),
        "GET /admin/partners?tenant_id=": lambda t: api.get(
            f"/admin/partners?tenant_id={t.id}", t.admin
        ),
        "GET /admin/partners/{partner_id}": lambda t: api.get(
            f"/admin/partners/{t.rotated}", t.admin
        ),
        "GET /queue": lambda t: api.get("/queue", t.agent),
        "GET /queue?tenant_id=": lambda t: api.get(f"/queue?tenant_id={t.id}", t.agent),
        "POST /admin/partners/{partner_id}/secrets": lambda t: api.post(
            f"/admin/partners/{t.rotated}/secrets", t.admin
        ),
        "POST /webhooks/{partner_id} (ticket created)": partner_opens,
        "POST /webhooks/{partner_id} (priority changed)": partner_changes_priority,
    }


def _measure(api: Api, tenant: Tenant, aws_calls: Counter[str]) -> dict[str, dict[str, int]]:
    calls: dict[str, dict[str, int]] = {}
    for name, request in _requests(api).items():
        request(tenant)  # warms the caller's key (and a first-use cache) like a busy container
        if name.startswith("DELETE"):  # the warm-up revoked a key: one more to revoke
            _requests(api)["POST /admin/tenants/{tenant_id}/keys"](tenant)
        aws_calls.clear()
        status, body = request(tenant)
        calls[name] = dict(aws_calls)
        assert 200 <= status < 300, (name, status, body)
    return calls


def readme_figures() -> dict[str, int]:
    """The tables `| `route` | calls | ... |` under "DynamoDB calls per request" in
    docs/performance.md and docs/queue.md (a route in both: the same figure)."""
    found: dict[str, int] = {}
    for page in ("docs/performance.md", "docs/queue.md"):
        text = (ROOT / page).read_text()
        heading = re.search(r"^#+ DynamoDB calls per request$", text, flags=re.MULTILINE)
        assert heading is not None, page
        section = text[heading.end() :].split("\n#", 1)[0]
        rows = re.findall(r"^\| `([^`]+)` \| (\d+) \|", section, flags=re.MULTILINE)
        for route, n in rows:
            assert found.setdefault(route, int(n)) == int(n), (page, route)
    return found


def figures(page: str, heading: str = "### DynamoDB calls per request") -> dict[str, int]:
    """A page's table `| `route` | calls | ... |` under that heading."""
    text = (ROOT / page).read_text()
    section = text.split(heading + "\n", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| (\d+) \|", section, flags=re.MULTILINE)
    return {route: int(n) for route, n in rows}


def test_calls_per_route_are_the_readme_figures_and_do_not_grow_with_tickets(
    api: Api,
    admin_key: str,
    agent_key: str,
    new_customer: Any,
    aws_calls: Counter[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chalicelib.services import auth

    # A warm container throughout: a key cached by a warm-up request must not expire
    # (KEY_CACHE_SECONDS) before the request measured after it, however slow moto is.
    frozen = time.monotonic()
    monkeypatch.setattr(auth, "clock", lambda: frozen)
    customer = new_customer()
    _, ticket = api.post("/tickets", customer.key, INCIDENT)
    early = {**INCIDENT, "tenant_id": customer.tenant_id, "reported_at": WITHIN_REPORTED}
    status, old = api.post("/tickets", agent_key, early)
    assert status == 201, old
    done(api, agent_key, old["id"], "assign", agent="ana")
    done(api, agent_key, old["id"], "resolve")  # settled: not among the unsettled tickets
    partners = {}
    for role in ("rotated", "desk"):
        partner = {"id": f"p-{uuid.uuid4().hex[:8]}", "tenant_id": customer.tenant_id}
        status, body = api.post("/admin/partners", admin_key, {**partner, "format": "generic"})
        assert status == 201, body
        partners[role] = (body["id"], body["secret"])
    desk = Helpdesk(api, "generic", *partners["desk"], customer.tenant_id)
    assert desk.send("ticket_created")[1]["applied"] is True  # the ticket its updates change
    tenant = Tenant(
        customer.tenant_id,
        customer.key,
        ticket["id"],
        agent_key,
        admin_key,
        [],
        partners["rotated"][0],
        desk,
    )
    few = _measure(api, tenant, aws_calls)
    for _ in range(25):
        api.post("/tickets", customer.key, INCIDENT)
    more = _measure(api, tenant, aws_calls)
    assert more == few
    assert {route: sum(ops.values()) for route, ops in few.items()} == readme_figures()


def test_proposal_routes_calls_are_the_docs_figures_and_do_not_grow_with_subscribers(
    api: Api,
    admin_key: str,
    agent_key: str,
    new_customer: Any,
    aws_calls: Counter[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docs/proposals.md's table (A8), with 1 subscriber and again with 20 more: no
    count grows with a proposal's subscribers, up to the 99 an approval notifies in
    its own request (the breach checker notifies the rest)."""
    from chalicelib.services import auth

    frozen = time.monotonic()  # a warm container: cached keys do not expire meanwhile
    monkeypatch.setattr(auth, "clock", lambda: frozen)
    acme, brand = new_customer(), new_customer()
    body = {"title": "Export chats", "description": "As CSV"}
    path = {"id": ""}
    contacts = iter(range(10_000))

    def new_proposal(subscribers: int) -> str:
        status, made = api.post("/proposals", acme.key, body)
        assert status == 201, made
        for _ in range(subscribers):
            contact = {"contact": f"c{next(contacts)}@brand.example"}
            api.post(f"/proposals/{made['id']}/subscriptions", brand.key, contact)
        return str(made["id"])

    made: list[str] = []

    def subscribe_new() -> tuple[int, Any]:
        made.append(f"c{next(contacts)}@brand.example")
        contact = {"contact": made[-1]}
        return api.post(f"/proposals/{path['id']}/subscriptions", brand.key, contact)

    def unsubscribe() -> tuple[int, Any]:
        where = f"/proposals/{path['id']}/subscriptions?contact={made.pop()}"
        return api.call("DELETE", where, brand.key)

    def decide(status: str, subscribers: int) -> Callable[[], tuple[int, Any]]:
        def request() -> tuple[int, Any]:
            fresh = new_proposal(subscribers)
            aws_calls.clear()
            return api.post(f"/proposals/{fresh}/decision", admin_key, {"status": status})

        return request

    def measure(subscribers: int) -> dict[str, int]:
        path["id"] = new_proposal(subscribers)
        requests: dict[str, Callable[[], tuple[int, Any]]] = {
            "POST /proposals": lambda: api.post("/proposals", brand.key, body),
            "GET /proposals": lambda: api.get("/proposals", brand.key),
            "GET /proposals (agent)": lambda: api.get("/proposals", agent_key),
            "GET /proposals/{proposal_id}": lambda: api.get(f"/proposals/{path['id']}", brand.key),
            "POST /proposals/{proposal_id}/subscriptions": subscribe_new,
            "POST /proposals/{proposal_id}/subscriptions (again)": lambda: api.post(
                f"/proposals/{path['id']}/subscriptions", acme.key
            ),
            "DELETE /proposals/{proposal_id}/subscriptions": unsubscribe,
            "POST /proposals/{proposal_id}/decision (under_review)": decide(
                "under_review", subscribers
            ),
            "POST /proposals/{proposal_id}/decision (approved)": decide("approved", subscribers),
        }
        calls = {}
        for name, request in requests.items():
            if name.startswith("DELETE"):
                subscribe_new()  # the one the warm-up removes
            request()  # warms the caller's key
            if name.startswith("DELETE"):
                subscribe_new()  # the one the measured request removes
            aws_calls.clear()
            status, answer = request()
            assert 200 <= status < 300, (name, status, answer)
            calls[name] = sum(n for op, n in aws_calls.items() if op != "PublishBatch")
        return calls

    few = measure(0)
    assert measure(20) == few
    assert few == figures("docs/proposals.md", "## DynamoDB calls per request")


def whatif_figures() -> dict[str, tuple[int, int]]:
    """docs/writing-policies.md's table "DynamoDB calls": route -> (calls, per ticket)."""
    text = (ROOT / "docs" / "writing-policies.md").read_text()
    section = text.split("### DynamoDB calls", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| (\d+)( \+ 1 per ticket)? \|", section, flags=re.MULTILINE)
    return {route: (int(n), 1 if per else 0) for route, n, per in rows}


def test_explain_and_simulate_calls_are_the_documented_figures(
    api: Api, admin_key: str, agent_key: str, new_customer: Any, aws_calls: Counter[str]
) -> None:
    """GET /tickets/{id}/sla/explain costs the same whatever the tenant holds; a
    simulation reads each ticket's history once (one Query per ticket replayed)."""
    from chalicelib import policies as shipped

    doc = shipped.load_shipped()["aivo"].model_dump(mode="json")
    policy_id = doc["id"] = f"cp-{uuid.uuid4().hex[:8]}"
    assert api.put(f"/admin/policies/{policy_id}", admin_key, doc)[0] == 200
    customer = new_customer(policy=policy_id)
    body = {"policy": doc, "from": REPORT_FROM, "to": REPORT_TO, "tenant_id": customer.tenant_id}
    _, ticket = api.post("/tickets", customer.key, INCIDENT)
    routes: dict[str, Callable[[], tuple[int, Any]]] = {
        "GET /tickets/{ticket_id}/sla/explain": lambda: api.get(
            f"/tickets/{ticket['id']}/sla/explain", customer.key
        ),
        "POST /admin/policies/{policy_id}/simulate": lambda: api.post(
            f"/admin/policies/{policy_id}/simulate", admin_key, body
        ),
    }

    def measure() -> dict[str, int]:
        calls: dict[str, int] = {}
        for name, request in routes.items():
            request()  # warm
            aws_calls.clear()
            status, answer = request()
            assert status == 200, answer
            calls[name] = sum(aws_calls.values())
        return calls

    few = measure()
    for _ in range(25):
        api.post("/tickets", customer.key, INCIDENT)
    more = measure()
    figures = whatif_figures()
    for name, (calls, per_ticket) in figures.items():
        assert few[name] == calls + per_ticket * 1, name
        assert more[name] == calls + per_ticket * 26, name
    assert set(figures) == set(routes)
