"""The shipped policies (docs/policies.md A, K, C, DX) as data: one JSON document per
provider next to this module, validated like an admin's custom policy."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from chalicelib.domain.policy import Policy, validate_policy_document

SHIPPED_IDS: tuple[str, ...] = ("aivo", "keybe", "clever_ideas", "digital_express")


@cache
def _shipped() -> tuple[tuple[str, Policy], ...]:
    found: list[tuple[str, Policy]] = []
    for policy_id in SHIPPED_IDS:
        text = resources.files(__name__).joinpath(f"{policy_id}.json").read_text("utf-8")
        policy = validate_policy_document(json.loads(text))
        if policy.id != policy_id:
            raise ValueError(f"{policy_id}.json declares id {policy.id!r}")
        found.append((policy_id, policy))
    return tuple(found)


def load_shipped() -> dict[str, Policy]:
    """The shipped policies by id (parsed once per process; a fresh dict each call)."""
    return dict(_shipped())
