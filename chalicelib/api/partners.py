"""Partner helpdesk routes: registration, listing and secret rotation (admin), and
the signed webhook endpoint. Thin: each one calls one service function."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.api.http import Call, Reply, route
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib import commands
    from chalicelib.api import models
    from chalicelib.services import partners, webhooks
else:  # deferred for cold start (chalicelib.lazy): the first request loads them
    models = lazy_module("chalicelib.api.models")
    commands = lazy_module("chalicelib.commands")
    partners = lazy_module("chalicelib.services.partners")
    webhooks = lazy_module("chalicelib.services.webhooks")

bp = Blueprint(__name__)
ADMIN = {"admin"}

# Their answer carries a secret shown once: an Idempotency-Key replay answers the
# same with `secret: null` (the record never holds it), and no cache keeps it.


@route(
    bp,
    "/admin/partners",
    "POST",
    roles=ADMIN,
    body=lambda: commands.PartnerBody,
    response=lambda: models.PartnerIssued,
    status=201,
    idempotent=True,
    secrets=("secret",),
    summary="Register a partner helpdesk (its secret is shown once)",
    errors=(400, 409, 422),
)
def register(call: Call) -> dict[str, Any]:
    b = call.body
    return partners.register(
        b.id,
        b.tenant_id,
        b.format,
        b.priority_map,
        call.now,
        secret=b.secret,
        default_kind=b.default_kind,
    )


@route(
    bp,
    "/admin/partners",
    "GET",
    roles=ADMIN,
    query=lambda: commands.TenantPageQuery,
    response=lambda: models.PartnerPage,
    summary="Registered partner helpdesks, by tenant (never a secret)",
    errors=(404,),
)
def list_partners(call: Call) -> dict[str, Any]:
    q = call.query
    return partners.list_partners(q.tenant_id, q.limit, q.cursor)


@route(
    bp,
    "/admin/partners/{partner_id}",
    "GET",
    roles=ADMIN,
    response=lambda: models.PartnerOut,
    summary="One partner helpdesk (never a secret)",
    errors=(404,),
)
def get_partner(call: Call, partner_id: str) -> dict[str, Any]:
    return partners.describe(partner_id)


@route(
    bp,
    "/admin/partners/{partner_id}/secrets",
    "POST",
    roles=ADMIN,
    body=lambda: commands.SecretBody,
    body_optional=True,
    response=lambda: models.SecretIssued,
    status=201,
    idempotent=True,
    secrets=("secret",),
    summary="Rotate a partner's secret: the new one at once, the previous one 24 h more",
    errors=(400, 404, 409),
)
def rotate(call: Call, partner_id: str) -> dict[str, Any]:
    secret = call.body.secret if call.body is not None else None
    return partners.rotate(partner_id, call.now, secret=secret)


@route(
    bp,
    "/webhooks/{partner_id}",
    "POST",
    raw_json=True,
    response=lambda: models.WebhookAnswer,
    also=(202,),
    summary="A partner helpdesk's signed event (Standard Webhooks, Zendesk, Jira, Freshdesk)",
    errors=(400, 401, 403, 404, 409, 422, 503),
)
def webhook(call: Call, partner_id: str) -> Reply:
    answer = webhooks.ingest(partner_id, call.raw_body, call.headers, call.now)
    return Reply(answer.status, answer.body)
