"""Partner helpdesks: the partner item and its secrets, links (partner, external
id) -> ticket, and handled deliveries, all in the partner's partition
`PARTNER#<id>` so a delivery reads its link and its dedupe entry in one call.

Secrets at rest: each secret is encrypted with KMS (one symmetric key, the
stage's `WEBHOOK_KEY_ID`) under the encryption context `{"partner_id": <id>}`,
and only the ciphertext is stored: a ciphertext copied onto another partner's
item does not decrypt. A warm container keeps what it decrypted for
`SECRET_CACHE_SECONDS`, keyed by the ciphertext itself, so a rotation (a new
ciphertext on the item, read on every delivery) is seen at once.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import threading
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache
from pynamodb.exceptions import PutError

from chalicelib import aws
from chalicelib.settings import get_settings
from chalicelib.store import raw
from chalicelib.store.models import DeliveryItem, PartnerItem, PartnerLinkItem, plain
from chalicelib.store.pages import decode_cursor, index_page
from chalicelib.store.tickets import TxItem

PARTNER_SK = "PARTNER"
PARTNERS = "PARTNERS"  # partner items' partition of the `customers` catalog index
SECRET_CACHE_SECONDS = 300.0
MAX_KEY_PART = 200  # a longer external or delivery id is stored by its SHA-256


def _part(value: str) -> str:
    if len(value) <= MAX_KEY_PART:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def link_sk(external_id: str) -> str:
    return f"LINK#{_part(external_id)}"


def delivery_sk(delivery_id: str) -> str:
    return f"DELIVERY#{_part(delivery_id)}"


# ---------------------------------------------------------------- secrets (KMS)


def _context(partner_id: str) -> dict[str, str]:
    return {"partner_id": partner_id}


def encrypt_secret(partner_id: str, secret: str) -> str:
    """The KMS ciphertext of a secret (base64), bound to the partner."""
    blob = aws.client("kms").encrypt(
        KeyId=get_settings().webhook_key_id,
        Plaintext=secret.encode(),
        EncryptionContext=_context(partner_id),
    )["CiphertextBlob"]
    return base64.b64encode(blob).decode()


SECRET_CACHE_SIZE = 1024
_lock = threading.Lock()  # TTLCache is not thread-safe; `chalice local` serves threads


@functools.cache
def _decrypted() -> TTLCache[tuple[str, str], str]:
    """Clear secrets by (partner, ciphertext); built on first use."""
    return TTLCache(maxsize=SECRET_CACHE_SIZE, ttl=SECRET_CACHE_SECONDS)


def decrypt_secret(partner_id: str, ciphertext: str) -> str:
    """The clear secret of a stored ciphertext (a KMS Decrypt at most every
    SECRET_CACHE_SECONDS per secret and warm container)."""
    key = (partner_id, ciphertext)
    with _lock:
        hit = _decrypted().get(key)
    if hit is not None:
        return hit
    clear: bytes = aws.client("kms").decrypt(
        CiphertextBlob=base64.b64decode(ciphertext), EncryptionContext=_context(partner_id)
    )["Plaintext"]
    secret = clear.decode()
    with _lock:
        _decrypted()[key] = secret
    return secret


def forget_secrets() -> None:
    """Drop every decrypted secret this container holds (tests)."""
    with _lock:
        _decrypted().clear()


# ---------------------------------------------------------------- partners


@dataclass(frozen=True)
class StoredSecret:
    secret_id: str
    ciphertext: str
    created_at: str
    valid_until: str | None  # None: the current secret


@dataclass(frozen=True)
class Partner:
    id: str
    tenant_id: str
    format: str
    priority_map: dict[str, str]
    default_kind: str
    secrets: tuple[StoredSecret, ...]
    created_at: str
    updated_at: str
    version: int | None = None


def _secret(raw: Any) -> StoredSecret:
    data = plain(raw)
    return StoredSecret(
        secret_id=data["secret_id"],
        ciphertext=data["ciphertext"],
        created_at=data["created_at"],
        valid_until=data.get("valid_until"),
    )


def _from_item(item: PartnerItem) -> Partner:
    return Partner(
        id=item.partner_id,
        tenant_id=item.tenant_id,
        format=item.format,
        priority_map=plain(item.priority_map) or {},
        default_kind=item.default_kind,
        secrets=tuple(_secret(s) for s in item.secrets or ()),
        created_at=item.created_at,
        updated_at=item.updated_at,
        version=item.version,
    )


def from_raw(item: raw.Raw) -> Partner:
    """The partner of its raw item (a webhook delivery reads it so: `store.raw`),
    as `_from_item` maps the model of it."""
    return Partner(
        id=item["partner_id"]["S"],
        tenant_id=item["tenant_id"]["S"],
        format=item["format"]["S"],
        priority_map=raw.mapped(item, "priority_map") or {},
        default_kind=item["default_kind"]["S"],
        secrets=tuple(_secret(s) for s in raw.plain(item["secrets"])),
        created_at=item["created_at"]["S"],
        updated_at=item["updated_at"]["S"],
        version=int(item["version"]["N"]) if "version" in item else None,
    )


def _to_item(partner: Partner) -> PartnerItem:
    item = PartnerItem(
        PartnerItem.key(partner.id),
        PARTNER_SK,
        partner_id=partner.id,
        tenant_id=partner.tenant_id,
        format=partner.format,
        priority_map=partner.priority_map,
        default_kind=partner.default_kind,
        secrets=[
            {
                "secret_id": s.secret_id,
                "ciphertext": s.ciphertext,
                "created_at": s.created_at,
                "valid_until": s.valid_until,
            }
            for s in partner.secrets
        ],
        created_at=partner.created_at,
        updated_at=partner.updated_at,
        catalog=PARTNERS,
    )
    if partner.version is not None:
        item.version = partner.version
    return item


def _conditional_failed(e: PutError) -> bool:
    return e.cause_response_code == "ConditionalCheckFailedException"


def create_partner(partner: Partner) -> bool:
    """Insert a partner; False when the id is taken."""
    try:
        _to_item(partner).save(condition=PartnerItem.pk.does_not_exist())
    except PutError as e:
        if _conditional_failed(e):
            return False
        raise
    return True


def replace_partner(partner: Partner) -> bool:
    """Store a changed partner only if it is still at the version it was read at;
    False when another writer changed it meanwhile."""
    try:
        _to_item(partner).save()  # conditioned on `version` and increments it
    except PutError as e:
        if _conditional_failed(e):
            return False
        raise
    return True


def get_partner(partner_id: str) -> Partner | None:
    """One consistent GetItem: a secret rotated a moment ago verifies at once."""
    item = raw.get_item(PartnerItem.key(partner_id), PARTNER_SK, consistent=True)
    return from_raw(item) if item is not None else None


_CATALOG_PAGE_KEYS = {"pk", "sk", "catalog", "tenant_id"}


def list_partners(
    tenant_id: str | None, limit: int, cursor: str | None
) -> tuple[list[Partner], str | None]:
    """A page of the partners, by tenant (of one tenant when named): one Query of
    the catalog index's PARTNERS partition (`limit + 1` keys), then one
    BatchGetItem of the page's partners."""
    expected = {"catalog": PARTNERS, **({"tenant_id": tenant_id} if tenant_id else {})}
    start = decode_cursor(cursor, expected, _CATALOG_PAGE_KEYS)
    condition = PartnerItem.tenant_id == tenant_id if tenant_id is not None else None
    page, next_cursor = index_page(
        PartnerItem.catalog_index, PARTNERS, limit, start, _CATALOG_PAGE_KEYS, condition
    )
    keys = [(entry.pk, entry.sk) for entry in page]
    found = {item.pk: _from_item(item) for item in PartnerItem.batch_get(keys)} if keys else {}
    return [found[pk] for pk, _ in keys if pk in found], next_cursor


# ---------------------------------------------------------------- links and deliveries


@dataclass(frozen=True)
class Link:
    partner_id: str
    external_id: str
    ticket_id: str
    tenant_id: str
    seen: dict[str, str]
    created_at: str


@dataclass(frozen=True)
class Delivery:
    delivery_id: str
    ticket_id: str | None
    event: str
    expires_at: int


def lookup(
    partner_id: str, external_id: str, delivery_id: str
) -> tuple[Link | None, Delivery | None]:
    """The link of an external ticket and the entry of a delivery id, in one
    consistent BatchGetItem (both live in the partner's partition), mapped from
    their raw items (`store.raw`)."""
    pk = PartnerItem.key(partner_id)
    link_key, delivery_key = (pk, link_sk(external_id)), (pk, delivery_sk(delivery_id))
    found = raw.batch_get([link_key, delivery_key], consistent=True)
    link_item, delivery_item = found.get(link_key), found.get(delivery_key)
    link = None
    if link_item is not None:
        link = Link(
            partner_id=partner_id,
            external_id=link_item["external_id"]["S"],
            ticket_id=link_item["ticket_id"]["S"],
            tenant_id=link_item["tenant_id"]["S"],
            seen=raw.mapped(link_item, "seen") or {},
            created_at=link_item["created_at"]["S"],
        )
    delivery = None
    if delivery_item is not None:
        delivery = Delivery(
            delivery_id=delivery_item["delivery_id"]["S"],
            ticket_id=raw.text(delivery_item, "ticket_id"),
            event=delivery_item["event"]["S"],
            expires_at=int(raw.number(delivery_item, "expires_at")),
        )
    return link, delivery


def link_write(link: Link, now: str, *, new: bool) -> TxItem:
    """A link put for a ticket transaction: a new one must not exist yet (two
    first deliveries for one external ticket: one wins, the other re-reads)."""
    item = PartnerLinkItem(
        PartnerItem.key(link.partner_id),
        link_sk(link.external_id),
        partner_id=link.partner_id,
        external_id=link.external_id,
        ticket_id=link.ticket_id,
        tenant_id=link.tenant_id,
        seen=link.seen,
        created_at=link.created_at,
        updated_at=now,
    )
    return item, (PartnerLinkItem.pk.does_not_exist() if new else None)


def delivery_write(partner_id: str, delivery: Delivery, received_at: str, now_epoch: int) -> TxItem:
    """A delivery entry for a ticket transaction: absent, or expired, else the
    transaction fails (the same delivery handled concurrently)."""
    item = DeliveryItem(
        PartnerItem.key(partner_id),
        delivery_sk(delivery.delivery_id),
        delivery_id=delivery.delivery_id[:MAX_KEY_PART],
        ticket_id=delivery.ticket_id,
        event=delivery.event[:MAX_KEY_PART],
        received_at=received_at,
        expires_at=delivery.expires_at,
    )
    condition = DeliveryItem.pk.does_not_exist() | (DeliveryItem.expires_at < now_epoch)
    return item, condition


def put_delivery(item: TxItem) -> bool:
    """Write a delivery entry on its own (an event that changes no ticket); False
    when it is already there."""
    model, condition = item
    try:
        model.save(condition=condition)
    except PutError as e:
        if _conditional_failed(e):
            return False
        raise
    return True
