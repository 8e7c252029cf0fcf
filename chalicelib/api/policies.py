"""Admin routes: the shipped and custom policies (API.md; POLICIES.md E9)."""

from __future__ import annotations

from typing import Any, Literal

from chalice.app import Blueprint
from pydantic import BaseModel, ConfigDict

from chalicelib.api.http import Call, route
from chalicelib.commands import PageQuery
from chalicelib.domain.policy import Policy
from chalicelib.services import policies

bp = Blueprint(__name__)
ADMIN = {"admin"}


class PolicyDocument(BaseModel):
    """A policy document (schema `Policy`). `id` may be left out (the path's is
    used; another one is a 400) and `version` is ignored: the server stores the
    document as the policy's next version. The service validates it in full, so
    one 400 names every bad field (`calendar.timezone`, `kinds.incident.priorities`)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"allOf": [{"$ref": "#/components/schemas/Policy"}]},
    )


class PolicySummary(BaseModel):
    id: str
    name: str
    version: int
    source: Literal["shipped", "custom"]
    updated_at: str | None


class PolicyPage(BaseModel):
    items: list[PolicySummary]
    next_cursor: str | None


class PolicyStored(Policy):
    """The stored policy, and how far re-targeting its open tickets got (E9):
    `retargeted` by this request, `remaining` for the breach checker to finish."""

    retargeted: int
    remaining: int


@route(
    bp,
    "/admin/policies",
    "GET",
    roles=ADMIN,
    query=PageQuery,
    response=PolicyPage,
    summary="The shipped and custom policies, with their versions",
)
def list_policies(call: Call) -> dict[str, Any]:
    return policies.list_policies(call.query.limit, call.query.cursor)


@route(
    bp,
    "/admin/policies/{policy_id}",
    "GET",
    roles=ADMIN,
    response=Policy,
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
    body=PolicyDocument,
    response=PolicyStored,
    summary="Store a policy as its next version and re-target its open tickets (E9)",
    errors=(409,),
)
def put_policy(call: Call, policy_id: str) -> dict[str, Any]:
    return policies.put_policy(policy_id, call.body.model_dump(), call.now, call.who)
