"""slaguard: wiring only. Routes live in chalicelib/api, use cases in
chalicelib/services, the scheduled breach checker in chalicelib/services/checker."""

from __future__ import annotations

from typing import Any

from chalice.app import Chalice, Rate

from chalicelib.api import admin, lifecycle, meta, partners, policies, reports, tickets
from chalicelib.api.http import contract_errors

app = Chalice(app_name="slaguard", configure_logs=False)
app.api.binary_types = []  # every body is JSON text
app.register_middleware(contract_errors, "http")
app.register_blueprint(meta.bp)
app.register_blueprint(admin.bp)
app.register_blueprint(tickets.bp)
app.register_blueprint(lifecycle.bp)
app.register_blueprint(reports.bp)
app.register_blueprint(policies.bp)
app.register_blueprint(partners.bp)


@app.schedule(Rate(1, unit=Rate.MINUTES), name="breach_checker")
def breach_checker(event: Any) -> dict[str, int]:
    """Every minute: evaluate what is due at the event's `time` (API.md, Operations)."""
    # Deferred for cold start: API invocations never load the checker (and its metrics).
    from chalicelib.services.checker import run_scheduled

    return run_scheduled(event.to_dict(), event.context)
