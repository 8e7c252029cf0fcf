"""The tables: the main table and the idempotency table, from
chalicelib.store.schema (the same definitions the local stack creates), the main
table taking warm throughput from two parameters when they are set."""

from __future__ import annotations

import copy
from collections.abc import Sequence

from chalicelib.store import schema
from infra.common import Json, _ref

# The indexes a checker alert's writes touch, beside the table: every index the
# ticket item appears in whole (ProjectionType ALL: the item is rewritten there on
# each change; `by_reported` while an upgrade keeps it), the due index (its next
# instant moves), the outbox's unsent index (the alert's item comes and goes) and,
# on a breach, the ticket lists' indexes (their projected `breached_key` appears).
# A burst writes them all at once. Not `tickets_by_reported`: an alert never moves
# its keys.
WARM_INDEXES = (
    schema.BY_REPORTED_INDEX,
    schema.DUE_INDEX,
    schema.OUTBOX_INDEX,
    schema.TICKETS_BY_TENANT_INDEX,
    schema.TICKETS_BY_STATUS_INDEX,
    schema.TICKETS_BY_PRIORITY_INDEX,
    schema.TICKETS_BREACHED_INDEX,
    schema.UNSETTLED_INDEX,  # a breach takes its ticket out
)


def _warm(condition: str, parameter: str) -> Json:
    """`WarmThroughput` from a parameter when its condition holds, else no property."""
    return {"Fn::If": [condition, {"WriteUnitsPerSecond": _ref(parameter)}, _ref("AWS::NoValue")]}


def main_table() -> Json:
    """The main table as the stack declares it: schema.MAIN_TABLE (the local stack's
    definition, left as it is) plus the warm throughput the stack's parameters ask
    for (docs/deploy.md, warm throughput). With the parameters at 0 it is MAIN_TABLE."""
    table: Json = copy.deepcopy(schema.MAIN_TABLE)
    table["WarmThroughput"] = _warm("HasWarmTable", "WarmTableWriteUnits")
    table["GlobalSecondaryIndexes"] = [_warm_index(i) for i in table["GlobalSecondaryIndexes"]]
    return table


def _warm_index(index: Json) -> Json:
    if index["IndexName"] in WARM_INDEXES:
        index["WarmThroughput"] = _warm("HasWarmIndexes", "WarmIndexWriteUnits")
    return index


def _nonzero(parameter: str) -> Json:
    return {"Fn::Not": [{"Fn::Equals": [_ref(parameter), "0"]}]}


PARAMETERS: Json = {
    # Which indexes the ticket lists and the readers of tickets by reported instant
    # read (docs/deploy.md: upgrading an existing stack): "legacy" only while such a
    # stack builds the `tickets_*` indexes.
    "TicketLists": {
        "Type": "String",
        "Default": "own",
        "AllowedValues": ["own", "legacy"],
        "Description": "own: the tickets' keys-only indexes; legacy: while building them",
    },
    # On-demand capacity a burst of checker writes finds ready (docs/performance.md).
    "WarmTableWriteUnits": {
        "Type": "Number",
        "Default": 0,
        "MinValue": 0,
        "Description": "Write units/s the main table takes at once (0: DynamoDB's own)",
    },
    "WarmIndexWriteUnits": {
        "Type": "Number",
        "Default": 0,
        "MinValue": 0,
        "Description": "Write units/s each index a checker alert writes takes at once",
    },
}
CONDITIONS: Json = {
    "HasWarmTable": _nonzero("WarmTableWriteUnits"),
    "HasWarmIndexes": _nonzero("WarmIndexWriteUnits"),
}


def upgrade_step(template: Json, without: Sequence[str] = (), keep: Sequence[str] = ()) -> Json:
    """The template with the main table's `without` indexes left out and the retired
    `keep` ones (schema.RETIRED_INDEXES) still in: what an existing stack deploys
    while it creates and then deletes indexes one update at a time (docs/deploy.md)."""
    known = {i["IndexName"] for i in schema.MAIN_TABLE["GlobalSecondaryIndexes"]}
    if unknown := sorted(set(without) - known):
        raise ValueError(f"no such index: {', '.join(unknown)}")
    if unknown := sorted(set(keep) - set(schema.RETIRED_INDEXES)):
        raise ValueError(f"no such retired index: {', '.join(unknown)}")
    out = copy.deepcopy(template)
    table = out["Resources"]["Table"]["Properties"]
    table["GlobalSecondaryIndexes"] = [
        i for i in table["GlobalSecondaryIndexes"] if i["IndexName"] not in without
    ] + [_warm_index(copy.deepcopy(schema.RETIRED_INDEXES[name])) for name in keep]
    used = {k["AttributeName"] for i in table["GlobalSecondaryIndexes"] for k in i["KeySchema"]}
    used |= {k["AttributeName"] for k in table["KeySchema"]}
    table["AttributeDefinitions"] = [
        a for a in table["AttributeDefinitions"] if a["AttributeName"] in used
    ]
    return out


def resources() -> Json:
    return {
        "Table": {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": main_table(),
        },
        "IdempotencyTable": {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": "Delete",
            "Properties": schema.IDEMPOTENCY_TABLE,
        },
    }
