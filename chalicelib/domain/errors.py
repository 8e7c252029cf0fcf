"""Errors the pure domain raises; the API maps each by its `status` and `code`."""

from __future__ import annotations


class DomainError(Exception):
    status = 422
    code = "rule_refused"

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields: dict[str, str] = fields or {}
