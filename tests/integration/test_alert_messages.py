"""Alerts an admin can read (docs/api.md, Alerts): the body carries `summary`, one
sentence in the tenant's `locale`, and every message is published with
`MessageStructure: json`, so an e-mail subscriber gets that sentence and the
ticket's essentials while queues and functions get the JSON body."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.integration.helpers import Alerts, Api, fresh_t0, iso, open_blocker, run_checker


@pytest.fixture
def published_entries() -> Iterator[list[dict[str, Any]]]:
    """What the app hands SNS's PublishBatch (a botocore event hook on its client)."""
    from chalicelib import aws

    entries: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        entries.extend(params["PublishBatchRequestEntries"])

    events = aws.client("sns").meta.events
    events.register("provide-client-params.sns.PublishBatch", record)
    yield entries
    events.unregister("provide-client-params.sns.PublishBatch", record)


def _local(instant: str, zone: str) -> str:
    at = datetime.fromisoformat(instant.replace("Z", "+00:00")).astimezone(ZoneInfo(zone))
    return f"{at:%Y-%m-%d %H:%M} ({zone})"


@pytest.mark.parametrize(
    ("locale", "sentence"),
    [
        (
            "es",
            "SLA incumplido: primera respuesta del ticket {t} (Acme SA, blocker) venció el {due}",
        ),
        ("en", "SLA breached: first response of ticket {t} (Acme SA, blocker) was due {due}"),
    ],
)
def test_a_breach_reads_as_one_sentence_in_the_tenants_locale(
    api: Api,
    admin_key: str,
    agent_key: str,
    new_customer: Any,
    published_entries: list[dict[str, Any]],
    locale: str,
    sentence: str,
) -> None:
    customer = new_customer(locale=locale)
    status, tenant = api.get(f"/admin/tenants/{customer.tenant_id}", admin_key)
    assert (status, tenant["locale"]) == (200, locale)
    alerts = Alerts()
    t0 = fresh_t0()
    tid = open_blocker(api, agent_key, customer.tenant_id, t0)

    run_checker(api, t0 + timedelta(hours=1))

    (breach,) = [m for m in alerts.drain({tid}) if m["type"] == "sla.breached"]
    zone = breach["timezone"]
    assert zone  # the ticket's calendar
    assert breach["summary"] == sentence.format(t=tid, due=_local(breach["due_at"], zone))
    # The JSON body stays the contract's (plus `summary`), for queues and functions.
    assert breach["occurred_at"] == iso(t0 + timedelta(hours=1))

    (entry,) = [e for e in published_entries if tid in e["Message"] and "breached" in e["Message"]]
    assert entry["MessageStructure"] == "json"
    structured = json.loads(entry["Message"])
    assert json.loads(structured["default"])["summary"] == breach["summary"]
    email = structured["email"].splitlines()
    assert email[0] == breach["summary"]
    assert f"Ticket: {tid}" in email
    assert any(line.endswith(f"Acme SA ({customer.tenant_id})") for line in email)
    assert any(breach["id"] in line for line in email)


def test_a_locale_the_alerts_do_not_speak_is_a_400_naming_it(api: Api, admin_key: str) -> None:
    status, body = api.post(
        "/admin/tenants", admin_key, {"id": "t-fr", "name": "F", "policy": "aivo", "locale": "fr"}
    )
    assert status == 400
    assert "locale" in body["error"]["fields"]


def _filter_policies(page: str) -> list[dict[str, Any]]:
    import re

    from tests.integration.helpers import ROOT

    text = (ROOT / "docs" / page).read_text()
    docs = [json.loads(b) for b in re.findall(r"^```json\n(.*?)^```", text, re.M | re.S)]
    return [d for d in docs if set(d) <= {"type", "tenant_id", "priority", "level"}]


def test_the_deploy_guides_filter_policy_passes_breaches_not_warnings(
    api: Api, agent_key: str, customer: Any
) -> None:
    """docs/deploy.md's e-mail filter policy, on a real subscription (moto's SNS
    filters like SNS): a blocker's breaches and escalations arrive, its warnings
    do not, and the e-mail carries the subject line."""
    (policy,) = _filter_policies("deploy.md")
    oncall, everything = Alerts(policy), Alerts()
    t0 = fresh_t0()
    blocker = open_blocker(api, agent_key, customer.tenant_id, t0)
    run_checker(api, t0 + timedelta(days=10))
    types = {m["type"] for m in oncall.drain({blocker})}
    assert types == {"sla.breached", "sla.escalated"}
    assert "sla.warning" in {m["type"] for m in everything.drain({blocker})}


def test_the_email_subject_goes_out_with_each_alert(
    api: Api, agent_key: str, customer: Any, published_entries: list[dict[str, Any]]
) -> None:
    t0 = fresh_t0()
    blocker = open_blocker(api, agent_key, customer.tenant_id, t0)
    run_checker(api, t0 + timedelta(days=10))
    mine = [e for e in published_entries if blocker in e["Message"]]
    assert mine
    for entry in mine:
        assert entry["Subject"].startswith(("SLA ", "Aviso de SLA")), entry["Subject"]
        assert "(blocker): " in entry["Subject"]
        assert len(entry["Subject"]) < 100
