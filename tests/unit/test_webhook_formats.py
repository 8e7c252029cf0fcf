"""The partner formats (adapters): signatures over the raw bytes, with the
vendors' published test vectors where there is one, and each vendor payload
mapped onto our events."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from chalicelib.webhooks import FORMATS, freshdesk, generic, jira, zendesk
from chalicelib.webhooks.base import BadPayload, BadSignature, instant, within_clock
from chalicelib.webhooks.zendesk import TIMESTAMP
from tests.partner_helpdesks import dumps, fixture, signed

NOW = datetime.now(UTC).replace(microsecond=0)


# ---------------------------------------------------------------- published vectors


def test_standard_webhooks_spec_vector() -> None:
    # The example of the Standard Webhooks specification: the pinned library
    # signs it as the spec says, and our registration accepts its secret form.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    at = datetime.fromtimestamp(1614265330, UTC)
    signature = Webhook(secret).sign("msg_p5jXN8AQM9LWM0D4loKWxJek", at, '{"test": 2432232314}')
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert generic.secret_problem(secret) is None
    # ...and, signed in 2021, it is far outside the 5-minute window today
    headers = {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": signature,
    }
    with pytest.raises(BadSignature, match="too old"):
        generic.verify(b'{"test": 2432232314}', headers, [secret], NOW)


def test_zendesk_vector_uses_the_secret_characters_as_they_are() -> None:
    # Zendesk's documented example (secret, body, timestamp, signature). Its
    # digest comes out of the secret's own characters as the HMAC key, not of
    # their base64 decoding. (That older page signs body then timestamp; the
    # current documentation and our contract sign timestamp + body.)
    secret = "HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA="
    body, stamp = b'{"say": "hello"}', b"2021-07-25T10:00:00Z"
    published = "tRDSF7URY8BLCDlaBcQ7FHu051Zk+aAB0NKMP53teMw="
    assert base64.b64encode(zendesk.signature(secret, body + stamp)).decode() == published
    decoded_key = base64.urlsafe_b64decode(secret)
    assert (
        base64.b64encode(hmac.new(decoded_key, body + stamp, hashlib.sha256).digest()).decode()
        != published
    )


def test_jira_verifies_the_websub_vector() -> None:
    # Jira signs the WebSub way GitHub documents with this example: sha256=<hex>.
    headers = {
        "X-Hub-Signature": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    }
    jira.verify(b"Hello, World!", headers, ["It's a Secret to Everybody"], NOW)
    with pytest.raises(BadSignature):
        jira.verify(b"Hello, World?", headers, ["It's a Secret to Everybody"], NOW)


# ---------------------------------------------------------------- verification


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_each_format_verifies_its_own_signature_and_refuses_others(fmt: str) -> None:
    adapter = FORMATS[fmt]
    secret, other = adapter.new_secret(), adapter.new_secret()
    assert adapter.secret_problem(secret) is None
    raw = b'{"any": "body"}'
    now = datetime.now(UTC)  # the generic library reads the clock itself
    headers = signed(fmt, secret, raw, at=now)
    adapter.verify(raw, headers, [secret], now)
    adapter.verify(raw, headers, [other, secret], now)  # the previous one, while rotating
    with pytest.raises(BadSignature):
        adapter.verify(raw, headers, [other], now)
    with pytest.raises(BadSignature):
        adapter.verify(raw, {"Content-Type": "application/json"}, [secret], now)
    if fmt != "freshdesk":  # a shared token signs no body
        with pytest.raises(BadSignature):
            adapter.verify(raw + b" ", headers, [secret], now)


def test_zendesk_refuses_a_timestamp_over_five_minutes_away() -> None:
    secret, raw = zendesk.new_secret(), b"{}"
    for minutes in (-6, 6):
        at = NOW + timedelta(minutes=minutes)
        with pytest.raises(BadSignature, match="5 minutes"):
            zendesk.verify(raw, signed("zendesk", secret, raw, at=at), [secret], NOW)
    zendesk.verify(
        raw, signed("zendesk", secret, raw, at=NOW - timedelta(minutes=4)), [secret], NOW
    )


@pytest.mark.parametrize(
    "bad",
    ["v1", "v1,not base64!", "v2,AAAA", ""],
)
def test_generic_malformed_signatures_are_refused_not_crashes(bad: str) -> None:
    secret, raw = generic.new_secret(), b"{}"
    headers = signed("generic", secret, raw)
    headers["webhook-signature"] = bad
    with pytest.raises(BadSignature):
        generic.verify(raw, headers, [secret], NOW)


def test_malformed_signature_headers_of_zendesk_and_jira_are_refused() -> None:
    with pytest.raises(BadSignature):
        zendesk.verify(
            b"{}",
            {
                "X-Zendesk-Webhook-Signature": "%%%",
                "X-Zendesk-Webhook-Signature-Timestamp": NOW.isoformat(),
            },
            ["s" * 20],
            NOW,
        )
    for value in ("md5=00", "sha256=zz", "sha256"):
        with pytest.raises(BadSignature):
            jira.verify(b"{}", {"X-Hub-Signature": value}, ["s" * 20], NOW)


# ---------------------------------------------------------------- mapping


def test_zendesk_events() -> None:
    created = zendesk.parse(dumps(fixture("zendesk", "ticket_created")), {})
    assert created.type == "ticket.created"
    assert (created.external_id, created.delivery_id) == (
        "8812",
        "5f1c2a9e-7b44-4d0e-9a51-0c3e8d2b6f10",
    )
    assert created.snapshot.title == "WhatsApp bot down"
    assert created.snapshot.priority == "HIGH"
    assert created.snapshot.created_at == datetime(2026, 11, 30, 14, 2, 11, tzinfo=UTC)
    assert created.occurred_at == datetime(2026, 11, 30, 14, 2, 11, 482913, tzinfo=UTC)
    raised = zendesk.parse(dumps(fixture("zendesk", "priority_changed")), {})
    assert (raised.type, raised.priority) == ("ticket.updated", "URGENT")
    assigned = zendesk.parse(dumps(fixture("zendesk", "agent_assignment_changed")), {})
    assert (assigned.type, assigned.assignee) == ("ticket.assigned", "903318820001")
    comment = zendesk.parse(dumps(fixture("zendesk", "comment_added")), {})
    assert comment.type == "comment.created"
    assert comment.comment is not None
    assert (comment.comment.public, comment.comment.by_agent) == (True, True)
    solved = zendesk.parse(dumps(fixture("zendesk", "status_changed_solved")), {})
    assert (solved.type, solved.solved) == ("ticket.solved", True)
    tags = zendesk.parse(dumps(fixture("zendesk", "tags_changed")), {})
    assert (tags.type, tags.name) == (None, "ticket.tags_changed")


def test_jira_events() -> None:
    raw = dumps(fixture("jira", "issue_created"))
    created = jira.parse(raw, {"X-Atlassian-Webhook-Identifier": "42"})
    assert created.type == "ticket.created"
    assert created.external_id == "10482"
    # Jira signs the body only: its digest is the delivery, whatever the identifier header
    assert created.delivery_id == f"body:{hashlib.sha256(raw).hexdigest()}"
    assert jira.parse(raw, {"X-Atlassian-Webhook-Identifier": "43"}).delivery_id == (
        created.delivery_id
    )
    assert created.snapshot.created_at == datetime(2026, 11, 30, 14, 2, 11, 482000, tzinfo=UTC)
    assert created.snapshot.priority == "High"
    raised = jira.parse(dumps(fixture("jira", "issue_updated_priority")), {})
    assert (raised.type, raised.priority) == ("ticket.updated", "Highest")
    assert raised.occurred_at == datetime(2026, 11, 30, 14, 20, 5, 100000, tzinfo=UTC)
    assigned = jira.parse(dumps(fixture("jira", "issue_updated_assignee")), {})
    assert (assigned.type, assigned.assignee) == ("ticket.assigned", "5b10ac8d82e05b22cc7d4ef5")
    resolved = jira.parse(dumps(fixture("jira", "issue_updated_resolved")), {})
    assert (resolved.type, resolved.solved) == ("ticket.solved", True)
    comment = jira.parse(dumps(fixture("jira", "comment_created")), {})
    assert comment.comment is not None
    assert (comment.type, comment.comment.by_agent) == ("comment.created", True)
    labels = jira.parse(dumps(fixture("jira", "issue_updated_labels")), {})
    assert labels.type is None
    assert labels.delivery_id.startswith("body:")


def test_zendesk_dedupes_on_the_signed_event_id_else_on_the_signed_message() -> None:
    # Zendesk signs timestamp + body; X-Zendesk-Webhook-Invocation-Id is not signed
    data = fixture("zendesk", "comment_added")
    stamp = {TIMESTAMP: "2026-11-30T14:31:03Z"}
    with_id = zendesk.parse(dumps(data), {**stamp, "X-Zendesk-Webhook-Invocation-Id": "1"})
    assert with_id.delivery_id == data["id"]
    del data["id"]
    raw = dumps(data)
    first = zendesk.parse(raw, {**stamp, "X-Zendesk-Webhook-Invocation-Id": "1"})
    again = zendesk.parse(raw, {**stamp, "X-Zendesk-Webhook-Invocation-Id": "2"})
    assert first.delivery_id == again.delivery_id
    assert (
        first.delivery_id == "body:" + hashlib.sha256(stamp[TIMESTAMP].encode() + raw).hexdigest()
    )
    resigned = zendesk.parse(raw, {"X-Zendesk-Webhook-Signature-Timestamp": "2026-11-30T14:32:00Z"})
    assert resigned.delivery_id != first.delivery_id


def test_event_times_are_bounded_by_the_arrival() -> None:
    event = generic.parse(dumps(fixture("generic", "ticket_created")), {"webhook-id": "m"})
    at = event.occurred_at
    assert at is not None
    # In the past: as sent
    assert within_clock(event, at + timedelta(hours=1)) == event
    # Up to 5 minutes ahead of the arrival: clamped to it (the creation time too)
    arrival = at - timedelta(minutes=5)
    clamped = within_clock(event, arrival)
    assert (clamped.occurred_at, clamped.snapshot.created_at) == (arrival, arrival)
    # More: refused, naming the field, no exception's name in the message
    with pytest.raises(BadPayload) as e:
        within_clock(event, at - timedelta(minutes=5, seconds=1))
    assert (e.value.code, e.value.fields) == (
        "event_in_future",
        {"occurred_at": "more than 5 minutes in the future"},
    )
    # Freshdesk's events carry no time: nothing to bound
    note = freshdesk.parse(dumps(fixture("freshdesk", "public_note")), {})
    assert within_clock(note, NOW) == note


def test_freshdesk_events() -> None:
    created = freshdesk.parse(dumps(fixture("freshdesk", "ticket_created")), {})
    assert (created.type, created.external_id, created.occurred_at) == (
        "ticket.created",
        "5120",
        None,
    )
    assert created.snapshot.priority == "High"
    raised = freshdesk.parse(dumps(fixture("freshdesk", "priority_changed")), {})
    assert (raised.type, raised.priority) == ("ticket.updated", "Urgent")
    assigned = freshdesk.parse(dumps(fixture("freshdesk", "agent_assigned")), {})
    assert (assigned.type, assigned.assignee) == ("ticket.assigned", "martin@helpco.example")
    note = freshdesk.parse(dumps(fixture("freshdesk", "public_note")), {})
    assert note.comment is not None
    assert note.comment.public
    solved = freshdesk.parse(dumps(fixture("freshdesk", "status_resolved")), {})
    assert solved.type == "ticket.solved"
    # The identity is ticket + event + body hash: another body is another delivery
    assert (
        raised.delivery_id
        != freshdesk.parse(dumps(fixture("freshdesk", "agent_assigned")), {}).delivery_id
    )
    assert freshdesk.triggered("{priority:{from:3,to:4}}") == ("priority", "3", "4")
    with pytest.raises(BadPayload):
        freshdesk.triggered("priority changed")


def test_generic_events() -> None:
    headers = {"webhook-id": "msg_1"}
    created = generic.parse(dumps(fixture("generic", "ticket_created")), headers)
    assert (created.type, created.delivery_id, created.external_id) == (
        "ticket.created",
        "msg_1",
        "HD-77120",
    )
    # E3: a ticket.created event's occurred_at is the reported instant
    assert created.snapshot.created_at == created.occurred_at
    assert created.snapshot.extra == {"kind": "incident", "contact": "ana@acme.example"}
    merged = generic.parse(dumps(fixture("generic", "ticket_merged")), headers)
    assert merged.type is None
    with pytest.raises(BadPayload) as e:
        generic.parse(
            b'{"type": "ticket.updated", "external_id": "x", '
            b'"occurred_at": "2026-11-30T10:00:00Z"}',
            headers,
        )
    assert "ticket.priority" in e.value.fields


@pytest.mark.parametrize(
    ("fmt", "raw", "field"),
    [
        ("zendesk", b"[]", "body"),
        ("zendesk", b'{"type": "ticket.created"}', "type"),
        ("jira", b'{"issue": {}}', "webhookEvent"),
        ("freshdesk", b'{"ticket_id": 1}', "freshdesk_webhook"),
        (
            "generic",
            b'{"type": "x", "external_id": "y", "occurred_at": "yesterday"}',
            "occurred_at",
        ),
    ],
)
def test_payloads_we_cannot_use_name_what_is_wrong(fmt: str, raw: bytes, field: str) -> None:
    with pytest.raises(BadPayload) as e:
        FORMATS[fmt].parse(raw, {})
    assert field in e.value.fields


def test_partner_times_in_their_own_shapes() -> None:
    assert instant("2025-01-08T11:30:15.456789012Z", "t") == datetime(
        2025, 1, 8, 11, 30, 15, 456789, tzinfo=UTC
    )
    assert instant("2013-09-06T11:07:19.972-0400", "t") == datetime(
        2013, 9, 6, 15, 7, 19, 972000, tzinfo=UTC
    )
    with pytest.raises(BadPayload):
        instant("2026-11-30T10:00:00", "t")  # no offset
