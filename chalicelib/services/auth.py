"""API keys: issued once in clear, stored as SHA-256, resolved to (tenant, role).

A warm container remembers the keys it resolved for KEY_CACHE_SECONDS (30 s), so
a request costs no key lookup on a warm Lambda. A revoked key answers 401 at once
on the container that revoked it (it drops the key from its cache, and a miss
reads the key item consistently, so no stale read can put it back) and within
KEY_CACHE_SECONDS on every other container (docs/api.md allows 60 s).
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from cachetools import TTLCache

from chalicelib.errors import BadRequest, Forbidden, Unauthorized
from chalicelib.settings import get_settings
from chalicelib.store.tenants import get_key

ROLES = ("customer", "agent", "admin")
PROVIDER_ROLES = frozenset({"agent", "admin"})
KEY_PREFIX = "sgk_"
KEY_CACHE_SECONDS = 30  # revocation takes effect within this (docs/api.md: within 60 s)
KEY_CACHE_SIZE = 4096
clock = time.monotonic  # the cache's timer: a public seam (tests move it forward)
_lock = threading.Lock()  # TTLCache is not thread-safe; `chalice local` serves threads


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


def tenant_for(caller: Caller, named: str | None) -> str:
    """The tenant a request acts on: a customer acts on its own tenant only; a
    provider key must name one."""
    if not caller.is_provider:
        if named is not None and named != caller.tenant_id:
            raise Forbidden("a customer key acts on its own tenant only")
        return caller.tenant_id
    if named is None:
        raise BadRequest(
            "agent and admin keys must name the tenant",
            {"tenant_id": "required for agent and admin keys"},
        )
    return named


def hash_key(clear_key: str) -> str:
    return hashlib.sha256(clear_key.encode()).hexdigest()


def new_clear_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


@functools.cache
def _resolved() -> TTLCache[tuple[str, str], Caller]:
    """Callers by (table, key hash); built on first use, kept while the container lives."""
    return TTLCache(maxsize=KEY_CACHE_SIZE, ttl=KEY_CACHE_SECONDS, timer=lambda: clock())


def forget(key_hash: str) -> None:
    """Drop a key from this container's cache (it was just revoked here)."""
    with _lock:
        _resolved().pop((get_settings().table_name, key_hash), None)


def authenticate(authorization: str | None) -> Caller:
    """Resolve `Authorization: Bearer <key>`: one consistent GetItem, none on a warm
    container that resolved the same key less than KEY_CACHE_SECONDS ago."""
    if not authorization:
        raise Unauthorized("an Authorization: Bearer <api key> header is required")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        raise Unauthorized("the Authorization header must be 'Bearer <api key>'")
    key_hash = hash_key(token)
    remembered = (get_settings().table_name, key_hash)
    with _lock:
        caller = _resolved().get(remembered)
    if caller is not None:
        return caller
    item = get_key(key_hash)
    if item is None:
        raise Unauthorized("unknown API key", code="bad_credentials")
    if item.revoked_at is not None:
        raise Unauthorized("this API key was revoked", code="key_revoked")
    caller = Caller(
        key_id=item.key_id, tenant_id=item.tenant_id, role=item.role, contact=item.contact
    )
    with _lock:
        _resolved()[remembered] = caller
    return caller
