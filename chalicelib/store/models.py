"""PynamoDB models of the single table. Items are plain attributes and maps so
an admin can read them in the DynamoDB console.

`Meta` is lazy: PynamoDB reads `table_name`/`region` when it builds a connection,
so a metaclass with properties makes the table name follow the environment
(tests, stages) instead of being frozen at import time.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pynamodb.attributes import (
    Attribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.constants import NUMBER
from pynamodb.indexes import (
    AllProjection,
    GlobalSecondaryIndex,
    IncludeProjection,
    KeysOnlyProjection,
)
from pynamodb.models import Model

from chalicelib.settings import get_settings, table_name
from chalicelib.store import schema


class _LazyMeta(type):
    # PynamoDB calls hasattr() on these at class creation: they must not raise.
    @property
    def table_name(cls) -> str:
        return table_name()

    @property
    def region(cls) -> str:
        return get_settings().region

    host = None
    billing_mode = "PAY_PER_REQUEST"
    max_pool_connections = 32  # a checker worker's threads share each model's connection


class _TableMeta(metaclass=_LazyMeta):
    pass


class _IndexMeta(metaclass=_LazyMeta):
    index_name: str
    projection: Any


def plain(value: Any) -> Any:
    """A raw map attribute's value as plain JSON-able Python."""
    if isinstance(value, MapAttribute):
        value = value.as_dict()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def _raw_map(null: bool = False) -> MapAttribute[str, Any]:
    return MapAttribute(null=null)


class CustomersIndex(GlobalSecondaryIndex["TenantItem"]):
    class Meta(_IndexMeta):
        index_name = schema.CUSTOMERS_INDEX
        projection = KeysOnlyProjection()

    catalog = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute(range_key=True)


class TenantItem(Model):
    class Meta(_TableMeta):
        pass

    customers = CustomersIndex()
    catalog = UnicodeAttribute(null=True)  # "CUSTOMERS" on customer tenants (sparse index)

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="TENANT")
    tenant_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # provider | customer
    doc: MapAttribute[str, Any] = _raw_map()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()

    @staticmethod
    def key(tenant_id: str) -> str:
        return f"TENANT#{tenant_id}"


class KeysByTenantIndex(GlobalSecondaryIndex["ApiKeyItem"]):
    class Meta(_IndexMeta):
        index_name = schema.KEYS_INDEX
        projection = AllProjection()

    tenant_id = UnicodeAttribute(hash_key=True)
    key_id = UnicodeAttribute(range_key=True)


class ApiKeyItem(Model):
    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)  # KEY#<sha256 of the clear key>
    sk = UnicodeAttribute(range_key=True, default="KEY")
    key_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    role = UnicodeAttribute()
    contact = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    revoked_at = UnicodeAttribute(null=True)  # set once by DELETE; the key then answers 401

    by_tenant = KeysByTenantIndex()

    @staticmethod
    def key(key_hash: str) -> str:
        return f"KEY#{key_hash}"


def _include(index_name: str) -> IncludeProjection:
    """The INCLUDE projection schema.MAIN_TABLE gives this index (one definition)."""
    for index in schema.MAIN_TABLE["GlobalSecondaryIndexes"]:
        if index["IndexName"] == index_name:
            return IncludeProjection(index["Projection"]["NonKeyAttributes"])
    raise KeyError(index_name)


class TicketsByTenantIndex(GlobalSecondaryIndex["TicketItem"]):
    class Meta(_IndexMeta):
        index_name = schema.TICKETS_BY_TENANT_INDEX
        projection = _include(schema.TICKETS_BY_TENANT_INDEX)

    gsi1pk = UnicodeAttribute(hash_key=True)
    ticket_id = UnicodeAttribute(range_key=True)


class DueIndex(GlobalSecondaryIndex["TicketItem"]):
    class Meta(_IndexMeta):
        index_name = schema.DUE_INDEX
        projection = KeysOnlyProjection()

    due_shard = UnicodeAttribute(hash_key=True)
    due_at = NumberAttribute(range_key=True)


class OpenByPolicyIndex(GlobalSecondaryIndex["TicketItem"]):
    class Meta(_IndexMeta):
        index_name = schema.OPEN_BY_POLICY_INDEX
        projection = KeysOnlyProjection()

    policy_key = UnicodeAttribute(hash_key=True)
    ticket_id = UnicodeAttribute(range_key=True)


class LegacyByTenantIndex(GlobalSecondaryIndex["TicketItem"]):
    """`by_tenant` (projection ALL), which the ticket lists read before their own
    indexes, while a stack upgrade builds those (settings.legacy_ticket_lists)."""

    class Meta(_IndexMeta):
        index_name = schema.BY_TENANT_INDEX
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class LegacyByStatusIndex(GlobalSecondaryIndex["TicketItem"]):
    class Meta(_IndexMeta):
        index_name = schema.BY_STATUS_INDEX
        projection = AllProjection()

    status_key = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class LegacyByPriorityIndex(GlobalSecondaryIndex["TicketItem"]):
    class Meta(_IndexMeta):
        index_name = schema.BY_PRIORITY_INDEX
        projection = AllProjection()

    priority_key = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class LegacyBreachedIndex(GlobalSecondaryIndex["TicketItem"]):
    class Meta(_IndexMeta):
        index_name = schema.BREACHED_INDEX
        projection = AllProjection()

    breached_key = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class TicketsByStatusIndex(GlobalSecondaryIndex["TicketItem"]):
    class Meta(_IndexMeta):
        index_name = schema.TICKETS_BY_STATUS_INDEX
        projection = _include(schema.TICKETS_BY_STATUS_INDEX)

    status_key = UnicodeAttribute(hash_key=True)
    ticket_id = UnicodeAttribute(range_key=True)


class TicketsByPriorityIndex(GlobalSecondaryIndex["TicketItem"]):
    class Meta(_IndexMeta):
        index_name = schema.TICKETS_BY_PRIORITY_INDEX
        projection = _include(schema.TICKETS_BY_PRIORITY_INDEX)

    priority_key = UnicodeAttribute(hash_key=True)
    ticket_id = UnicodeAttribute(range_key=True)


class TicketsBreachedIndex(GlobalSecondaryIndex["TicketItem"]):
    class Meta(_IndexMeta):
        index_name = schema.TICKETS_BREACHED_INDEX
        projection = _include(schema.TICKETS_BREACHED_INDEX)

    breached_key = UnicodeAttribute(hash_key=True)
    ticket_id = UnicodeAttribute(range_key=True)


class TicketsByReportedIndex(GlobalSecondaryIndex["TicketItem"]):
    class Meta(_IndexMeta):
        index_name = schema.TICKETS_BY_REPORTED_INDEX
        projection = KeysOnlyProjection()

    tenant_id = UnicodeAttribute(hash_key=True)
    reported_sk = UnicodeAttribute(range_key=True)


class LegacyByReportedIndex(GlobalSecondaryIndex["TicketItem"]):
    """`by_reported` (projection ALL, schema.RETIRED_INDEXES), which the readers of
    a tenant's tickets by reported instant read before `tickets_by_reported`, while
    a stack upgrade builds that (settings.legacy_ticket_lists)."""

    class Meta(_IndexMeta):
        index_name = schema.BY_REPORTED_INDEX
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    reported_sk = UnicodeAttribute(range_key=True)


class QueueIndex(GlobalSecondaryIndex["TicketItem"]):
    class Meta(_IndexMeta):
        index_name = schema.QUEUE_INDEX
        projection = KeysOnlyProjection()

    queue_shard = UnicodeAttribute(hash_key=True)
    queue_sk = UnicodeAttribute(range_key=True)


class QueueByTenantIndex(GlobalSecondaryIndex["TicketItem"]):
    class Meta(_IndexMeta):
        index_name = schema.QUEUE_BY_TENANT_INDEX
        projection = KeysOnlyProjection()

    queue_tenant = UnicodeAttribute(hash_key=True)
    queue_sk = UnicodeAttribute(range_key=True)


class UnsettledIndex(GlobalSecondaryIndex["TicketItem"]):
    class Meta(_IndexMeta):
        index_name = schema.UNSETTLED_INDEX
        projection = KeysOnlyProjection()

    unsettled_key = UnicodeAttribute(hash_key=True)
    unsettled_at = NumberAttribute(range_key=True)


class TicketItem(Model):
    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)  # TICKET#<id>
    sk = UnicodeAttribute(range_key=True, default="TICKET")
    ticket_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    gsi1pk = UnicodeAttribute()  # TENANT#<tenant>
    # `gsi1sk` (the ticket id) puts a ticket in the `by_*` indexes of projection
    # ALL, which the lists read before they had their own: written only while
    # settings.legacy_ticket_lists.
    gsi1sk = UnicodeAttribute(null=True)
    title = UnicodeAttribute()
    description = UnicodeAttribute()
    kind = UnicodeAttribute()
    priority = UnicodeAttribute()
    channel = UnicodeAttribute()
    status = UnicodeAttribute()
    assignee = UnicodeAttribute(null=True)
    contact = UnicodeAttribute(null=True)
    tier = UnicodeAttribute(null=True)
    reported_at = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    resolution_cause = UnicodeAttribute(null=True)
    fields: MapAttribute[str, Any] = _raw_map()
    integration: MapAttribute[str, Any] = _raw_map(null=True)
    sla: MapAttribute[str, Any] = _raw_map()
    charge: MapAttribute[str, Any] = _raw_map(null=True)
    # Due index (sparse): present only while an alert threshold is pending.
    due_shard = UnicodeAttribute(null=True)
    due_at = NumberAttribute(null=True)
    # Open-by-policy index (sparse): present only while the ticket is open (E9).
    policy_key = UnicodeAttribute(null=True)
    # List filters and reports: TENANT#<t>#STATUS#<s>, TENANT#<t>#PRIORITY#<p>,
    # TENANT#<t> only while breached (sparse), <reported_at>#<ticket id>.
    status_key = UnicodeAttribute(null=True)
    priority_key = UnicodeAttribute(null=True)
    breached_key = UnicodeAttribute(null=True)
    reported_sk = UnicodeAttribute(null=True)
    # The agents' queue (sparse): present only while a target runs (store.queue):
    # QUEUE#<shard>, QUEUE#<tenant>#<shard>, <next deadline's epoch second>#<id>.
    queue_shard = UnicodeAttribute(null=True)
    queue_tenant = UnicodeAttribute(null=True)
    queue_sk = UnicodeAttribute(null=True)
    # The reports' unsettled index (sparse, store.report_counts): TENANT#<t> and the
    # epoch second it is due at, only while its record does not judge it breached
    # and a target without a recorded breach runs.
    unsettled_key = UnicodeAttribute(null=True)
    unsettled_at = NumberAttribute(null=True)
    counted = NumberAttribute(null=True)  # 1: the report counters hold it
    last_event = UnicodeAttribute(null=True)  # the newest EVENT#<id> of its partition
    version = VersionAttribute()

    by_tenant = TicketsByTenantIndex()
    due = DueIndex()
    open_by_policy = OpenByPolicyIndex()
    by_status = TicketsByStatusIndex()
    by_priority = TicketsByPriorityIndex()
    breached = TicketsBreachedIndex()
    by_reported = TicketsByReportedIndex()
    queue = QueueIndex()
    queue_by_tenant = QueueByTenantIndex()
    legacy_by_tenant = LegacyByTenantIndex()
    legacy_by_status = LegacyByStatusIndex()
    legacy_by_priority = LegacyByPriorityIndex()
    legacy_breached = LegacyBreachedIndex()
    legacy_by_reported = LegacyByReportedIndex()
    unsettled = UnsettledIndex()

    @staticmethod
    def key(ticket_id: str) -> str:
        return f"TICKET#{ticket_id}"


class EventItem(Model):
    """One history entry, in the ticket's own partition (sk EVENT#<ulid>)."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    event_id = UnicodeAttribute()
    at = UnicodeAttribute()
    type = UnicodeAttribute()
    actor: MapAttribute[str, Any] = _raw_map()
    data: MapAttribute[str, Any] = _raw_map()


class OutboxIndex(GlobalSecondaryIndex["OutboxItem"]):
    class Meta(_IndexMeta):
        index_name = schema.OUTBOX_INDEX
        projection = AllProjection()

    outbox_shard = UnicodeAttribute(hash_key=True)
    outbox_id = UnicodeAttribute(range_key=True)


class OutboxItem(Model):
    """An alert, in its ticket's partition (sk OUTBOX#<key>). Its conditional put
    is the exactly-once point; `outbox_shard` is present until it is published."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)  # TICKET#<id>
    sk = UnicodeAttribute(range_key=True)  # OUTBOX#<metric>#<pct> or OUTBOX#<type>
    alert_id = UnicodeAttribute()
    message: MapAttribute[str, Any] = _raw_map()
    created_at = UnicodeAttribute()
    claim_until = NumberAttribute(default=0)  # epoch s: a publisher owns it until then
    outbox_shard = UnicodeAttribute(null=True)
    outbox_id = UnicodeAttribute(null=True)
    sent_at = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # the table's TTL attribute, once sent

    unsent = OutboxIndex()


class PolicyItem(Model):
    """A policy document an admin stored (custom, or a changed shipped one)."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)  # POLICY#<id>
    sk = UnicodeAttribute(range_key=True, default="POLICY")
    policy_id = UnicodeAttribute()
    version = NumberAttribute()
    doc: MapAttribute[str, Any] = _raw_map()
    updated_at = UnicodeAttribute()

    @staticmethod
    def key(policy_id: str) -> str:
        return f"POLICY#{policy_id}"


class RetargetJobItem(Model):
    """E9 work left by a policy change (the open tickets under `policy_id` after
    ticket `after`) or by a tenant change (`tenant_id`'s open tickets older than
    ticket `after`) still needing re-targeting; or, under the NOTIFY partition,
    an approved proposal's subscriptions after `after` still to notify (A8). Each
    checker run takes a batch."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True, default="RETARGET")  # RETARGET or NOTIFY
    sk = UnicodeAttribute(range_key=True)  # POLICY#<id>, TENANT#<id> or PROPOSAL#<id>
    policy_id = UnicodeAttribute(null=True)
    tenant_id = UnicodeAttribute(null=True)
    proposal_id = UnicodeAttribute(null=True)
    # The policy's version; for a tenant, the change's wall-clock ns (a newer
    # change replaces the job, and `advance` and `done` then leave it alone).
    version = NumberAttribute()
    after = UnicodeAttribute(null=True)
    stuck = NumberAttribute(default=0)  # runs in a row that made no progress
    updated_at = UnicodeAttribute()


class PartnerCatalogIndex(GlobalSecondaryIndex["PartnerItem"]):
    """The `customers` catalog index's PARTNERS partition: partners by tenant."""

    class Meta(_IndexMeta):
        index_name = schema.CUSTOMERS_INDEX
        projection = KeysOnlyProjection()

    catalog = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute(range_key=True)


class ProposalsIndex(GlobalSecondaryIndex["ProposalItem"]):
    """The `by_tenant` index, whose partition `PROPOSALS` holds every proposal
    (ids are ULIDs: newest first read backwards)."""

    class Meta(_IndexMeta):
        index_name = schema.BY_TENANT_INDEX
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class ProposalsByStatusIndex(GlobalSecondaryIndex["ProposalItem"]):
    """The `by_status` index: partition `PROPOSALS#STATUS#<status>`."""

    class Meta(_IndexMeta):
        index_name = schema.BY_STATUS_INDEX
        projection = AllProjection()

    status_key = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class ProposalItem(Model):
    """A proposal of the register (Aivo A8), in its own partition with its
    subscriptions, its followers' markers and, once approved, its notices."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)  # PROPOSAL#<id>
    sk = UnicodeAttribute(range_key=True, default="PROPOSAL")
    proposal_id = UnicodeAttribute()
    title = UnicodeAttribute()
    description = UnicodeAttribute()
    status = UnicodeAttribute()
    created_at = UnicodeAttribute()
    decided_at = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)
    subscribers = NumberAttribute(default=0)
    # who registered it: {tenant_id, contact, role, key_id} (for the provider's eyes)
    author: MapAttribute[str, Any] = _raw_map()
    gsi1pk = UnicodeAttribute(default="PROPOSALS")
    gsi1sk = UnicodeAttribute()  # the proposal id
    status_key = UnicodeAttribute()  # PROPOSALS#STATUS#<status>

    every = ProposalsIndex()
    by_status = ProposalsByStatusIndex()

    @staticmethod
    def key(proposal_id: str) -> str:
        return f"PROPOSAL#{proposal_id}"


class SubscriptionItem(Model):
    """One subscription (tenant, contact) to a proposal, in the proposal's
    partition (sk SUB#<tenant>#<contact>): an approval notifies each once. No
    top-level `key_id` (that would put it in the sparse keys index)."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)  # PROPOSAL#<id>
    sk = UnicodeAttribute(range_key=True)  # SUB#<tenant>#<contact>
    proposal_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    contact = UnicodeAttribute()
    created_at = UnicodeAttribute()
    subscribed_by: MapAttribute[str, Any] = _raw_map()  # {role, key_id}


class FollowerItem(Model):
    """How many of a tenant's contacts follow a proposal (sk TENANT#<tenant>),
    kept in each subscription's transaction: whether the caller's tenant is
    subscribed is one GetItem (a page of proposals: one BatchGetItem)."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)  # PROPOSAL#<id>
    sk = UnicodeAttribute(range_key=True)  # TENANT#<tenant>
    contacts = NumberAttribute(default=0)


class PartnerItem(Model):
    """A partner helpdesk (docs/api.md, Webhooks). Its secrets are stored only as KMS
    ciphertext (`secrets[].ciphertext`), never in clear: the console shows the
    partner's tenant, format, priority map and when each secret expires."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)  # PARTNER#<id>
    sk = UnicodeAttribute(range_key=True, default="PARTNER")
    partner_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    format = UnicodeAttribute()  # generic | zendesk | jira | freshdesk
    priority_map: MapAttribute[str, Any] = _raw_map()  # partner value (lower case) -> ours
    default_kind = UnicodeAttribute()  # the kind of a ticket a native payload opens
    # [{"secret_id", "ciphertext" (base64 KMS blob), "created_at", "valid_until" | null}]
    secrets = ListAttribute(of=MapAttribute)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = VersionAttribute()
    catalog = UnicodeAttribute(null=True)  # "PARTNERS": listed by the catalog index

    catalog_index = PartnerCatalogIndex()

    @staticmethod
    def key(partner_id: str) -> str:
        return f"PARTNER#{partner_id}"


class PartnerLinkItem(Model):
    """(partner, external id) -> ticket, in the partner's partition, with the
    partner time of the newest event applied per aspect (`seen`), so an older
    event never undoes a newer one."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)  # PARTNER#<id>
    sk = UnicodeAttribute(range_key=True)  # LINK#<external id>
    partner_id = UnicodeAttribute()
    external_id = UnicodeAttribute()
    ticket_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    seen: MapAttribute[str, Any] = _raw_map()  # aspect -> RFC 3339 instant
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


class DeliveryItem(Model):
    """A delivery already handled (sk DELIVERY#<id>): a second one with the same id
    has no effect. `expires_at` is the table's TTL attribute; an expired item
    counts as absent even before DynamoDB removes it."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)  # PARTNER#<id>
    sk = UnicodeAttribute(range_key=True)  # DELIVERY#<delivery id>
    delivery_id = UnicodeAttribute()
    ticket_id = UnicodeAttribute(null=True)
    event = UnicodeAttribute()
    received_at = UnicodeAttribute()
    expires_at = NumberAttribute()


class DecimalAttribute(Attribute[Decimal]):
    """A DynamoDB number read and written as an exact `Decimal` (NumberAttribute
    goes through float)."""

    attr_type = NUMBER

    def serialize(self, value: Decimal) -> str:
        return str(value)

    def deserialize(self, value: str) -> Decimal:
        return Decimal(value)


class ReportCountItem(Model):
    """A tenant's report counters of one UTC day (store.report_counts): per
    priority (sk RSLA#<day>#<priority>#<shard>) or per currency (sk
    RCHARGES#<day>#<currency>#<shard>), each field a sum kept by ADD."""

    class Meta(_TableMeta):
        pass

    pk = UnicodeAttribute(hash_key=True)  # REPORTS#<tenant>
    sk = UnicodeAttribute(range_key=True)
    tickets = NumberAttribute(null=True)
    met = NumberAttribute(null=True)
    breached = NumberAttribute(null=True)
    charges = NumberAttribute(null=True)  # tickets with a charge in that currency
    charged = NumberAttribute(null=True)
    waived = NumberAttribute(null=True)
    minutes = NumberAttribute(null=True)
    amount_due = DecimalAttribute(null=True)
