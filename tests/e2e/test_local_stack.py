"""The local stack over real HTTP: the same code `make dev` runs, on free ports."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Stack:
    def __init__(self, proc: subprocess.Popen[str], api: str, moto: str) -> None:
        self.proc = proc
        self.api = api
        self.moto = moto
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line)

    def read_until(self, predicate: Any, timeout: float) -> str:
        deadline = time.time() + timeout
        while (left := deadline - time.time()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            self.lines.append(line)
            if predicate(line):
                return line
        raise AssertionError("stack output so far:\n" + "".join(self.lines))

    def collect(self, seconds: float) -> None:
        """Take in every line printed within `seconds`."""
        deadline = time.time() + seconds
        while (left := deadline - time.time()) > 0:
            try:
                self.lines.append(self._queue.get(timeout=left))
            except queue.Empty:
                break

    def call(self, method: str, path: str, key: str | None = None, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return requests.request(method, self.api + path, json=body, headers=headers, timeout=10)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    moto_port, api_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-u",
            "-m",
            "dev.local_stack",
            "--moto-port",
            str(moto_port),
            "--api-port",
            str(api_port),
            "--interval",
            "2",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    s = Stack(proc, f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{moto_port}")
    try:
        s.read_until(lambda line: line.startswith("API on"), 90)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if requests.get(s.api + "/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.3)
        yield s
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def test_a_customer_opens_and_reads_a_ticket_over_http(stack: Stack) -> None:
    boot = json.loads(next(line for line in stack.lines if line.startswith("{")))
    admin = boot["api_key"]
    r = stack.call(
        "POST", "/admin/tenants", admin, {"id": "e2e-acme", "name": "Acme SA", "policy": "aivo"}
    )
    assert r.status_code == 201, r.text
    r = stack.call("POST", "/admin/tenants/e2e-acme/keys", admin, {"role": "customer"})
    assert r.status_code == 201, r.text
    customer = r.json()["api_key"]
    r = stack.call(
        "POST",
        "/tickets",
        customer,
        {"title": "Down", "description": "All down", "kind": "incident", "priority": "blocker"},
    )
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert [t["metric"] for t in ticket["sla"]["targets"]] == ["first_response", "resolution"]
    r = stack.call("GET", f"/tickets/{ticket['id']}", customer)
    assert r.status_code == 200
    assert r.json()["id"] == ticket["id"]
    r = stack.call("GET", "/tickets", None)
    assert r.status_code == 401
    assert "error" in r.json()


def test_the_scheduled_checker_runs_and_the_topic_exists(stack: Stack) -> None:
    line = stack.read_until(lambda line: line.startswith("breach_checker at"), 30)
    result = json.loads(line.split(": ", 1)[1])
    assert set(result) == {"evaluated", "alerts"}
    import boto3

    sns = boto3.client(
        "sns",
        endpoint_url=stack.moto,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    arns = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert any(arn.endswith(":slaguard-alerts") for arn in arns), arns


def test_cli_check_prints_exactly_one_json_line_and_the_alerts_arrive(stack: Stack) -> None:
    """API.md, Operations: `check --at` runs the checker once and prints one line;
    the stack's queue printer shows the alerts it published."""
    boot = json.loads(next(line for line in stack.lines if line.startswith("{")))
    admin = boot["api_key"]
    r = stack.call("POST", f"/admin/tenants/{boot['tenant_id']}/keys", admin, {"role": "agent"})
    agent = r.json()["api_key"]
    reported = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 2 * 3600))
    r = stack.call(
        "POST",
        "/tickets",
        agent,
        {
            "tenant_id": "e2e-acme",
            "title": "Down",
            "description": "All down",
            "kind": "incident",
            "priority": "blocker",
            "reported_at": reported,
        },
    )
    assert r.status_code == 201, r.text
    from dev.local_stack import stage_environment

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(stage_environment("dev"))  # what an operator of the dev stage has set
    env.update(
        AWS_ENDPOINT_URL=stack.moto,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="x",
        AWS_SECRET_ACCESS_KEY="x",
    )
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    done = subprocess.run(
        [sys.executable, "-m", "chalicelib.cli", "check", "--at", at],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    (line,) = done.stdout.splitlines()
    assert set(json.loads(line)) == {"evaluated", "alerts"}
    # Whichever ran first (this command or the stack's own 2-second schedule), each
    # threshold of the back-dated blocker reaches the queue exactly once.
    ticket_id = r.json()["id"]
    stack.read_until(lambda text: f"{ticket_id}:first_response#200" in text, 30)
    stack.collect(5)  # later runs must not publish it again
    ids = [
        json.loads(text.removeprefix("ALERT "))["id"]
        for text in stack.lines
        if text.startswith("ALERT ") and ticket_id in text
    ]
    assert sorted(ids) == sorted(f"{ticket_id}:first_response#{p}" for p in (75, 100, 150, 200))


def test_a_partner_helpdesk_posts_a_signed_webhook_over_http(stack: Stack) -> None:
    """A Standard Webhooks sender signs with the `standardwebhooks` library, as a
    partner would; the ticket it reports is opened and linked."""
    from datetime import UTC, datetime

    from standardwebhooks import Webhook

    boot = json.loads(next(line for line in stack.lines if line.startswith("{")))
    admin = boot["api_key"]
    r = stack.call(
        "POST",
        "/admin/partners",
        admin,
        {"id": "e2e-helpdesk", "tenant_id": "e2e-acme", "format": "generic"},
    )
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    now = datetime.now(UTC)
    body = json.dumps(
        {
            "type": "ticket.created",
            "external_id": "HD-1",
            "occurred_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "ticket": {"title": "Export fails", "description": "Timeouts", "priority": "high"},
        }
    )
    headers = {
        "Content-Type": "application/json",
        "webhook-id": "msg_e2e_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign("msg_e2e_1", now, body),
    }
    r = requests.post(stack.api + "/webhooks/e2e-helpdesk", data=body, headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["applied"] is True
    again = requests.post(
        stack.api + "/webhooks/e2e-helpdesk", data=body, headers=headers, timeout=10
    )
    assert again.json() == {"ticket_id": r.json()["ticket_id"], "applied": False}
    headers["webhook-signature"] = Webhook(secret).sign("msg_e2e_1", now, body + " ")
    refused = requests.post(
        stack.api + "/webhooks/e2e-helpdesk", data=body, headers=headers, timeout=10
    )
    assert refused.status_code == 401
    r = stack.call("POST", f"/admin/tenants/{boot['tenant_id']}/keys", admin, {"role": "agent"})
    ticket = stack.call("GET", f"/tickets/{again.json()['ticket_id']}", r.json()["api_key"]).json()
    assert (ticket["channel"], ticket["priority"], ticket["tenant_id"]) == (
        "webhook",
        "high",
        "e2e-acme",
    )


def test_ctrl_c_stops_everything(stack: Stack) -> None:
    os.killpg(stack.proc.pid, signal.SIGINT)
    assert stack.proc.wait(timeout=20) == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(stack.api + "/health", timeout=1)
