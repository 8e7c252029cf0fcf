"""Admin routes: customers (tenants) and their API keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.api.http import Call, route
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib import commands
    from chalicelib.api import models
    from chalicelib.services import tenants
else:  # deferred for cold start (chalicelib.lazy): the first request loads them
    models = lazy_module("chalicelib.api.models")
    commands = lazy_module("chalicelib.commands")
    tenants = lazy_module("chalicelib.services.tenants")

bp = Blueprint(__name__)
ADMIN = {"admin"}


@route(
    bp,
    "/admin/tenants",
    "POST",
    roles=ADMIN,
    body=lambda: commands.TenantBody,
    response=lambda: models.TenantOut,
    status=201,
    idempotent=True,
    summary="Create a customer tenant",
    errors=(400, 409),
)
def create_tenant(call: Call) -> dict[str, Any]:
    return tenants.create_tenant(call.body, call.now)


@route(
    bp,
    "/admin/tenants",
    "GET",
    roles=ADMIN,
    query=lambda: commands.PageQuery,
    response=lambda: models.TenantPage,
    summary="Every customer tenant, by id",
)
def list_tenants(call: Call) -> dict[str, Any]:
    return tenants.list_tenants(call.query.limit, call.query.cursor)


@route(
    bp,
    "/admin/tenants/{tenant_id}",
    "GET",
    roles=ADMIN,
    response=lambda: models.TenantOut,
    summary="Read a customer tenant",
    errors=(404,),
)
def get_tenant(call: Call, tenant_id: str) -> dict[str, Any]:
    return tenants.get_tenant(tenant_id)


@route(
    bp,
    "/admin/tenants/{tenant_id}",
    "PATCH",
    roles=ADMIN,
    body=lambda: commands.TenantPatch,
    response=lambda: models.TenantOut,
    summary="Change a tenant (JSON Merge Patch, RFC 7386)",
    errors=(400, 404, 409),
)
def patch_tenant(call: Call, tenant_id: str) -> dict[str, Any]:
    return tenants.patch_tenant(tenant_id, call.body.model_dump(), call.now)


@route(
    bp,
    "/admin/tenants/{tenant_id}/keys",
    "POST",
    roles=ADMIN,
    body=lambda: commands.KeyBody,
    response=lambda: models.KeyIssued,
    status=201,
    idempotent=True,
    summary=(
        "Issue an API key (the clear key is shown once: a replay of the same "
        "Idempotency-Key answers 201 with the same key_id and api_key null)"
    ),
    errors=(400, 404, 409, 422),
    secrets=("api_key",),
)
def issue_key(call: Call, tenant_id: str) -> dict[str, Any]:
    return tenants.issue_key(tenant_id, call.body.role, call.body.contact, call.now)


@route(
    bp,
    "/admin/tenants/{tenant_id}/keys",
    "GET",
    roles=ADMIN,
    query=lambda: commands.PageQuery,
    response=lambda: models.KeyPage,
    summary="A tenant's API keys, in issue order (never a clear key or its hash)",
    errors=(404,),
)
def list_keys(call: Call, tenant_id: str) -> dict[str, Any]:
    return tenants.list_keys(tenant_id, call.query.limit, call.query.cursor)


@route(
    bp,
    "/admin/tenants/{tenant_id}/keys/{key_id}",
    "DELETE",
    roles=ADMIN,
    status=204,
    summary="Revoke an API key: it answers 401 within 60 seconds",
    errors=(404,),
)
def revoke_key(call: Call, tenant_id: str, key_id: str) -> None:
    tenants.revoke_key(tenant_id, key_id, call.now)
