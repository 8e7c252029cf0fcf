"""The alert's summary sentence and e-mail message (docs/api.md, Alerts): one sentence
in the tenant's locale, the due instant as the tenant's calendar reads it."""

from __future__ import annotations

import json

import pytest

from chalicelib import alerts

TZ = "America/Argentina/Buenos_Aires"  # UTC-3


def _msg(type_: str, **more: object) -> dict[str, object]:
    base = alerts.message(
        key="first_response#100",
        type_=type_,
        tenant_id="acme",
        ticket_id="tkt_1",
        priority="high",
        occurred_at="2026-03-02T14:00:00Z",
        metric="first_response",
        level=1,
        threshold_pct=100,
        due_at="2026-03-02T14:00:00Z",
        timezone=TZ,
        title="Bot down",
    )
    return {**base, **more}


ACME_EN = alerts.Audience(name="Acme SA")
ACME_ES = alerts.Audience(name="Acme SA", locale="es")


@pytest.mark.parametrize(
    ("msg", "audience", "sentence"),
    [
        (
            _msg("sla.breached"),
            ACME_EN,
            "SLA breached: first response of ticket tkt_1 (Acme SA, high) was due "
            "2026-03-02 11:00 (America/Argentina/Buenos_Aires)",
        ),
        (
            _msg("sla.breached"),
            ACME_ES,
            "SLA incumplido: primera respuesta del ticket tkt_1 (Acme SA, high) venció el "
            "2026-03-02 11:00 (America/Argentina/Buenos_Aires)",
        ),
        (
            _msg("sla.warning", threshold_pct=75, metric="resolution"),
            ACME_ES,
            "Aviso de SLA: resolución del ticket tkt_1 (Acme SA, high) llegó al 75 % de su "
            "objetivo, vence el 2026-03-02 11:00 (America/Argentina/Buenos_Aires)",
        ),
        (
            _msg("sla.escalated", threshold_pct=150, level=2),
            ACME_EN,
            "SLA escalated to level 2: first response of ticket tkt_1 (Acme SA, high) is at "
            "150 % of its target, due 2026-03-02 11:00 (America/Argentina/Buenos_Aires)",
        ),
        (
            _msg("ticket.prime_opened", metric=None, due_at=None),
            ACME_ES,
            "Ticket prime abierto: ticket tkt_1 (Acme SA, high)",
        ),
        (
            _msg("billing.order", metric=None, due_at=None),
            ACME_EN,
            "Billing order: the charge of ticket tkt_1 (Acme SA, high) was approved",
        ),
        (  # an unknown locale reads English; no timezone reads UTC
            _msg("sla.breached", timezone=None),
            alerts.Audience(name="Acme SA", locale="fr"),
            "SLA breached: first response of ticket tkt_1 (Acme SA, high) was due "
            "2026-03-02 14:00 (UTC)",
        ),
    ],
)
def test_summary_is_one_sentence_in_the_tenants_locale(
    msg: dict[str, object], audience: alerts.Audience, sentence: str
) -> None:
    assert alerts.summary(msg, audience) == sentence


def test_the_email_message_is_the_sentence_then_the_essentials_and_default_is_the_body() -> None:
    msg = _msg("sla.breached")
    structured = json.loads(alerts.structured(msg, ACME_ES))
    body = json.loads(structured["default"])
    assert body == {**msg, "summary": alerts.summary(msg, ACME_ES)}
    lines = structured["email"].splitlines()
    assert lines[0] == body["summary"]
    assert lines[1] == ""
    assert "Cliente: Acme SA (acme)" in lines
    assert "Vence: 2026-03-02 11:00 (America/Argentina/Buenos_Aires)" in lines
    assert "Id de alerta: tkt_1:first_response#100" in lines


@pytest.mark.parametrize(
    ("msg", "audience", "line"),
    [
        (_msg("sla.breached", priority="blocker"), ACME_EN, "SLA breached (blocker): Bot down"),
        (_msg("sla.breached", priority="blocker"), ACME_ES, "SLA incumplido (blocker): Bot down"),
        (_msg("sla.escalated", level=3), ACME_ES, "SLA escalado a nivel 3 (high): Bot down"),
        (_msg("billing.order", title=None), ACME_EN, "Billing order (high): tkt_1"),
    ],
)
def test_the_email_subject_names_the_type_priority_and_title_in_the_locale(
    msg: dict[str, object], audience: alerts.Audience, line: str
) -> None:
    assert alerts.subject(msg, audience) == line


def test_a_subject_stays_one_line_under_snss_100_characters() -> None:
    line = alerts.subject(_msg("sla.warning", title="x" * 300 + "\nsecond line"), ACME_EN)
    assert len(line) < 100
    assert line.endswith("…")
    assert alerts.subject(_msg("sla.warning", title="a\nb\tc"), ACME_EN).endswith("a b c")


def test_the_email_lists_the_tickets_title() -> None:
    email = json.loads(alerts.structured(_msg("sla.breached"), ACME_ES))["email"]
    assert "Título: Bot down" in email.splitlines()


def test_an_approved_proposals_subject_names_the_proposal_not_a_ticket() -> None:
    """A8 notices carry no ticket and no priority: their e-mail subject is the
    proposal's title, in the subscriber tenant's locale (a KeyError stopped every
    later publish of the outbox before)."""
    notice = {
        "id": "prp_1:approved:acme:ana@acme.example",
        "type": "proposal.approved",
        "proposal_id": "prp_1",
        "tenant_id": "acme",
        "title": "Export chats",
    }
    assert (
        alerts.subject(notice, alerts.Audience("Acme", "es")) == "Propuesta aprobada: Export chats"
    )
    assert (
        alerts.subject(notice, alerts.Audience("Acme", "en")) == "Proposal approved: Export chats"
    )
