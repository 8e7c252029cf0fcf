"""Lazily built boto3 clients (never at import time, so moto's mocks and
`AWS_ENDPOINT_URL` are honoured). Cached per (service, region, endpoint)."""

from __future__ import annotations

import functools
import threading
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
    each boto3 Session it makes: the app makes one, the default session.) The
    loader is `botocore_files.DataLoader`: the same files for half the CPU.
    Idempotent: the store calls it when first imported."""
    import botocore.session  # already loaded by whoever needs this (PynamoDB, boto3)

    from chalicelib import botocore_files

    botocore.session.create_loader = functools.cache(botocore_files.create_loader)


# PynamoDB connections' shared botocore clients, by the settings a client is built from.
_PYNAMODB_CLIENTS: dict[tuple[Any, ...], Any] = {}
_PYNAMODB_LOCK = threading.Lock()


@functools.cache
def share_pynamodb_clients() -> None:
    """One botocore client for every PynamoDB connection of the same settings.
    PynamoDB gives each model's connection a client of its own, built from a
    session of its own (a session registers some 500 handlers, a client builds its
    class and endpoint resolver): about 8 ms of CPU for each model after the first
    that a first request touches (four on a POST /tickets). A botocore client is
    thread-safe and holds nothing of a model: the one hook PynamoDB sets on it adds
    its connection's extra headers, which no model of the store has (a connection
    with some keeps a client of its own). Idempotent: the store calls it when
    first imported; `reset_connections` forgets the clients."""
    from pynamodb.connection.base import Connection

    prop: property = vars(Connection)["client"]
    build = prop.fget
    assert build is not None

    def client(self: Connection) -> Any:
        if self._client is None and self._extra_headers is None:
            key = (
                self.region,
                self.host,
                self._connect_timeout_seconds,
                self._read_timeout_seconds,
                self._max_retry_attempts_exception,
                repr(self._retry_configuration),
                self._max_pool_connections,
                self._aws_access_key_id,
                self._aws_secret_access_key,
                self._aws_session_token,
            )
            with _PYNAMODB_LOCK:
                shared = _PYNAMODB_CLIENTS.get(key)
                if shared is None:
                    shared = _PYNAMODB_CLIENTS[key] = build(self)
            self._client = shared
        # PynamoDB's own: the connection's client, or a new one when it has no
        # credentials (botocore would keep them empty: PynamoDB says why)
        return build(self)

    Connection.client = property(client)  # type: ignore[method-assign,assignment]


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
    with _PYNAMODB_LOCK:
        _PYNAMODB_CLIENTS.clear()
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
