"""Admin routes: the shipped and custom policies (docs/api.md; docs/policies.md E9)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.api.http import Call, route
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib import commands
    from chalicelib.api import models
    from chalicelib.services import policies, whatif
else:  # deferred for cold start (chalicelib.lazy): the first request loads them
    commands = lazy_module("chalicelib.commands")
    models = lazy_module("chalicelib.api.models")
    policies = lazy_module("chalicelib.services.policies")
    whatif = lazy_module("chalicelib.services.whatif")

bp = Blueprint(__name__)
ADMIN = {"admin"}


@route(
    bp,
    "/admin/policies",
    "GET",
    roles=ADMIN,
    query=lambda: commands.PageQuery,
    response=lambda: models.PolicyPage,
    summary="The shipped and custom policies, with their versions",
)
def list_policies(call: Call) -> dict[str, Any]:
    return policies.list_policies(call.query.limit, call.query.cursor)


@route(
    bp,
    "/admin/policies/{policy_id}",
    "GET",
    roles=ADMIN,
    response=lambda: models.Policy,
    summary="A policy document (its current version)",
    errors=(404,),
)
def get_policy(call: Call, policy_id: str) -> dict[str, Any]:
    return policies.get_policy(policy_id)


@route(
    bp,
    "/admin/policies/{policy_id}",
    "PUT",
    roles=ADMIN,
    body=lambda: models.PolicyDocument,
    response=lambda: models.PolicyStored,
    summary="Store a policy as its next version and re-target its open tickets (E9)",
    errors=(409,),
)
def put_policy(call: Call, policy_id: str) -> dict[str, Any]:
    return policies.put_policy(policy_id, call.body.model_dump(), call.now, call.who)


@route(
    bp,
    "/admin/policies/{policy_id}/simulate",
    "POST",
    roles=ADMIN,
    body=lambda: commands.SimulateBody,
    response=lambda: models.Simulation,
    summary="What-if: a draft policy replayed over the tickets under the policy (stores nothing)",
    errors=(400, 404, 422),
)
def simulate(call: Call, policy_id: str) -> dict[str, Any]:
    b = call.body
    return whatif.simulate(policy_id, b.policy, b.from_, b.to, b.tenant_id, call.now)
