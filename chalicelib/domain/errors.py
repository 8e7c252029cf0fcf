"""Errors the pure domain raises; the API maps each by its `status` and `code`.

`validation_fields` is the one reading of a pydantic error as the contract's
`fields` (dotted path -> why), used by the domain (policy documents, tenant
calendars) and by the entry layer (request bodies and queries) alike.
"""

from __future__ import annotations

from pydantic import ValidationError


class DomainError(Exception):
    status = 422
    code = "rule_refused"

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields: dict[str, str] = fields or {}


class IntakeError(DomainError):
    """A ticket (or policy document) with invalid fields: HTTP 400 naming each one
    (`kind`, `priority`, `fields.module`, `calendar.timezone`, ...)."""

    status = 400
    code = "invalid_request"

    def __init__(self, message: str, fields: dict[str, str], *, code: str | None = None) -> None:
        super().__init__(message, fields)
        if code is not None:
            self.code = code


class ChannelRefused(DomainError):
    """DX2: the tenant's contract does not cover this channel: HTTP 403."""

    status = 403
    code = "channel_not_in_contract"

    def __init__(self, channel: str, allowed: tuple[str, ...]) -> None:
        super().__init__(
            f"channel {channel!r} is not in this customer's contract; use {', '.join(allowed)}",
            {"channel": f"allowed: {', '.join(allowed)}"},
        )
        self.channel = channel
        self.allowed = allowed


def validation_fields(e: ValidationError, prefix: str = "", root: str = "body") -> dict[str, str]:
    """Every bad field of a pydantic error by dotted path, the first reason per path.

    `prefix` places the model inside a larger document (`calendar.`); an error
    about the model itself is named by the prefix, or by `root` when there is
    none. `[key]` (pydantic's marker for an invalid dict key) is dropped: the path
    already ends with the key."""
    fields: dict[str, str] = {}
    for err in e.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"] if p != "[key]")
        fields.setdefault(prefix + loc if loc else prefix.rstrip(".") or root, err["msg"])
    return fields
