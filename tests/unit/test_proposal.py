"""The proposal's rules (POLICIES A8) and its notice's message (docs/api.md, Proposals)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from chalicelib import alerts
from chalicelib.domain.proposal import Proposal, ProposalDecided

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
OPEN = Proposal("prp_1", "Export chats", "As CSV", "registered", NOW, subscribers=3)


def test_a8_under_review_then_a_final_decision() -> None:
    reviewed = OPEN.decide("under_review", "Sizing it", NOW)
    assert (reviewed.status, reviewed.decided_at, reviewed.note) == (
        "under_review",
        None,
        "Sizing it",
    )
    approved = reviewed.decide("approved", None, NOW)
    assert (approved.status, approved.decided_at, approved.note) == ("approved", NOW, "Sizing it")
    for later in ("approved", "declined", "under_review"):
        with pytest.raises(ProposalDecided) as refused:
            approved.decide(later, None, NOW)
        assert (refused.value.status, refused.value.code) == (422, "proposal_decided")
    with pytest.raises(ProposalDecided):
        OPEN.decide("declined", None, NOW).check_open()  # no subscription once decided


def test_the_view_shows_the_count_and_the_callers_own_subscription_only() -> None:
    view = OPEN.view(subscribed=True)
    assert view == {
        "id": "prp_1",
        "title": "Export chats",
        "description": "As CSV",
        "status": "registered",
        "created_at": "2026-11-27T15:00:00Z",
        "decided_at": None,
        "note": None,
        "subscribers": 3,
        "subscribed": True,
    }


NOTICE = alerts.proposal_message(
    proposal_id="prp_1",
    tenant_id="acme",
    contact="ana@acme.example",
    title="Export chats",
    occurred_at="2026-11-27T15:00:00Z",
)


@pytest.mark.parametrize(
    ("locale", "sentence"),
    [
        (
            "en",
            "Proposal approved: Export chats (prp_1), which ana@acme.example of Acme SA follows",
        ),
        ("es", "Propuesta aprobada: Export chats (prp_1), que ana@acme.example de Acme SA sigue"),
    ],
)
def test_the_notice_summary_is_in_the_tenants_locale(locale: str, sentence: str) -> None:
    assert alerts.summary(NOTICE, alerts.Audience("Acme SA", locale)) == sentence


def test_the_notice_body_email_and_attributes_are_the_contracts() -> None:
    audience = alerts.Audience("Acme SA", "es")
    message = json.loads(alerts.structured(NOTICE, audience))
    body = json.loads(message["default"])
    assert set(body) == {
        "type", "proposal_id", "tenant_id", "contact", "title", "occurred_at", "summary"
    }  # fmt: skip
    assert message["email"].splitlines() == [
        body["summary"],
        "",
        "Propuesta: prp_1",
        "Título: Export chats",
        "Cliente: Acme SA (acme)",
        "Contacto: ana@acme.example",
        "Alerta: proposal.approved",
        "Aprobada: 2026-11-27 15:00 (UTC)",
    ]
    assert alerts._attributes(NOTICE) == {
        "type": {"DataType": "String", "StringValue": "proposal.approved"},
        "tenant_id": {"DataType": "String", "StringValue": "acme"},
    }
