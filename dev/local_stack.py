"""`make dev`: the whole of slaguard on one machine.

Starts the embedded AWS (moto's server, in-process, one DynamoDB request at a time),
creates the stage's tables, topic and a queue subscribed to the topic from the same
definitions the cloud stack uses, loads the shipped policies, recreates the demo
tenants and their keys (the same at every start, written to .dev/keys.env), serves
the API with chalice's local gateway, runs the real `breach_checker` handler every
minute with the current time, and prints one line per alert and per checker run.
Ctrl-C stops it all.

The embedded AWS keeps everything in memory: tickets, tenants and custom policies
are gone after a restart; the demo tenants and keys come back the same.

Dev-only: it lives outside chalicelib/ so it is never packaged into the Lambda.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dev import console, demo
from dev.embedded_aws import EmbeddedAws, port_is_free

ROOT = Path(__file__).resolve().parent.parent


def stage_environment(stage: str) -> dict[str, str]:
    """The environment variables `.chalice/config.json` gives this stage."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = dict(config.get("environment_variables", {}))
    env.update(config["stages"][stage].get("environment_variables", {}))
    return env


def next_free_port(port: int, taken: set[int]) -> int:
    candidate = port + 1
    while candidate in taken or not port_is_free(candidate):
        candidate += 1
    return candidate


def busy_port_line(api_port: int, aws_port: int) -> str | None:
    """One line naming each busy port and the command that picks free ones, or None."""
    busy = [
        (name, port)
        for name, port in (("the API", api_port), ("the embedded AWS", aws_port))
        if not port_is_free(port)
    ]
    if not busy:
        return None
    api = next_free_port(api_port, {aws_port}) if not port_is_free(api_port) else api_port
    aws = next_free_port(aws_port, {api}) if not port_is_free(aws_port) else aws_port
    what = " and ".join(f"port {port} ({name})" for name, port in busy)
    verb = "are" if len(busy) > 1 else "is"
    return (
        f"make dev: {what} {verb} in use; pick free ports: make dev API_PORT={api} AWS_PORT={aws}"
    )


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


def alert_of(body: str) -> dict[str, Any]:
    """The alert a queued message carries (raw delivery: the body is the alert)."""
    doc = json.loads(body)
    return doc if isinstance(doc, dict) else {"body": doc}


def alert_line(alert: dict[str, Any]) -> str:
    """One readable line: type, ticket, metric, threshold, due; the id subscribers dedupe on.
    A proposal's notice (A8): its proposal, tenant and contact, and its summary."""
    if alert.get("proposal_id"):
        who = f"({alert.get('tenant_id')}, {alert.get('contact')})"
        return f"ALERT {alert.get('type')} proposal {alert['proposal_id']} {who}: " + str(
            alert.get("summary")
        )
    parts = [f"ALERT {alert.get('type', '?')}", f"ticket {alert.get('ticket_id')}"]
    parts.append(f"({alert.get('tenant_id')}, {alert.get('priority')})")
    if alert.get("metric"):
        parts.append(str(alert["metric"]))
    if alert.get("threshold_pct") is not None:
        parts.append(f"{alert['threshold_pct']}%")
    if alert.get("due_at"):
        parts.append(f"due {alert['due_at']}")
    parts.append(f"id={alert.get('id')}")
    return " ".join(parts)


def print_alerts(queue_url: str, stop: threading.Event, verbose: bool) -> None:
    from chalicelib import aws

    sqs = aws.client("sqs")
    while not stop.is_set():
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in got.get("Messages", []):
            try:
                print(alert_line(alert_of(message["Body"])), flush=True)
            except json.JSONDecodeError:
                print(f"ALERT (not JSON) {message['Body']}", flush=True)
            if verbose:
                print(f"  {message['Body']}", flush=True)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def scheduled_event(at: str) -> dict[str, Any]:
    """The EventBridge event the `rate(1 minute)` rule would send at `at`."""
    return {
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


def run_checker_every(interval: float, stop: threading.Event) -> None:
    """Invoke the real scheduled handler, as EventBridge would, with the current time."""
    from chalice.local import LambdaContext

    import app as application

    while not stop.wait(interval - (time.time() % interval)):
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        started = time.monotonic()
        try:
            # Lambda always hands a context (the app's Powertools logger reads it)
            context = LambdaContext("breach_checker", memory_size=512, max_runtime_ms=25000)
            result = application.breach_checker(scheduled_event(at), context)
        except Exception:  # noqa: BLE001 - a failed run is reported in full; the next one retries
            print(f"checker {at}: failed", flush=True)
            traceback.print_exc()
            continue
        took = time.monotonic() - started
        print(
            f"checker {at}: {result['evaluated']} evaluated, {result['alerts']} alerts "
            f"({took:.2f} s)",
            flush=True,
        )


def ready_file(state_dir: Path) -> Path:
    """Written once the demo tenants and keys are in place: the API's /health waits for it."""
    state_dir.mkdir(parents=True, exist_ok=True)
    return state_dir / "ready"


def wait_healthy(api: subprocess.Popen[bytes], url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and api.poll() is None:
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as r:  # noqa: S310 - our own URL
                if r.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    return False


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="make dev",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Ports: make dev API_PORT=8001 AWS_PORT=5001; everything: make dev V=1",
    )
    api_port, aws_port = os.environ.get("API_PORT") or 8000, os.environ.get("AWS_PORT") or 5000
    parser.add_argument("--api-port", type=int, default=int(api_port), help="(API_PORT)")
    parser.add_argument(
        "--aws-port", "--moto-port", type=int, default=int(aws_port), help="(AWS_PORT)"
    )
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--interval", type=float, default=60.0, help="checker period, seconds")
    parser.add_argument(
        "--state-dir", type=Path, default=ROOT / ".dev", help="seed and keys.env (.dev/)"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="every log line, request and EMF metric"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    if line := busy_port_line(args.api_port, args.aws_port):
        print(line, file=sys.stderr, flush=True)
        return 2
    console.configure(args.verbose)
    try:
        aws = EmbeddedAws(args.aws_port)
    except OSError as e:
        print(f"make dev: port {args.aws_port} (the embedded AWS): {e.strerror}", file=sys.stderr)
        return 2
    aws.start()
    os.environ.update(stage_environment(args.stage))
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": aws.endpoint,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "test"),
            "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        }
    )
    # The API process starts (imports, binds) while the resources and demo data are
    # made; its /health answers 503 until they are (the ready file).
    ready = ready_file(args.state_dir)
    ready.unlink(missing_ok=True)
    command = [sys.executable, "-m", "dev.api_server", "--port", str(args.api_port)]
    command += ["--stage", args.stage, "--ready-file", str(ready)]
    command += ["-v"] if args.verbose else []
    api = subprocess.Popen(command, cwd=ROOT, env=os.environ.copy())  # noqa: S603 - fixed argv
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    try:
        return serve(args, aws, api, stop, on_signal, started)
    except KeyboardInterrupt:  # Ctrl-C before the handlers were in place
        return 0
    finally:
        print("stopping", flush=True)
        if api.poll() is None:
            api.terminate()
        try:
            api.wait(timeout=10)
        except subprocess.TimeoutExpired:
            api.kill()
        aws.stop()


def serve(
    args: argparse.Namespace,
    aws: EmbeddedAws,
    api: subprocess.Popen[bytes],
    stop: threading.Event,
    on_signal: Any,
    started: float,
) -> int:
    from chalicelib.cli import bootstrap

    bootstrap(demo.PROVIDER, "Provider")  # its random admin key is not used: ADMIN is
    keys = demo.create(demo.seed(args.state_dir))
    queue_url = subscribe_queue(os.environ.get("ALERTS_QUEUE_NAME", "slaguard-alerts-tail"))
    api_url = f"http://127.0.0.1:{args.api_port}"
    keys_env, aws_env = demo.write_env(args.state_dir, api_url, aws.endpoint, keys)
    ready_file(args.state_dir).touch()  # /health answers 200 from now on
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    if not wait_healthy(api, api_url, 60):
        print("make dev: the API did not come up (see above)", file=sys.stderr, flush=True)
        return 2
    print(f"embedded AWS on {aws.endpoint} (in memory: empty at every start; {_shown(aws_env)})")
    print(f"admin key:    {keys['ADMIN']}  (tenant {demo.PROVIDER})")
    print(
        f"demo keys:    source {_shown(keys_env)}  (ADMIN, AGENT, CUSTOMER...: the same each start)"
    )
    print(f"agents' queue: {queue_line(api_url)}  (what breaches next; docs/queue.md)")
    print(
        f"API on {api_url} (reference: {api_url}/docs), ready in "
        f"{time.monotonic() - started:.1f} s; Ctrl-C stops",
        flush=True,
    )
    for target, targs in (
        (print_alerts, (queue_url, stop, args.verbose)),
        (run_checker_every, (args.interval, stop)),
    ):
        threading.Thread(target=target, args=targs, daemon=True).start()
    while not stop.is_set():
        if api.poll() is not None:
            print("make dev: the API exited", file=sys.stderr, flush=True)
            return 1
        stop.wait(0.5)
    return 0


def queue_line(api_url: str) -> str:
    """The one curl line that shows the agents' queue (with $AGENT of .dev/keys.env)."""
    return f'curl -s "{api_url}/queue" -H "Authorization: Bearer $AGENT"'


def _shown(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


if __name__ == "__main__":
    if "MALLOC_ARENA_MAX" not in os.environ:
        # glibc gives each busy thread a malloc arena of its own (up to 8 per core) and
        # keeps what they freed: with a thread per connection in both servers, resident
        # memory grew by hundreds of MB under 32 clients (docs/performance.md). Two
        # arenas, for this process and the API it starts (which inherits it).
        os.environ["MALLOC_ARENA_MAX"] = "2"
        os.execv(sys.executable, sys.orig_argv)  # noqa: S606 - this very command again
    sys.exit(main())
