"""Partner helpdesk formats (adapters): signature checks over the raw bytes and
payload mapping onto `PartnerEvent`, one module per format."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from chalicelib.webhooks import freshdesk, generic, jira, zendesk
from chalicelib.webhooks.base import PartnerEvent


class Format(Protocol):
    FORMAT: str
    DEFAULT_PRIORITIES: dict[str, str]

    def new_secret(self) -> str: ...

    def secret_problem(self, secret: str) -> str | None: ...

    def verify(
        self, raw: bytes, headers: Mapping[str, str], secrets: Sequence[str], now: datetime
    ) -> None: ...

    def parse(self, raw: bytes, headers: Mapping[str, str]) -> PartnerEvent: ...


FORMATS: dict[str, Format] = {m.FORMAT: m for m in (generic, zendesk, jira, freshdesk)}
