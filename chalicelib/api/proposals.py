"""The register of proposals (docs/api.md, Proposals; Aivo A8): thin routes, each
one calls one service function."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.api.http import Call, Reply, route
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:
    from chalicelib import commands
    from chalicelib.api import models
    from chalicelib.services import proposals
else:  # deferred for cold start (chalicelib.lazy): the first request loads them
    models = lazy_module("chalicelib.api.models")
    commands = lazy_module("chalicelib.commands")
    proposals = lazy_module("chalicelib.services.proposals")

bp = Blueprint(__name__)
PEOPLE = {"customer", "agent", "admin"}


@route(
    bp,
    "/proposals",
    "POST",
    roles={"customer", "agent"},
    body=lambda: commands.ProposalBody,
    response=lambda: models.ProposalOut,
    status=201,
    idempotent=True,
    summary="Register a proposal of new functionality; its author is subscribed (A8)",
    errors=(400, 403),
)
def create_proposal(call: Call) -> dict[str, Any]:
    return proposals.create_proposal(call.who, call.body, call.now)


@route(
    bp,
    "/proposals",
    "GET",
    roles=PEOPLE,
    query=lambda: commands.ProposalListQuery,
    response=lambda: models.ProposalPage,
    summary="Every proposal of the register, newest first; filter status",
    errors=(400,),
)
def list_proposals(call: Call) -> dict[str, Any]:
    q = call.query
    return proposals.list_proposals(call.who, q.status, q.limit, q.cursor)


@route(
    bp,
    "/proposals/{proposal_id}",
    "GET",
    roles=PEOPLE,
    response=lambda: models.ProposalOut,
    summary="One proposal: its status and subscriber count",
    errors=(404,),
)
def get_proposal(call: Call, proposal_id: str) -> dict[str, Any]:
    return proposals.get_proposal(call.who, proposal_id)


@route(
    bp,
    "/proposals/{proposal_id}/subscriptions",
    "POST",
    roles={"customer"},
    body=lambda: commands.SubscriptionBody,
    body_optional=True,
    response=lambda: models.ProposalOut,
    status=201,
    also=(200,),
    summary="Subscribe a contact of the caller's tenant: 201, or 200 when it already is",
    errors=(404, 422),
)
def subscribe(call: Call, proposal_id: str) -> Reply:
    created, proposal = proposals.subscribe(
        call.who, proposal_id, call.body.contact if call.body else None, call.now
    )
    return Reply(201 if created else 200, proposal)


@route(
    bp,
    "/proposals/{proposal_id}/subscriptions",
    "DELETE",
    roles={"customer"},
    query=lambda: commands.UnsubscribeQuery,
    status=204,
    summary="Unsubscribe a contact of the caller's tenant (the key's by default)",
    errors=(404,),
)
def unsubscribe(call: Call, proposal_id: str) -> None:
    proposals.unsubscribe(call.who, proposal_id, call.query.contact)


@route(
    bp,
    "/proposals/{proposal_id}/decision",
    "POST",
    roles={"admin"},
    body=lambda: commands.DecisionBody,
    response=lambda: models.ProposalOut,
    idempotent=True,
    summary="Decide: under_review, then approved (every subscriber notified once) or declined",
    errors=(404, 422),
)
def decide(call: Call, proposal_id: str) -> dict[str, Any]:
    return proposals.decide(call.who, proposal_id, call.body, call.now)
