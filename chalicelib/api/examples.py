"""Realistic examples for /openapi.json: the reference page shows them, clients copy
them and fuzzers start from valid requests. Plain data keyed by operation, so the
models stay free of documentation; `openapi.py` wires them in and a test checks each
one validates against its operation's own model."""

from __future__ import annotations

from typing import Any

Examples = dict[str, dict[str, Any]]  # name -> {"summary", "value"}
Operation = tuple[str, str]  # (method, path) as the route declares it

TICKET_ID = "tkt_01KBK6Z0V7Q5X2M9R8T4N3P6WD"
KEY_ID = "key_01KBK6VQ3W8H2D7N5C1R9T0F4M"


def _ex(summary: str, value: Any) -> dict[str, Any]:
    return {"summary": summary, "value": value}


ACME = {
    "id": "acme",
    "name": "Acme SA",
    "policy": "aivo",
    "contract": {"active": True, "plan": "enterprise", "options": ["integrations_24x7"]},
    "calendar": {"timezone": "America/Argentina/Buenos_Aires", "holidays": ["2026-12-24"]},
    "authorized_contacts": ["ana@acme.example"],
}


def _high_rule(resolution_hours: int) -> dict[str, Any]:
    return {
        "id": "high",
        "when": {"priorities": ["high"]},
        "targets": [
            {"metric": "first_response", "clock": "business", "hours": 2},
            {"metric": "resolution", "clock": "24x7", "hours": resolution_hours},
        ],
    }


CUSTOM_POLICY: dict[str, Any] = {
    "id": "acme-support",
    "name": "Acme support",
    "calendar": {
        "timezone": "America/Argentina/Buenos_Aires",
        "country": "AR",
        "hours": {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        "holidays": [],
    },
    "kinds": {"incident": {"priorities": ["high", "low"], "priority_required": True}},
    "target_rules": [
        _high_rule(resolution_hours=8),
        {
            "id": "low",
            "when": {"priorities": ["low"]},
            "targets": [{"metric": "resolution", "clock": "business", "business_days": 5}],
        },
    ],
}

REQUESTS: dict[Operation, Examples] = {
    ("POST", "/admin/tenants"): {
        "aivo": _ex("A customer on the Aivo policy, with 24x7 integrations (A3)", ACME),
        "keybe": _ex(
            "A Keybe customer whose tier comes from its plan (K1)",
            {
                "id": "brand",
                "name": "Brand SA",
                "policy": "keybe",
                "contract": {"active": True, "plan": "30,000 daily chats"},
            },
        ),
        "digital_express": _ex(
            "A Digital Express customer without contract (DX2, DX3)",
            {
                "id": "shop",
                "name": "Shop SRL",
                "policy": "digital_express",
                "contract": {"active": False},
                "billing": {"currency": "USD", "ticket_fee": "45.00"},
                "authorized_contacts": ["owner@shop.example"],
            },
        ),
    },
    ("PATCH", "/admin/tenants/{tenant_id}"): {
        "tier": _ex(
            "Move the customer to another tier (re-targets its open tickets)", {"tier": "premium"}
        ),
        "holiday": _ex(
            "Add a holiday to the customer's calendar (E2, E9)",
            {"calendar": {"holidays": ["2026-12-24", "2026-12-31"]}},
        ),
    },
    ("POST", "/admin/tenants/{tenant_id}/keys"): {
        "customer": _ex(
            "A customer key for a named contact",
            {"role": "customer", "contact": "ana@acme.example"},
        ),
        "agent": _ex("An agent key (on the provider tenant)", {"role": "agent"}),
    },
    ("POST", "/tickets"): {
        "incident": _ex(
            "A customer reports an incident",
            {
                "title": "Bot down",
                "description": "The bot has not answered since 09:00.",
                "kind": "incident",
                "priority": "high",
                "integration": {"built_by": "provider", "name": "CRM connector"},
            },
        ),
        "phoned_in": _ex(
            "An agent logs a phoned-in query for a customer, back-dated (E3)",
            {
                "tenant_id": "acme",
                "title": "How do I export chats?",
                "description": "Called the help line at 15:00.",
                "kind": "query",
                "channel": "phone",
                "reported_at": "2026-11-20T15:00:00-03:00",
            },
        ),
        "keybe_failure": _ex(
            "A Keybe failure report with its intake fields (K4)",
            {
                "title": "Contacts do not load",
                "description": "The contacts module shows an empty list.",
                "kind": "failure",
                "fields": {
                    "affected_users": ["maria@brand.example"],
                    "module": "contacts",
                    "device": "pc",
                    "occurred_at": "2026-11-20T10:30:00-05:00",
                    "verifications": ["cleared the cache", "tried another browser"],
                    "evidence": ["https://files.brand.example/contacts-empty.png"],
                },
            },
        ),
    },
    ("POST", "/tickets/{ticket_id}/comments"): {
        "reply": _ex("An agent's public reply", {"body": "Can you send the bot id?"}),
        "note": _ex(
            "An internal note (agents only)",
            {"body": "Looks like the CRM token expired.", "public": False},
        ),
    },
    ("POST", "/tickets/{ticket_id}/actions"): {
        "assign": _ex(
            "Assign to an agent (meets first_response, E5)",
            {"action": "assign", "agent": "ana@provider.example"},
        ),
        "set_priority": _ex(
            "Change the priority (re-targets, E7)", {"action": "set_priority", "priority": "high"}
        ),
        "wait_on_customer": _ex(
            "Wait on the customer (pauses, E6)", {"action": "wait_on_customer"}
        ),
        "resume": _ex("The customer answered", {"action": "resume"}),
        "assess": _ex(
            "Post the assessment, needing a quote (K5)",
            {"action": "assess", "requires_quote": True},
        ),
        "resolve": _ex(
            "Resolve, the cause outside the provider (A4)",
            {"action": "resolve", "resolution_cause": "external"},
        ),
        "reopen": _ex("Reopen a resolved ticket (E6)", {"action": "reopen"}),
        "close": _ex("Close", {"action": "close"}),
        "approve_charge": _ex("The customer approves the fee (DX2)", {"action": "approve_charge"}),
        "mark_paid": _ex("Administration marks it paid (DX2)", {"action": "mark_paid"}),
        "log_time": _ex("Log 40 minutes of work (C4)", {"action": "log_time", "minutes": 40}),
        "transfer_commercial": _ex(
            "Hand over to the commercial team (DX2)", {"action": "transfer_commercial"}
        ),
    },
    ("PUT", "/admin/policies/{policy_id}"): {
        "custom": _ex(
            "A small custom policy: business-hours first response, 24x7 resolution",
            CUSTOM_POLICY,
        )
    },
    ("POST", "/admin/policies/{policy_id}/simulate"): {
        "longer": _ex(
            "What if high tickets had 12 hours to resolution instead of 8? (stores nothing)",
            {
                "policy": {
                    **CUSTOM_POLICY,
                    "target_rules": [
                        _high_rule(resolution_hours=12),
                        CUSTOM_POLICY["target_rules"][1],
                    ],
                },
                "from": "2026-11-01T00:00:00Z",
                "to": "2026-12-01T00:00:00Z",
                "tenant_id": "acme",
            },
        )
    },
}

# Examples of path and query parameters, by name (every operation shares them).
PARAMETERS: dict[str, Any] = {
    "tenant_id": "acme",
    "ticket_id": TICKET_ID,
    "policy_id": "aivo",
    "key_id": KEY_ID,
    "limit": 25,
    "status": "open",
    "priority": "high",
    "breached": True,
    "from": "2026-11-01T00:00:00Z",
    "to": "2026-12-01T00:00:00Z",
    "Idempotency-Key": "0f8c3b2e-5d41-4c7a-9e61-2b7d8f0a1c33",
}

TICKET = {
    "id": TICKET_ID,
    "tenant_id": "acme",
    "title": "Bot down",
    "description": "The bot has not answered since 09:00.",
    "kind": "incident",
    "priority": "high",
    "channel": "api",
    "status": "open",
    "assignee": "ana@provider.example",
    "contact": "ana@acme.example",
    "tier": None,
    "reported_at": "2026-11-20T12:00:00Z",
    "created_at": "2026-11-20T12:00:00Z",
    "updated_at": "2026-11-20T12:20:00Z",
    "fields": {"logged_minutes": 40},
    "integration": {"built_by": "provider", "name": "CRM connector"},
    "resolution_cause": None,
    "sla": {
        "policy": "aivo",
        "policy_version": 1,
        "targets": [
            {
                "metric": "first_response",
                "clock": "business",
                "target_seconds": 7200,
                "started_at": "2026-11-20T12:00:00Z",
                "due_at": "2026-11-20T14:00:00Z",
                "state": "met",
                "elapsed_seconds": 1200,
                "remaining_seconds": 6000,
                "met_at": "2026-11-20T12:20:00Z",
                "breached_at": None,
            },
            {
                "metric": "resolution",
                "clock": "business",
                "target_seconds": 28800,
                "started_at": "2026-11-20T12:00:00Z",
                "due_at": "2026-11-20T20:00:00Z",
                "state": "running",
                "elapsed_seconds": 1200,
                "remaining_seconds": 27600,
                "met_at": None,
                "breached_at": None,
            },
        ],
    },
    "charge": None,
}

# GET /tickets/{id}/sla/explain of an Aivo high incident reported on Friday
# 2026-05-22 at 19:00 in Buenos Aires (tests/integration/test_whatif.py checks it
# against the real answer).
EXPLAINED_RESOLUTION: dict[str, Any] = {
    "metric": "resolution",
    "clock": "business",
    "target_seconds": 28800,
    "state": "running",
    "rules": ["A2", "E1", "E2", "E3", "E4"],
    "policy_rules": ["A2.high"],
    "timezone": "America/Argentina/Buenos_Aires",
    "started_at": "2026-05-22T22:00:00Z",
    "due_at": "2026-05-26T20:00:00Z",
    "steps": [
        {
            "from": "2026-05-22T22:00:00Z",
            "to": "2026-05-23T03:00:00Z",
            "counted_seconds": 0,
            "why": "outside hours",
        },
        {
            "from": "2026-05-23T03:00:00Z",
            "to": "2026-05-25T03:00:00Z",
            "counted_seconds": 0,
            "why": "weekend",
        },
        {
            "from": "2026-05-25T03:00:00Z",
            "to": "2026-05-26T03:00:00Z",
            "counted_seconds": 0,
            "why": "holiday",
            "date": "2026-05-25",
        },
        {
            "from": "2026-05-26T03:00:00Z",
            "to": "2026-05-26T12:00:00Z",
            "counted_seconds": 0,
            "why": "outside hours",
        },
        {
            "from": "2026-05-26T12:00:00Z",
            "to": "2026-05-26T20:00:00Z",
            "counted_seconds": 28800,
            "why": "business hours",
        },
    ],
}


def _report_row(priority: str, tickets: int, met: int, breached: int) -> dict[str, Any]:
    pct = round(100 * met / (met + breached), 2) if met + breached else None
    row = {"priority": priority, "tickets": tickets, "met": met, "breached": breached}
    return {**row, "achievement_pct": pct}


# What POST /tickets answers for the `incident` example at 2026-11-20T12:00:00Z:
# a new ticket, nobody assigned, both targets running from the report.
_TARGETS: list[dict[str, Any]] = TICKET["sla"]["targets"]  # type: ignore[index,assignment]
NEW_TICKET = {
    **TICKET,
    "status": "new",
    "assignee": None,
    "updated_at": "2026-11-20T12:00:00Z",
    "fields": {},
    "sla": {
        **TICKET["sla"],  # type: ignore[dict-item]
        "targets": [
            {
                **target,
                "state": "running",
                "elapsed_seconds": 0,
                "remaining_seconds": target["target_seconds"],
                "met_at": None,
            }
            for target in _TARGETS
        ],
    },
}


RESPONSES: dict[Operation, dict[int, Examples]] = {
    ("GET", "/tickets/{ticket_id}/sla/explain"): {
        200: {
            "friday": _ex(
                "A Friday-evening ticket due on Tuesday: weekend, then a holiday (A1, A2)",
                {
                    "ticket_id": TICKET_ID,
                    "policy": "aivo",
                    "policy_version": 1,
                    "targets": [EXPLAINED_RESOLUTION],
                },
            )
        }
    },
    ("POST", "/admin/policies/{policy_id}/simulate"): {
        200: {
            "longer": _ex(
                "Four more hours for high tickets: one late ticket would have been in time",
                {
                    "policy": "acme-support",
                    "policy_version": 3,
                    "from": "2026-11-01T00:00:00Z",
                    "to": "2026-12-01T00:00:00Z",
                    "tenant_id": "acme",
                    "tickets": 14,
                    "current": {
                        "items": [_report_row("high", 9, 6, 3), _report_row("low", 5, 4, 0)]
                    },
                    "draft": {"items": [_report_row("high", 9, 7, 2), _report_row("low", 5, 4, 0)]},
                    "changed": [
                        {
                            "ticket_id": TICKET_ID,
                            "metric": "resolution",
                            "current_due_at": "2026-11-10T20:00:00Z",
                            "draft_due_at": "2026-11-11T00:00:00Z",
                            "current_state": "breached",
                            "draft_state": "met",
                        }
                    ],
                    "changed_total": 1,
                    "unreproduced": [],
                    "unreproduced_total": 0,
                    "refused": [],
                },
            )
        }
    },
    ("POST", "/tickets"): {201: {"opened": _ex("A new ticket with its SLA targets", NEW_TICKET)}},
    ("GET", "/tickets/{ticket_id}"): {200: {"open": _ex("An assigned, running ticket", TICKET)}},
    ("POST", "/tickets/{ticket_id}/actions"): {
        200: {"after": _ex("The ticket as GET shows it after the action", TICKET)}
    },
    ("POST", "/tickets/{ticket_id}/comments"): {
        201: {
            "reply": _ex(
                "The comment",
                {
                    "id": "evt_01KBK7A2C4E6G8J0K2M4P6R8T0",
                    "at": "2026-11-20T12:20:00Z",
                    "body": "Can you send the bot id?",
                    "public": True,
                    "author_role": "agent",
                },
            )
        }
    },
    ("POST", "/admin/tenants/{tenant_id}/keys"): {
        201: {
            "issued": _ex(
                "The clear key, shown this once",
                {
                    "key_id": KEY_ID,
                    "api_key": "sgk_Jm3q9VfL2xWc8RzT5nYb0KdHs4Ae7Up1Gi6Oj_Xw-Nk",
                    "tenant_id": "acme",
                    "role": "customer",
                },
            )
        }
    },
    ("GET", "/reports/sla"): {
        200: {
            "month": _ex(
                "November for one customer",
                {
                    "from": "2026-11-01T00:00:00Z",
                    "to": "2026-12-01T00:00:00Z",
                    "tenant_id": "acme",
                    "items": [
                        {
                            "priority": "blocker",
                            "tickets": 2,
                            "met": 2,
                            "breached": 0,
                            "achievement_pct": 100.0,
                        },
                        {
                            "priority": "high",
                            "tickets": 5,
                            "met": 3,
                            "breached": 1,
                            "achievement_pct": 75.0,
                        },
                    ],
                },
            )
        }
    },
}

# The contract's error shape, one example per status where it helps.
ERRORS: dict[int, Examples] = {
    400: {
        "invalid": _ex(
            "Every bad field named",
            {
                "error": {
                    "code": "invalid_request",
                    "message": "the request has invalid fields",
                    "fields": {"kind": "unknown kind 'incidnet'; one of: incident, query"},
                }
            },
        )
    },
    401: {
        "unknown_key": _ex(
            "A key that is not (or no longer) known",
            {"error": {"code": "bad_credentials", "message": "unknown API key", "fields": {}}},
        )
    },
    422: {
        "not_allowed": _ex(
            "An action the ticket's status does not allow",
            {
                "error": {
                    "code": "action_not_allowed",
                    "message": (
                        "reopen is not allowed while the ticket is closed; allowed when resolved"
                    ),
                    "fields": {"action": "allowed when status is one of: resolved"},
                }
            },
        )
    },
}


def request_examples(method: str, path: str) -> Examples:
    return REQUESTS.get((method, path), {})


def response_examples(method: str, path: str, status: int) -> Examples:
    return RESPONSES.get((method, path), {}).get(status, {})


# --- partner helpdesks (docs/api.md, Webhooks) ---------------------------------------

PARTNER_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwx5RkT0zQ1vE="  # noqa: S105 (an example)
REQUESTS.update(
    {
        ("POST", "/admin/partners"): {
            "zendesk": _ex(
                "Acme's Zendesk, with the signing secret Zendesk generated",
                {
                    "id": "acme-zendesk",
                    "tenant_id": "acme",
                    "format": "zendesk",
                    "secret": "HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA=",
                },
            ),
            "keybe_jira": _ex(
                "A Keybe customer's Jira: its priorities mapped onto Keybe's (K1)",
                {
                    "id": "brand-jira",
                    "tenant_id": "brand",
                    "format": "jira",
                    "priority_map": {
                        "Highest": "emergency",
                        "High": "emergency",
                        "Medium": "normal",
                        "Low": "normal",
                    },
                },
            ),
        },
        ("POST", "/admin/partners/{partner_id}/secrets"): {
            "issued": _ex("A new secret slaguard issues", {}),
            "brought": _ex(
                "The secret the helpdesk generated on reset (Zendesk)",
                {"secret": "Q2hhbmdlZCBzZWNyZXQgYWZ0ZXIgYSByZXNldA=="},
            ),
        },
        ("POST", "/webhooks/{partner_id}"): {
            "generic": _ex(
                "The generic form (Standard Webhooks headers sign it)",
                {
                    "type": "ticket.created",
                    "external_id": "HD-77120",
                    "occurred_at": "2026-11-30T14:02:11Z",
                    "ticket": {
                        "title": "Reports export times out",
                        "description": "Exporting last month's report never finishes.",
                        "kind": "incident",
                        "priority": "high",
                    },
                },
            ),
            "zendesk": _ex(
                "A Zendesk ticket event (X-Zendesk-Webhook-Signature signs it)",
                {
                    "type": "zen:event-type:ticket.priority_changed",
                    "id": "0a77d3c1-2f58-4be0-8d19-64b1f0e2c7a3",
                    "time": "2026-11-30T14:20:05Z",
                    "subject": "zen:ticket:8812",
                    "detail": {
                        "id": "8812",
                        "subject": "WhatsApp bot down",
                        "priority": "URGENT",
                        "status": "OPEN",
                        "created_at": "2026-11-30T14:02:11Z",
                    },
                    "event": {"current": "URGENT", "previous": "HIGH"},
                },
            ),
        },
    }
)
RESPONSES.update(
    {
        ("POST", "/admin/partners"): {
            201: {
                "registered": _ex(
                    "The partner, its secret shown this once",
                    {
                        "id": "brand-jira",
                        "format": "jira",
                        "secret": "kq1Zt9bX4mW2vR7cN0pL5sY8dF3gH6jA-uE_oI",
                        "tenant_id": "brand",
                        "priority_map": {
                            "highest": "emergency",
                            "high": "emergency",
                            "medium": "normal",
                            "low": "normal",
                        },
                        "default_kind": "query",
                    },
                )
            }
        },
        ("POST", "/admin/partners/{partner_id}/secrets"): {
            201: {
                "rotated": _ex(
                    "The new secret; the previous one verifies until then",
                    {"secret": PARTNER_SECRET, "previous_valid_until": "2026-12-02T10:00:00Z"},
                )
            }
        },
        ("POST", "/webhooks/{partner_id}"): {
            200: {
                "applied": _ex("Handled", {"ticket_id": TICKET_ID, "applied": True}),
                "duplicate": _ex(
                    "A delivery seen before, or older than the ticket",
                    {"ticket_id": TICKET_ID, "applied": False},
                ),
            },
            202: {
                "unused": _ex(
                    "An event slaguard does not use, recorded in the history",
                    {"ticket_id": TICKET_ID, "applied": False},
                )
            },
        },
    }
)
PARAMETERS["partner_id"] = "acme-zendesk"


# --- what admins list, the agents' queue (docs/queue.md) --------------------------

RESPONSES.update(
    {
        ("GET", "/admin/tenants"): {
            200: {
                "page": _ex(
                    "Every customer, by id; next_cursor goes on after the last one",
                    {"items": [ACME], "next_cursor": "eyJjYXRhbG9nIjp7IlMiOiJDVVNUT01FUlMifX0"},
                )
            }
        },
        ("GET", "/admin/partners"): {
            200: {
                "page": _ex(
                    "The partners of one customer (never a secret)",
                    {
                        "items": [
                            {
                                "id": "acme-zendesk",
                                "tenant_id": "acme",
                                "format": "zendesk",
                                "priority_map": {},
                                "default_kind": "incident",
                                "created_at": "2026-11-02T12:00:00Z",
                                "secret_rotated_at": "2026-12-01T10:00:00Z",
                            }
                        ],
                        "next_cursor": None,
                    },
                )
            }
        },
        ("GET", "/admin/partners/{partner_id}"): {
            200: {
                "partner": _ex(
                    "A partner whose first secret is still the current one",
                    {
                        "id": "brand-jira",
                        "tenant_id": "brand",
                        "format": "jira",
                        "priority_map": {"highest": "emergency", "medium": "normal"},
                        "default_kind": "query",
                        "created_at": "2026-11-02T12:00:00Z",
                        "secret_rotated_at": None,
                    },
                )
            }
        },
        ("GET", "/queue"): {
            200: {
                "morning": _ex(
                    "Breached first, then what breaches soonest",
                    {
                        "items": [
                            {
                                "ticket_id": TICKET_ID,
                                "tenant_id": "acme",
                                "title": "Bot down",
                                "priority": "blocker",
                                "status": "new",
                                "assignee": None,
                                "metric": "first_response",
                                "due_at": "2026-11-25T12:00:00Z",
                                "remaining_seconds": -3600,
                                "state": "breached",
                            },
                            {
                                "ticket_id": "tkt_01KBK8C3D5F7H9K1M3P5R7T9V1",
                                "tenant_id": "brand",
                                "title": "Contacts do not load",
                                "priority": "emergency",
                                "status": "open",
                                "assignee": "ana@provider.example",
                                "metric": "resolution",
                                "due_at": "2026-11-25T13:10:00Z",
                                "remaining_seconds": 600,
                                "state": "at_risk",
                            },
                        ],
                        "next_cursor": None,
                    },
                )
            }
        },
    }
)


# --- proposals (docs/api.md, Proposals; Aivo A8) --------------------------------------

PROPOSAL_ID = "prp_01KBK8D3F5H7K9M1P3R5T7V9X1"
PROPOSAL = {
    "id": PROPOSAL_ID,
    "title": "Export chats to CSV",
    "description": "A monthly export of every chat, per channel, for our BI team.",
    "status": "registered",
    "created_at": "2026-11-20T12:00:00Z",
    "decided_at": None,
    "note": None,
    "subscribers": 3,
    "subscribed": True,
}
APPROVED = {
    **PROPOSAL,
    "status": "approved",
    "decided_at": "2026-11-27T15:00:00Z",
    "note": "Planned; no date is promised",
    "subscribed": False,
}
REQUESTS.update(
    {
        ("POST", "/proposals"): {
            "customer": _ex(
                "A customer registers new functionality (and is subscribed to it)",
                {"title": PROPOSAL["title"], "description": PROPOSAL["description"]},
            ),
            "agent": _ex(
                "An agent registers it for a customer's contact",
                {
                    "title": PROPOSAL["title"],
                    "description": PROPOSAL["description"],
                    "tenant_id": "acme",
                    "contact": "ana@acme.example",
                },
            ),
        },
        ("POST", "/proposals/{proposal_id}/subscriptions"): {
            "colleague": _ex(
                "Another contact of the caller's tenant follows it (no body: the key's)",
                {"contact": "bi-team@acme.example"},
            )
        },
        ("POST", "/proposals/{proposal_id}/decision"): {
            "review": _ex("Under review: nobody is notified", {"status": "under_review"}),
            "approve": _ex(
                "Approved: every subscription is notified once (proposal.approved)",
                {"status": "approved", "note": "Planned; no date is promised"},
            ),
            "decline": _ex("Declined: final, nobody is notified", {"status": "declined"}),
        },
    }
)
RESPONSES.update(
    {
        ("POST", "/proposals"): {201: {"registered": _ex("The new proposal", PROPOSAL)}},
        ("GET", "/proposals"): {
            200: {
                "page": _ex(
                    "The register, newest first",
                    {"items": [PROPOSAL], "next_cursor": None},
                )
            }
        },
        ("GET", "/proposals/{proposal_id}"): {
            200: {"one": _ex("The count of subscribers; never who they are", PROPOSAL)}
        },
        ("POST", "/proposals/{proposal_id}/subscriptions"): {
            201: {"subscribed": _ex("Subscribed now", {**PROPOSAL, "subscribers": 4})},
            200: {"already": _ex("That contact already was: nothing counted twice", PROPOSAL)},
        },
        ("POST", "/proposals/{proposal_id}/decision"): {
            200: {"approved": _ex("The decided proposal", APPROVED)}
        },
    }
)
PARAMETERS.update({"proposal_id": PROPOSAL_ID, "contact": "bi-team@acme.example"})
# Parameters whose example differs on one path (a proposal's status is not a ticket's).
PATH_PARAMETERS: dict[tuple[str, str], Any] = {("/proposals", "status"): "approved"}
