"""`make dev`: the whole of slaguard on one machine.

Starts the embedded AWS (moto's server, in-process), creates the stage's table,
topic and a queue subscribed to the topic from the same definitions the cloud
stack uses, loads the shipped policies, creates a demo customer, serves the API
with `chalice local`, runs the real `breach_checker` handler every minute with the
current time, and prints every alert that reaches the queue. Ctrl-C stops it all.

Dev-only: it lives outside chalicelib/ so it is never packaged into the Lambda.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEMO_TENANT = "demo"


def stage_environment(stage: str) -> dict[str, str]:
    """The environment variables `.chalice/config.json` gives this stage."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = dict(config.get("environment_variables", {}))
    env.update(config["stages"][stage].get("environment_variables", {}))
    return env


def start_moto(port: int) -> Any:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server


def subscribe_queue(queue_name: str) -> str:
    """A queue subscribed to the alerts topic (raw delivery: the body is the alert)."""
    from chalicelib import aws
    from chalicelib.settings import get_settings

    sqs = aws.client("sqs")
    queue_url: str = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    aws.client("sns").subscribe(
        TopicArn=get_settings().alerts_topic_arn,
        Protocol="sqs",
        Endpoint=arn["Attributes"]["QueueArn"],
        Attributes={"RawMessageDelivery": "true"},
    )
    return queue_url


def demo_tenant() -> dict[str, Any]:
    """The demo customer (Aivo policy) and a customer key for it."""
    from chalicelib.cli import create_tenant, issue_key
    from chalicelib.errors import Conflict

    with contextlib.suppress(Conflict):
        create_tenant({"id": DEMO_TENANT, "name": "Demo Customer SA", "policy": "aivo"})
    return issue_key(DEMO_TENANT, "customer", "demo@customer.example")


def print_alerts(queue_url: str, stop: threading.Event) -> None:
    from chalicelib import aws

    sqs = aws.client("sqs")
    while not stop.is_set():
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in got.get("Messages", []):
            print(f"ALERT {message['Body']}", flush=True)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def run_checker_every(interval: float, stop: threading.Event) -> None:
    """Invoke the real scheduled handler, as EventBridge would, with the current time."""
    from chalice.local import LambdaContext

    import app as application

    while not stop.wait(interval - (time.time() % interval)):
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        event = {
            "version": "0",
            "id": f"local-{at}",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": at,
            "region": os.environ["AWS_DEFAULT_REGION"],
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/breach_checker"],
            "detail": {},
        }
        try:
            # Lambda always hands a context (the app's Powertools logger reads it)
            context = LambdaContext("breach_checker", memory_size=512, max_runtime_ms=25000)
            result = application.breach_checker(event, context)
        except Exception:  # noqa: BLE001 - a failed run is reported; the next minute retries
            traceback.print_exc()
            continue
        print(f"breach_checker at {at}: {json.dumps(result)}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--moto-port", type=int, default=5000)
    parser.add_argument("--api-port", type=int, default=8000)
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--interval", type=float, default=60.0, help="checker period, seconds")
    args = parser.parse_args()

    endpoint = f"http://127.0.0.1:{args.moto_port}"
    os.environ.update(stage_environment(args.stage))
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "test"),
            "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        }
    )
    server = start_moto(args.moto_port)
    from chalicelib.cli import bootstrap

    boot = bootstrap("provider", "Provider")
    queue_url = subscribe_queue(os.environ.get("ALERTS_QUEUE_NAME", "slaguard-alerts-tail"))
    demo = demo_tenant()
    print(f"embedded AWS on {endpoint} (region us-east-1, any credentials)", flush=True)
    print(f"admin key:    {boot['api_key']}  (tenant {boot['tenant_id']})", flush=True)
    print(f"demo tenant:  {DEMO_TENANT} (policy aivo), customer key {demo['api_key']}", flush=True)
    print(json.dumps({"tenant_id": boot["tenant_id"], "api_key": boot["api_key"]}), flush=True)

    chalice = Path(sys.executable).with_name("chalice")
    api = subprocess.Popen(  # noqa: S603 - our own venv's chalice, fixed arguments
        [
            str(chalice),
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            str(args.api_port),
            "--stage",
            args.stage,
            "--no-autoreload",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
    )
    print(
        f"API on http://127.0.0.1:{args.api_port} (chalice local, stage {args.stage})", flush=True
    )

    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    threads = [
        threading.Thread(target=print_alerts, args=(queue_url, stop), daemon=True),
        threading.Thread(target=run_checker_every, args=(args.interval, stop), daemon=True),
    ]
    for t in threads:
        t.start()
    while not stop.is_set():
        if api.poll() is not None:
            print("chalice local exited", file=sys.stderr, flush=True)
            stop.set()
            break
        stop.wait(0.5)
    print("stopping", flush=True)
    api.terminate()
    try:
        api.wait(timeout=10)
    except subprocess.TimeoutExpired:
        api.kill()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
