"""Use cases of the register of proposals (Aivo A8; docs/api.md, Proposals).

Customers (and agents for them) register proposals and subscribe to them; an admin
decides. An approval notifies every subscription exactly once, through the same
outbox as every alert: the decision's transaction writes the proposal's notice
job; the request then notifies a first batch itself and each breach-checker run
continues the job (`continue_notices`), a bounded number of batches a run, so no
request ever waits on ten thousand subscribers. A batch is one Query of the next
subscriptions and ONE transaction writing their notices (outbox items) with the
job's move past them, on condition that the job is where it was read: a retried
request, a second runner or a killed one never writes a notice twice nor skips
one. The notices are then published and marked sent; what SNS refuses stays in the
outbox, which the checker retries like any alert.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError
from pynamodb.exceptions import PynamoDBException
from ulid import ULID

from chalicelib import alerts, aws
from chalicelib.domain.instants import format_instant
from chalicelib.domain.proposal import NOTIFIED, REGISTERED, Proposal
from chalicelib.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotSubscribed,
    ProposalNotFound,
)
from chalicelib.services.auth import Caller, tenant_for
from chalicelib.services.outbox import claim_until, publish_items
from chalicelib.store import jobs, outbox
from chalicelib.store import proposals as store
from chalicelib.store import tenants as tenant_store
from chalicelib.store.models import RetargetJobItem

if TYPE_CHECKING:  # the checker loads this module, never the API's request models
    from chalicelib.commands import DecisionBody, ProposalBody

# Subscriptions notified per transaction: DynamoDB takes 100 items in one, and the
# job's move is one of them.
NOTICE_BATCH = 99
# Batches the deciding request notifies itself (the rest is the checker's), and
# batches a checker run takes, within NOTICE_SECONDS: 20 batches, 1,980 notices, a
# run; 10,000 subscribers are all notified by the 6th run after the approval.
REQUEST_BATCHES = 1
RUN_BATCHES = 20
NOTICE_SECONDS = 8.0
# Attempts at a subscription write that lost a race to another one on the proposal.
ATTEMPTS = 5

logger = Logger(service="slaguard")


def _visible_id(proposal_id: str) -> str:
    if not proposal_id.startswith("prp_") or len(proposal_id) > 40:
        raise ProposalNotFound(proposal_id)
    return proposal_id


def _contact(named: str | None, caller: Caller) -> str:
    """The subscription's contact: the one named, else the key's."""
    contact = named or caller.contact
    if contact is None:
        raise BadRequest(
            "this key has no contact: name the person to notify",
            {"contact": "required: this API key has none"},
        )
    return contact


def _by(caller: Caller, tenant_id: str | None = None, contact: str | None = None) -> dict[str, Any]:
    who: dict[str, Any] = {"role": caller.role, "key_id": caller.key_id}
    if tenant_id is not None:
        who |= {"tenant_id": tenant_id, "contact": contact}
    return who


def _view(caller: Caller, proposal_id: str) -> dict[str, Any]:
    """The proposal as this caller sees it (the count; its own tenant's
    subscription, never another's)."""
    found, follows = store.read(proposal_id, None if caller.is_provider else caller.tenant_id)
    if found is None:
        raise ProposalNotFound(proposal_id)
    return found.view(follows)


def create_proposal(caller: Caller, body: ProposalBody, now: datetime) -> dict[str, Any]:
    """POST /proposals: a new proposal, its author (the body's tenant and contact,
    else the key's) subscribed."""
    tenant_id = tenant_for(caller, body.tenant_id)
    if caller.is_provider and tenant_store.get_customer(tenant_id) is None:
        raise BadRequest("no such customer", {"tenant_id": f"unknown tenant {tenant_id!r}"})
    contact = _contact(body.contact, caller)
    proposal = Proposal(
        id=f"prp_{ULID()}",
        title=body.title,
        description=body.description,
        status=REGISTERED,
        created_at=now,
        subscribers=1,
    )
    store.create(proposal, _by(caller, tenant_id, contact), tenant_id, contact, format_instant(now))
    return proposal.view(subscribed=not caller.is_provider)


def list_proposals(
    caller: Caller, status: str | None, limit: int, cursor: str | None
) -> dict[str, Any]:
    """GET /proposals: the register, newest first, every customer's."""
    page, next_cursor = store.list_page(status, limit, cursor)
    mine = set() if caller.is_provider else store.followed([p.id for p in page], caller.tenant_id)
    return {"items": [p.view(p.id in mine) for p in page], "next_cursor": next_cursor}


def get_proposal(caller: Caller, proposal_id: str) -> dict[str, Any]:
    return _view(caller, _visible_id(proposal_id))


def subscribe(
    caller: Caller, proposal_id: str, contact: str | None, now: datetime
) -> tuple[bool, dict[str, Any]]:
    """POST /proposals/{id}/subscriptions: (created, the proposal). A second
    subscription of the same tenant and contact creates nothing."""
    _visible_id(proposal_id)
    who = _contact(contact, caller)
    for _ in range(ATTEMPTS):
        if store.subscribe(proposal_id, caller.tenant_id, who, format_instant(now), _by(caller)):
            return True, _view(caller, proposal_id)
        found, _ = store.read(proposal_id)
        if found is None:
            raise ProposalNotFound(proposal_id)
        found.check_open()  # decided: 422
        if store.subscribed(proposal_id, caller.tenant_id, who):
            return False, _view(caller, proposal_id)
        # else another subscription's transaction on the proposal won: again
    raise Conflict("the proposal changed while this request ran; retry", code="concurrent_update")


def unsubscribe(caller: Caller, proposal_id: str, contact: str | None) -> None:
    """DELETE /proposals/{id}/subscriptions: 404 when not subscribed."""
    _visible_id(proposal_id)
    who = _contact(contact, caller)
    for _ in range(ATTEMPTS):
        if store.unsubscribe(proposal_id, caller.tenant_id, who):
            return
        if not store.subscribed(proposal_id, caller.tenant_id, who):
            found, _ = store.read(proposal_id)
            if found is None:
                raise ProposalNotFound(proposal_id)
            raise NotSubscribed(proposal_id, who)
    raise Conflict("the proposal changed while this request ran; retry", code="concurrent_update")


def decide(caller: Caller, proposal_id: str, body: DecisionBody, now: datetime) -> dict[str, Any]:
    """POST /proposals/{id}/decision (admin): `under_review`, then `approved` or
    `declined`, both final (422 after). An approval writes the notice job with the
    decision and notifies a first batch; nothing is published for the others."""
    if caller.role != "admin":  # the route says so too; a use case keeps its own rule
        raise Forbidden("only an admin decides a proposal")
    _visible_id(proposal_id)
    for _ in range(ATTEMPTS):
        before, _ = store.read(proposal_id)
        if before is None:
            raise ProposalNotFound(proposal_id)
        after = before.decide(body.status, body.note, now)  # 422 once final
        job = (
            jobs.notice_job(proposal_id, format_instant(now)) if after.status == NOTIFIED else None
        )
        if store.decide(before, after, job):
            if job is not None:
                _first_notices(job, now, after)
            return after.view(subscribed=False)
    raise Conflict("the proposal changed while this request ran; retry", code="concurrent_update")


def _first_notices(job: RetargetJobItem, now: datetime, decided: Proposal) -> None:
    """The approving request's own batch. The decision is stored by then: AWS
    throttling this batch leaves it to the checker rather than answering 503 for
    a decision that was made (and would then be refused as final on a retry)."""
    try:
        _notify(job, now, REQUEST_BATCHES, time.monotonic() + NOTICE_SECONDS, decided)
    except (PynamoDBException, ClientError) as e:
        if not aws.throttled(e):
            raise
        logger.warning("proposal notices throttled; the checker goes on", job=job.sk)


@dataclass
class Progress:
    notified: int = 0  # notices written (each published now, or by the outbox retry)
    batches: int = 0  # Queries of subscriptions made
    finished: bool = False


def _notify(
    job: RetargetJobItem,
    now: datetime,
    batches: int,
    deadline: float,
    decided: Proposal | None = None,
) -> Progress:
    """Up to `batches` batches of an approved proposal's notices (fewer when the
    deadline passes, SNS refuses, or another runner moved the job): see the
    module's docstring. The job is dropped once no subscription is left.
    `decided`: the proposal as its approval wrote it (else it is read)."""
    progress = Progress()
    proposal_id = str(job.proposal_id)
    found = decided if decided is not None else store.read(proposal_id)[0]
    if found is None:  # an operator removed it: nothing left to notify
        jobs.done(job)
        progress.finished = True
        return progress
    at = format_instant(found.decided_at or now)
    for _ in range(batches):
        if time.monotonic() >= deadline:
            break
        subscriptions = store.subscriptions_after(proposal_id, job.after, NOTICE_BATCH)
        progress.batches += 1
        if not subscriptions:
            jobs.done(job)
            progress.finished = True
            break
        messages = [
            alerts.proposal_message(
                proposal_id=proposal_id,
                tenant_id=s.tenant_id,
                contact=s.contact,
                title=found.title,
                occurred_at=at,
            )
            for s in subscriptions
        ]
        written = format_instant(now)
        notices = [
            outbox.new_notice(proposal_id, m["id"].split(":", 1)[1], m, written, claim_until())
            for m in messages
        ]
        last = subscriptions[-1].sk
        if not store.write_notices(job, last, notices, written):
            logger.info("notices of this batch written by another runner", proposal_id=proposal_id)
            break
        job.after = last
        progress.notified += len(notices)
        if publish_items(notices, now) < len(notices):
            break  # SNS refuses: the outbox retries these; the job goes on next run
        if len(subscriptions) < NOTICE_BATCH:
            jobs.done(job)
            progress.finished = True
            break
    return progress


def continue_notices(now: datetime) -> int:
    """Each breach-checker run: take up to RUN_BATCHES batches of every approved
    proposal's notices still to write, within NOTICE_SECONDS in all (one Query for
    the jobs, then per batch a Query, a transaction, PublishBatch and
    BatchWriteItem calls). A job AWS throttles waits for the next run. Returns the
    notices written."""
    deadline = time.monotonic() + NOTICE_SECONDS
    budget, notified = RUN_BATCHES, 0
    for job in jobs.pending(jobs.NOTIFY):
        if time.monotonic() >= deadline or budget <= 0:
            break
        try:
            progress = _notify(job, now, budget, deadline)
        except (PynamoDBException, ClientError) as e:
            if not aws.throttled(e):
                raise
            logger.warning("proposal notices throttled; next run", job=job.sk)
            continue
        notified += progress.notified
        budget -= max(progress.batches, 1)
    return notified
