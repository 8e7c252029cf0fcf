"""Report routes (API.md): thin, each one calls one service function."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint
from pydantic import BaseModel, Field

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


class ChargesReportItem(BaseModel):
    """A tenant's charges in one currency; money and hours as decimal strings."""

    tenant_id: str
    currency: str
    tickets_charged: int
    tickets_waived: int
    hours: str = Field(pattern=r"^\d+\.\d{2}$", examples=["12.50"])
    amount_due: str = Field(pattern=r"^\d+\.\d{2}$", examples=["540.00"])


class ChargesReport(BaseModel):
    from_: str = Field(alias="from")
    to: str
    tenant_id: str | None  # null: every customer tenant
    items: list[ChargesReportItem]


@route(
    bp,
    "/reports/charges",
    "GET",
    roles={"customer", "agent", "admin"},
    query=SlaReportQuery,
    response=ChargesReport,
    summary="Charges per tenant and currency of the tickets reported in [from, to) (C4, DX3, DX4)",
    errors=(400, 403, 404),
)
def charges_report(call: Call) -> dict[str, Any]:
    q = call.query
    return reports.charges_report(call.who, q.tenant_id, q.from_, q.to)
