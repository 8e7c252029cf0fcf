"""Cold start (issue 14): `import app` registers every route and function without
loading a service, a request model, the domain or the docs' assets; each request or
run loads its own (chalicelib.lazy). `bench/coldstart.py` measures the time; this
checks, in a fresh interpreter, what the import reaches."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What no route declaration needs: loading one of these at import is a regression.
DEFERRED = (
    "chalicelib.api.models",
    "chalicelib.commands",
    "chalicelib.services",
    "chalicelib.store",
    "chalicelib.webhooks",
    "chalicelib.domain.policy",
    "chalicelib.domain.calendar",
    "pynamodb.models",
    "swagger_ui_bundle",
)


def fresh(code: str) -> str:
    """The last line a fresh interpreter prints running `code`."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        # as Lambda runs it (bench/coldstart.py says why LAMBDA_TASK_ROOT matters)
        env={"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin", "LAMBDA_TASK_ROOT": "."},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip().splitlines()[-1]


def loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code`."""
    return set(json.loads(fresh(f"import json, sys\n{code}\nprint(json.dumps(list(sys.modules)))")))


def reached(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules for n in names if m == n or m.startswith(n + "."))


def test_importing_the_app_loads_no_service_model_or_domain_module() -> None:
    modules = loaded_after("import app\nassert len(app.app.routes) >= 20")
    assert reached(modules, DEFERRED) == []


def test_a_checker_worker_never_loads_the_apis_request_or_response_models() -> None:
    modules = loaded_after("import app\nimport chalicelib.services.checker")
    assert "chalicelib.services.checker" in modules  # the check below can fail
    assert reached(modules, ("chalicelib.api.models", "chalicelib.commands")) == []


def test_validating_a_country_calendar_loads_no_country_of_holidays() -> None:
    """A policy's calendar names its country: checking the code must not import the
    module of every country `holidays` knows (about 50 ms of CPU)."""
    modules = loaded_after(
        "from chalicelib.domain.calendar import CalendarSpec\n"
        "CalendarSpec(country='AR', hours={'mon': [('09:00', '18:00')]})"
    )
    assert "chalicelib.domain.calendar" in modules  # the check below can fail
    assert reached(modules, ("holidays.countries",)) == []


def test_a_shipped_policys_country_calendar_imports_no_holidays_module() -> None:
    """Aivo's calendar (Argentina): its country checked and three years of its
    holidays read from the package's dates written out (domain.holiday_dates), not
    from the package, whose import costs about 60 ms of CPU."""
    modules = loaded_after(
        "from datetime import datetime, UTC\n"
        "from chalicelib.domain.calendar import BusinessCalendar, CalendarSpec\n"
        "spec = CalendarSpec(country='AR', hours={'mon': [('09:00', '18:00')]})\n"
        "BusinessCalendar(spec).add(datetime(2026, 11, 20, tzinfo=UTC), 3600)"
    )
    assert "chalicelib.domain.calendar" in modules  # the check below can fail
    assert reached(modules, ("holidays",)) == []


def test_every_botocore_session_of_the_store_shares_one_parse_of_the_service_files() -> None:
    """PynamoDB builds a botocore session per model's connection: each would parse
    DynamoDB's model and endpoint files again on a first request (chalicelib.aws)."""
    modules = loaded_after(
        "import chalicelib.store.tickets\n"
        "from pynamodb.connection.base import get_session\n"
        "one, other = get_session(), get_session()\n"
        "assert one is not other\n"
        "assert one.get_component('data_loader') is other.get_component('data_loader')"
    )
    assert "chalicelib.store.tickets" in modules


def test_the_import_leaves_what_it_built_out_of_the_collectors_full_collections() -> None:
    """app.py ends Lambda's init with gc.freeze(): a later full collection (a first
    request makes one) does not walk the import's objects again."""
    assert int(fresh("import gc, app\nprint(gc.get_freeze_count())")) > 10_000
