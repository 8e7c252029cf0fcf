"""The SNS adapter: the alert message of the contract (docs/api.md, Alerts) and its
publication with PublishBatch. No rules here: what to alert is the domain's.

Each message goes out with `MessageStructure: json`: the `default` message (SQS,
Lambda, HTTP subscribers) is the JSON body with a `summary`, one sentence in the
tenant's locale; the `email` message is that sentence and the ticket's essentials,
under a subject line (type, priority, ticket title), so an admin who subscribes an
address in the console reads a sentence, not JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from chalicelib import aws
from chalicelib.settings import get_settings

logger = Logger(service="slaguard")  # shares app.py's formatter: its correlation id

BATCH = 10  # PublishBatch's maximum


PROPOSAL_APPROVED = "proposal.approved"
# A proposal notice's body (docs/api.md, Proposals), `summary` added on publishing:
# what a subscriber dedupes on is (proposal_id, tenant_id, contact).
PROPOSAL_BODY = ("type", "proposal_id", "tenant_id", "contact", "title", "occurred_at")


def alert_id(ticket_id: str, key: str) -> str:
    """Stable per (ticket, metric, threshold) or (ticket, type): subscribers dedupe on it."""
    return f"{ticket_id}:{key}"


def message(
    *,
    key: str,
    type_: str,
    tenant_id: str,
    ticket_id: str,
    priority: str,
    occurred_at: str,
    metric: str | None = None,
    level: int | None = None,
    threshold_pct: int | None = None,
    due_at: str | None = None,
    timezone: str | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    return {
        "id": alert_id(ticket_id, key),
        "type": type_,
        "tenant_id": tenant_id,
        "ticket_id": ticket_id,
        "metric": metric,
        "level": level,
        "threshold_pct": threshold_pct,
        "due_at": due_at,
        "priority": priority,
        "occurred_at": occurred_at,
        # the ticket's calendar timezone, so a reader sees `due_at` as the tenant does
        "timezone": timezone,
        # the ticket's title, for the e-mail's subject line and a reader's eye
        "title": title,
    }


def proposal_message(
    *, proposal_id: str, tenant_id: str, contact: str, title: str, occurred_at: str
) -> dict[str, Any]:
    """The notice of an approved proposal to one subscription (A8). Its `id` keys
    the outbox item (one per subscription); it is not part of the published body."""
    return {
        "id": f"{proposal_id}:approved:{tenant_id}:{contact}",
        "type": PROPOSAL_APPROVED,
        "proposal_id": proposal_id,
        "tenant_id": tenant_id,
        "contact": contact,
        "title": title,
        "occurred_at": occurred_at,
    }


def _is_notice(msg: Mapping[str, Any]) -> bool:
    return bool(msg["type"] == PROPOSAL_APPROVED)


@dataclass(frozen=True)
class Audience:
    """Who reads a tenant's alerts: its name and locale (docs/api.md, Tenant)."""

    name: str
    locale: str = "en"


LOCALES = ("en", "es")

_METRICS = {
    "en": {
        "first_response": "first response",
        "next_response": "next response",
        "resolution": "resolution",
        "study": "study",
    },
    "es": {
        "first_response": "primera respuesta",
        "next_response": "próxima respuesta",
        "resolution": "resolución",
        "study": "estudio",
    },
}

# {what}: "<metric> of ticket <id> (<tenant>, <priority>)"; {due}: " … due <local time>"
_SENTENCES = {
    "en": {
        "what": "{metric} of ticket {ticket} ({tenant}, {priority})",
        "ticket": "ticket {ticket} ({tenant}, {priority})",
        "sla.warning": "SLA warning: {what} reached {pct} % of its target{due}",
        "sla.breached": "SLA breached: {what}{due}",
        "sla.escalated": "SLA escalated to level {level}: {what} is at {pct} % of its target{due}",
        "ticket.prime_opened": "Prime ticket opened: {ticket_part}",
        "charge.waived": "Charge waived: {ticket_part}",
        "commercial.review_required": "Commercial review required: {ticket_part}",
        "billing.order": "Billing order: the charge of {ticket_part} was approved",
        "other": "{type}: {ticket_part}",
        PROPOSAL_APPROVED: (
            "Proposal approved: {title} ({proposal}), which {contact} of {tenant} follows"
        ),
        "due_future": ", due {when}",
        "due_past": " was due {when}",
    },
    "es": {
        "what": "{metric} del ticket {ticket} ({tenant}, {priority})",
        "ticket": "ticket {ticket} ({tenant}, {priority})",
        "sla.warning": "Aviso de SLA: {what} llegó al {pct} % de su objetivo{due}",
        "sla.breached": "SLA incumplido: {what}{due}",
        "sla.escalated": "SLA escalado a nivel {level}: {what} al {pct} % de su objetivo{due}",
        "ticket.prime_opened": "Ticket prime abierto: {ticket_part}",
        "charge.waived": "Cargo condonado: {ticket_part}",
        "commercial.review_required": "Revisión comercial requerida: {ticket_part}",
        "billing.order": "Orden de facturación: se aprobó el cargo del {ticket_part}",
        "other": "{type}: {ticket_part}",
        PROPOSAL_APPROVED: (
            "Propuesta aprobada: {title} ({proposal}), que {contact} de {tenant} sigue"
        ),
        "due_future": ", vence el {when}",
        "due_past": " venció el {when}",
    },
}

_NOTICE_LABELS = {
    "en": ("Proposal", "Title", "Customer", "Contact", "Alert", "Approved at"),
    "es": ("Propuesta", "Título", "Cliente", "Contacto", "Alerta", "Aprobada"),
}

# The e-mail's subject: what happened, the priority, the ticket's title.
_SUBJECTS = {
    "en": {
        "sla.warning": "SLA warning",
        "sla.breached": "SLA breached",
        "sla.escalated": "SLA escalated to level {level}",
        "ticket.prime_opened": "Prime ticket opened",
        "charge.waived": "Charge waived",
        "commercial.review_required": "Commercial review required",
        "billing.order": "Billing order",
        "proposal.approved": "Proposal approved",
    },
    "es": {
        "sla.warning": "Aviso de SLA",
        "sla.breached": "SLA incumplido",
        "sla.escalated": "SLA escalado a nivel {level}",
        "ticket.prime_opened": "Ticket prime abierto",
        "charge.waived": "Cargo condonado",
        "commercial.review_required": "Revisión comercial requerida",
        "billing.order": "Orden de facturación",
        "proposal.approved": "Propuesta aprobada",
    },
}
SUBJECT_MAX = 99  # SNS: under 100 characters, no line breaks or control characters

_LABELS = {
    "en": (
        "Ticket",
        "Title",
        "Customer",
        "Priority",
        "Alert",
        "Metric",
        "Due",
        "Raised at",
        "Alert id",
    ),
    "es": (
        "Ticket",
        "Título",
        "Cliente",
        "Prioridad",
        "Alerta",
        "Métrica",
        "Vence",
        "Emitida",
        "Id de alerta",
    ),
}


def _local(instant: str, timezone: str | None) -> str:
    """`2026-03-02 11:00 (America/Argentina/Buenos_Aires)`: as the tenant reads it."""
    at = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    try:
        zone = ZoneInfo(timezone) if timezone else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone, timezone = ZoneInfo("UTC"), None
    return f"{at.astimezone(zone):%Y-%m-%d %H:%M} ({timezone or 'UTC'})"


def summary(msg: Mapping[str, Any], audience: Audience) -> str:
    """One sentence in the tenant's locale (docs/api.md, Alerts; `en` when unknown)."""
    locale = audience.locale if audience.locale in LOCALES else "en"
    words = _SENTENCES[locale]
    if _is_notice(msg):
        return words[PROPOSAL_APPROVED].format(
            title=msg["title"],
            proposal=msg["proposal_id"],
            contact=msg["contact"],
            tenant=audience.name,
        )
    metric = msg.get("metric") or ""
    names = {
        "metric": _METRICS[locale].get(metric, metric.replace("_", " ")),
        "ticket": msg["ticket_id"],
        "tenant": audience.name,
        "priority": msg["priority"],
    }
    due = ""
    if msg.get("due_at"):
        key = "due_past" if msg["type"] == "sla.breached" else "due_future"
        due = words[key].format(when=_local(msg["due_at"], msg.get("timezone")))
    what = words["what"].format(**names)
    template = words.get(msg["type"], words["other"])
    return template.format(
        what=what,
        ticket_part=words["ticket"].format(**names),
        due=due,
        pct=msg.get("threshold_pct"),
        level=msg.get("level"),
        type=msg["type"],
    )


def subject(msg: Mapping[str, Any], audience: Audience) -> str:
    """The e-mail's subject line in the tenant's locale: type, priority, title,
    e.g. `SLA breached (blocker): Bot down`."""
    locale = audience.locale if audience.locale in LOCALES else "en"
    what = _SUBJECTS[locale].get(msg["type"], msg["type"]).format(level=msg.get("level"))
    if _is_notice(msg):  # an approved proposal (A8): no ticket, no priority
        line = f"{what}: {msg.get('title') or msg['proposal_id']}"
    else:
        line = f"{what} ({msg['priority']}): {msg.get('title') or msg['ticket_id']}"
    line = "".join(c if c.isprintable() else " " for c in line)
    return line if len(line) <= SUBJECT_MAX else line[: SUBJECT_MAX - 1] + "…"


def email(body: Mapping[str, Any], audience: Audience) -> str:
    """The e-mail subscribers' message: the summary, then the ticket's (or the
    approved proposal's) essentials."""
    locale = audience.locale if audience.locale in LOCALES else "en"
    if _is_notice(body):
        return _lines(
            body["summary"],
            _NOTICE_LABELS[locale],
            (
                body["proposal_id"],
                body["title"],
                f"{audience.name} ({body['tenant_id']})",
                body["contact"],
                body["type"],
                _local(body["occurred_at"], None),
            ),
        )
    labels = _LABELS[locale]
    values = (
        body["ticket_id"],
        body.get("title"),
        f"{audience.name} ({body['tenant_id']})",
        body["priority"],
        body["type"],
        body.get("metric"),
        _local(body["due_at"], body.get("timezone")) if body.get("due_at") else None,
        _local(body["occurred_at"], body.get("timezone")),
        body["id"],
    )
    return _lines(body["summary"], labels, values)


def _lines(first: str, labels: Sequence[str], values: Sequence[Any]) -> str:
    lines = [f"{label}: {value}" for label, value in zip(labels, values, strict=True) if value]
    return "\n".join([first, "", *lines])


def structured(msg: Mapping[str, Any], audience: Audience) -> str:
    """The SNS `Message` for `MessageStructure: json`."""
    shown = {k: msg[k] for k in PROPOSAL_BODY} if _is_notice(msg) else msg
    body = {**shown, "summary": summary(msg, audience)}
    return json.dumps(
        {"default": json.dumps(body, separators=(",", ":")), "email": email(body, audience)},
        ensure_ascii=False,
    )


def _attributes(msg: dict[str, Any]) -> dict[str, Any]:
    """String attributes, so subscription filter policies can select alerts (a
    proposal notice: its type and tenant only)."""
    if _is_notice(msg):
        notice = {"type": msg["type"], "tenant_id": msg["tenant_id"]}
        return {k: {"DataType": "String", "StringValue": v} for k, v in notice.items()}
    values = {
        "type": msg["type"],
        "tenant_id": msg["tenant_id"],
        "priority": msg["priority"],
        "level": str(msg["level"] if msg["level"] is not None else 0),
    }
    return {k: {"DataType": "String", "StringValue": v} for k, v in values.items()}


def publish(
    messages: Sequence[dict[str, Any]], audiences: Mapping[str, Audience] | None = None
) -> set[str]:
    """Publish alerts, 10 per PublishBatch; returns the ids SNS accepted. SNS
    failing is not an error here: what was not accepted stays in the outbox and
    the next checker run retries it. `audiences` (by tenant id) name the tenant
    and its locale in the summary; a tenant missing from it reads as its id."""
    sns = aws.client("sns")
    topic = get_settings().alerts_topic_arn
    accepted: set[str] = set()
    for start in range(0, len(messages), BATCH):
        chunk = messages[start : start + BATCH]
        by_entry = {f"m{i}": msg["id"] for i, msg in enumerate(chunk)}
        try:
            response = sns.publish_batch(
                TopicArn=topic,
                PublishBatchRequestEntries=[
                    {
                        "Id": f"m{i}",
                        "Message": structured(msg, _audience(msg, audiences)),
                        "MessageStructure": "json",
                        # e-mail subscribers' subject line (other protocols ignore it)
                        "Subject": subject(msg, _audience(msg, audiences)),
                        "MessageAttributes": _attributes(msg),
                    }
                    for i, msg in enumerate(chunk)
                ],
            )
        except (BotoCoreError, ClientError) as e:
            logger.warning("alerts not published; left for retry", count=len(chunk), error=str(e))
            break
        accepted |= {by_entry[ok["Id"]] for ok in response.get("Successful", [])}
    return accepted


def _audience(msg: Mapping[str, Any], audiences: Mapping[str, Audience] | None) -> Audience:
    tenant_id = msg["tenant_id"]
    return (audiences or {}).get(tenant_id) or Audience(name=tenant_id)
