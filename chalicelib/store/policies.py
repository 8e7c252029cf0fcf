"""Policies: the shipped ones (package data) and the ones an admin stored (items in
the table, which override a shipped one of the same id).

Items: the policy `POLICY#<id>` / `POLICY` (its document and version), and a small
catalog entry `POLICIES` / `POLICY#<id>` (id, name, version) written in the same
transaction, so listing the policies is one Query, never a Scan of the table.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib import policies as shipped_policies
from chalicelib.domain.instants import format_instant
from chalicelib.domain.policy import Policy
from chalicelib.errors import Conflict
from chalicelib.settings import table_name
from chalicelib.store import raw
from chalicelib.store.models import PolicyItem, plain

POLICY_SK = "POLICY"
CATALOG_PK = "POLICIES"


@dataclass(frozen=True)
class CatalogEntry:
    policy_id: str
    name: str
    version: int
    updated_at: str


# The stored policies this process parsed, by table and id: (version, updated_at,
# policy). A stored version never changes (each write numbers the next version and
# is conditioned on the one it replaces), so once a policy is parsed `find` reads
# its version alone: parsing a policy's document took a third of a warm re-plan's
# CPU (bench/requests.py).
_parsed: dict[tuple[str, str], tuple[int, str, Policy]] = {}
_VERSION = ("version", "updated_at")


def _stored_item(policy_id: str, *, consistent: bool = False) -> PolicyItem | None:
    try:
        return PolicyItem.get(PolicyItem.key(policy_id), POLICY_SK, consistent_read=consistent)
    except DoesNotExist:
        return None


def find(policy_id: str, *, consistent: bool = False) -> Policy | None:
    """The current policy of that id: the stored copy, else the shipped one, else
    None (one GetItem; a second when the stored copy changed since this process
    last parsed it)."""
    known = _parsed.get((table_name(), policy_id))
    if known is not None:
        # its version alone, a raw item (`store.raw`): what every ticket write reads
        head = raw.get_item(
            PolicyItem.key(policy_id), POLICY_SK, consistent=consistent, attributes=_VERSION
        )
        if head is None:
            return shipped_policies.load_shipped().get(policy_id)
        if (int(raw.number(head, "version")), raw.text(head, "updated_at")) == known[:2]:
            return known[2]
    item = _stored_item(policy_id, consistent=consistent)
    if item is None:
        return shipped_policies.load_shipped().get(policy_id)
    parsed: Policy = Policy.model_validate(plain(item.doc))
    _parsed[(table_name(), policy_id)] = (int(item.version), item.updated_at, parsed)
    return parsed


def current(policy_id: str) -> tuple[Policy | None, bool]:
    """The current policy of that id and whether it is a stored copy (one
    consistent GetItem): the stored copy, else the shipped one, else None."""
    item = _stored_item(policy_id, consistent=True)
    if item is not None:
        parsed: Policy = Policy.model_validate(plain(item.doc))
        return parsed, True
    return shipped_policies.load_shipped().get(policy_id), False


def _items(policy: Policy, now: datetime) -> tuple[PolicyItem, PolicyItem]:
    """The policy item and its catalog entry."""
    at = format_instant(now)
    item = PolicyItem(
        PolicyItem.key(policy.id),
        POLICY_SK,
        policy_id=policy.id,
        version=policy.version,
        doc=policy.model_dump(mode="json"),
        updated_at=at,
    )
    entry = PolicyItem(
        CATALOG_PK,
        PolicyItem.key(policy.id),
        policy_id=policy.id,
        version=policy.version,
        doc={"name": policy.name},
        updated_at=at,
    )
    return item, entry


def _write(policy: Policy, now: datetime, condition: Any) -> bool:
    """Store a policy and its catalog entry, all or nothing, if `condition` holds
    on the policy item; False when it does not."""
    item, entry = _items(policy, now)
    try:
        with TransactWrite(connection=PolicyItem._get_connection().connection) as tx:
            tx.save(item, condition=condition)
            tx.save(entry)
    except TransactWriteError as e:
        if e.cause_response_code == "TransactionCanceledException":
            return False
        raise
    # what this process wrote it need not read again (find's second GetItem)
    _parsed[(table_name(), policy.id)] = (policy.version, item.updated_at, policy)
    return True


def save_version(policy: Policy, now: datetime, *, replaces: int | None) -> None:
    """Store `policy` (its version already numbered) in place of stored version
    `replaces` (None: no copy is stored). Conflict when another writer stored
    one meanwhile (the write is conditioned on the version it read)."""
    condition = (
        PolicyItem.version == replaces if replaces is not None else PolicyItem.pk.does_not_exist()
    )
    if not _write(policy, now, condition):
        raise Conflict(
            f"policy {policy.id} changed while this request ran; read it again and retry",
            code="concurrent_update",
        )


def save_if_newer(policy: Policy, now: datetime) -> bool:
    """Store a shipped policy unless a copy of that version or a newer one is
    stored (an admin's PUT bumps the stored one). True when written."""
    return _write(
        policy, now, PolicyItem.pk.does_not_exist() | (PolicyItem.version < policy.version)
    )


def catalog() -> Iterator[CatalogEntry]:
    """Every stored policy's catalog entry, by id (one Query, paged as consumed)."""
    for entry in PolicyItem.query(CATALOG_PK):
        yield CatalogEntry(
            policy_id=entry.policy_id,
            name=plain(entry.doc).get("name", entry.policy_id),
            version=int(entry.version),
            updated_at=entry.updated_at,
        )
