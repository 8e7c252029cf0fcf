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


def test_ctrl_c_stops_everything(stack: Stack) -> None:
    os.killpg(stack.proc.pid, signal.SIGINT)
    assert stack.proc.wait(timeout=20) == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(stack.api + "/health", timeout=1)
