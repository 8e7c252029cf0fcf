"""The tables, in CloudFormation's shape: the one definition both the cloud stack
(`infra/resources.json`, generated from this by `python -m infra.build`) and the
local stack (`create_tables`) use."""

from __future__ import annotations

from typing import Any

BY_TENANT_INDEX = "by_tenant"
DUE_INDEX = "due"
OUTBOX_INDEX = "outbox_unsent"
OPEN_BY_POLICY_INDEX = "open_by_policy"
CUSTOMERS_INDEX = "customers"
BY_STATUS_INDEX = "by_status"
BY_PRIORITY_INDEX = "by_priority"
BREACHED_INDEX = "breached"
BY_REPORTED_INDEX = "by_reported"
TICKETS_BY_REPORTED_INDEX = "tickets_by_reported"
KEYS_INDEX = "keys_by_tenant"
QUEUE_INDEX = "queue"
QUEUE_BY_TENANT_INDEX = "queue_by_tenant"
# The ticket lists' indexes (GET /tickets): keys plus the attributes a list's
# FilterExpression reads, never the item (the page's items are then read in one
# BatchGetItem, store.tickets.list_for_tenant). Sort key `ticket_id` (a ULID:
# newest first read backwards), an attribute every ticket item already had, so
# DynamoDB backfills them from the existing tickets (docs/deploy.md).
TICKETS_BY_TENANT_INDEX = "tickets_by_tenant"
TICKETS_BY_STATUS_INDEX = "tickets_by_status"
TICKETS_BY_PRIORITY_INDEX = "tickets_by_priority"
TICKETS_BREACHED_INDEX = "tickets_breached"
UNSETTLED_INDEX = "unsettled"


def _s(name: str) -> dict[str, str]:
    return {"AttributeName": name, "AttributeType": "S"}


def _n(name: str) -> dict[str, str]:
    return {"AttributeName": name, "AttributeType": "N"}


def _include(*names: str) -> dict[str, Any]:
    return {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(names)}


def _key(hash_key: str, range_key: str) -> list[dict[str, str]]:
    return [
        {"AttributeName": hash_key, "KeyType": "HASH"},
        {"AttributeName": range_key, "KeyType": "RANGE"},
    ]


MAIN_TABLE: dict[str, Any] = {
    "BillingMode": "PAY_PER_REQUEST",
    "AttributeDefinitions": [
        _s("pk"),
        _s("sk"),
        _s("gsi1pk"),
        _s("gsi1sk"),
        _s("due_shard"),
        _n("due_at"),
        _s("outbox_shard"),
        _s("outbox_id"),
        _s("policy_key"),
        _s("ticket_id"),
        _s("catalog"),
        _s("tenant_id"),
        _s("status_key"),
        _s("priority_key"),
        _s("breached_key"),
        _s("reported_sk"),
        _s("key_id"),
        _s("queue_shard"),
        _s("queue_tenant"),
        _s("queue_sk"),
        _s("unsettled_key"),
        _n("unsettled_at"),
    ],
    "KeySchema": _key("pk", "sk"),
    "GlobalSecondaryIndexes": [
        # Every proposal of the register (A8), newest first, under the partition
        # PROPOSALS. Tickets written before the ticket lists' own indexes are here
        # too, until their next write (which leaves out `gsi1sk`).
        {
            "IndexName": BY_TENANT_INDEX,
            "KeySchema": _key("gsi1pk", "gsi1sk"),
            "Projection": {"ProjectionType": "ALL"},
        },
        # Sparse: only tickets with a pending alert threshold (docs/alerts.md, the checker).
        {
            "IndexName": DUE_INDEX,
            "KeySchema": _key("due_shard", "due_at"),
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        },
        # Sparse catalog: customer tenant items (partition CUSTOMERS), so provider-wide
        # reports and the tenant list read them, and partner items (partition
        # PARTNERS, by their tenant) for the partner list.
        {
            "IndexName": CUSTOMERS_INDEX,
            "KeySchema": _key("catalog", "tenant_id"),
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        },
        # Sparse: only open tickets, per policy, for re-targeting on a policy change (E9).
        {
            "IndexName": OPEN_BY_POLICY_INDEX,
            "KeySchema": _key("policy_key", "ticket_id"),
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        },
        # Proposals in one status under PROPOSALS#STATUS#<status> (A8). `by_priority`
        # and `breached` served the ticket lists before `tickets_by_*`: no item
        # written now enters them (docs/deploy.md, upgrading an existing stack).
        {
            "IndexName": BY_STATUS_INDEX,
            "KeySchema": _key("status_key", "gsi1sk"),
            "Projection": {"ProjectionType": "ALL"},
        },
        {
            "IndexName": BY_PRIORITY_INDEX,
            "KeySchema": _key("priority_key", "gsi1sk"),
            "Projection": {"ProjectionType": "ALL"},
        },
        {
            "IndexName": BREACHED_INDEX,
            "KeySchema": _key("breached_key", "gsi1sk"),
            "Projection": {"ProjectionType": "ALL"},
        },
        # The ticket lists: a tenant's tickets newest first; in one status; of one
        # priority; only while breached (sparse). Each projects the keys and what
        # the other filters of a list served by it read (`breached=false`: the
        # absence of `breached_key`), so an alert that changes none of them writes
        # nothing here.
        {
            "IndexName": TICKETS_BY_TENANT_INDEX,
            "KeySchema": _key("gsi1pk", "ticket_id"),
            "Projection": _include("status", "priority", "breached_key"),
        },
        {
            "IndexName": TICKETS_BY_STATUS_INDEX,
            "KeySchema": _key("status_key", "ticket_id"),
            "Projection": _include("priority", "breached_key"),
        },
        {
            "IndexName": TICKETS_BY_PRIORITY_INDEX,
            "KeySchema": _key("priority_key", "ticket_id"),
            "Projection": _include("breached_key"),
        },
        {
            "IndexName": TICKETS_BREACHED_INDEX,
            "KeySchema": _key("breached_key", "ticket_id"),
            "Projection": _include("status", "priority"),
        },
        # A tenant's tickets by the instant they were reported (`<reported_at>#<id>`):
        # the parts of a day at a report's ends, the what-if, the counters' backfill,
        # which then read the tickets' items (store.tickets.reported_between). Keys
        # only: an entry never changes once its ticket is opened, so no other change
        # writes here. Keyed on attributes every ticket item had (and no other item
        # has `reported_sk`): DynamoDB backfills it with every ticket (docs/deploy.md).
        {
            "IndexName": TICKETS_BY_REPORTED_INDEX,
            "KeySchema": _key("tenant_id", "reported_sk"),
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        },
        # Sparse: only API key items (the only ones with a `key_id`), a tenant's keys
        # in issue order (key ids are ULIDs), for the key list and revocation.
        {
            "IndexName": KEYS_INDEX,
            "KeySchema": _key("tenant_id", "key_id"),
            "Projection": {"ProjectionType": "ALL"},
        },
        # Sparse: the agents' queue (docs/queue.md), only tickets with a running target,
        # by their next deadline (`<epoch second>#<ticket id>`): every customer's in
        # QUEUE#0..3, one tenant's in QUEUE#<tenant>#0..3. Keys only: an alert that
        # does not move the deadline writes nothing here.
        {
            "IndexName": QUEUE_INDEX,
            "KeySchema": _key("queue_shard", "queue_sk"),
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        },
        {
            "IndexName": QUEUE_BY_TENANT_INDEX,
            "KeySchema": _key("queue_tenant", "queue_sk"),
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        },
        # Sparse: the reports' tickets whose record does not judge them breached while
        # a target without a recorded breach runs (`TENANT#<t>`), by the epoch second
        # that target is due at (domain.report_counts.unsettled_due): a report reads
        # those already due (the items: the index is a hint). Keys only: a change
        # that does not move that instant writes nothing here.
        {
            "IndexName": UNSETTLED_INDEX,
            "KeySchema": _key("unsettled_key", "unsettled_at"),
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        },
        # Sparse: only outbox items not yet published.
        {
            "IndexName": OUTBOX_INDEX,
            "KeySchema": _key("outbox_shard", "outbox_id"),
            "Projection": {"ProjectionType": "ALL"},
        },
    ],
    "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
}

# Indexes a new stack no longer has and a stack created before keeps until the last
# deploy of its upgrade deletes them (docs/deploy.md, upgrading an existing stack):
# `python -m infra.build --keep <name>` writes one back into an upgrade step's
# template, and the code reads it while TICKET_LISTS=legacy.
RETIRED_INDEXES: dict[str, dict[str, Any]] = {
    # What `tickets_by_reported` replaced: the whole ticket, rewritten there on each
    # change of it (2 write units an alert).
    BY_REPORTED_INDEX: {
        "IndexName": BY_REPORTED_INDEX,
        "KeySchema": _key("gsi1pk", "reported_sk"),
        "Projection": {"ProjectionType": "ALL"},
    },
}

IDEMPOTENCY_TABLE: dict[str, Any] = {
    "BillingMode": "PAY_PER_REQUEST",
    "AttributeDefinitions": [_s("id")],
    "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
    "TimeToLiveSpecification": {"AttributeName": "expiration", "Enabled": True},
}


def create_table_kwargs(definition: dict[str, Any], table_name: str) -> dict[str, Any]:
    """boto3 `create_table` arguments for a CloudFormation table definition."""
    kwargs = {
        k: v
        for k, v in definition.items()
        if k in ("BillingMode", "AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes")
    }
    kwargs["TableName"] = table_name
    return kwargs


def create_tables(dynamodb: Any, main_table: str, idempotency_table: str) -> list[str]:
    """Create the tables that are missing; returns the names created."""
    existing = set(dynamodb.list_tables()["TableNames"])
    created = []
    for name, definition in ((main_table, MAIN_TABLE), (idempotency_table, IDEMPOTENCY_TABLE)):
        if name in existing:
            continue
        dynamodb.create_table(**create_table_kwargs(definition, name))
        dynamodb.get_waiter("table_exists").wait(TableName=name)
        ttl = definition["TimeToLiveSpecification"]
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        created.append(name)
    return created


# The field every log line about an item that does not map carries (`"unreadable":
# true`, store.tickets: a hand-edited ticket item, a missing or broken shared SLA rules item). Its
# tickets are left out of lists and checker runs, so each such line needs an
# operator: the stack counts them (infra/monitoring.py, UnreadableItems) and alarms.
UNREADABLE_LOG_FIELD = "unreadable"
