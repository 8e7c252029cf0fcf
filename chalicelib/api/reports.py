"""Report routes (docs/api.md): thin, each one calls one service function."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.api.http import Call, route
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib import commands
    from chalicelib.api import models
    from chalicelib.services import reports
else:  # deferred for cold start (chalicelib.lazy): the first request loads them
    models = lazy_module("chalicelib.api.models")
    commands = lazy_module("chalicelib.commands")
    reports = lazy_module("chalicelib.services.reports")

bp = Blueprint(__name__)


@route(
    bp,
    "/reports/sla",
    "GET",
    roles={"agent", "admin"},
    query=lambda: commands.SlaReportQuery,
    response=lambda: models.SlaReport,
    summary="SLA achievement per priority of the tickets reported in [from, to)",
    errors=(400, 404),
)
def sla_report(call: Call) -> dict[str, Any]:
    q = call.query
    return reports.sla_report(call.who, q.tenant_id, q.from_, q.to, call.now)


@route(
    bp,
    "/reports/charges",
    "GET",
    roles={"customer", "agent", "admin"},
    query=lambda: commands.SlaReportQuery,
    response=lambda: models.ChargesReport,
    summary="Charges per tenant and currency of the tickets reported in [from, to) (C4, DX3, DX4)",
    errors=(400, 403, 404),
)
def charges_report(call: Call) -> dict[str, Any]:
    q = call.query
    return reports.charges_report(call.who, q.tenant_id, q.from_, q.to)
