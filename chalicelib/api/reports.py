"""Report routes (API.md): thin, each one calls one service function."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.api.http import Call, route
from chalicelib.api.models import SlaReport
from chalicelib.commands import SlaReportQuery
from chalicelib.services import reports

bp = Blueprint(__name__)


@route(
    bp,
    "/reports/sla",
    "GET",
    roles={"agent", "admin"},
    query=SlaReportQuery,
    response=SlaReport,
    summary="SLA achievement per priority of the tickets reported in [from, to)",
    errors=(400, 404),
)
def sla_report(call: Call) -> dict[str, Any]:
    q = call.query
    return reports.sla_report(call.who, q.tenant_id, q.from_, q.to, call.now)
