"""Pending jobs a checker run continues, each kind under one partition so a run
finds them with a single Query: E9 re-targeting (one item per changed policy or
tenant) and A8 notices (one item per approved proposal whose subscriptions are
still to notify)."""

from __future__ import annotations

from pynamodb.exceptions import DeleteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.store.models import RetargetJobItem

PARTITION = "RETARGET"
NOTIFY = "NOTIFY"


def _put(
    sk: str,
    version: int,
    after: str | None,
    now: str,
    *,
    policy_id: str | None = None,
    tenant_id: str | None = None,
) -> RetargetJobItem:
    job = RetargetJobItem(
        PARTITION,
        sk,
        policy_id=policy_id,
        tenant_id=tenant_id,
        version=version,
        after=after,
        updated_at=now,
    )
    job.save()  # replaces any older change's job
    return job


def save(policy_id: str, version: int, after: str | None, now: str) -> None:
    """A policy change's job: its open tickets after ticket `after` (all of them
    when None) are still to re-target."""
    _put(f"POLICY#{policy_id}", version, after, now, policy_id=policy_id)


def save_tenant(tenant_id: str, version: int, after: str | None, now: str) -> RetargetJobItem:
    """A tenant change's job: its open tickets older than ticket `after` (all of
    them when None) are still to re-plan. It replaces any older change's job."""
    return _put(f"TENANT#{tenant_id}", version, after, now, tenant_id=tenant_id)


def advance(job: RetargetJobItem, after: str | None, stuck: int, now: str) -> None:
    """Record a job's progress: the next batch starts after ticket `after`, and
    `stuck` runs in a row made none. Unless a newer change replaced the job
    meanwhile: then that one stands, and goes over these tickets again itself."""
    try:
        job.update(
            actions=[
                RetargetJobItem.after.set(after) if after else RetargetJobItem.after.remove(),
                RetargetJobItem.stuck.set(stuck),
                RetargetJobItem.updated_at.set(now),
            ],
            condition=RetargetJobItem.version == job.version,
        )
    except UpdateError as e:
        if e.cause_response_code != "ConditionalCheckFailedException":
            raise


def pending(partition: str = PARTITION) -> list[RetargetJobItem]:
    return list(RetargetJobItem.query(partition))


def notice_job(proposal_id: str, now: str) -> RetargetJobItem:
    """An approved proposal's job (A8), not yet written: its decision's transaction
    writes it (`put_once`). Every subscription after `after` is still to notify."""
    return RetargetJobItem(
        NOTIFY, f"PROPOSAL#{proposal_id}", proposal_id=proposal_id, version=1, updated_at=now
    )


def put_once(tx: TransactWrite, job: RetargetJobItem) -> None:
    """Write a new job in a transaction: it must not exist (a decision is final)."""
    tx.save(job, condition=RetargetJobItem.sk.does_not_exist())


def advance_in(tx: TransactWrite, job: RetargetJobItem, after: str, now: str) -> None:
    """Record a job's progress in the transaction of the work it did: the next
    batch starts after `after`, on condition that nobody moved it since it was
    read (two runners never do the same batch twice)."""
    unmoved = (
        RetargetJobItem.after == job.after
        if job.after is not None
        else RetargetJobItem.after.does_not_exist()
    )
    tx.update(
        job,
        actions=[RetargetJobItem.after.set(after), RetargetJobItem.updated_at.set(now)],
        condition=RetargetJobItem.sk.exists() & unmoved,
    )


def done(job: RetargetJobItem) -> None:
    """Drop a finished job, unless a newer change replaced it meanwhile."""
    try:
        job.delete(condition=RetargetJobItem.version == job.version)
    except DeleteError as e:
        if e.cause_response_code != "ConditionalCheckFailedException":
            raise
