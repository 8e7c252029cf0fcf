"""The local stack under a sustained mixed load (issue 20); a benchmark, not a test.

Starts `make dev`'s stack (`python -m dev.local_stack`) on free ports of 127.0.0.1
with a state dir of its own, then C clients (threads, each with its own HTTP
session) drive mixed traffic for T seconds: customers open tickets; agents assign,
re-prioritise, log time and comment; both list tickets and read histories; and
four partner helpdesks (one per format: generic, zendesk, jira, freshdesk) open
partner tickets and post comments, a quarter of them replayed with new unsigned
headers (a new `X-Atlassian-Webhook-Identifier`, `X-Zendesk-Webhook-Invocation-Id`;
the same signed content).

Then it checks nothing was lost or doubled, ticket by ticket:
- the ticket's `fields.logged_minutes` = the sum of the accepted log_time calls;
- one history entry per accepted change (`action.<name>`, `comment`), one `created`;
- a partner ticket has one comment per distinct signed delivery answered
  `applied: true`, and every answer for it names the same ticket (no second ticket).
A request whose answer never came (timeout, reset) makes its ticket "uncertain":
counted and left out of the exact checks.

It prints requests, 5xx, client errors (timeouts, resets), p50/p95/p99 per route
kind, the checks, and the resident memory (VmRSS) of the embedded AWS (the
local_stack process, which hosts moto) and of the API (its `dev.api_server` child)
at start and at end, with the load average. Goals at 32 clients x 120 s (issue 20):
0 5xx, 0 lost or doubled, p99 <= 1 s, memory growth <= 300 MB.

    python -m bench.soak [--clients 32] [--seconds 120] [--think 0] [--root DIR]

`--root` runs the stack of another checkout (e.g. a worktree of main) with this
interpreter, to measure before a change.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from tests.e2e.conftest import free_port, read_env
from tests.integration.helpers import relink
from tests.partner_helpdesks import dumps, fixture, retimed, signed

ROOT = Path(__file__).resolve().parent.parent
MAX_CLIENTS = 256
MAX_SECONDS = 1800
TIMEOUT = 60.0  # per request: a slower answer is a client error, its ticket uncertain
TENANT = "demo-aivo"
FORMATS = ("generic", "zendesk", "jira", "freshdesk")
CREATED = {
    "generic": "ticket_created",
    "zendesk": "ticket_created",
    "jira": "issue_created",
    "freshdesk": "ticket_created",
}
COMMENT = {
    "generic": "comment_created",
    "zendesk": "comment_added",
    "jira": "comment_created",
    "freshdesk": "public_note",
}
# The route kinds and how often a client picks each (weights).
MIX = {
    "open": 10,
    "action": 12,
    "log_time": 18,
    "comment": 15,
    "list": 20,
    "webhook": 25,
}
PRIORITIES = ("blocker", "high", "medium", "low")
GOALS = {"p99_s": 1.0, "memory_growth_mb": 300.0}


# ---------------------------------------------------------------- the stack


def rss_mb(pid: int) -> float:
    """The process's resident memory (VmRSS), MB; 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """The process's user + system CPU time so far, seconds; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


class LocalStack:
    """`python -m dev.local_stack` of `root` on free ports, its output kept."""

    def __init__(self, root: Path, state: Path) -> None:
        self.aws_port, self.api_port = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        command = [sys.executable, "-u", "-m", "dev.local_stack", "--state-dir", str(state)]
        command += ["--aws-port", str(self.aws_port), "--api-port", str(self.api_port)]
        self.proc = subprocess.Popen(  # noqa: S603 - our own fixed argv
            command,
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.api = f"http://127.0.0.1:{self.api_port}"
        self.state = state
        self.lines: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            if line.startswith("API on"):
                self.ready.set()

    def wait_ready(self, timeout: float = 180) -> None:
        if not self.ready.wait(timeout):
            self.stop()
            raise SystemExit("the stack did not come up:\n" + "".join(self.lines[-40:]))

    @property
    def keys(self) -> dict[str, str]:
        return read_env(self.state / "keys.env")

    def memory(self) -> dict[str, float]:
        """MB resident: the embedded AWS (this process hosts moto) and the API."""
        api = children(self.proc.pid)
        return {"aws": rss_mb(self.proc.pid), "api": sum(rss_mb(p) for p in api)}

    def cpu(self) -> dict[str, float]:
        """CPU seconds used so far: the embedded AWS (with make dev's own threads) and the API."""
        api = children(self.proc.pid)
        return {"aws": cpu_seconds(self.proc.pid), "api": sum(cpu_seconds(p) for p in api)}

    def stop(self) -> float:
        """Ctrl-C, as a developer would; the seconds it took to exit."""
        started = time.monotonic()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return time.monotonic() - started


# ---------------------------------------------------------------- what was asked and answered


@dataclass
class Expected:
    """What the accepted calls on one ticket must have left."""

    minutes: int = 0
    history: Counter[str] = field(default_factory=Counter)
    uncertain: bool = False
    # partner tickets: the ticket every answer named; the signed contents applied
    ticket_ids: set[str] = field(default_factory=set)
    applied: set[str] = field(default_factory=set)
    replays_applied: int = 0


class Record:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, Counter[int]] = defaultdict(Counter)
        self.errors: Counter[str] = Counter()
        self.tickets: dict[str, Expected] = defaultdict(Expected)

    def call(
        self,
        session: requests.Session,
        kind: str,
        method: str,
        url: str,
        *,
        ticket: str | None = None,
        **kw: Any,
    ) -> requests.Response | None:
        started = time.perf_counter()
        try:
            r = session.request(method, url, timeout=TIMEOUT, **kw)
        except requests.RequestException as e:
            with self.lock:
                self.errors[f"{kind}: {type(e).__name__}"] += 1
                if ticket is not None:
                    self.tickets[ticket].uncertain = True
            return None
        took = time.perf_counter() - started
        with self.lock:
            self.latency[kind].append(took)
            self.statuses[kind][r.status_code] += 1
        return r


# ---------------------------------------------------------------- a client


@dataclass
class Own:
    """A ticket a client opened through the API, as it last saw it."""

    id: str
    status: str
    priority: str


@dataclass
class Partner:
    id: str
    fmt: str
    secret: str


# A delivery as first sent: body, headers, when (monotonic), whether it carries a comment.
Sent = tuple[bytes, dict[str, str], float, bool]


@dataclass
class PartnerTicket:
    partner: Partner
    external: str
    start: datetime
    sent: list[Sent] = field(default_factory=list)
    linked: bool = False


class Client:
    def __init__(
        self,
        n: int,
        api: str,
        keys: dict[str, str],
        partners: list[Partner],
        record: Record,
        deadline: float,
        think: float = 0.0,
    ) -> None:
        self.n = n
        self.think = think
        self.api = api
        self.agent = {"Authorization": f"Bearer {keys['AGENT']}"}
        self.customer = {"Authorization": f"Bearer {keys['CUSTOMER']}"}
        self.partners = partners
        self.record = record
        self.deadline = deadline
        self.random = random.Random(n)
        self.session = requests.Session()
        self.own: list[Own] = []
        self.partner_tickets: list[PartnerTicket] = []
        self.counter = 0

    def run(self) -> None:
        kinds, weights = list(MIX), list(MIX.values())
        while time.monotonic() < self.deadline:
            kind = self.random.choices(kinds, weights)[0]
            if kind != "open" and kind != "webhook" and not self.own:
                kind = "open"
            getattr(self, kind)()
            if self.think:  # a person between two requests: uniform in [0, 2 x think]
                time.sleep(self.random.uniform(0, 2 * self.think))

    def _unique(self) -> str:
        self.counter += 1
        return f"c{self.n}-{self.counter}-{uuid.uuid4().hex[:6]}"

    # -- API traffic

    def open(self) -> None:
        priority = self.random.choice(PRIORITIES)
        body = {
            "title": f"Soak {self._unique()}",
            "description": "opened by bench.soak",
            "kind": "incident",
            "priority": priority,
        }
        r = self.record.call(
            self.session, "open", "POST", self.api + "/tickets", json=body, headers=self.customer
        )
        if r is not None and r.status_code == 201:
            t = r.json()
            self.own.append(Own(t["id"], t["status"], t["priority"]))
            with self.record.lock:
                self.record.tickets[t["id"]].history["created"] += 1
            if len(self.own) > 12:  # work on recent tickets; older ones are checked later
                self.own.pop(0)

    def _act(self, kind: str, ticket: Own, body: dict[str, Any]) -> None:
        r = self.record.call(
            self.session,
            kind,
            "POST",
            f"{self.api}/tickets/{ticket.id}/actions",
            ticket=ticket.id,
            json=body,
            headers=self.agent,
        )
        if r is not None and r.status_code == 200:
            t = r.json()
            ticket.status, ticket.priority = t["status"], t["priority"]
            with self.record.lock:
                expected = self.record.tickets[ticket.id]
                expected.history[f"action.{body['action']}"] += 1
                expected.minutes += int(body.get("minutes", 0))

    def action(self) -> None:
        ticket = self.random.choice(self.own)
        if ticket.status in ("new", "queued"):
            self._act("action", ticket, {"action": "assign", "agent": f"agent-{self.n}"})
        else:
            others = [p for p in PRIORITIES if p != ticket.priority]
            body = {"action": "set_priority", "priority": self.random.choice(others)}
            self._act("action", ticket, body)

    def log_time(self) -> None:
        ticket = self.random.choice(self.own)
        minutes = self.random.randint(1, 90)
        self._act("log_time", ticket, {"action": "log_time", "minutes": minutes})

    def comment(self) -> None:
        ticket = self.random.choice(self.own)
        who = self.agent if self.random.random() < 0.6 else self.customer
        r = self.record.call(
            self.session,
            "comment",
            "POST",
            f"{self.api}/tickets/{ticket.id}/comments",
            ticket=ticket.id,
            json={"body": f"note {self._unique()}", "public": True},
            headers=who,
        )
        if r is not None and r.status_code == 201:
            with self.record.lock:
                self.record.tickets[ticket.id].history["comment"] += 1

    def list(self) -> None:
        roll = self.random.random()
        if roll < 0.4:
            url = f"{self.api}/tickets?tenant_id={TENANT}&limit=25"
            self.record.call(self.session, "list", "GET", url, headers=self.agent)
        elif roll < 0.7:
            url = f"{self.api}/tickets?limit=25"
            self.record.call(self.session, "list", "GET", url, headers=self.customer)
        else:
            ticket = self.random.choice(self.own)
            url = f"{self.api}/tickets/{ticket.id}/events?limit=50"
            self.record.call(self.session, "list", "GET", url, headers=self.agent)

    # -- partner deliveries

    def webhook(self) -> None:
        open_ones = [t for t in self.partner_tickets if t.linked]
        roll = self.random.random()
        if not open_ones or roll < 0.15:
            partner = self.random.choice(self.partners)
            pt = PartnerTicket(
                partner, uuid.uuid4().hex[:10], datetime.now(UTC) - timedelta(hours=2)
            )
            self.partner_tickets.append(pt)
            if len(self.partner_tickets) > 8:
                self.partner_tickets.pop(0)
            self._deliver(pt, self._body(pt, CREATED[partner.fmt]), comment=False)
            return
        pt = self.random.choice(open_ones)
        fresh = [s for s in pt.sent if time.monotonic() - s[2] < 200]  # signed < 5 min ago
        if fresh and roll < 0.40:
            self._replay(pt, self.random.choice(fresh))
        else:
            self._deliver(pt, self._comment_body(pt), comment=True)

    def _body(self, pt: PartnerTicket, name: str) -> dict[str, Any]:
        data: dict[str, Any] = retimed(fixture(pt.partner.fmt, name), pt.start)
        relink(pt.partner.fmt, data, pt.external)
        return data

    def _comment_body(self, pt: PartnerTicket) -> dict[str, Any]:
        fmt, text = pt.partner.fmt, f"partner note {self._unique()}"
        data = self._body(pt, COMMENT[fmt])
        now = datetime.now(UTC)
        if fmt == "generic":
            data["occurred_at"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
            data["comment"]["body"] = text
        elif fmt == "zendesk":
            data["id"] = str(uuid.uuid4())
            data["time"] = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            data["event"]["comment"]["body"] = text
        elif fmt == "jira":
            data["timestamp"] = int(now.timestamp() * 1000)
            data["comment"]["id"] = str(self.random.randint(10**6, 10**9))
            data["comment"]["body"] = text
        else:
            data["freshdesk_webhook"]["ticket_latest_public_comment"] = text
        return data

    def _deliver(self, pt: PartnerTicket, data: dict[str, Any], *, comment: bool) -> None:
        raw = dumps(data)
        headers = signed(pt.partner.fmt, pt.partner.secret, raw)
        pt.sent.append((raw, headers, time.monotonic(), comment))
        self._post(pt, raw, headers, replay=False, comment=comment)

    def _replay(self, pt: PartnerTicket, sent: Sent) -> None:
        """The same signed content again, with new unsigned headers where the format has them."""
        raw, headers, _, comment = sent
        headers = dict(headers)
        if pt.partner.fmt == "jira":
            headers["X-Atlassian-Webhook-Identifier"] = str(uuid.uuid4().int)[:12]
        elif pt.partner.fmt == "zendesk":
            headers["X-Zendesk-Webhook-Invocation-Id"] = str(uuid.uuid4().int)[:19]
        self._post(pt, raw, headers, replay=True, comment=comment)

    def _post(
        self, pt: PartnerTicket, raw: bytes, headers: dict[str, str], *, replay: bool, comment: bool
    ) -> None:
        key = f"{pt.partner.id}/{pt.external}"
        r = self.record.call(
            self.session,
            f"webhook.{pt.partner.fmt}",
            "POST",
            f"{self.api}/webhooks/{pt.partner.id}",
            ticket=key,
            data=raw,
            headers=headers,
        )
        if r is None or r.status_code != 200:
            return
        answer = r.json()
        with self.record.lock:
            expected = self.record.tickets[key]
            expected.ticket_ids.add(answer["ticket_id"])
            if answer["applied"]:
                expected.replays_applied += replay
                if comment:  # one comment per distinct signed content applied
                    expected.applied.add(raw.decode())
        pt.linked = True


# ---------------------------------------------------------------- the checks


def history(session: requests.Session, api: str, ticket: str, agent: dict[str, str]) -> list[Any]:
    items: list[Any] = []
    cursor = None
    while True:
        url = f"{api}/tickets/{ticket}/events?limit=100" + (f"&cursor={cursor}" if cursor else "")
        page = session.get(url, headers=agent, timeout=TIMEOUT).json()
        items += page["items"]
        if not (cursor := page["next_cursor"]):
            return items


def check(api: str, agent_key: str, record: Record) -> dict[str, Any]:
    """Ticket by ticket: nothing lost, nothing doubled."""
    session = requests.Session()
    agent = {"Authorization": f"Bearer {agent_key}"}
    found: dict[str, Any] = {
        "tickets": 0,
        "partner_tickets": 0,
        "uncertain": 0,
        "lost": [],
        "doubled": [],
        "replays_applied": sum(e.replays_applied for e in record.tickets.values()),
    }

    def differ(where: str, what: str, expected: int, got: int) -> None:
        if got < expected:
            found["lost"].append(f"{where} {what}: {got} of {expected}")
        elif got > expected:
            found["doubled"].append(f"{where} {what}: {got} for {expected}")

    for key, expected in sorted(record.tickets.items()):
        if expected.uncertain:
            found["uncertain"] += 1
            continue
        partner = "/" in key
        if partner:
            found["partner_tickets"] += 1
            if len(expected.ticket_ids) != 1:
                found["doubled"].append(f"{key}: answers named {sorted(expected.ticket_ids)}")
                continue
            ticket_id = next(iter(expected.ticket_ids))
            types = Counter(e["type"] for e in history(session, api, ticket_id, agent))
            differ(key, "created", 1, types["created"])
            differ(key, "comments", len(expected.applied), types["comment"])
            continue
        found["tickets"] += 1
        ticket = session.get(f"{api}/tickets/{key}", headers=agent, timeout=TIMEOUT).json()
        differ(key, "logged minutes", expected.minutes, ticket["fields"].get("logged_minutes", 0))
        types = Counter(e["type"] for e in history(session, api, key, agent))
        mine = {t for t in types if t.startswith("action.") or t in ("created", "comment")}
        for name in sorted(set(expected.history) | mine):
            differ(key, name, expected.history[name], types[name])
    return found


# ---------------------------------------------------------------- the run


def register_partners(api: str, admin: str) -> list[Partner]:
    made = []
    for fmt in FORMATS:
        partner_id = f"soak-{fmt}-{uuid.uuid4().hex[:6]}"
        r = requests.post(
            f"{api}/admin/partners",
            json={"id": partner_id, "tenant_id": TENANT, "format": fmt},
            headers={"Authorization": f"Bearer {admin}"},
            timeout=TIMEOUT,
        )
        r.raise_for_status()
        made.append(Partner(partner_id, fmt, r.json()["secret"]))
    return made


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run(
    clients: int, seconds: float, root: Path, out: Callable[[str], None], think: float = 0.0
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="soak-") as state_dir:
        stack = LocalStack(root, Path(state_dir))
        try:
            stack.wait_ready()
            keys = stack.keys
            partners = register_partners(stack.api, keys["ADMIN"])
            memory_start, cpu_start = stack.memory(), stack.cpu()
            out(f"stack of {root} ready; load average {load()}; memory at start {memory_start}")
            record = Record()
            deadline = time.monotonic() + seconds
            workers = [
                Client(n, stack.api, keys, partners, record, deadline, think)
                for n in range(clients)
            ]
            threads = [threading.Thread(target=w.run) for w in workers]
            started = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.monotonic() - started
            load_end = load()
            memory_end, cpu_end = stack.memory(), stack.cpu()
            checked = check(stack.api, keys["AGENT"], record)
        finally:
            stop_seconds = stack.stop()
    s = summary(record, checked, memory_start, memory_end, wall, load_end, stop_seconds)
    s["cpu"] = {k: cpu_end[k] - cpu_start[k] for k in cpu_start}
    return s


def summary(
    record: Record,
    checked: dict[str, Any],
    memory_start: dict[str, float],
    memory_end: dict[str, float],
    wall: float,
    load_end: str,
    stop_seconds: float,
) -> dict[str, Any]:
    every = [x for values in record.latency.values() for x in values]
    kinds = {
        kind: {
            "requests": len(values),
            "p50": percentile(values, 50),
            "p95": percentile(values, 95),
            "p99": percentile(values, 99),
            "statuses": dict(sorted(record.statuses[kind].items())),
        }
        for kind, values in sorted(record.latency.items())
    }
    fives = sum(n for c in record.statuses.values() for s, n in c.items() if s >= 500)
    return {
        "requests": len(every),
        "per_second": len(every) / wall if wall else 0.0,
        "5xx": fives,
        "client_errors": dict(record.errors),
        "p50": percentile(every, 50),
        "p95": percentile(every, 95),
        "p99": percentile(every, 99),
        "kinds": kinds,
        "checked": checked,
        "memory_start": memory_start,
        "memory_end": memory_end,
        "load_end": load_end,
        "stop_seconds": stop_seconds,
        "wall": wall,
    }


def report(s: dict[str, Any], clients: int, seconds: float) -> str:
    lines = [
        f"{clients} clients x {seconds:.0f} s: {s['requests']} requests "
        f"({s['per_second']:.1f}/s), 5xx {s['5xx']}, client errors "
        f"{sum(s['client_errors'].values())} {s['client_errors'] or ''}",
        f"all: p50 {s['p50']:.3f} s, p95 {s['p95']:.3f} s, p99 {s['p99']:.3f} s",
        f"{'kind':<18}{'requests':>9}{'p50 s':>8}{'p95 s':>8}{'p99 s':>8}  statuses",
    ]
    for kind, k in s["kinds"].items():
        lines.append(
            f"{kind:<18}{k['requests']:>9}{k['p50']:>8.3f}{k['p95']:>8.3f}{k['p99']:>8.3f}  "
            f"{k['statuses']}"
        )
    c = s["checked"]
    lines.append(
        f"checked {c['tickets']} tickets and {c['partner_tickets']} partner tickets "
        f"({c['uncertain']} uncertain, left out): lost {len(c['lost'])}, "
        f"doubled {len(c['doubled'])}; replays of signed content answered applied: true: "
        f"{c['replays_applied']}"
    )
    lines += [f"  lost: {x}" for x in c["lost"][:10]]
    lines += [f"  doubled: {x}" for x in c["doubled"][:10]]
    start, end = s["memory_start"], s["memory_end"]
    growth = {k: end[k] - start[k] for k in start}
    lines.append(
        "memory (VmRSS, MB): embedded AWS "
        f"{start['aws']:.0f} -> {end['aws']:.0f} (+{growth['aws']:.0f}), API "
        f"{start['api']:.0f} -> {end['api']:.0f} (+{growth['api']:.0f})"
    )
    if "cpu" in s and s["requests"]:
        per = {k: 1000 * v / s["requests"] for k, v in s["cpu"].items()}
        lines.append(
            f"CPU per request: embedded AWS {per['aws']:.0f} ms, API {per['api']:.0f} ms "
            f"(a throughput bound of {1000 / max(per.values()):.0f} requests/s per core)"
        )
    lines.append(f"load average at end {s['load_end']}; Ctrl-C took {s['stop_seconds']:.1f} s")
    met = (
        s["5xx"] == 0
        and not c["lost"]
        and not c["doubled"]
        and s["p99"] <= GOALS["p99_s"]
        and max(growth.values()) <= GOALS["memory_growth_mb"]
    )
    verdict = "met" if met else "NOT met"
    lines.append(f"goals (0 5xx, 0 lost/doubled, p99 <= 1 s, growth <= 300 MB): {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose stack runs")
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="mean seconds a client waits between requests (default 0: back to back)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= MAX_CLIENTS or not 1 <= args.seconds <= MAX_SECONDS:
        parser.error(f"--clients 1..{MAX_CLIENTS}, --seconds 1..{MAX_SECONDS}")
    if not 0 <= args.think <= 60:
        parser.error("--think 0..60")
    s = run(
        args.clients,
        args.seconds,
        args.root.resolve(),
        lambda line: print(line, flush=True),
        args.think,
    )
    print(report(s, args.clients, args.seconds), flush=True)
    if args.think:
        print(f"(each client waited {args.think:g} s on average between requests)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
