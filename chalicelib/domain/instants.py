"""RFC 3339 instants as the contract writes them: UTC, whole seconds, `Z`."""

from __future__ import annotations

from datetime import UTC, datetime


def to_utc(at: datetime) -> datetime:
    """The same instant in UTC, truncated to whole seconds (naive means UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).replace(microsecond=0)


def format_instant(at: datetime) -> str:
    return to_utc(at).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(text: str) -> datetime:
    """Parse an RFC 3339 instant (any offset, `Z` allowed); raises ValueError."""
    parsed = datetime.fromisoformat(text.replace("z", "Z"))
    if parsed.tzinfo is None:
        raise ValueError("an instant needs an offset or Z")
    return to_utc(parsed)
