"""Where policies come from: the shipped ones (package data) and the ones an
admin stored (items in the table, which override a shipped one of the same id)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pynamodb.exceptions import DoesNotExist

from chalicelib.store.models import PolicyItem, plain

if TYPE_CHECKING:
    from chalicelib.domain.policy import Policy


def find(policy_id: str) -> Policy | None:
    """The current policy of that id, or None (one GetItem)."""
    from chalicelib.domain.policy import Policy
    from chalicelib.policies import load_shipped

    try:
        item = PolicyItem.get(PolicyItem.key(policy_id), "POLICY")
    except DoesNotExist:
        return load_shipped().get(policy_id)
    stored: Policy = Policy.model_validate(plain(item.doc))
    return stored


def load_shipped_into_store(now: datetime) -> list[str]:
    """Store each shipped policy so admins see it in the console; a stored copy is
    replaced only by a newer shipped version (an admin's PUT bumps the stored one)."""
    from pynamodb.exceptions import PutError

    from chalicelib.domain.instants import format_instant
    from chalicelib.policies import load_shipped

    loaded = []
    for policy in load_shipped().values():
        item = PolicyItem(
            PolicyItem.key(policy.id),
            "POLICY",
            policy_id=policy.id,
            version=policy.version,
            doc=policy.model_dump(mode="json"),
            updated_at=format_instant(now),
        )
        try:
            item.save(
                condition=PolicyItem.pk.does_not_exist() | (PolicyItem.version < policy.version)
            )
        except PutError as e:
            if e.cause_response_code != "ConditionalCheckFailedException":
                raise
            continue
        loaded.append(policy.id)
    return loaded
