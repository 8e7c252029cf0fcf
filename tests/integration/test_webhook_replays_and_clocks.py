"""Partner deliveries as an attacker or a careless sender would make them (issue 20;
docs/partners.md, "Replays and clocks"): the same signed content under new unsigned
headers, event times ahead of the clock, bodies that are not JSON by their
Content-Type or not UTF-8."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.helpers import Api, Helpdesk, RequestClock, assert_error
from tests.integration.test_webhooks import _events, _priority_at, _ticket, helpdesk
from tests.partner_helpdesks import LIFE, dumps, signed

__all__ = ["helpdesk"]  # the fixture, shared with test_webhooks.py

TIMED = ("generic", "zendesk", "jira")  # the formats whose bodies carry an event time
# An internal exception's name (UnicodeDecodeError, JSONDecodeError, KeyError...).
EXCEPTION_NAME = re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception)\b")


def _comments(api: Api, agent_key: str, ticket_id: str) -> int:
    return [e["type"] for e in _events(api, agent_key, ticket_id)].count("comment")


# ---------------------------------------------------------------- replays


def test_a_jira_delivery_replayed_with_new_identifiers_is_applied_once(
    helpdesk: Callable[..., Helpdesk], api: Api, agent_key: str
) -> None:
    # Jira signs the body only: X-Atlassian-Webhook-Identifier is not signed
    desk = helpdesk("jira")
    ticket_id = desk.send("issue_created")[1]["ticket_id"]
    raw = desk.body("comment_created")
    assert desk.post(raw, delivery_id="1001")[1] == {"ticket_id": ticket_id, "applied": True}
    for identifier in ("1002", "1003", "1004"):
        status, body = desk.post(raw, delivery_id=identifier)
        assert status == 200, body
        assert body == {"ticket_id": ticket_id, "applied": False}
    assert _comments(api, agent_key, ticket_id) == 1
    # Another comment (another signed body) is another delivery
    other = desk.body("comment_created", timestamp=int(datetime.now(UTC).timestamp() * 1000))
    assert desk.post(other, delivery_id="1001")[1]["applied"] is True
    assert _comments(api, agent_key, ticket_id) == 2


def test_a_jira_delivery_older_than_its_dedupe_entry_lives_changes_nothing(
    helpdesk: Callable[..., Helpdesk], api: Api, agent_key: str
) -> None:
    # Jira signs no delivery time: a comment captured 8 days ago, replayed after its
    # dedupe entry expired (7 days), would be applied again
    desk = helpdesk("jira")
    ticket_id = desk.send("issue_created")[1]["ticket_id"]
    old = int((datetime.now(UTC) - timedelta(days=8)).timestamp() * 1000)
    status, body = desk.post(desk.body("comment_created", timestamp=old))
    assert (status, body) == (200, {"ticket_id": None, "applied": False})
    assert _comments(api, agent_key, ticket_id) == 0


def test_a_zendesk_delivery_without_an_event_id_is_deduped_on_what_is_signed(
    helpdesk: Callable[..., Helpdesk], api: Api, agent_key: str
) -> None:
    # Zendesk signs timestamp + body, not X-Zendesk-Webhook-Invocation-Id
    desk = helpdesk("zendesk")
    ticket_id = desk.send("ticket_created")[1]["ticket_id"]
    data = json.loads(desk.body("comment_added"))
    del data["id"]
    raw = dumps(data)
    headers = signed("zendesk", desk.secret, raw)
    answers = []
    for _ in range(3):
        headers["X-Zendesk-Webhook-Invocation-Id"] = str(uuid.uuid4().int)[:19]
        answers.append(api.post(f"/webhooks/{desk.id}", None, raw=raw, headers=headers))
    assert [a[1]["applied"] for a in answers] == [True, False, False], answers
    assert {a[0] for a in answers} == {200}
    assert _comments(api, agent_key, ticket_id) == 1


# ---------------------------------------------------------------- event times


# Our priority -> each format's own value for it (the default priority maps).
NATIVE = {
    "zendesk": {"blocker": "URGENT", "low": "LOW"},
    "jira": {"blocker": "Highest", "low": "Low"},
}


def _native(fmt: str, ours: str) -> str:
    return NATIVE.get(fmt, {}).get(ours, ours)


@pytest.mark.parametrize("fmt", TIMED)
def test_an_event_dated_over_five_minutes_ahead_is_refused_and_changes_nothing(
    fmt: str, helpdesk: Callable[..., Helpdesk], api: Api, agent_key: str
) -> None:
    desk = helpdesk(fmt)
    ticket_id = desk.send(LIFE[fmt][0])[1]["ticket_id"]
    before = _events(api, agent_key, ticket_id)
    now = datetime.now(UTC)
    for ahead in (timedelta(minutes=6), timedelta(days=365)):
        status, body = desk.post(_priority_at(fmt, desk, now + ahead, _native(fmt, "low")))
        assert_error(status, body, 400, "event_in_future")
        assert not EXCEPTION_NAME.search(body["error"]["message"]), body
    assert _ticket(api, agent_key, ticket_id)["priority"] == "high"
    assert _events(api, agent_key, ticket_id) == before
    # and a genuine update still applies
    assert desk.post(_priority_at(fmt, desk, now, _native(fmt, "blocker")))[1]["applied"] is True
    assert _ticket(api, agent_key, ticket_id)["priority"] == "blocker"


@pytest.mark.parametrize("fmt", TIMED)
def test_an_event_a_little_ahead_is_clamped_to_its_arrival_and_freezes_nothing(
    fmt: str,
    helpdesk: Callable[..., Helpdesk],
    api: Api,
    agent_key: str,
    clock: RequestClock,
) -> None:
    # Given a partner whose clock runs 4 minutes ahead (within the 5-minute skew)
    clock.now = datetime.now(UTC).replace(microsecond=0)
    desk = helpdesk(fmt)
    ticket_id = desk.post(desk.body(LIFE[fmt][0]), at=clock.now)[1]["ticket_id"]
    arrival = clock.now
    ahead = _priority_at(fmt, desk, arrival + timedelta(minutes=4), _native(fmt, "blocker"))
    assert desk.post(ahead, at=arrival)[1]["applied"] is True
    # Then the time kept is the arrival, never a time the clock has not reached
    changed = [e for e in _events(api, agent_key, ticket_id) if e["type"] == "action.set_priority"]
    assert changed[-1]["data"]["occurred_at"] == arrival.strftime("%Y-%m-%dT%H:%M:%SZ")
    # And a genuine change a minute later applies (it is newer than the arrival)
    clock.now = arrival + timedelta(minutes=1)
    later = _priority_at(fmt, desk, clock.now, _native(fmt, "low"))
    status, body = desk.post(later, at=clock.now)
    assert (status, body) == (200, {"ticket_id": ticket_id, "applied": True})
    assert _ticket(api, agent_key, ticket_id)["priority"] == "low"


# ---------------------------------------------------------------- bodies


@pytest.mark.parametrize("fmt", LIFE)
@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml", None],
)
def test_a_body_that_is_not_json_by_its_content_type_is_415(
    fmt: str,
    content_type: str | None,
    helpdesk: Callable[..., Helpdesk],
    api: Api,
    agent_key: str,
) -> None:
    desk = helpdesk(fmt)
    raw = desk.body(LIFE[fmt][0])
    headers = signed(fmt, desk.secret, raw)
    if content_type is None:
        del headers["Content-Type"]
    else:
        headers["Content-Type"] = content_type
    status, body = api.post(f"/webhooks/{desk.id}", None, raw=raw, headers=_only(headers))
    assert_error(status, body, 415, "unsupported_media_type")
    assert api.get(f"/tickets?tenant_id={desk.tenant_id}", agent_key)[1]["items"] == []
    # the same delivery declared JSON (with its charset) is taken
    headers["Content-Type"] = "application/json; charset=utf-8"
    status, body = api.post(f"/webhooks/{desk.id}", None, raw=raw, headers=_only(headers))
    assert (status, body["applied"]) == (200, True), body


def _only(headers: dict[str, str]) -> dict[str, str]:
    """The headers as sent, with no Content-Type added when the test left it out."""
    return {"Content-Type": "", **headers}


@pytest.mark.parametrize("fmt", LIFE)
@pytest.mark.parametrize(
    "raw",
    [
        b'{"type": "ticket.created", "title": "caf\xe9"}',  # Latin-1
        b"\xff\xfe" + '{"type": "x"}'.encode("utf-16-le"),  # UTF-16 with its BOM
        '{"type": "x"}'.encode("utf-16-le"),  # UTF-16 without a BOM
        b"\xef\xbb\xbf{}",  # UTF-8 with a byte order mark
    ],
    ids=["latin-1", "utf-16-bom", "utf-16", "utf-8-bom"],
)
def test_a_signed_body_that_is_not_utf8_json_is_a_400_naming_no_exception(
    fmt: str, raw: bytes, helpdesk: Callable[..., Helpdesk], api: Api, agent_key: str
) -> None:
    desk = helpdesk(fmt)
    status, body = desk.post(raw)
    assert_error(status, body, 400)
    assert not EXCEPTION_NAME.search(body["error"]["message"]), body
    assert api.get(f"/tickets?tenant_id={desk.tenant_id}", agent_key)[1]["items"] == []
