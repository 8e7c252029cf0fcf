"""Lazily built boto3 clients (never at import time, so moto's mocks and
`AWS_ENDPOINT_URL` are honoured). Cached per (service, region, endpoint)."""

from __future__ import annotations

import functools
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.exceptions import PynamoDBException

from chalicelib.settings import get_settings

POOL_CONNECTIONS = 32  # at least the checker worker's threads (settings.checker_threads)


@functools.cache
def _client(service: str, region: str, endpoint_url: str | None) -> Any:
    import boto3  # imported on first use: keeps cold starts of routes that never call AWS small
    from botocore.config import Config

    # A checker worker publishes from a thread pool: one HTTP connection per thread.
    config = Config(max_pool_connections=POOL_CONNECTIONS)
    client = boto3.client(service, region_name=region, endpoint_url=endpoint_url, config=config)
    model = client.meta.service_model
    if model.protocol == "query":  # SNS: the checker's PublishBatch
        # before the signer, registered on this same event
        event = f"request-created.{model.service_id.hyphenize()}"
        client.meta.events.register_first(event, form_encode_once)
    return client


# A query-protocol body (SNS) is a dict that botocore form-encodes each time the
# request is prepared: once for the signature's payload hash, once to send it, in
# pure Python byte by byte (a PublishBatch of 10 alerts is some 25 KB: ~1 ms each
# time). `form_encode_once` encodes it once, when the request is created, with a
# table: the same text as botocore's `urlencode(..., doseq=True)` of UTF-8 bytes.
_SAFE = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"
_FORM = [chr(b) if b in _SAFE else "+" if b == 0x20 else f"%{b:02X}" for b in range(256)]


def form_quote(value: Any) -> str:
    """`urllib.parse.quote_plus` of a form value (text as UTF-8; another value as
    its `str`, as `urlencode` does)."""
    data = value if isinstance(value, bytes) else str(value).encode()
    return "".join(map(_FORM.__getitem__, data))


def form_encode_once(request: Any, **_: Any) -> None:
    """botocore's `request-created` hook: a dict body becomes its encoded form."""
    if isinstance(request.data, dict) and request.data:
        request.data = "&".join(
            f"{form_quote(key)}={form_quote(value)}" for key, value in request.data.items()
        )


@functools.cache
def share_botocore_data() -> None:
    """One botocore data loader for every session of the process. botocore gives each
    session a loader of its own, which parses the service's JSON files (its model,
    endpoints, rules) again, and PynamoDB builds a session for each model's
    connection: a first POST /tickets, touching four models, parsed them four times
    (about 40 ms of CPU each; botocore issue 3078, PynamoDB issue 876). The files
    do not change while a process runs; a loader caches what it parsed, keyed by
    its search path as before. (boto3 appends its own data path to the loader of
    each boto3 Session it makes: the app makes one, the default session.)
    Idempotent: the store calls it when first imported."""
    import botocore.session  # already loaded by whoever needs this (PynamoDB, boto3)

    botocore.session.create_loader = functools.cache(botocore.session.create_loader)


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


THROTTLING = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "Throttling",
        "TransactionInProgressException",
    }
)


# What a cancelled transaction's reasons say when DynamoDB throttled it (the
# call's own code is then TransactionCanceledException, like a lost race's).
CANCELLED_BY_THROTTLING = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded"})


def throttled(e: PynamoDBException | ClientError) -> bool:
    """Did AWS (DynamoDB, SNS) say "slow down", after botocore's own retries? A
    transaction DynamoDB cancelled for throughput counts too."""
    if isinstance(e, PynamoDBException):
        reasons = getattr(e, "cancellation_reasons", None) or ()
        return e.cause_response_code in THROTTLING or any(
            reason is not None and reason.code in CANCELLED_BY_THROTTLING for reason in reasons
        )
    return e.response.get("Error", {}).get("Code") in THROTTLING
