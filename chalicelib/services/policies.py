"""Use cases of the policy admin routes: list, read, and store a policy as its next
version, then re-target a first batch of its open tickets (E9). The policies
themselves are persisted by `chalicelib.store.policies`."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from chalicelib import policies as shipped_policies
from chalicelib import storable
from chalicelib.domain.errors import IntakeError
from chalicelib.domain.policy import Policy, validate_policy_document
from chalicelib.errors import BadRequest, NotFound, PayloadTooLarge
from chalicelib.services import retarget
from chalicelib.services.auth import Caller
from chalicelib.services.unit_of_work import actor_of
from chalicelib.store import policies as store
from chalicelib.store.pages import decode_cursor, encode_cursor

# The shape of a policy id (the domain's `Policy.id`): anything else is not looked up.
POLICY_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


class PolicyNotFound(NotFound):
    def __init__(self, policy_id: str) -> None:
        super().__init__(f"policy {policy_id} not found", code="policy_not_found")


def load_shipped_into_store(now: datetime) -> list[str]:
    """Store each shipped policy so admins see it in the console; a stored copy is
    replaced only by a newer shipped version (an admin's PUT bumps the stored one)."""
    return [p.id for p in shipped_policies.load_shipped().values() if store.save_if_newer(p, now)]


def list_policies(limit: int, cursor: str | None) -> dict[str, Any]:
    """The shipped and custom policies, by id: `{id, name, version, source,
    updated_at}` (a stored copy of a shipped policy is that policy). One Query."""
    start = decode_cursor(cursor, {}, {"policy_id"})
    after = start["policy_id"]["S"] if start is not None else None
    shipped = shipped_policies.load_shipped()
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
    for entry in store.catalog():
        rows[entry.policy_id] = {
            "id": entry.policy_id,
            "name": entry.name,
            "version": entry.version,
            "source": "shipped" if entry.policy_id in shipped else "custom",
            "updated_at": entry.updated_at,
        }
    ids = sorted(i for i in rows if after is None or i > after)
    page = ids[:limit]
    more = len(ids) > limit
    next_cursor = encode_cursor({"policy_id": {"S": page[-1]}}) if more else None
    return {"items": [rows[i] for i in page], "next_cursor": next_cursor}


def get_policy(policy_id: str) -> dict[str, Any]:
    policy = store.find(policy_id, consistent=True) if POLICY_ID.fullmatch(policy_id) else None
    if policy is None:
        raise PolicyNotFound(policy_id)
    doc: dict[str, Any] = policy.model_dump(mode="json")
    return doc


def validate_document(policy_id: str, doc: dict[str, Any], prefix: str = "") -> Policy:
    """A policy document for `policy_id` checked as a PUT checks it: one 400 names
    every bad field (each under `prefix`): values DynamoDB could not store
    (`chalicelib.storable`) and the document's own errors. A body `id` must be the
    path's; a body `version` is ignored (the server numbers versions)."""
    if not POLICY_ID.fullmatch(policy_id):
        raise BadRequest(
            "the policy id in the path is invalid",
            {"id": f"must match {POLICY_ID.pattern}"},
            code="invalid_policy",
        )
    fields = storable.problems({k: v for k, v in doc.items() if k not in ("id", "version")})
    if "id" in doc and doc["id"] != policy_id:
        fields["id"] = f"must be the policy id of the path ({policy_id!r}), or absent"
    try:
        parsed = validate_policy_document({**doc, "id": policy_id, "version": 1})
    except IntakeError as e:
        named = {prefix + k: v for k, v in {**fields, **e.fields}.items()}
        raise BadRequest(e.args[0], named, code="invalid_policy") from e
    if fields:
        named = {prefix + k: v for k, v in fields.items()}
        raise BadRequest("the policy document is invalid", named, code="invalid_policy")
    return parsed


def put_policy(
    policy_id: str, doc: dict[str, Any], now: datetime, caller: Caller
) -> dict[str, Any]:
    """Validate and store a policy document under `policy_id`, as the next version
    of that policy (1 for a new custom one, the current version + 1 otherwise),
    then re-target a first batch of its open tickets (E9).

    One 400 names every bad field: values DynamoDB could not store
    (`chalicelib.storable`) and the document's own errors. The path's id is the
    policy's id: a body `id` must be the same (else 400 `fields.id`); a body
    `version` is ignored (the server numbers versions). Two PUTs that read the
    same version cannot both win: the loser gets 409. A document equal to the
    current version (its `version` aside) changes nothing: the current version is
    answered, nothing is written and no ticket re-targeted.
    """
    parsed = validate_document(policy_id, doc)
    found, is_stored = store.current(policy_id)
    current = found.version if found is not None else 0
    if found is not None and _same(parsed, found):
        unchanged: dict[str, Any] = found.model_dump(mode="json")
        unchanged.update(retargeted=0, remaining=0)
        return unchanged
    policy = parsed.model_copy(update={"version": current + 1})
    if len(json.dumps(policy.model_dump(mode="json"))) > storable.MAX_DOCUMENT_BYTES:
        limit = storable.MAX_DOCUMENT_BYTES // 1000
        raise PayloadTooLarge(f"the policy document is over {limit} kB stored")
    store.save_version(policy, now, replaces=current if is_stored else None)
    outcome = retarget.after_policy_change(policy, now, actor_of(caller))
    result: dict[str, Any] = policy.model_dump(mode="json")
    result.update(retargeted=outcome.retargeted, remaining=outcome.remaining)
    return result


def _same(new: Policy, current: Policy) -> bool:
    """Whether a document says what the current version says (versions aside)."""
    return new.model_copy(update={"version": current.version}).model_dump(
        mode="json"
    ) == current.model_dump(mode="json")
