"""DynamoDB calls per request, route by route (issue 14): the figures docs/performance.md's
table gives, measured through the real routes on a warm container (the caller's
key already cached), for a tenant with a few tickets and again with 25 more. No
route's count may grow with the number of tickets a tenant has."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.helpers import INCIDENT, ROOT, Api, Helpdesk

_today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
REPORT_FROM = (_today - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
REPORT_TO = (_today + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")


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
        "GET /reports/charges": lambda t: api.get(
            f"/reports/charges?tenant_id={t.id}&from={REPORT_FROM}&to={REPORT_TO}",
            t.agent,
        ),
        "POST /admin/partners": lambda t: api.post(
            "/admin/partners",
            t.admin,
            {"id": f"p-{uuid.uuid4().hex[:8]}", "tenant_id": t.id, "format": "generic"},
        ),
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
    """The table `| `route` | calls | ... |` of docs/performance.md, calls per request."""
    text = (ROOT / "docs" / "performance.md").read_text()
    section = text.split("## DynamoDB calls per request", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| (\d+) \|", section, flags=re.MULTILINE)
    return {route: int(n) for route, n in rows}


def test_calls_per_route_are_the_readme_figures_and_do_not_grow_with_tickets(
    api: Api, admin_key: str, agent_key: str, new_customer: Any, aws_calls: Counter[str]
) -> None:
    customer = new_customer()
    _, ticket = api.post("/tickets", customer.key, INCIDENT)
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
