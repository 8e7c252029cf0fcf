"""Operations from a shell, against real AWS or `AWS_ENDPOINT_URL` (API.md, Operations).

python -m chalicelib.cli bootstrap [--tenant-id provider] [--name NAME]
python -m chalicelib.cli create-tenant --id acme --name "Acme SA" --policy aivo [--json DOC]
python -m chalicelib.cli issue-key --tenant-id acme --role customer [--contact ana@acme.example]
python -m chalicelib.cli check --at 2026-03-02T14:00:00Z
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.instants import parse_instant

# The commands import what they use when they run, not here: Powertools loggers bind
# stdout when their module is imported, and `main` first points stdout at stderr so
# that stdout carries exactly one JSON line (no import cycle is involved).


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def ensure_resources() -> dict[str, Any]:
    """Create the tables and the alerts topic when missing (idempotent)."""
    from chalicelib import aws
    from chalicelib.settings import get_settings
    from chalicelib.store.schema import create_tables

    s = get_settings()
    created = create_tables(aws.client("dynamodb"), s.table_name, s.idempotency_table_name)
    return {
        "tables_created": created,
        "topic_arn": use_alerts_topic(),
        "webhook_key": ensure_webhook_key(),
    }


def ensure_webhook_key() -> str:
    """The KMS key that encrypts partner webhook secrets: the one `WEBHOOK_KEY_ID`
    names, or the stage's alias, created with that alias when missing (the cloud
    stack creates it; this serves the local stack, tests and a bare account)."""
    from botocore.exceptions import ClientError

    from chalicelib import aws
    from chalicelib.settings import get_settings

    kms = aws.client("kms")
    key_id = get_settings().webhook_key_id
    try:
        arn: str = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
        return arn
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") != "NotFoundException":
            raise
        if not key_id.startswith("alias/"):
            raise
    created = kms.create_key(Description="slaguard: partner webhook secrets")["KeyMetadata"]
    kms.create_alias(AliasName=key_id, TargetKeyId=created["KeyId"])
    return str(created["Arn"])


def use_alerts_topic() -> str:
    """The alerts topic's ARN, created if missing (CreateTopic is idempotent). Outside
    a deployed function `ALERTS_TOPIC_ARN` may be unset: then the stage's default
    topic name is resolved in the account the credentials belong to."""
    from chalicelib import aws
    from chalicelib.settings import get_settings

    name = get_settings().alerts_topic_arn.rsplit(":", 1)[-1]
    arn: str = aws.client("sns").create_topic(Name=name)["TopicArn"]
    os.environ.setdefault("ALERTS_TOPIC_ARN", arn)
    return arn


def bootstrap(tenant_id: str, name: str) -> dict[str, str]:
    """Tables, topic, provider tenant, shipped policies; a new admin key each time."""
    from chalicelib.services import policies, tenants

    ensure_resources()
    now = _now()
    tenants.ensure_provider(tenant_id, name, now)
    policies.load_shipped_into_store(now)
    issued = tenants.issue_key(tenant_id, "admin", None, now)
    return {"tenant_id": tenant_id, "api_key": issued["api_key"]}


def create_tenant(doc: dict[str, Any]) -> dict[str, Any]:
    from chalicelib.commands import TenantBody
    from chalicelib.services import tenants

    return tenants.create_tenant(TenantBody.model_validate(doc), _now())


def issue_key(tenant_id: str, role: str, contact: str | None) -> dict[str, Any]:
    from chalicelib.services import tenants

    return tenants.issue_key(tenant_id, role, contact, _now())


def check(at: datetime) -> dict[str, int]:
    from chalicelib.services.checker import check as run_check

    if "ALERTS_TOPIC_ARN" not in os.environ:
        use_alerts_topic()
    return run_check(at)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chalicelib.cli",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("bootstrap", help="create resources, provider tenant and an admin key")
    p.add_argument("--tenant-id", default="provider")
    p.add_argument("--name", default="Provider")
    p = sub.add_parser("create-tenant", help="create a customer tenant")
    p.add_argument("--id", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--policy", required=True)
    p.add_argument("--json", default="{}", help="more Tenant fields, as JSON")
    p = sub.add_parser("issue-key", help="issue an API key (printed once)")
    p.add_argument("--tenant-id", required=True)
    p.add_argument("--role", required=True, choices=["customer", "agent", "admin"])
    p.add_argument("--contact")
    p = sub.add_parser("check", help="run the breach checker once at an instant")
    p.add_argument("--at", required=True, help="RFC 3339 instant")
    args = parser.parse_args(argv)

    from pydantic import ValidationError

    from chalicelib.domain.errors import DomainError
    from chalicelib.errors import SlaguardError

    # stdout carries exactly one JSON line; logs and metrics of the command go to
    # stderr (modules imported from here on bind their loggers to it).
    stdout, sys.stdout = sys.stdout, sys.stderr
    try:
        if args.command == "bootstrap":
            out: Any = bootstrap(args.tenant_id, args.name)
        elif args.command == "create-tenant":
            extra = json.loads(args.json)
            out = create_tenant({**extra, "id": args.id, "name": args.name, "policy": args.policy})
        elif args.command == "issue-key":
            out = issue_key(args.tenant_id, args.role, args.contact)
        else:
            try:
                at = parse_instant(args.at)
            except ValueError:
                parser.error(f"--at: not an RFC 3339 instant: {args.at!r}")
            out = check(at)
    except (SlaguardError, DomainError) as e:
        fields = getattr(e, "fields", {})
        print(json.dumps({"error": str(e), "fields": fields}), file=sys.stderr)
        return 1
    except ValidationError as e:
        print(
            json.dumps(
                {"error": "invalid input", "detail": e.errors(include_url=False)}, default=str
            ),
            file=sys.stderr,
        )
        return 1
    finally:
        sys.stdout = stdout
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
