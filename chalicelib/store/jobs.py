"""Pending E9 re-targeting jobs: one item per changed policy or tenant under one
partition, so a checker run finds them with a single Query."""

from __future__ import annotations

from pynamodb.exceptions import DeleteError, UpdateError

from chalicelib.store.models import RetargetJobItem

PARTITION = "RETARGET"


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


def pending() -> list[RetargetJobItem]:
    return list(RetargetJobItem.query(PARTITION))


def done(job: RetargetJobItem) -> None:
    """Drop a finished job, unless a newer change replaced it meanwhile."""
    try:
        job.delete(condition=RetargetJobItem.version == job.version)
    except DeleteError as e:
        if e.cause_response_code != "ConditionalCheckFailedException":
            raise
