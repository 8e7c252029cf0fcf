"""Pending E9 re-targeting jobs: one item per changed policy or tenant under one
partition, so a checker run finds them with a single Query."""

from __future__ import annotations

from pynamodb.exceptions import DeleteError

from chalicelib.store.models import RetargetJobItem

PARTITION = "RETARGET"


def save(policy_id: str, version: int, after: str | None, now: str) -> None:
    RetargetJobItem(
        PARTITION,
        f"POLICY#{policy_id}",
        policy_id=policy_id,
        version=version,
        after=after,
        updated_at=now,
    ).save()


def save_tenant(tenant_id: str, version: int, after: str | None, now: str) -> None:
    """A tenant change's job: its open tickets older than ticket `after` (all of
    them when None) are still to re-plan."""
    RetargetJobItem(
        PARTITION,
        f"TENANT#{tenant_id}",
        tenant_id=tenant_id,
        version=version,
        after=after,
        updated_at=now,
    ).save()


def pending() -> list[RetargetJobItem]:
    return list(RetargetJobItem.query(PARTITION))


def done(job: RetargetJobItem) -> None:
    """Drop a finished job, unless a newer policy change replaced it meanwhile."""
    try:
        job.delete(condition=RetargetJobItem.version == job.version)
    except DeleteError as e:
        if e.cause_response_code != "ConditionalCheckFailedException":
            raise
