"""Operations from a shell, against real AWS or the endpoint in `AWS_ENDPOINT_URL`.

python -m chalicelib.cli [-v] COMMAND [--stack STACK] ...
  bootstrap [--tenant-id provider] [--name NAME]
  create-tenant --id acme --name "Acme SA" --policy aivo [--json DOC]
  issue-key --tenant-id acme --role customer [--contact ana@acme.example]
  check --at 2026-03-02T14:00:00Z
  api-url --stack STACK
  list-tenants [--json]
  list-partners [--tenant-id acme] [--json]
  simulate --policy-file draft.json --from 2026-11-01T00:00:00Z \
      --to 2026-12-01T00:00:00Z [--tenant-id acme] [--json]
  backfill-report-counts [--tenant-id acme]

Each command prints one JSON line on stdout (the lists: one line per tenant or
partner, plain or JSON with --json; simulate: the two achievement tables side by side,
the JSON line with --json); an error is one line on stderr, `error:
<what> [{"field": "why"}]` (exit 1). Logs and metrics are shown only with -v.
AWS: the usual credentials and region (AWS_PROFILE or AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION); against `make dev`, `source .dev/aws.env`.
A deployed stack's resources: `--stack NAME` (read from its outputs), or TABLE_NAME,
IDEMPOTENCY_TABLE_NAME and ALERTS_TOPIC_ARN set by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
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


# The stack's outputs (infra/build.py) and the settings they fill in.
STACK_OUTPUTS = {
    "TableName": "TABLE_NAME",
    "IdempotencyTableName": "IDEMPOTENCY_TABLE_NAME",
    "AlertsTopicArn": "ALERTS_TOPIC_ARN",
}


class CliError(Exception):
    """An error the CLI prints as its one line (`error: <message> [fields]`)."""

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields: dict[str, str] = fields or {}


def stack_outputs(stack: str, *needed: str) -> dict[str, str]:
    """A deployed stack's outputs, each of `needed` present."""
    from chalicelib import aws

    (described,) = aws.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    missing = sorted(set(needed) - set(outputs))
    if missing:
        raise CliError(f"stack {stack} has no output {', '.join(missing)}: deploy it first")
    return outputs


def stack_environment(stack: str) -> dict[str, str]:
    """The table, idempotency table and topic a deployed stack created, from its
    outputs: never a stage's default name against a real stack."""
    outputs = stack_outputs(stack, *STACK_OUTPUTS)
    return {env: outputs[key] for key, env in STACK_OUTPUTS.items()}


def use_stack(stack: str | None) -> None:
    """Point this process at a deployed stack's resources (nothing when None)."""
    if stack is not None:
        os.environ.update(stack_environment(stack))


def api_url(stack: str) -> dict[str, str]:
    """The deployed API's base URL (Chalice's `EndpointURL` output) and dashboard."""
    outputs = stack_outputs(stack, "EndpointURL")
    return {"api_url": outputs["EndpointURL"], "dashboard_url": outputs.get("DashboardUrl", "")}


def tenant_document(raw: str) -> dict[str, Any]:
    """`--json`: more Tenant fields, which must be a JSON object."""
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as e:
        raise CliError(f"--json is not a JSON object: {e}") from None
    if not isinstance(doc, dict):
        kind = "null" if doc is None else type(doc).__name__
        raise CliError(
            f'--json must be a JSON object of Tenant fields (e.g. \'{{"tier": "premium"}}\'), '
            f"not {kind}"
        )
    return doc


def bootstrap(tenant_id: str, name: str, stack: str | None = None) -> dict[str, str]:
    """Tables, topic, provider tenant, shipped policies; a new admin key each time.
    With `stack`, the stack's own table and topic (they exist: nothing is created)."""
    from chalicelib.services import policies, tenants

    if stack is not None:
        use_stack(stack)
    else:
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


def backfill_report_counts(tenant_id: str | None) -> dict[str, int]:
    from chalicelib.services.reports import count_existing

    return count_existing(_now(), tenant_id)


LIST_PAGE = 100  # items a list command asks for per request


def list_tenants() -> Iterator[dict[str, Any]]:
    """Every customer tenant, by id (GET /admin/tenants, page after page)."""
    from chalicelib.services import tenants

    cursor = None
    while True:
        page = tenants.list_tenants(LIST_PAGE, cursor)
        yield from page["items"]
        if (cursor := page["next_cursor"]) is None:
            return


def list_partners(tenant_id: str | None) -> Iterator[dict[str, Any]]:
    """Every partner helpdesk, by tenant (GET /admin/partners, page after page)."""
    from chalicelib.services import partners

    cursor = None
    while True:
        page = partners.list_partners(tenant_id, LIST_PAGE, cursor)
        yield from page["items"]
        if (cursor := page["next_cursor"]) is None:
            return


def tenant_line(tenant: dict[str, Any]) -> str:
    parts = [tenant["id"], tenant["name"], f"policy {tenant['policy']}"]
    if tenant.get("tier"):
        parts.append(f"tier {tenant['tier']}")
    return "\t".join(parts)


def partner_line(partner: dict[str, Any]) -> str:
    parts = [partner["id"], f"tenant {partner['tenant_id']}", f"format {partner['format']}"]
    parts.append(f"since {partner['created_at']}")
    if partner["secret_rotated_at"]:
        parts.append(f"secret rotated {partner['secret_rotated_at']}")
    return "\t".join(parts)


def simulate(
    doc: dict[str, Any], start: datetime, end: datetime, tenant_id: str | None
) -> dict[str, Any]:
    """What-if: the draft `doc` (its `id` names the stored policy) replayed over
    the tickets under that policy reported in [start, end), as the API answers."""
    from chalicelib.services import whatif

    policy_id = str(doc.get("id") or "")
    return whatif.simulate(policy_id, doc, start, end, tenant_id, _now())


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} %"


def achievement_tables(answer: dict[str, Any], changes_shown: int = 10) -> str:
    """The simulation for a person: per priority, the current and the draft
    achievement side by side, then the targets that change."""
    current = {i["priority"]: i for i in answer["current"]["items"]}
    draft = {i["priority"]: i for i in answer["draft"]["items"]}
    head = f"{'tickets':>7} {'met':>5} {'breached':>8} {'achieved':>9}"
    lines = [
        f"policy {answer['policy']} (stored version {answer['policy_version']}) against the "
        f"draft: {answer['tickets']} tickets reported {answer['from']} .. {answer['to']}",
        "",
        f"{'':<10} | {'current':<32} | {'draft':<32}",
        f"{'priority':<10} | {head} | {head}",
    ]
    empty = {"tickets": 0, "met": 0, "breached": 0, "achievement_pct": None}
    for priority in [*current, *(p for p in draft if p not in current)]:
        cells = []
        for side in (current, draft):
            row = side.get(priority, empty)
            cells.append(
                f"{row['tickets']:>7} {row['met']:>5} {row['breached']:>8} "
                f"{_pct(row['achievement_pct']):>9}"
            )
        lines.append(f"{priority:<10} | {cells[0]} | {cells[1]}")
    lines += ["", f"{answer['changed_total']} targets change"]
    for change in answer["changed"][:changes_shown]:
        lines.append(
            f"  {change['ticket_id']} {change['metric']}: due {change['current_due_at']} -> "
            f"{change['draft_due_at']}, {change['current_state']} -> {change['draft_state']}"
        )
    if answer["changed_total"] > changes_shown:
        lines.append(f"  ... and {answer['changed_total'] - changes_shown} more (--json)")
    if answer["unreproduced_total"]:
        lines.append(
            f"{answer['unreproduced_total']} tickets could not be replayed exactly "
            "(their changes are counted replay against replay; --json says why)"
        )
    return "\n".join(line.rstrip() for line in lines)


class Text(str):
    """A command's output printed as it is (lines for a person), not as JSON."""


def _instant(name: str, text: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError:
        raise CliError(f"{name}: not an RFC 3339 instant: {text!r}") from None


def _policy_file(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except OSError as e:
        raise CliError(f"--policy-file: cannot read {path}: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise CliError(f"--policy-file: {path} is not JSON: {e}") from None
    if not isinstance(doc, dict):
        raise CliError(f"--policy-file: {path} is not a JSON object")
    return doc


DEV_HINT = "against make dev: source .dev/aws.env"


def aws_problem(e: BaseException) -> str | None:
    """One line saying what to set, for an error of the AWS environment (not of the
    input): no credentials or region, an endpoint that does not answer, a refusal."""
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )
    from pynamodb.exceptions import PynamoDBException

    if isinstance(e, PynamoDBException) and e.cause is not None:
        return aws_problem(e.cause)
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if isinstance(e, NoCredentialsError | PartialCredentialsError):
        return (
            "no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
            f"AWS_SECRET_ACCESS_KEY ({DEV_HINT})"
        )
    if isinstance(e, NoRegionError):
        return f"no AWS region: set AWS_DEFAULT_REGION ({DEV_HINT})"
    if isinstance(e, EndpointConnectionError | ConnectTimeoutError):
        where = f"AWS_ENDPOINT_URL={endpoint}" if endpoint else "AWS"
        return (
            f"cannot reach {where}: start make dev (or fix AWS_ENDPOINT_URL; unset it for real AWS)"
        )
    if isinstance(e, ClientError):
        error = e.response.get("Error", {})
        code, message = error.get("Code", "?"), error.get("Message", "")
        if code == "ResourceNotFoundException":
            return (
                f"{message or code}: pass --stack NAME (a deployed stack), or set "
                "TABLE_NAME / ALERTS_TOPIC_ARN to the stage's, or run bootstrap first"
            )
        if code in ("UnrecognizedClientException", "InvalidSignatureException", "ExpiredToken"):
            return f"AWS refused the credentials ({code}): set valid ones ({DEV_HINT})"
        return f"AWS refused {e.operation_name}: {code}: {message}"
    return None


QUIET = {"POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "WARNING"}


@contextlib.contextmanager
def _quiet(verbose: bool) -> Iterator[None]:
    """Without -v a command shows its result line only: no EMF metrics, no INFO
    logs (warnings and errors still show). An explicit environment wins; what
    this sets is unset again afterwards."""
    added = {} if verbose else {k: v for k, v in QUIET.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


def fail(message: str, fields: dict[str, str] | None = None) -> int:
    """The CLI's one error shape: one line on stderr, exit 1."""
    tail = f" {json.dumps(fields, ensure_ascii=False)}" if fields else ""
    print(f"error: {message}{tail}", file=sys.stderr)
    return 1


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m chalicelib.cli",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument(
        "-v", "--verbose", action="store_true", help="also show logs and EMF metrics (stderr)"
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str, detail: str) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=summary,
            description=f"{summary}.\n\n{detail}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument(
            "--stack",
            required=name == "api-url",
            help="a deployed stack: its outputs name the tables and topic",
        )
        return p

    p = command(
        "bootstrap",
        "Create the tables, the alerts topic, the provider tenant and the shipped policies",
        'Idempotent. Prints {"tenant_id", "api_key"} with a new admin key each time.\n'
        "With --stack the stack's own tables and topic are used (nothing is created).",
    )
    p.add_argument("--tenant-id", default="provider", help="the provider's tenant id")
    p.add_argument("--name", default="Provider", help="the provider's name")
    p = command(
        "create-tenant",
        "Create a customer tenant",
        "Prints the tenant. Example:\n  create-tenant --id brand --name 'Brand SA' "
        '--policy keybe --json \'{"tier": "premium"}\'',
    )
    p.add_argument("--id", required=True, help="lowercase letters, digits, - and _")
    p.add_argument("--name", required=True, help="the customer's name")
    p.add_argument(
        "--policy", required=True, help="aivo, keybe, clever_ideas, digital_express or a custom id"
    )
    p.add_argument("--json", default="{}", help="more Tenant fields, as a JSON object")
    p = command(
        "issue-key",
        "Issue an API key",
        'Prints {"key_id", "api_key", ...}: the clear key is shown this once.\n'
        "agent and admin keys belong to the provider tenant, customer keys to a customer.",
    )
    p.add_argument("--tenant-id", required=True, help="the tenant the key belongs to")
    p.add_argument("--role", required=True, choices=["customer", "agent", "admin"])
    p.add_argument("--contact", help="who holds the key (an e-mail address)")
    p = command(
        "check",
        "Run the breach checker once at an instant",
        'Exactly what the schedule runs every minute; prints {"evaluated", "alerts", ...}.\n'
        "An instant in the future publishes the alerts due by then, for real.",
    )
    p.add_argument("--at", required=True, help="an RFC 3339 instant, e.g. 2026-03-02T14:00:00Z")
    command(
        "api-url",
        "Print a deployed stack's API URL",
        'Prints {"api_url", "dashboard_url"} from the stack\'s outputs, e.g.\n'
        "  API=$(python -m chalicelib.cli api-url --stack slaguard-prod | jq -r .api_url)",
    )
    p = command(
        "list-tenants",
        "List the customer tenants",
        "One line per tenant, by id: id, name, policy and tier, tab-separated.\n"
        "--json: one Tenant object per line instead (for a script).",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p = command(
        "list-partners",
        "List the partner helpdesks (never a secret)",
        "One line per partner, by tenant: id, tenant, format, when it was registered and\n"
        "when its secret was last rotated, tab-separated.\n"
        "--json: one partner object per line instead (for a script).",
    )
    p.add_argument("--tenant-id", help="only this customer's partners")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p = command(
        "simulate",
        "What-if: replay a draft policy over the tickets reported in a window",
        "Nothing is stored. The draft's `id` names the stored policy it would replace.\n"
        "Prints the current and the draft achievement per priority side by side, and\n"
        "the targets that change; --json prints the API's answer as one JSON line.",
    )
    p.add_argument("--policy-file", required=True, help="the draft policy document (JSON)")
    p.add_argument("--from", dest="start", required=True, help="an RFC 3339 instant")
    p.add_argument("--to", dest="end", required=True, help="an RFC 3339 instant")
    p.add_argument("--tenant-id", help="one customer only")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p = command(
        "backfill-report-counts",
        "Put the tickets written before the report counters into them",
        "Run once after the deploy that adds the counters (docs/deploy.md); safe to run\n"
        'again. Prints {"tenants", "tickets_counted", "unreadable"}.',
    )
    p.add_argument("--tenant-id", help="one customer only")
    return top


def run(args: argparse.Namespace) -> Any:
    """The command's result (printed as one JSON line)."""
    if args.command == "bootstrap":
        real_aws = not os.environ.get("AWS_ENDPOINT_URL")
        if args.stack is None and real_aws and "TABLE_NAME" not in os.environ:
            # never a stage's default names against a real account
            raise CliError("bootstrap against AWS needs --stack NAME (or TABLE_NAME etc.)")
        return bootstrap(args.tenant_id, args.name, args.stack)
    if args.command == "api-url":
        return api_url(args.stack)
    if args.command == "create-tenant":
        extra = tenant_document(args.json)
        use_stack(args.stack)
        return create_tenant({**extra, "id": args.id, "name": args.name, "policy": args.policy})
    if args.command == "issue-key":
        use_stack(args.stack)
        return issue_key(args.tenant_id, args.role, args.contact)
    if args.command == "list-tenants":
        use_stack(args.stack)
        return Text(
            "\n".join(json.dumps(t) if args.json else tenant_line(t) for t in list_tenants())
        )
    if args.command == "list-partners":
        use_stack(args.stack)
        found = list_partners(args.tenant_id)
        return Text("\n".join(json.dumps(p) if args.json else partner_line(p) for p in found))
    if args.command == "simulate":
        doc = _policy_file(args.policy_file)
        start, end = _instant("--from", args.start), _instant("--to", args.end)
        use_stack(args.stack)
        answer = simulate(doc, start, end, args.tenant_id)
        return answer if args.json else Text(achievement_tables(answer))
    if args.command == "backfill-report-counts":
        use_stack(args.stack)
        return backfill_report_counts(args.tenant_id)
    at = _instant("--at", args.at)
    use_stack(args.stack)
    return check(at)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)

    from botocore.exceptions import BotoCoreError, ClientError
    from pydantic import ValidationError
    from pynamodb.exceptions import PynamoDBException

    from chalicelib.domain.errors import DomainError, validation_fields
    from chalicelib.errors import SlaguardError

    # stdout carries exactly one JSON line; logs and metrics of the command go to
    # stderr (modules imported from here on bind their loggers to it).
    stdout, sys.stdout = sys.stdout, sys.stderr
    try:
        with _quiet(args.verbose):
            out = run(args)
    except (CliError, SlaguardError, DomainError) as e:
        return fail(str(e), getattr(e, "fields", None))
    except ValidationError as e:
        return fail("invalid input", validation_fields(e))
    except (BotoCoreError, ClientError, PynamoDBException) as e:
        problem = aws_problem(e)
        if problem is None:
            raise
        return fail(problem)
    finally:
        sys.stdout = stdout
    if isinstance(out, Text):
        if out:
            print(out)
    else:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
