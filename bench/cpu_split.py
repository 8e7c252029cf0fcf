"""Where a bench's CPU goes, by owner: slaguard's code, botocore, PynamoDB, ...

`ThreadProfiles` gives every thread started while it is installed its own
`cProfile.Profile` timed by that thread's CPU clock (`time.thread_time`: a thread
waiting for the GIL, a lock or a modelled latency is not charged), paused while
the thread runs the harness's excluded spans (moto's backend, the write meter:
`installed(*excluded)`), so that what is profiled is the product's work. `split`
then charges each function's own time to its owner, named by the file it is in
(`OWNERS`); a function of the standard library or a builtin has no owner of its
own and is charged to the owners of its callers, in proportion to the time it
spent under each (through callers that are themselves standard library; a
recursion is left out of the path).

cProfile costs CPU itself (each call and return is timed), more in small
functions than in large ones, so its shares are an estimate: the bench prints
them as shares next to the unprofiled figure, never as milliseconds.
"""

from __future__ import annotations

import cProfile
import functools
import pstats
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import Any

# An owner per path fragment, the first that matches; anything else (the standard
# library, builtins, the benches' own drivers) is charged to its callers.
OWNERS = (
    ("/chalicelib/", "slaguard"),
    ("/bench/moto_harness.py", "harness"),
    ("/moto/", "aws model"),
    ("/botocore/", "botocore"),
    ("/boto3/", "botocore"),
    ("/pynamodb/", "PynamoDB"),
    ("/aws_lambda_powertools/", "Powertools"),
    ("/pydantic/", "pydantic"),
    ("/pydantic_core/", "pydantic"),
    ("/site-packages/", "other libraries"),
)
EXCLUDED = frozenset({"aws model", "harness"})  # not the product's CPU

Function = tuple[str, int, str]  # pstats' (file, line, name)


def owner_of(function: Function) -> str | None:
    """The owner of a function by its file; None when its callers own it."""
    path = function[0].replace("\\", "/")
    for fragment, owner in OWNERS:
        if fragment in path:
            return owner
    return None


class ThreadProfiles:
    """One profiler per thread started while `installed` (each thread's first
    Python call enables its own; `threading.setprofile` is per new thread)."""

    def __init__(self) -> None:
        self._profiles: list[cProfile.Profile] = []
        self._lock = threading.Lock()
        self._local = threading.local()

    def _start(self, frame: Any, event: str, arg: Any) -> None:
        profile = cProfile.Profile(time.thread_time)
        with self._lock:
            self._profiles.append(profile)
        self._local.profile = profile
        profile.enable()  # replaces this hook, in this thread only

    def _paused(self, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def paused(*args: Any, **kwargs: Any) -> Any:
            profile: cProfile.Profile | None = getattr(self._local, "profile", None)
            if profile is None:
                return function(*args, **kwargs)
            profile.disable()
            try:
                return function(*args, **kwargs)
            finally:
                profile.enable()

        return paused

    @contextmanager
    def installed(self, *excluded: tuple[type, str]) -> Iterator[None]:
        """Profile the threads started in the block, except inside the methods
        `excluded` names (class, attribute)."""
        with ExitStack() as restore:
            for owner, name in excluded:
                original = owner.__dict__[name]
                setattr(owner, name, self._paused(original))
                restore.callback(setattr, owner, name, original)
            threading.setprofile(self._start)
            restore.callback(threading.setprofile, None)
            yield

    def stats(self) -> pstats.Stats:
        """Every thread's profile, merged (call after the threads have ended)."""
        stats = pstats.Stats()
        for profile in self._profiles:
            stats.add(profile)
        return stats


def by_function(stats: pstats.Stats) -> dict[tuple[str, Function], float]:
    """Seconds of profiled CPU per (owner, function that owns it): a function's
    own time is its owner's; one without an owner is charged to its callers'."""
    table: dict[Function, Any] = stats.stats  # type: ignore[attr-defined]
    shares: dict[Function, dict[tuple[str, Function], float]] = {}

    def share(function: Function, seen: frozenset[Function]) -> dict[tuple[str, Function], float]:
        """Which (owner, function) a function's time belongs to, as fractions;
        empty when it is only called from the path (a recursion)."""
        known = shares.get(function)
        if known is not None:
            return known
        owner = owner_of(function)
        result: dict[tuple[str, Function], float] = defaultdict(float)
        if owner is not None:
            result[owner, function] = 1.0
        else:
            callers = table.get(function, (0, 0, 0.0, 0.0, {}))[4]
            weighted = [
                (share(caller, seen | {function}), edge[3])  # the time under that caller
                for caller, edge in callers.items()
                if caller not in seen and edge[3] > 0 and len(seen) < 100
            ]
            total = sum(weight for owners, weight in weighted if owners)
            if not total:
                if seen:
                    return result  # not memoised: it depends on the path
                result["other", function] = 1.0  # a thread's root
            for owners, weight in weighted:
                for key, fraction in owners.items():
                    result[key] += fraction * weight / total
        if not seen:
            shares[function] = result
        return result

    seconds: dict[tuple[str, Function], float] = defaultdict(float)
    for function, (_, _, own, _, _) in table.items():
        for key, fraction in share(function, frozenset()).items():
            seconds[key] += own * fraction
    return dict(seconds)


def split(stats: pstats.Stats) -> dict[str, float]:
    """Seconds of profiled CPU per owner (`by_function`)."""
    seconds: dict[str, float] = defaultdict(float)
    for (owner, _), spent in by_function(stats).items():
        seconds[owner] += spent
    return dict(seconds)


def product_shares(seconds: Mapping[str, float]) -> dict[str, float]:
    """The product's owners as fractions of the product's profiled CPU (moto's
    and the harness's left out), largest first."""
    product = {name: s for name, s in seconds.items() if name not in EXCLUDED}
    total = sum(product.values()) or 1.0
    return {name: s / total for name, s in sorted(product.items(), key=lambda kv: -kv[1])}
