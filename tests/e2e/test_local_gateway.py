"""What the local stack answers where `chalice local` and moto's server alone would
not hold the contract (issue 20): unknown routes and methods, a declared body over
the limit, readiness, and transactions whose cost does not grow with the table."""

from __future__ import annotations

import socket
import statistics
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.e2e.conftest import Stack, free_port, running_stack

pytestmark = pytest.mark.e2e


def _error(r: requests.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert set(body["error"]) == {"code", "message", "fields"}, body


def _raw(stack: Stack, request: bytes, timeout: float = 10) -> bytes:
    """Send raw bytes, read the answer until the server closes or goes quiet."""
    url = urlsplit(stack.api)
    with socket.create_connection((url.hostname or "", url.port or 80), timeout=timeout) as s:
        s.sendall(request)
        answer = b""
        try:
            while chunk := s.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer and answer.rstrip().endswith(b"}"):
                    break
        except TimeoutError:
            pass
        return answer


def test_unknown_routes_are_404_and_other_methods_405_in_the_contract_shape(
    stack: Stack,
) -> None:
    _error(stack.call("GET", "/nope"), 404, "not_found")
    # a bearer header is not echoed back (chalice local: a SigV4 message repeating it)
    r = stack.call("GET", "/tickets/x/nope", stack.keys["AGENT"])
    _error(r, 404, "not_found")
    assert stack.keys["AGENT"] not in r.text
    _error(stack.call("DELETE", "/tickets"), 405, "method_not_allowed")
    # methods Python's http.server has no handler for (it answered 501 in HTML)
    r = requests.request("TRACE", stack.api + "/tickets", timeout=10)
    _error(r, 405, "method_not_allowed")
    assert "GET" in r.headers["Allow"]
    _error(requests.request("QUERY", stack.api + "/nope", timeout=10), 404, "not_found")


def test_a_declared_body_over_the_limit_is_413_before_it_is_read(stack: Stack) -> None:
    started = time.monotonic()
    answer = _raw(
        stack,
        b"POST /tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 99999999999\r\n\r\n{",
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"payload_too_large"' in answer
    assert time.monotonic() - started < 5
    answer = _raw(
        stack,
        b"POST /tickets HTTP/1.1\r\nHost: x\r\nContent-Length: lots\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    # the server is still there
    assert stack.call("GET", "/health").status_code == 200


def test_health_answers_200_only_once_the_demo_keys_work(tmp_path: Path) -> None:
    from dev import demo

    customer = demo.derived_key(demo.seed(tmp_path), "demo-aivo/customer")
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    seen: list[tuple[int, int]] = []  # (health, GET /tickets with the demo key)
    stop = threading.Event()

    def poll() -> None:
        session = requests.Session()
        while not stop.is_set():
            try:
                health = session.get(api + "/health", timeout=5).status_code
            except requests.RequestException:
                time.sleep(0.02)
                continue
            if health == 200:
                r = session.get(
                    api + "/tickets", headers={"Authorization": f"Bearer {customer}"}, timeout=5
                )
                seen.append((health, r.status_code))
                return
            seen.append((health, 0))
            time.sleep(0.02)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        with running_stack(tmp_path, api_port=port):
            poller.join(timeout=30)
    finally:
        stop.set()
    assert seen, "the API never answered"
    assert seen[-1] == (200, 200), seen[-5:]
    assert {h for h, _ in seen[:-1]} <= {503}, seen


def _median_transaction_seconds(client: Any, table: str, rounds: int = 15) -> float:
    took = []
    for i in range(rounds):
        started = time.perf_counter()
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": f"t-{i}"}, "v": {"N": "1"}}}}
            ]
        )
        took.append(time.perf_counter() - started)
    return statistics.median(took)


def test_a_transaction_costs_what_it_touches_not_the_table(stack: Stack) -> None:
    client = stack.aws("dynamodb")
    tables = {}
    for size in (0, 3000):
        name = f"costs-{size}-{uuid.uuid4().hex[:6]}"
        client.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        filler = {"S": "x" * 200}
        for start in range(0, size, 25):
            client.batch_write_item(
                RequestItems={
                    name: [
                        {"PutRequest": {"Item": {"pk": {"S": f"i-{n}"}, "f": filler}}}
                        for n in range(start, start + 25)
                    ]
                }
            )
        tables[size] = name
    try:
        small = _median_transaction_seconds(client, tables[0])
        big = _median_transaction_seconds(client, tables[3000])
        # moto alone deep-copies the 3,000 items on each call: tens of times slower
        assert big < 3 * small + 0.02, (big, small)
    finally:
        for name in tables.values():
            client.delete_table(TableName=name)
