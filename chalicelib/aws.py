"""Lazily built boto3 clients (never at import time, so moto's mocks and
`AWS_ENDPOINT_URL` are honoured). Cached per (service, region, endpoint)."""

from __future__ import annotations

import functools
from typing import Any

from chalicelib.settings import get_settings


@functools.cache
def _client(service: str, region: str, endpoint_url: str | None) -> Any:
    import boto3  # imported on first use: keeps cold starts of routes that never call AWS small

    return boto3.client(service, region_name=region, endpoint_url=endpoint_url)


def client(service: str) -> Any:
    s = get_settings()
    return _client(service, s.region, s.endpoint_url)


def reset_clients() -> None:
    """Forget cached clients (tests start a fresh mock)."""
    _client.cache_clear()


def reset_connections() -> None:
    """Forget every cached client and PynamoDB connection (a test or bench starts a
    fresh mock; PynamoDB caches its connection on each model class)."""
    from pynamodb.models import Model  # only tests and benches call this: no import cost

    reset_clients()
    pending: list[type[Model]] = list(Model.__subclasses__())
    while pending:
        model = pending.pop()
        model._connection = None
        pending.extend(model.__subclasses__())
