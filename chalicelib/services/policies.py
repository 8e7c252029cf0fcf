"""Where policies come from: the shipped ones (package data) and the ones an
admin stored (items in the table, which override a shipped one of the same id).

Items: the policy `POLICY#<id>` / `POLICY` (its document and version), and a small
catalog entry `POLICIES` / `POLICY#<id>` (id, name, version) written in the same
transaction, so listing the policies is one Query, never a Scan of the table.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.instants import format_instant
from chalicelib.errors import BadRequest, Conflict, NotFound, PayloadTooLarge
from chalicelib.store.models import PolicyItem, plain
from chalicelib.store.pages import decode_cursor, encode_cursor

if TYPE_CHECKING:
    from chalicelib.domain.policy import Policy
    from chalicelib.services.auth import Caller

POLICY_SK = "POLICY"
CATALOG_PK = "POLICIES"
# DynamoDB limits a stored document must respect (items are at most 400 KB; maps
# and lists nest at most 32 deep; numbers carry at most 38 significant digits).
MAX_STORED_BYTES = 350_000
MAX_DEPTH = 16
MIN_MAGNITUDE, MAX_MAGNITUDE = 1e-30, 1e30
# The shape of a policy id (the domain's `Policy.id`): anything else is not looked up.
POLICY_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


class PolicyNotFound(NotFound):
    def __init__(self, policy_id: str) -> None:
        super().__init__(f"policy {policy_id} not found", code="policy_not_found")


def _stored(policy_id: str, *, consistent: bool = False) -> PolicyItem | None:
    try:
        return PolicyItem.get(PolicyItem.key(policy_id), POLICY_SK, consistent_read=consistent)
    except DoesNotExist:
        return None


def _parse(item: PolicyItem) -> Policy:
    from chalicelib.domain.policy import Policy

    parsed: Policy = Policy.model_validate(plain(item.doc))
    return parsed


def find(policy_id: str, *, consistent: bool = False) -> Policy | None:
    """The current policy of that id, or None (one GetItem)."""
    from chalicelib.policies import load_shipped

    item = _stored(policy_id, consistent=consistent)
    if item is None:
        return load_shipped().get(policy_id)
    return _parse(item)


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


def _write(policy: Policy, now: datetime, condition: Any) -> None:
    """Store a policy and its catalog entry, all or nothing, if `condition` holds
    on the policy item (raises TransactWriteError otherwise)."""
    item, entry = _items(policy, now)
    with TransactWrite(connection=PolicyItem._get_connection().connection) as tx:
        tx.save(item, condition=condition)
        tx.save(entry)


def _lost_race(e: TransactWriteError) -> bool:
    return e.cause_response_code == "TransactionCanceledException"


def load_shipped_into_store(now: datetime) -> list[str]:
    """Store each shipped policy so admins see it in the console; a stored copy is
    replaced only by a newer shipped version (an admin's PUT bumps the stored one)."""
    from chalicelib.policies import load_shipped

    loaded = []
    for policy in load_shipped().values():
        try:
            _write(
                policy,
                now,
                PolicyItem.pk.does_not_exist() | (PolicyItem.version < policy.version),
            )
        except TransactWriteError as e:
            if not _lost_race(e):
                raise
            continue
        loaded.append(policy.id)
    return loaded


# --------------------------------------------------------------------- admin API


def list_policies(limit: int, cursor: str | None) -> dict[str, Any]:
    """The shipped and custom policies, by id: `{id, name, version, source,
    updated_at}` (a stored copy of a shipped policy is that policy). One Query."""
    from chalicelib.policies import load_shipped

    start = decode_cursor(cursor, {}, {"policy_id"})
    after = start["policy_id"]["S"] if start is not None else None
    shipped = load_shipped()
    rows: dict[str, dict[str, Any]] = {
        p.id: {
            "id": p.id,
            "name": p.name,
            "version": p.version,
            "source": "shipped",
            "updated_at": None,
        }
        for p in shipped.values()
    }
    for entry in PolicyItem.query(CATALOG_PK):
        rows[entry.policy_id] = {
            "id": entry.policy_id,
            "name": plain(entry.doc).get("name", entry.policy_id),
            "version": int(entry.version),
            "source": "shipped" if entry.policy_id in shipped else "custom",
            "updated_at": entry.updated_at,
        }
    ids = sorted(i for i in rows if after is None or i > after)
    page = ids[:limit]
    more = len(ids) > limit
    next_cursor = encode_cursor({"policy_id": {"S": page[-1]}}) if more else None
    return {"items": [rows[i] for i in page], "next_cursor": next_cursor}


def get_policy(policy_id: str) -> dict[str, Any]:
    policy = find(policy_id, consistent=True) if POLICY_ID.fullmatch(policy_id) else None
    if policy is None:
        raise PolicyNotFound(policy_id)
    doc: dict[str, Any] = policy.model_dump(mode="json")
    return doc


def _storage_problems(value: Any, path: str = "", depth: int = 0) -> dict[str, str]:
    """What valid-looking JSON could still not be stored, or not read back the same:
    Infinity/NaN (JSON mode would write them as null), numbers DynamoDB cannot
    hold exactly, empty map keys, nesting deeper than any policy needs. By path."""
    where = path or "body"
    if depth > MAX_DEPTH:
        return {where: "nested too deep"}
    if isinstance(value, float) and not math.isfinite(value):
        return {where: "must be a finite number"}
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value and not MIN_MAGNITUDE <= abs(value) < MAX_MAGNITUDE:
            return {where: "out of range"}
        return {}
    problems: dict[str, str] = {}
    items: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "":
                problems[where] = "an empty key"
            items.append((f"{path}.{key}" if path else str(key), item))
    elif isinstance(value, list):
        items = [(f"{path}.{i}" if path else str(i), item) for i, item in enumerate(value)]
    for item_path, item in items:
        problems.update(_storage_problems(item, item_path, depth + 1))
    return problems


def put_policy(
    policy_id: str, doc: dict[str, Any], now: datetime, caller: Caller
) -> dict[str, Any]:
    """Validate and store a policy document under `policy_id`, as the next version
    of that policy (1 for a new custom one, the current version + 1 otherwise),
    then re-target a first batch of its open tickets (E9).

    The path's id is the policy's id: a body `id` must be the same (else 400
    `fields.id`); a body `version` is ignored (the server numbers versions). Two
    PUTs that read the same version cannot both win: the loser gets 409.
    """
    from chalicelib.domain.policy import IntakeError, validate_policy_document
    from chalicelib.policies import load_shipped
    from chalicelib.services import retarget

    if not POLICY_ID.fullmatch(policy_id):
        raise BadRequest(
            "the policy id in the path is invalid",
            {"id": f"must match {POLICY_ID.pattern}"},
            code="invalid_policy",
        )
    fields = _storage_problems({k: v for k, v in doc.items() if k not in ("id", "version")})
    if "id" in doc and doc["id"] != policy_id:
        fields["id"] = f"must be the policy id of the path ({policy_id!r}), or absent"
    try:
        parsed = validate_policy_document({**doc, "id": policy_id, "version": 1})
    except IntakeError as e:
        raise BadRequest(e.args[0], {**fields, **e.fields}, code="invalid_policy") from e
    if fields:
        raise BadRequest("the policy document is invalid", fields, code="invalid_policy")
    stored = _stored(policy_id, consistent=True)
    if stored is not None:
        current = int(stored.version)
    else:
        shipped = load_shipped().get(policy_id)
        current = shipped.version if shipped is not None else 0
    policy = parsed.model_copy(update={"version": current + 1})
    if len(json.dumps(policy.model_dump(mode="json"))) > MAX_STORED_BYTES:
        raise PayloadTooLarge(f"the policy document is over {MAX_STORED_BYTES // 1000} kB stored")
    condition = (
        PolicyItem.version == current if stored is not None else PolicyItem.pk.does_not_exist()
    )
    try:
        _write(policy, now, condition)
    except TransactWriteError as e:
        if _lost_race(e):
            raise Conflict(
                f"policy {policy_id} changed while this request ran; read it again and retry",
                code="concurrent_update",
            ) from e
        raise
    actor = {"role": caller.role, "key_id": caller.key_id, "partner_id": None}
    outcome = retarget.retarget_policy(policy, now, actor)
    result: dict[str, Any] = policy.model_dump(mode="json")
    result.update(retargeted=outcome.retargeted, remaining=outcome.remaining)
    return result
