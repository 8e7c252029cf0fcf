"""Demo data of the local stack: the same tenants and keys at every start.

The embedded AWS keeps everything in memory, so each `make dev` starts empty. To
give a developer keys that keep working across restarts, every start recreates the
same demo tenants (one per shipped policy) and issues the same keys: each key is an
HMAC of its name under a seed made once per checkout (`.dev/seed`, git-ignored).
These keys exist only in this checkout's local stack: the seed never leaves it and
the cloud stages issue random keys. The keys are written to `.dev/keys.env`, for
`source .dev/keys.env`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

PROVIDER = "provider"


@dataclass(frozen=True)
class DemoTenant:
    id: str
    policy: str
    variable: str  # the shell variable its customer key is exported as
    doc: dict[str, Any]


# One customer per shipped policy, each with what its policy reads (see docs/policies.md),
# and a Digital Express customer without contract, whose tickets are charged (DX2-DX4).
TENANTS = (
    DemoTenant("demo-aivo", "aivo", "CUSTOMER", {"name": "Demo Aivo SA"}),
    DemoTenant("demo-keybe", "keybe", "CUSTOMER_KEYBE", {"name": "Demo Keybe", "tier": "premium"}),
    DemoTenant(
        "demo-clever-ideas",
        "clever_ideas",
        "CUSTOMER_CLEVER_IDEAS",
        {
            "name": "Demo Clever Ideas",
            "operation_started_on": "2026-01-05",
            "billing": {"currency": "USD", "hourly_rate": "60.00"},
        },
    ),
    DemoTenant(
        "demo-digital-express",
        "digital_express",
        "CUSTOMER_DIGITAL_EXPRESS",
        {"name": "Demo Digital Express", "contract": {"active": True, "plan": "standard"}},
    ),
    DemoTenant(
        "demo-express-no-contract",
        "digital_express",
        "CUSTOMER_NO_CONTRACT",
        {"name": "Demo Express Walk-in", "locale": "es"},
    ),
)


def seed(state_dir: Path) -> bytes:
    """This checkout's seed, made on first use."""
    path = state_dir / "seed"
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32) + "\n")
        path.chmod(0o600)
    return bytes.fromhex(path.read_text().strip())


def derived_key(key_seed: bytes, name: str) -> str:
    """`sgk_` + 43 url-safe characters, the shape of a real key, fixed by seed and name."""
    from chalicelib.services.auth import KEY_PREFIX

    digest = hmac.new(key_seed, name.encode(), hashlib.sha256).digest()
    return KEY_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("=")


@contextlib.contextmanager
def _issuing(clear_key: str) -> Iterator[None]:
    # The key goes through the real issue path (checks, hashing, storage); only the
    # random token is replaced by the derived one.
    with mock.patch("chalicelib.services.auth.new_clear_key", return_value=clear_key):
        yield


def _issue(key_seed: bytes, tenant_id: str, role: str, contact: str | None) -> str:
    from chalicelib.cli import issue_key

    clear = derived_key(key_seed, f"{tenant_id}/{role}")
    with _issuing(clear):
        issue_key(tenant_id, role, contact)
    return clear


def create(key_seed: bytes) -> dict[str, str]:
    """The demo tenants and their keys in a fresh store; shell variable -> clear key."""
    from chalicelib.cli import create_tenant
    from chalicelib.errors import Conflict

    keys = {
        "ADMIN": _issue(key_seed, PROVIDER, "admin", "admin@provider.example"),
        "AGENT": _issue(key_seed, PROVIDER, "agent", "ana@provider.example"),
    }
    for t in TENANTS:
        with contextlib.suppress(Conflict):
            create_tenant({**t.doc, "id": t.id, "policy": t.policy})
        keys[t.variable] = _issue(key_seed, t.id, "customer", f"dev@{t.id}.example")
    return keys


def write_env(state_dir: Path, api: str, aws: str, keys: dict[str, str]) -> tuple[Path, Path]:
    """`.dev/keys.env` (the API and its keys) and `.dev/aws.env` (the embedded AWS)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    tenants = ", ".join(f"{t.variable}={t.id} ({t.policy})" for t in TENANTS)
    lines = [
        "# make dev: the local API and its demo keys, the same at every start.",
        "# Local only (derived from .dev/seed, never valid anywhere else).",
        f"# Customers: {tenants}.",
        f"export API={api}",
        *(f"export {name}={value}" for name, value in keys.items()),
    ]
    keys_env = state_dir / "keys.env"
    keys_env.write_text("\n".join(lines) + "\n")
    keys_env.chmod(0o600)
    aws_env = state_dir / "aws.env"
    aws_env.write_text(
        "# make dev: the embedded AWS (any credentials work; boto3 wants some).\n"
        f"export AWS_ENDPOINT_URL={aws} AWS_DEFAULT_REGION=us-east-1 "
        "AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test\n"
    )
    return keys_env, aws_env
