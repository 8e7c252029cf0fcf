"""The breach checker at burst scale (issue 14); a benchmark, not a test.

A burst: `due` tickets cross a threshold at the same instant (weekend tickets whose
business clock starts Monday 09:00). Moto runs in-process behind a latency model:
a botocore hook waits L ms per AWS call (default 10 ms) outside any lock, so
concurrent calls wait in parallel, then runs the call in moto's backend under one
lock (moto's DynamoDB is not thread-safe for transactions), timing the CPU moto
spends there (`bench.moto_harness.AwsModel`).

Per size (default 2,000 and 10,000 due), two cases run the product's own worker
(`checker.plan` + `checker.work`, what each `checker_worker` Lambda runs):
1 worker (every shard), and N workers started together (threads standing in
for N Lambdas). Each prints: alerts, AWS calls per alert (by operation), the
product's own CPU time per alert (process CPU minus moto's and minus the write
meter's, each timed in its own span: AWS's and the harness's time excluded), the
garbage collector's share, and wall time. A separate pass of the 1-worker case
under cProfile (`bench.cpu_split`, `--profile-size`) prints how the product's CPU
splits by owner (slaguard, botocore, PynamoDB, ...), in shares: the profiler
multiplies the CPU by 3-5, unevenly.

The extrapolation to 100,000 alerts uses only those measured figures:

    per alert:   cpu  = product CPU s per alert of the 1-worker case at the largest
                        size (one process with T threads: what one Lambda worker is;
                        N workers in one process also pay for each other's GIL)
                 c    = AWS calls per alert, the worst case measured
                 L    = latency per call;  T = threads per worker
    one worker:  rate = min(1 / cpu, T / (cpu + c * L))    alerts per second
                 (CPU-bound on its one vCPU, or latency-bound with T calls in flight)
    W workers:   S    = START + (100,000 / W) / rate       seconds after the instant

START = 2 s covers the scheduled run (EventBridge, one SendMessageBatch per 10
tasks), SQS to Lambda, and the worker's cold start (bench.coldstart). Assumed:
one vCPU per worker (Lambda gives a full vCPU from 1,769 MB; less memory divides
`rate`), DynamoDB on-demand absorbing the write rate (the due index's shard count
keeps each GSI partition key under its 1,000 writes/s), and no HTTPS cost per call
beyond L (moto skips botocore's socket layer). A worker that would pass its 52 s
(60 s timeout, 8 s margin) stops and the next run, a minute later, goes on: S
then grows by 60 s per extra run. The same model with moto's CPU added, all in
one GIL, predicts this machine's wall time, printed next to the measured one.

    python -m bench.burst [--sizes 2000 10000] [--workers 32] [--latency 10]
                          [--profile-size N (default: the first size; 0: no split)]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import math
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench import cpu_split, moto_harness

BURST = 100_000
GOAL_SECONDS = 60.0
START_SECONDS = 2.0
WORKER_SECONDS = 60.0 - 8.0  # the worker's timeout minus checker.STOP_MARGIN_SECONDS


@dataclass
class Case:
    due: int
    workers: int
    threads: int
    latency: float  # seconds per call
    alerts: int
    calls: Counter[str]
    product_cpu: float  # seconds
    aws_cpu: float
    meter_cpu: float  # the harness's counting and write metering (AwsModel)
    collector: Collector  # the cyclic garbage collector's runs, in every thread
    wall: float
    write_units: Counter[str]  # the main table's and each index's (WriteMeter)
    ticket_bytes: int  # a due ticket's item as DynamoDB sizes it, before its alert

    @property
    def calls_per_alert(self) -> float:
        return sum(self.calls.values()) / max(self.alerts, 1)

    def units_per_alert(self) -> dict[str, float]:
        return {k: n / max(self.alerts, 1) for k, n in sorted(self.write_units.items())}

    @property
    def cpu_per_alert(self) -> float:
        return self.product_cpu / max(self.alerts, 1)

    def here(self) -> float:
        """The model on this machine: moto's CPU too, and one GIL for every worker."""
        cpu = (self.product_cpu + self.aws_cpu + self.meter_cpu) / max(self.alerts, 1)
        waits = self.alerts / self.workers * self.calls_per_alert * self.latency / self.threads
        return max(self.alerts * cpu, waits)


class Collector:
    """CPU the garbage collector spends, per generation, in whatever thread it
    runs (`gc.callbacks`): a full collection (generation 2) walks every object
    not frozen, moto's items written during the run included."""

    def __init__(self) -> None:
        self.seconds: Counter[int] = Counter()
        self._started = threading.local()

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started.at = time.thread_time()
        else:
            self.seconds[info["generation"]] += time.thread_time() - self._started.at

    @contextlib.contextmanager
    def installed(self) -> Iterator[Collector]:
        gc.callbacks.append(self)
        try:
            yield self
        finally:
            gc.callbacks.remove(self)


@dataclass(frozen=True)
class Model:
    """The docstring's model of one Lambda worker, from measured figures."""

    cpu: float  # product CPU s per alert
    calls: float  # AWS calls per alert
    latency: float  # s per call
    threads: int

    def rate(self) -> float:
        """Alerts per second of one worker."""
        return min(1 / self.cpu, self.threads / (self.cpu + self.calls * self.latency))

    def seconds_for(self, alerts: int, workers: int) -> float:
        """From the instant to the last alert published, `alerts` over `workers`."""
        work = alerts / workers / self.rate()
        extra_runs = max(0, math.ceil(work / WORKER_SECONDS) - 1)
        return START_SECONDS + work + extra_runs * (60.0 - WORKER_SECONDS)


def run_case(
    due: int, workers: int, latency_ms: float, profiles: cpu_split.ThreadProfiles | None = None
) -> Case:
    """One case; with `profiles`, every thread it starts is profiled (`cpu_split`)."""
    from moto import mock_aws
    from moto.core.botocore_stubber import BotocoreStubber

    from chalicelib.services import checker
    from chalicelib.settings import get_settings

    with mock_aws():
        moto_harness.bootstrap_tenant()
        at = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=1)
        moto_harness.load_due(due, due, at)
        ticket_bytes = moto_harness.ticket_item_size()
        # moto's tables are a large heap a Lambda worker does not have: keep the
        # collector from walking it on the product's account (CPU that grew with
        # the size measured, 6.5 -> 12 ms/alert from 2,000 to 10,000, without this).
        gc.collect()
        gc.freeze()
        settings = get_settings()
        tasks = checker.plan(at, settings.due_shards, workers)
        model = moto_harness.AwsModel(latency_ms)
        # Powertools prints the workers' metrics (EMF) on stdout: not this bench's output.
        quiet = contextlib.redirect_stdout(io.StringIO())
        # Not profiled: moto's backend (behind the stubber) and the write meter.
        profiled = (
            profiles.installed(
                (BotocoreStubber, "__call__"),
                (moto_harness.AwsModel, "_puts"),
                (moto_harness.WriteMeter, "put"),
            )
            if profiles is not None
            else contextlib.nullcontext()
        )
        collector = Collector()
        with (
            quiet,
            model.installed() as aws,
            profiled,
            collector.installed(),
            ThreadPoolExecutor(workers) as lambdas,
        ):
            cpu, wall = time.process_time(), time.perf_counter()
            deadline = checker.Deadline(None, 3600)
            results = list(lambdas.map(lambda task: checker.work(task, deadline), tasks))
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        gc.unfreeze()
    alerts = sum(r["alerts"] for r in results)
    return Case(
        due,
        workers,
        settings.checker_threads,
        latency_ms / 1000,
        alerts,
        aws.calls,
        cpu - aws.aws_cpu - aws.meter_cpu,
        aws.aws_cpu,
        aws.meter_cpu,
        collector,
        wall,
        aws.write_units,
        ticket_bytes,
    )


def report(case: Case) -> None:
    by_op = {op: round(n / max(case.alerts, 1), 3) for op, n in sorted(case.calls.items())}
    print(
        f"{case.due:>7,} due, {case.workers:>2} worker(s) x {case.threads} threads: "
        f"{case.alerts:,} alerts; {case.calls_per_alert:.3f} AWS calls/alert; "
        f"product CPU {case.cpu_per_alert * 1000:.2f} ms/alert "
        f"(moto's {case.aws_cpu / max(case.alerts, 1) * 1000:.2f} and the write meter's "
        f"{case.meter_cpu / max(case.alerts, 1) * 1000:.2f} ms/alert excluded); "
        f"wall {case.wall:.1f} s (model for this machine {case.here():.1f} s; this process "
        f"had {(case.product_cpu + case.aws_cpu + case.meter_cpu) / case.wall:.0%} of a "
        f"core, load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    collected = {
        g: s / max(case.alerts, 1) * 1000 for g, s in sorted(case.collector.seconds.items())
    }
    print(
        f"          the garbage collector, in every thread: "
        f"{sum(collected.values()):.2f} ms/alert, of it full collections "
        f"{collected.get(2, 0.0):.2f} (they walk moto's stored items too)"
    )
    print(f"          calls per alert by operation: {by_op}")
    per_alert = case.units_per_alert()
    units = {k: round(v, 2) for k, v in per_alert.items()}
    print(
        f"          write units per alert (table and indexes): {units}; "
        f"total {sum(per_alert.values()):.2f} (a ticket item: {case.ticket_bytes:,} bytes)"
    )


def profile(due: int, latency_ms: float, cases: list[Case]) -> None:
    """A separate pass of the 1-worker case under cProfile (`bench.cpu_split`):
    the shares of the product's CPU by owner. The profiler's own cost is the
    ratio of this pass's product CPU to the unprofiled pass's at the same size."""
    profiles = cpu_split.ThreadProfiles()
    case = run_case(due, 1, latency_ms, profiles)
    shares = cpu_split.product_shares(cpu_split.split(profiles.stats()))
    plain = next((c for c in cases if c.workers == 1 and c.due == due), None)
    cost = (
        f"; profiler's cost x{case.cpu_per_alert / plain.cpu_per_alert:.1f} "
        f"({case.cpu_per_alert * 1000:.2f} ms/alert profiled)"
        if plain is not None
        else ""
    )
    print(
        f"where the product's CPU goes, 1 worker, {due:,} due (cProfile of a separate pass, "
        f"each thread's CPU clock{cost}): "
        + ", ".join(f"{name} {share:.0%}" for name, share in shares.items())
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[2_000, 10_000])
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--latency", type=float, default=10.0, help="ms per AWS call")
    parser.add_argument(
        "--profile-size",
        type=int,
        default=None,
        help="due tickets of the profiled 1-worker pass (default: the first size; 0: none)",
    )
    args = parser.parse_args()
    moto_harness.environment(DUE_SHARDS=str(max(args.workers, 8)))
    moto_harness.without_table_snapshots()
    cases = []
    for due in args.sizes:
        for workers in (1, args.workers):
            case = run_case(due, workers, args.latency)
            report(case)
            cases.append(case)
    profile_size = args.sizes[0] if args.profile_size is None else args.profile_size
    if profile_size:
        profile(profile_size, args.latency, cases)
    worst = max(c.calls_per_alert for c in cases)
    print(f"AWS calls per alert, worst case: {worst:.3f} (goal <= 1.5)")
    one = next(c for c in reversed(cases) if c.workers == 1)
    model = Model(one.cpu_per_alert, worst, one.latency, one.threads)
    serial = Model(one.cpu_per_alert, worst, one.latency, 1)
    n = args.workers
    print(
        f"model, {BURST:,} alerts: one worker's rate {model.rate():.0f} alerts/s "
        f"(CPU {model.cpu * 1000:.2f} ms/alert; {worst:.3f} calls x {args.latency:g} ms "
        f"/ {model.threads} threads); 1 serial worker {serial.seconds_for(BURST, 1):.0f} s, "
        f"1 worker {model.seconds_for(BURST, 1):.0f} s, {n} workers "
        f"{model.seconds_for(BURST, n):.1f} s"
    )
    needed = next(w for w in range(1, 1025) if model.seconds_for(BURST, w) <= GOAL_SECONDS)
    print(f"workers needed for {BURST:,} within {GOAL_SECONDS:.0f} s: {needed}")
    # The table must take the workers' peak write rate at once (the stack's
    # WarmTableWriteUnits / WarmIndexWriteUnits): each worker at its rate, all together.
    peak = n * model.rate()
    per_alert: dict[str, float] = {}
    for case in cases:  # the largest figure measured, per table and index
        for target, u in case.units_per_alert().items():
            per_alert[target] = max(per_alert.get(target, 0.0), u)
    table = math.ceil(per_alert.pop("table", 0.0) * peak)
    hottest, most = max(per_alert.items(), key=lambda kv: kv[1], default=("-", 0.0))
    print(
        f"write units at {n} workers' peak ({peak:,.0f} alerts/s): table {table:,}/s, "
        f"hottest index {hottest} {math.ceil(most * peak):,}/s "
        f"(on-demand starts at 4,000/s: warm throughput)"
    )
    print(
        f"burst {BURST} alerts, {n} workers, latency {args.latency:g} ms: "
        f"published within {model.seconds_for(BURST, n):.1f} s of their instant "
        f"(goal <= {GOAL_SECONDS:.0f})"
    )


if __name__ == "__main__":
    main()
