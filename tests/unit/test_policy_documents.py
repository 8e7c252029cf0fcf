"""A policy document answers one 400 naming its shape's and its references' bad
fields together (issue 11): whatever part is broken, validation names fields and
never fails otherwise."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import IntakeError
from chalicelib.domain.policy import validate_policy_document
from chalicelib.policies import load_shipped

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from(["", "urgent", "x", "24x7"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
SHIPPED = {p.id: p.model_dump(mode="json") for p in load_shipped().values()}
PARTS = sorted({key for doc in SHIPPED.values() for key in doc})


@settings(max_examples=150, deadline=None)
@given(
    policy=st.sampled_from(sorted(SHIPPED)),
    breaks=st.dictionaries(st.sampled_from(PARTS), JSON, min_size=1, max_size=3),
)
def test_any_broken_part_is_named_and_nothing_else_fails(
    policy: str, breaks: dict[str, Any]
) -> None:
    doc = {**SHIPPED[policy], **breaks}
    fields: dict[str, str] = {}
    try:
        validate_policy_document(doc)
    except IntakeError as e:
        fields = e.fields
        assert fields
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items())


def test_a_broken_rule_keeps_the_indexes_of_the_rules_after_it() -> None:
    doc = {**SHIPPED["digital_express"]}
    rules = [dict(r) for r in doc["target_rules"]]
    rules[0] = {"targets": "none"}
    rules[2] = {**rules[2], "when": {"kinds": ["complaint"]}}
    doc["target_rules"] = rules
    with pytest.raises(IntakeError) as e:
        validate_policy_document(doc)
    assert "target_rules.0.targets" in e.value.fields
    assert e.value.fields["target_rules.2.when.kinds"] == "unknown: complaint"
