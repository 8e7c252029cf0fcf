"""A ticket change is applied once even when DynamoDB's answer to its transaction
is lost and botocore retries it: every TransactWriteItems carries a
ClientRequestToken, one per logical write (botocore fills it in: the service model
marks it an idempotency token), so DynamoDB acknowledges the retry instead of
failing its version condition (which would read as a lost race and apply the
change a second time). These tests pin that: a store that bypassed botocore's
parameter build, or reused a token, would fail them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ConnectionClosedError

from tests.integration.helpers import INCIDENT, Api, Customer, done

TRANSACT = "before-send.dynamodb.TransactWriteItems"


class LostAnswer:
    """A botocore `before-send` hook on the store's client that plays DynamoDB
    with its answer lost once: the first transaction is applied (by moto) and
    then the connection drops, so botocore retries the same request; a retry
    with that request's token gets the first answer again, as DynamoDB answers
    a token it has seen (moto does not keep tokens)."""

    def __init__(self) -> None:
        self.tokens: list[str | None] = []
        self._first: tuple[str | None, Any] | None = None
        self.armed = False

    def __call__(self, request: Any, **kwargs: Any) -> Any:
        from moto.core.models import botocore_stubber

        token = json.loads(request.body).get("ClientRequestToken")
        self.tokens.append(token)
        if self.armed and self._first is None:
            answer = botocore_stubber(event_name=TRANSACT, request=request)
            self._first = (token, answer)
            raise ConnectionClosedError(endpoint_url=request.url)
        if self._first is not None and token is not None and token == self._first[0]:
            return self._first[1]
        return None


@pytest.fixture
def lost_answer(api: Api) -> Iterator[LostAnswer]:
    from chalicelib.store.models import TicketItem

    hook = LostAnswer()
    events = TicketItem._get_connection().connection.client.meta.events
    events.register_first(TRANSACT, hook)
    try:
        yield hook
    finally:
        events.unregister(TRANSACT, hook)


def test_every_transaction_sends_a_fresh_token(
    api: Api, customer: Customer, agent_key: str, lost_answer: LostAnswer
) -> None:
    _, ticket = api.post("/tickets", customer.key, INCIDENT)
    done(api, agent_key, ticket["id"], "log_time", minutes=5)
    assert len(lost_answer.tokens) == 2
    assert all(lost_answer.tokens)
    assert len(set(lost_answer.tokens)) == 2


def test_a_lost_answer_retried_by_botocore_is_applied_once(
    api: Api, customer: Customer, agent_key: str, lost_answer: LostAnswer
) -> None:
    """log_time whose transaction answer is lost: 200, the minutes counted once,
    one history entry (not 10 minutes and two entries)."""
    _, ticket = api.post("/tickets", customer.key, INCIDENT)
    lost_answer.armed, lost_answer.tokens = True, []
    after = done(api, agent_key, ticket["id"], "log_time", minutes=5)
    assert after["fields"]["logged_minutes"] == 5
    first, retry = lost_answer.tokens[:2]
    assert first is not None
    assert retry == first
    _, history = api.get(f"/tickets/{ticket['id']}/events", agent_key)
    assert [e["type"] for e in history["items"]].count("action.log_time") == 1
