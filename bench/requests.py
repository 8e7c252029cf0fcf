"""What a request costs (issue 24): the product's CPU per request, route by route,
warm and in a fresh process; a benchmark, not a test.

Warm: each route of the API, in-process on moto, called as Lambda calls the API's
handler (`app.app(event, context)`; the event is built beforehand by chalice.local's
converter, as API Gateway would send it: not timed). A request's figure is its
thread's CPU time inside the handler minus the CPU moto spends inside it
(`bench.moto_harness.AwsModel`, no latency modelled): the product's own CPU,
botocore's request building and parsing included, AWS's work excluded. Each route
is warmed (3 requests), then measured over N requests (default 200, in 4 rounds that
visit every route in turn; reads on a tenant of a few tickets, writes on another,
so that a list or a report costs the same in every round): p50 and p95
in ms, and the AWS calls a request makes (its median). The reference, measured in
the same run: the import floor of the dependencies (`bench.coldstart`). Goal:
every single-ticket route within 5 ms of product CPU at p50.

First request: a fresh process (in a Lambda's environment, as `bench.coldstart`)
imports `app` and answers one request against a moto server run by this process;
its CPU time from before `import app` to the answer (the process's CPU: moto's is
in this process, not that one), best of `--runs`, as a ratio to the floor measured
the same way (the dependencies' import, process CPU). Goal: a first POST /tickets
within 1.4x of the floor.

X-Ray is off outside Lambda (Powertools' Tracer), so its per-request cost is not
in these figures; the logger and the metrics run as deployed (metrics flushed to
a discarded stdout).

`--parts` adds what a first POST /tickets costs past `import app`, part by part (each
case a fresh process that also runs the parts before it): pydantic's model machinery,
`pynamodb.models`, botocore's first client and call, slaguard's modules of the
request; the first POST /tickets itself is the last step.

    python -m bench.requests [--requests 200] [--runs 7] [--parts]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import itertools
import json
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import coldstart, moto_harness

GOAL_WARM_MS = 5.0
GOAL_FIRST = 1.4
WARM_UP = 3
ROUNDS = 4
PARTNER_CREATED = {
    "generic": "ticket_created",
    "zendesk": "ticket_created",
    "jira": "issue_created",
    "freshdesk": "ticket_created",
}
# The routes of one ticket (the warm goal's): every other route reads a list or a
# report, or is an admin's.
SINGLE_TICKET = (
    "POST /tickets",
    "GET /tickets/{ticket_id}",
    "GET /tickets/{ticket_id}/events",
    "GET /tickets/{ticket_id}/sla/explain",
    "POST /tickets/{ticket_id}/comments",
    "POST /tickets/{ticket_id}/actions (log_time)",
    "POST /tickets/{ticket_id}/actions (set_priority)",
    "POST /tickets/{ticket_id}/actions (assign)",
    *(f"POST /webhooks/{{partner_id}} ({fmt}, ticket created)" for fmt in PARTNER_CREATED),
)
PAGE = 25  # the API's default page of a list
PROPOSAL = {"title": "Export chats", "description": "As CSV"}
INCIDENT = {
    "title": "Bot down",
    "description": "The bot does not answer",
    "kind": "incident",
    "priority": "high",
}


@dataclass(frozen=True)
class Request:
    """An HTTP request as API Gateway receives it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None = None


def call(method: str, path: str, key: str | None = None, body: Any = None) -> Request:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    return Request(method, path, headers, None if body is None else json.dumps(body).encode())


@dataclass
class Answer:
    status: int
    body: Any
    cpu: float  # seconds of the product's CPU (moto's excluded)
    calls: int  # AWS calls


class Handler:
    """The API's Lambda handler called as Lambda calls it, timed: the event built
    first (chalice.local's converter, API Gateway's work), then `app(event, context)`."""

    def __init__(self, aws: moto_harness.AwsFigures) -> None:
        from chalice.local import LambdaEventConverter, RouteMatcher

        import app

        self.app = app.app
        self.aws = aws
        self.converter = LambdaEventConverter(
            RouteMatcher(list(self.app.routes)), self.app.api.binary_types
        )

    def event(self, request: Request) -> dict[str, Any]:
        event: dict[str, Any] = self.converter.create_lambda_event(
            request.method, request.path, request.headers, request.body
        )
        return event

    def __call__(self, request: Request) -> Answer:
        from chalice.local import LambdaContext

        event = self.event(request)
        context = LambdaContext("api_handler", 1769, 25_000)
        aws_cpu, calls = self.aws.aws_cpu, self.aws.total_calls
        started = time.thread_time()
        response = self.app(event, context)
        cpu = time.thread_time() - started - (self.aws.aws_cpu - aws_cpu)
        body = json.loads(response["body"]) if response.get("body") else None
        return Answer(response["statusCode"], body, cpu, self.aws.total_calls - calls)

    def ok(self, request: Request) -> Any:
        """A request of the setup (not measured) that must succeed: its body."""
        answer = self(request)
        assert 200 <= answer.status < 300, (request.method, request.path, answer.body)
        return answer.body


@dataclass
class Setup:
    """What the routes act on: a customer tenant that the reads read (a few tickets,
    so that a report or a list costs the same in every round), a busy one that the
    writes write (new tickets, partners' tickets, comments and actions), keys."""

    tenant: str
    admin: str
    customer: str
    agent: str
    ticket: str  # read by the GET routes
    busy: str
    busy_customer: str
    worked: str  # the busy tenant's ticket that comments and actions change
    proposal: str
    partners: dict[str, tuple[str, str]] = field(default_factory=dict)  # format -> id, secret


def set_up(handler: Handler) -> Setup:
    from chalicelib.cli import bootstrap

    admin = bootstrap("provider", "Provider")["api_key"]
    agent = handler.ok(
        call(
            "POST",
            "/admin/tenants/provider/keys",
            admin,
            {"role": "agent", "contact": "agent@provider.example"},
        )
    )["api_key"]
    tenant, customer = customer_tenant(handler, admin)
    busy, busy_customer = customer_tenant(handler, admin)
    # A full first page of every list a route reads (the API's default page), so that
    # the writes measured meanwhile change no list's cost: tenants, proposals, each
    # tenant's tickets and the agents' queue.
    for _ in range(PAGE):
        handler.ok(call("POST", "/admin/tenants", admin, tenant_document()))
        proposal = handler.ok(call("POST", "/proposals", customer, PROPOSAL))["id"]
        ticket = handler.ok(call("POST", "/tickets", customer, INCIDENT))["id"]
        worked = handler.ok(call("POST", "/tickets", busy_customer, INCIDENT))["id"]
    setup = Setup(tenant, admin, customer, agent, ticket, busy, busy_customer, worked, proposal)
    for fmt in PARTNER_CREATED:
        body = {"id": f"p-{fmt}-{uuid.uuid4().hex[:6]}", "tenant_id": busy, "format": fmt}
        made = handler.ok(call("POST", "/admin/partners", admin, body))
        setup.partners[fmt] = (made["id"], made["secret"])
    return setup


def tenant_document() -> dict[str, str]:
    return {"id": f"t-{uuid.uuid4().hex[:8]}", "name": "Acme SA", "policy": "aivo"}


def customer_tenant(handler: Handler, admin: str) -> tuple[str, str]:
    """A new Aivo customer tenant and a customer key of it."""
    doc = tenant_document()
    handler.ok(call("POST", "/admin/tenants", admin, doc))
    key = {"role": "customer", "contact": "ana@acme.example"}
    made = handler.ok(call("POST", f"/admin/tenants/{doc['id']}/keys", admin, key))
    return doc["id"], str(made["api_key"])


def partner_opens(setup: Setup, fmt: str) -> Callable[[], Request]:
    """A signed delivery of a ticket the helpdesk has not sent before."""
    from tests.integration.helpers import relink
    from tests.partner_helpdesks import dumps, fixture, retimed, signed

    partner_id, secret = setup.partners[fmt]
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)

    def request() -> Request:
        data = retimed(fixture(fmt, PARTNER_CREATED[fmt]), start)
        relink(fmt, data, uuid.uuid4().hex[:8])
        raw = dumps(data)
        return Request("POST", f"/webhooks/{partner_id}", signed(fmt, secret, raw), raw)

    return request


# The routes not measured, and why (tests/unit/test_bench_requests.py checks that
# every other route of the app is in the table).
LEFT_OUT = {
    "GET /docs": "a static page",
    "GET /docs/{name}": "a static asset",
    "PUT /admin/policies/{policy_id}": "re-targets the policy's open tickets: grows with them",
    "POST /admin/policies/{policy_id}/simulate": "replays a tenant's tickets: grows with them",
    "POST /admin/partners": "admin setup, rare: a partner per request",
    "POST /admin/partners/{partner_id}/secrets": "admin setup, rare",
    "DELETE /admin/tenants/{tenant_id}/keys/{key_id}": "admin, rare: one key per request",
    "POST /proposals/{proposal_id}/decision": "notifies subscribers: bench/proposals.py",
    "DELETE /proposals/{proposal_id}/subscriptions": "one subscription per request",
}


def routes(setup: Setup) -> dict[str, Callable[[], Request]]:
    """One request per route (each answers a 2xx): the reads on the quiet tenant,
    the writes on the busy one."""
    s = setup
    window = f"from={_iso(-30)}&to={_iso(2)}"
    priorities = itertools.cycle(("low", "high"))  # each request changes something
    agents = itertools.cycle(("agent-1", "agent-2"))
    names = itertools.count()
    found: dict[str, Callable[[], Request]] = {
        "GET /health": lambda: call("GET", "/health"),
        "GET /openapi.json": lambda: call("GET", "/openapi.json"),
        "GET /tickets/{ticket_id}": lambda: call("GET", f"/tickets/{s.ticket}", s.customer),
        "GET /tickets/{ticket_id}/events": lambda: call(
            "GET", f"/tickets/{s.ticket}/events", s.customer
        ),
        "GET /tickets/{ticket_id}/sla/explain": lambda: call(
            "GET", f"/tickets/{s.ticket}/sla/explain", s.customer
        ),
        "GET /tickets": lambda: call("GET", "/tickets", s.customer),
        "GET /queue": lambda: call("GET", "/queue", s.agent),
        "GET /reports/sla": lambda: call(
            "GET", f"/reports/sla?tenant_id={s.tenant}&{window}", s.agent
        ),
        "GET /reports/charges": lambda: call(
            "GET", f"/reports/charges?tenant_id={s.tenant}&{window}", s.agent
        ),
        "GET /proposals": lambda: call("GET", "/proposals", s.customer),
        "GET /proposals/{proposal_id}": lambda: call("GET", f"/proposals/{s.proposal}", s.customer),
        "GET /admin/policies": lambda: call("GET", "/admin/policies", s.admin),
        "GET /admin/policies/{policy_id}": lambda: call("GET", "/admin/policies/aivo", s.admin),
        "GET /admin/tenants/{tenant_id}": lambda: call(
            "GET", f"/admin/tenants/{s.tenant}", s.admin
        ),
        "GET /admin/tenants/{tenant_id}/keys": lambda: call(
            "GET", f"/admin/tenants/{s.tenant}/keys", s.admin
        ),
        "GET /admin/partners/{partner_id}": lambda: call(
            "GET", f"/admin/partners/{s.partners['generic'][0]}", s.admin
        ),
        "GET /admin/tenants": lambda: call("GET", "/admin/tenants", s.admin),
        "GET /admin/partners": lambda: call("GET", "/admin/partners", s.admin),
        "POST /admin/tenants": lambda: call("POST", "/admin/tenants", s.admin, tenant_document()),
        "PATCH /admin/tenants/{tenant_id}": lambda: call(
            "PATCH", f"/admin/tenants/{s.busy}", s.admin, {"name": f"Acme {next(names)}"}
        ),
        "POST /admin/tenants/{tenant_id}/keys": lambda: call(
            "POST", f"/admin/tenants/{s.busy}/keys", s.admin, {"role": "customer"}
        ),
        "POST /tickets": lambda: call("POST", "/tickets", s.busy_customer, INCIDENT),
        "POST /tickets/{ticket_id}/comments": lambda: call(
            "POST", f"/tickets/{s.worked}/comments", s.busy_customer, {"body": "Any news?"}
        ),
        "POST /tickets/{ticket_id}/actions (log_time)": lambda: call(
            "POST", f"/tickets/{s.worked}/actions", s.agent, {"action": "log_time", "minutes": 5}
        ),
        "POST /tickets/{ticket_id}/actions (set_priority)": lambda: call(
            "POST",
            f"/tickets/{s.worked}/actions",
            s.agent,
            {"action": "set_priority", "priority": next(priorities)},
        ),
        "POST /tickets/{ticket_id}/actions (assign)": lambda: call(
            "POST",
            f"/tickets/{s.worked}/actions",
            s.agent,
            {"action": "assign", "agent": next(agents)},
        ),
        "POST /proposals": lambda: call("POST", "/proposals", s.busy_customer, PROPOSAL),
        "POST /proposals/{proposal_id}/subscriptions (again)": lambda: call(
            "POST", f"/proposals/{s.proposal}/subscriptions", s.customer
        ),
    }
    for fmt in PARTNER_CREATED:
        found[f"POST /webhooks/{{partner_id}} ({fmt}, ticket created)"] = partner_opens(s, fmt)
    return found


def _iso(days: int) -> str:
    at = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return (at + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Route:
    name: str
    cpu_ms: list[float]
    calls: list[int]

    @property
    def p50(self) -> float:
        return statistics.median(self.cpu_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.cpu_ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    @property
    def median_calls(self) -> int:
        return round(statistics.median(self.calls))


def measure(
    handler: Handler, requests: dict[str, Callable[[], Request]], n: int, rounds: int = ROUNDS
) -> list[Route]:
    """Each route warmed, then `n` of its requests timed (their building is not), in
    `rounds` rounds that visit every route in turn: a change in the machine's load
    falls on all of them alike."""
    cpu: dict[str, list[float]] = {name: [] for name in requests}
    calls: dict[str, list[int]] = {name: [] for name in requests}
    for build in requests.values():
        for _ in range(WARM_UP):
            handler.ok(build())
    for round_ in range(rounds):
        for name, build in requests.items():
            # moto's tables are a heap a Lambda does not have: keep the collector
            # from walking it on the product's account (bench.burst does the same)
            gc.collect()
            gc.freeze()
            for _ in range(n // rounds + (round_ < n % rounds)):
                answer = handler(build())
                assert 200 <= answer.status < 300, (name, answer.status, answer.body)
                cpu[name].append(answer.cpu * 1000)
                calls[name].append(answer.calls)
            gc.unfreeze()
    return [Route(name, cpu[name], calls[name]) for name in requests]


class Unmetered(moto_harness.AwsModel):
    """The harness's model without its write meter, which reads moto's backend for
    each put: the harness's work, which this bench leaves out of the product's CPU."""

    def _puts(
        self, operation: str, params: dict[str, Any]
    ) -> list[tuple[dict[str, Any] | None, dict[str, Any], bool]]:
        return []


@contextlib.contextmanager
def warm_stack() -> Iterator[tuple[Handler, Setup]]:
    """moto in-process, the tables and a tenant, the handler timed against it."""
    from moto import mock_aws

    from dev import moto_costs

    moto_harness.environment()
    # As deployed: metrics flushed (to stdout, discarded here), INFO logs written.
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "false"
    os.environ["POWERTOOLS_LOG_LEVEL"] = "INFO"
    os.environ["POWERTOOLS_SERVICE_NAME"] = "slaguard"
    os.environ["POWERTOOLS_METRICS_NAMESPACE"] = "slaguard"
    moto_costs.install()
    with mock_aws():
        from chalicelib import aws

        aws.reset_connections()
        model = Unmetered(latency_ms=0)
        # The product's log lines and EMF metrics go to stdout (Powertools' Logger
        # binds it when `app` is imported): written, as in Lambda, to nowhere.
        with (
            open(os.devnull, "w") as sink,
            contextlib.redirect_stdout(sink),
            model.installed() as figures,
        ):
            handler = Handler(figures)
            yield handler, set_up(handler)


# The first request of a fresh process: what Lambda's runtime has before it calls the
# handler (the event and a context), then `import app` and the request, timed together.
FIRST_REQUEST = """\
class Context:
    function_name = "api_handler"
    function_version = "$LATEST"
    memory_limit_in_mb = 1769
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:api_handler"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"
import app
response = app.app({event!r}, Context())
assert response["statusCode"] < 300, response
"""
FIRST = ("POST /tickets", "GET /tickets/{ticket_id}")
# What a fresh process must know of the stack: the tables, the credentials, the settings.
PASSED = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "TABLE_NAME",
    "IDEMPOTENCY_TABLE_NAME",
    "POWERTOOLS_METRICS_DISABLED",
    "POWERTOOLS_LOG_LEVEL",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
)


# `--parts`: what a first POST /tickets adds to `import app`, one part at a time (each
# case runs the ones before it too): the dependencies' first use, then slaguard's.
PARTS = {
    "+ pydantic's model machinery (a first model)": (
        "from pydantic import BaseModel\nclass _First(BaseModel):\n    a: int = 1\n"
    ),
    "+ pynamodb.models": "import pynamodb.models\n",
    "+ botocore's first client and call": (
        "import os, chalicelib.store\nfrom pynamodb.connection import Connection\n"
        "Connection(region='us-east-1').client.get_item(TableName=os.environ['TABLE_NAME'],"
        " Key={'pk': {'S': 'none'}, 'sk': {'S': 'none'}})\n"
    ),
    "+ the request's slaguard modules": (
        "import chalicelib.commands, chalicelib.policies, chalicelib.services.auth\n"
        "import chalicelib.services.tickets, chalicelib.store.policies\n"
    ),
}


def first_requests(
    handler: Handler, setup: Setup, runs: int, parts: bool = False
) -> dict[str, float]:
    """Process CPU ms, best of `runs` fresh processes each: the dependencies' import
    (the floor), `import app`, and `import app` + the first request of each of FIRST,
    served by a moto server in this process (on this process's tables); with `parts`,
    `import app` + each of PARTS before the first POST /tickets."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        env = coldstart.lambda_environment()
        env.update({name: os.environ[name] for name in PASSED})
        env["AWS_ENDPOINT_URL"] = f"http://{host}:{port}"
        requests = routes(setup)
        cases = {"dependencies": coldstart.DEPENDENCIES, "import app": "import app\n"}
        if parts:
            code = "import app\n"
            for name, part in PARTS.items():
                code += part
                cases[name] = code
        for name in FIRST:
            event = handler.event(requests[name]())
            cases[f"import app + first {name}"] = FIRST_REQUEST.format(event=event)
        return coldstart.best_ms(cases, runs, env, clock="process_time")
    finally:
        server.stop()


def table(measured: list[Route], floor_ms: float) -> list[str]:
    """One line per route: product CPU p50 and p95, p50 in % of the floor, AWS calls."""
    lines = [f"{'route':<56} {'p50 ms':>7} {'p95 ms':>7} {'% floor':>7} {'calls':>5}"]
    for r in measured:
        share = 100 * r.p50 / floor_ms
        lines.append(f"{r.name:<56} {r.p50:7.2f} {r.p95:7.2f} {share:7.2f} {r.median_calls:5d}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200, help="requests per route")
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per case")
    parser.add_argument(
        "--parts", action="store_true", help="what a first POST /tickets adds, part by part"
    )
    args = parser.parse_args()
    with warm_stack() as (handler, setup):
        measured = measure(handler, routes(setup), args.requests)
        first = first_requests(handler, setup, args.runs, parts=args.parts)
    floor_ms = first["dependencies"]
    print(
        f"warm, {args.requests} requests per route, product CPU (moto's excluded); "
        f"reference: the dependencies' import floor {floor_ms:.0f} ms of CPU (same run, "
        f"best of {args.runs}); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    for line in table(measured, floor_ms):
        print(line)
    single = [r for r in measured if r.name in SINGLE_TICKET]
    worst = max(single, key=lambda r: r.p50)
    over = [r.name for r in single if r.p50 > GOAL_WARM_MS]
    print(
        f"single-ticket routes, worst p50: {worst.name} {worst.p50:.2f} ms "
        f"(goal <= {GOAL_WARM_MS:g} ms; over it: {len(over)} of {len(single)})"
    )
    print(f"fresh process, process CPU, best of {args.runs}:")
    before, stepped = None, set(PARTS) | {"import app + first POST /tickets"}
    for name, ms in first.items():
        step = f"  {ms - before:+6.1f} ms" if args.parts and name in stepped and before else ""
        print(f"{name:<56} {ms:7.1f} ms  ({ms / floor_ms:.2f}x the dependencies){step}")
        before = ms
    ratio = first["import app + first POST /tickets"] / floor_ms
    print(f"first POST /tickets: {ratio:.2f}x the dependencies' import (goal <= {GOAL_FIRST})")


if __name__ == "__main__":
    main()
