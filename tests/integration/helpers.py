"""What integration tests share, beside the fixtures: an API user over Chalice's
test client, a customer, the sample ticket, the contract's error shape, actions,
the breach checker invoked as EventBridge does, and a partner helpdesk posting its
signed fixtures."""

from __future__ import annotations

import contextlib
import copy
import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.partner_helpdesks import dumps, fixture, retimed, signed

ROOT = Path(__file__).resolve().parents[2]  # the repository


@contextlib.contextmanager
def aws_spy(seen: Callable[[str, Any], object]) -> Iterator[None]:
    """`seen(operation, parameters)` for every AWS API call made meanwhile (boto3
    and PynamoDB both go through botocore's `_make_api_call`)."""
    import botocore.client

    original = botocore.client.BaseClient._make_api_call

    def spying(client: Any, operation: str, params: Any) -> Any:
        seen(operation, params)
        return original(client, operation, params)

    botocore.client.BaseClient._make_api_call = spying
    try:
        yield
    finally:
        botocore.client.BaseClient._make_api_call = original


def raw_ticket_item(ticket_id: str) -> dict[str, Any]:
    """A ticket's item as DynamoDB stores it (a consistent GetItem, no model)."""
    from chalicelib import aws
    from chalicelib.settings import get_settings

    item: dict[str, Any] = aws.client("dynamodb").get_item(
        TableName=get_settings().table_name,
        Key={"pk": {"S": f"TICKET#{ticket_id}"}, "sk": {"S": "TICKET"}},
        ConsistentRead=True,
    )["Item"]
    return item


def reset_connections() -> None:
    """Forget cached AWS clients and PynamoDB connections (a fresh mock)."""
    from chalicelib.aws import reset_connections as reset

    reset()


class Api:
    """A thin HTTP user of the app through Chalice's test client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def call(
        self,
        method: str,
        path: str,
        key: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw: bytes | str | None = None,
    ) -> tuple[int, Any]:
        h = {"Content-Type": "application/json"}
        if key is not None:
            h["Authorization"] = f"Bearer {key}"
        h.update(headers or {})
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        kwargs: dict[str, Any] = {"headers": h}
        if data is not None:
            kwargs["body"] = data
        response = getattr(self.client.http, method.lower())(path, **kwargs)
        payload = json.loads(response.body) if response.body else None
        return response.status_code, payload

    def get(self, path: str, key: str | None = None, **kw: Any) -> tuple[int, Any]:
        return self.call("GET", path, key, **kw)

    def post(self, path: str, key: str | None, body: Any = None, **kw: Any) -> tuple[int, Any]:
        return self.call("POST", path, key, body, **kw)

    def patch(self, path: str, key: str | None, body: Any = None, **kw: Any) -> tuple[int, Any]:
        return self.call("PATCH", path, key, body, **kw)

    def put(self, path: str, key: str | None, body: Any = None, **kw: Any) -> tuple[int, Any]:
        return self.call("PUT", path, key, body, **kw)


class Customer:
    def __init__(self, tenant_id: str, key: str) -> None:
        self.tenant_id = tenant_id
        self.key = key


# A value of every kind a map attribute holds, as a document or a ticket's `fields`.
EVERY_KIND: dict[str, object] = {
    "empty": "",
    "none": None,
    "flag": False,
    "ratio": 1.5,
    "big": 10**20,
    "list": [1, "a", None, {"deep": [True, {}]}],
    "map": {},
}

INCIDENT = {
    "title": "Bot down",
    "description": "The bot does not answer",
    "kind": "incident",
    "priority": "high",
}


def assert_error(status: int, body: Any, expected: int, code: str | None = None) -> None:
    """The contract's error shape (docs/api.md, Errors) with that status (and code)."""
    assert status == expected, body
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["message"], str)
    if code is not None:
        assert body["error"]["code"] == code, body


def act(api: Api, key: str, ticket_id: str, action: str, **params: Any) -> tuple[int, Any]:
    """POST /tickets/{id}/actions `{action, **params}`: (status, body)."""
    return api.post(f"/tickets/{ticket_id}/actions", key, {"action": action, **params})


def done(api: Api, key: str, ticket_id: str, action: str, **params: Any) -> dict[str, Any]:
    """An action that must succeed: the ticket after it."""
    status, ticket = act(api, key, ticket_id, action, **params)
    assert status == 200, ticket
    return dict(ticket)


def run_checker(api: Api, at: datetime) -> dict[str, int]:
    """Invoke `breach_checker` exactly as EventBridge does, with `at` as the event time."""
    event = api.client.events.generate_cw_event(
        source="aws.events",
        detail_type="Scheduled Event",
        detail={},
        resources=["arn:aws:events:us-east-1:123456789012:rule/breach_checker"],
        region="us-east-1",
    )
    event["time"] = iso(at)
    result: dict[str, int] = api.client.lambda_.invoke("breach_checker", event).payload
    return result


def run_checker_until_done(api: Api, at: datetime, runs: int = 6) -> dict[str, int]:
    """Runs at `at` until one ends with nothing left. Every ticket of the session due
    by `at` is due for these runs too, and a run that stops near its deadline leaves
    the rest to the next (docs/alerts.md): on a loaded machine a test's own ticket may
    take a few runs. Answers the last run's result."""
    for _ in range(runs):
        result = run_checker(api, at)
        if not result["stopped"]:
            return result
    raise AssertionError(f"{runs} checker runs at {iso(at)} still stopped: {result}")


# --- the breach checker's tests (and the alert and dashboard tests built on them)

BASE = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=30)
_day = iter(range(1, 300))


def fresh_t0() -> datetime:
    """A distinct back-dated report instant per test, so tests don't share instants."""
    return BASE - timedelta(days=next(_day))


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


class Alerts:
    """An SQS queue subscribed to the alerts topic (raw delivery)."""

    def __init__(self, filter_policy: dict[str, Any] | None = None) -> None:
        from chalicelib import aws
        from chalicelib.settings import get_settings

        self.sqs = aws.client("sqs")
        name = f"alerts-{next(_day)}-{id(self)}"
        self.url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])
        attributes = {"RawMessageDelivery": "true"}
        if filter_policy:
            attributes["FilterPolicy"] = json.dumps(filter_policy)
        aws.client("sns").subscribe(
            TopicArn=get_settings().alerts_topic_arn,
            Protocol="sqs",
            Endpoint=arn["Attributes"]["QueueArn"],
            Attributes=attributes,
        )

    def drain(self, ticket_ids: set[str]) -> list[dict[str, Any]]:
        return self.receive(lambda body: body.get("ticket_id") in ticket_ids)

    def notices(self, proposal_id: str) -> list[dict[str, Any]]:
        """The `proposal.approved` notices of one proposal (A8) in the queue."""
        return self.receive(lambda body: body.get("proposal_id") == proposal_id)

    def receive(self, wanted: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        """Empty the queue; the messages `wanted` keeps, their attributes added."""
        got: list[dict[str, Any]] = []
        while True:
            r = self.sqs.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
            )
            messages = r.get("Messages", [])
            if not messages:
                break
            for m in messages:
                body = json.loads(m["Body"])
                body["_attributes"] = {
                    k: v["StringValue"] for k, v in m.get("MessageAttributes", {}).items()
                }
                if wanted(body):
                    got.append(body)
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=m["ReceiptHandle"])
        return got


def open_blocker(api: Api, agent_key: str, tenant_id: str, t0: datetime) -> str:
    """A2: an Aivo blocker, first response 1 h and resolution 6 h on 24x7 clocks."""
    status, ticket = api.post(
        "/tickets",
        agent_key,
        {
            "tenant_id": tenant_id,
            "title": "Platform down",
            "description": "All customers",
            "kind": "incident",
            "priority": "blocker",
            "reported_at": iso(t0),
        },
    )
    assert status == 201, ticket
    return str(ticket["id"])


class RequestClock:
    """The request time the routes see (`chalicelib.api.http.utcnow`), frozen and
    moved by hand; install it with `monkeypatch.setattr(http, "utcnow", clock)`."""

    def __init__(self, now: datetime = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, text: str) -> None:
        self.now = datetime.fromisoformat(text.replace("Z", "+00:00"))


def history(api: Api, key: str, ticket_id: str) -> list[dict[str, Any]]:
    """A ticket's history as its reader sees it (one page of up to 100 entries)."""
    status, page = api.get(f"/tickets/{ticket_id}/events?limit=100", key)
    assert status == 200, page
    return list(page["items"])


def targets_by_metric(ticket: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["metric"]: t for t in ticket["sla"]["targets"]}


# A Keybe failure report with every field K4 asks for.
KEYBE_FAILURE: dict[str, Any] = {
    "title": "Contacts do not load",
    "description": "Agents see an empty list",
    "kind": "failure",
    "fields": {
        "affected_users": ["maria@brand.example"],
        "module": "contacts",
        "device": "pc",
        "occurred_at": "2026-11-10T13:50:00Z",
        "verifications": ["cleared the cache"],
        "evidence": ["https://files.brand.example/contacts.png"],
    },
}


class Helpdesk:
    """A registered partner that posts its own fixtures, signed as it signs them."""

    def __init__(self, api: Api, fmt: str, partner_id: str, secret: str, tenant_id: str) -> None:
        self.api, self.fmt, self.id, self.secret, self.tenant_id = (
            api,
            fmt,
            partner_id,
            secret,
            tenant_id,
        )
        # The ticket's life starts an hour ago (the fixtures' times keep their order).
        self.start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
        self.external = uuid.uuid4().hex[:8]

    def body(self, name: str, **changes: Any) -> bytes:
        data = retimed(fixture(self.fmt, name), self.start)
        relink(self.fmt, data, self.external)
        for key, value in changes.items():
            data[key] = value
        return dumps(data)

    def post(
        self,
        raw: bytes,
        *,
        secret: str | None = None,
        at: datetime | None = None,
        delivery_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        h = signed(self.fmt, secret or self.secret, raw, at=at, delivery_id=delivery_id)
        h.update(headers or {})
        return self.api.post(f"/webhooks/{self.id}", None, raw=raw, headers=h)

    def send(self, name: str, **kw: Any) -> tuple[int, Any]:
        return self.post(self.body(name), **kw)


def relink(fmt: str, data: dict[str, Any], external: str) -> None:
    """Give the fixture's partner ticket an id of this test's own."""
    if fmt == "generic":
        data["external_id"] = f"HD-{external}"
    elif fmt == "zendesk":
        data["detail"]["id"] = external
        data["subject"] = f"zen:ticket:{external}"
        data["id"] = f"{data['id']}-{external}"
    elif fmt == "jira":
        data["issue"]["id"] = external
    else:
        data["freshdesk_webhook"]["ticket_id"] = external


def with_target(doc: dict[str, Any], rule_id: str, metric: str, **duration: Any) -> dict[str, Any]:
    """A copy of a policy document whose rule `rule_id` gives `metric` another
    duration (`hours=16`, `minutes=30`, ...): a draft for what-if."""
    draft = copy.deepcopy(doc)
    rule = next(r for r in draft["target_rules"] if r["id"] == rule_id)
    target = next(t for t in rule["targets"] if t["metric"] == metric)
    for unit in ("seconds", "minutes", "hours", "business_days"):
        target.pop(unit, None)
    target.update(duration)
    return draft
