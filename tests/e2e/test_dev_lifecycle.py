"""`make dev` as a developer meets it: a busy port, Ctrl-C, a restart that keeps the keys."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import ROOT, aws_free_env, free_port, read_env, running_stack

pytestmark = pytest.mark.e2e
MAKE = shutil.which("make") or "make"


@pytest.mark.parametrize("busy", ["api", "aws"])
def test_a_busy_port_fails_at_once_with_one_line_naming_it_and_the_fix(
    busy: str, tmp_path: Path
) -> None:
    api_port, aws_port = free_port(), free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", api_port if busy == "api" else aws_port))
        taken.listen()
        started = time.monotonic()
        done = subprocess.run(
            [MAKE, "-s", "dev", f"API_PORT={api_port}", f"AWS_PORT={aws_port}"],
            cwd=ROOT,
            env={**aws_free_env(), "MAKEFLAGS": ""},
            capture_output=True,
            text=True,
            timeout=60,
        )
        took = time.monotonic() - started
    assert done.returncode != 0
    assert took < 10, took
    ours = [line for line in done.stderr.splitlines() if line.startswith("make dev:")]
    assert len(ours) == 1, done.stderr
    port = api_port if busy == "api" else aws_port
    assert f"port {port} (the {'API' if busy == 'api' else 'embedded AWS'}) is in use" in ours[0]
    assert "make dev API_PORT=" in ours[0]
    assert "AWS_PORT=" in ours[0]
    assert "Traceback" not in done.stderr + done.stdout


def test_ctrl_c_stops_everything_and_a_restart_gives_back_the_same_keys(tmp_path: Path) -> None:
    """The embedded AWS forgets everything; the demo tenants and keys come back the same."""
    api_port, moto_port = free_port(), free_port()
    with running_stack(tmp_path, api_port=api_port, moto_port=moto_port) as first:
        keys = first.keys
        r = first.call(
            "POST",
            "/tickets",
            keys["CUSTOMER"],
            {
                "title": "Bot down",
                "description": "No answers",
                "kind": "incident",
                "priority": "high",
            },
        )
        assert r.status_code == 201, r.text
        assert first.stop() == 0
        with pytest.raises(requests.ConnectionError):
            requests.get(first.api + "/health", timeout=1)
        with pytest.raises(requests.ConnectionError):
            requests.get(first.moto, timeout=1)
    assert set(keys) >= {
        "API",
        "ADMIN",
        "AGENT",
        "CUSTOMER",
        "CUSTOMER_KEYBE",
        "CUSTOMER_CLEVER_IDEAS",
        "CUSTOMER_DIGITAL_EXPRESS",
        "CUSTOMER_NO_CONTRACT",
    }
    with running_stack(tmp_path, api_port=api_port, moto_port=moto_port) as second:
        assert second.keys == keys
        for name in (
            "CUSTOMER",
            "CUSTOMER_KEYBE",
            "CUSTOMER_CLEVER_IDEAS",
            "CUSTOMER_DIGITAL_EXPRESS",
            "CUSTOMER_NO_CONTRACT",
            "AGENT",
        ):
            r = second.call("GET", "/tickets", keys[name])
            assert r.status_code == 200, (name, r.text)
        # the ticket of the first run is gone: the embedded AWS keeps nothing
        assert second.call("GET", "/tickets", keys["CUSTOMER"]).json()["items"] == []
        tenants = [
            second.call("GET", f"/admin/tenants/{t}", keys["ADMIN"]).json()["policy"]
            for t in (
                "demo-aivo",
                "demo-keybe",
                "demo-clever-ideas",
                "demo-digital-express",
                "demo-express-no-contract",
            )
        ]
        assert tenants == ["aivo", "keybe", "clever_ideas", "digital_express", "digital_express"]
        no_contract = second.call("GET", "/admin/tenants/demo-express-no-contract", keys["ADMIN"])
        assert not (no_contract.json().get("contract") or {}).get("active")  # DX2: charged
    assert read_env(tmp_path / "aws.env")["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{moto_port}"
