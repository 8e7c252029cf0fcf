"""The local stack over real HTTP: the same code `make dev` runs, on free ports."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import pytest
import requests

from tests.e2e.conftest import ROOT, Stack, aws_free_env

pytestmark = pytest.mark.e2e


def test_a_customer_opens_and_reads_a_ticket_over_http(stack: Stack) -> None:
    admin = stack.keys["ADMIN"]
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


# What a checker run reports (docs/alerts.md): its worker tasks, how many went to a
# queue, and, for the workers it ran itself, tickets evaluated, alerts, deadline stops.
RUN_FIGURES = {"workers", "queued", "evaluated", "alerts", "stopped"}


def test_the_scheduled_checker_runs_and_the_topic_exists(stack: Stack) -> None:
    line = stack.read_until(lambda line: line.startswith("checker "), 30)
    assert re.fullmatch(r"checker \S+Z: \d+ evaluated, \d+ alerts \(\d+\.\d\d s\)\n", line), line
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
    """Operations (docs/alerts.md): `check --at` runs the checker once and prints one line;
    the stack's queue printer shows the alerts it published."""
    agent = stack.keys["AGENT"]
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

    env = aws_free_env()
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
    assert set(json.loads(line)) == RUN_FIGURES
    assert done.stderr == ""  # its result line only: no EMF, no INFO log (issue 25)
    # Whichever ran first (this command or the stack's own 2-second schedule), each
    # threshold of the back-dated blocker reaches the queue exactly once.
    ticket_id = r.json()["id"]
    stack.read_until(lambda text: f"{ticket_id}:first_response#200" in text, 30)
    stack.collect(5)  # later runs must not publish it again
    ids = [
        text.split(" id=", 1)[1].strip()
        for text in stack.lines
        if text.startswith("ALERT ") and ticket_id in text
    ]
    assert sorted(ids) == sorted(f"{ticket_id}:first_response#{p}" for p in (75, 100, 150, 200))


KNOWN_LINES = (
    r"embedded AWS on http://127\.0\.0\.1:\d+ \(in memory: .*\)",
    r"admin key: +sgk_[\w-]{43}  \(tenant provider\)",
    r"demo keys: +source .*keys\.env .*",
    r"agents' queue: curl -s \"http://127\.0\.0\.1:\d+/queue\" -H \"Authorization: Bearer "
    r"\$AGENT\"  \(what breaches next; docs/queue\.md\)",
    r"API on http://127\.0\.0\.1:\d+ \(reference: .*/docs\), ready in [\d.]+ s; Ctrl-C stops",
    r"checker \S+Z: \d+ evaluated, \d+ alerts \([\d.]+ s\)",
    r"ALERT [a-z_.]+ ticket tkt_\w+ \([\w-]+, \w+\)( [a-z_]+ \d+% due \S+Z)? id=\S+",
)


def test_the_console_is_quiet_one_readable_line_per_alert_and_per_run(stack: Stack) -> None:
    """No credential discovery, EMF blobs, access lines or PynamoDB notes by default:
    every line the stack printed so far is one of its own kinds."""
    stack.collect(3)
    unknown = [
        line
        for line in stack.lines
        if not any(re.fullmatch(pattern, line.rstrip("\n")) for pattern in KNOWN_LINES)
    ]
    assert unknown == [], unknown
    alerts = [line for line in stack.lines if line.startswith("ALERT sla.")]
    assert alerts, stack.lines
    assert re.search(
        r"ALERT sla\.breached ticket tkt_\w+ \(e2e-acme, blocker\) first_response "
        r"100% due \S+Z id=tkt_\w+:first_response#100",
        "".join(alerts),
    )


def test_a_partner_helpdesk_posts_a_signed_webhook_over_http(stack: Stack) -> None:
    """A Standard Webhooks sender signs with the `standardwebhooks` library, as a
    partner would; the ticket it reports is opened and linked."""
    from datetime import UTC, datetime

    from standardwebhooks import Webhook

    admin = stack.keys["ADMIN"]
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
    ticket = stack.call("GET", f"/tickets/{again.json()['ticket_id']}", stack.keys["AGENT"]).json()
    assert (ticket["channel"], ticket["priority"], ticket["tenant_id"]) == (
        "webhook",
        "high",
        "e2e-acme",
    )
