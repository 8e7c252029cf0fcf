"""API keys: issued once in clear, stored as SHA-256, resolved to (tenant, role)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from chalicelib.errors import Unauthorized
from chalicelib.store.tenants import get_key

ROLES = ("customer", "agent", "admin")
PROVIDER_ROLES = frozenset({"agent", "admin"})
KEY_PREFIX = "sgk_"


@dataclass(frozen=True)
class Caller:
    key_id: str
    tenant_id: str
    role: str
    contact: str | None

    @property
    def is_provider(self) -> bool:
        """Agent and admin keys belong to the provider and act on every tenant."""
        return self.role in PROVIDER_ROLES


def hash_key(clear_key: str) -> str:
    return hashlib.sha256(clear_key.encode()).hexdigest()


def new_clear_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def authenticate(authorization: str | None) -> Caller:
    """Resolve `Authorization: Bearer <key>` (one GetItem)."""
    if not authorization:
        raise Unauthorized("an Authorization: Bearer <api key> header is required")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        raise Unauthorized("the Authorization header must be 'Bearer <api key>'")
    item = get_key(hash_key(token))
    if item is None:
        raise Unauthorized("unknown API key", code="bad_credentials")
    return Caller(
        key_id=item.key_id, tenant_id=item.tenant_id, role=item.role, contact=item.contact
    )
