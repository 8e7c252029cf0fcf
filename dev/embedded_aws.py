"""The embedded AWS of `make dev`: moto's server, safe under concurrent requests.

moto's DynamoDB backend is not thread-safe: `TransactWriteItems` copies the table
and restores the copy when a condition fails, with no lock, so two concurrent
writers on one table lose updates or fail with `dictionary changed size during
iteration`. Real DynamoDB serializes conflicting writes itself; here every
DynamoDB request is served one at a time (the other services stay concurrent).

moto's DynamoDB also costs what the table holds, not what a call touches (a deep
copy of every table per transaction, a sort of every item per index query): the
embedded AWS installs `dev.moto_costs`, the mechanism the tests use too, so that
memory and latency stay flat as the tables grow.

moto also projects index entries through a stricter number reading than DynamoDB's
(`plain_projections`): the integration tests' in-process moto takes the same fix.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when a server could listen on `host:port` now (as the servers bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def is_dynamodb(environ: dict[str, Any]) -> bool:
    """A DynamoDB API call: by its JSON target, or by its SigV4 credential scope."""
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
    auth = str(environ.get("HTTP_AUTHORIZATION", ""))
    return target.startswith("DynamoDB_") or "/dynamodb/aws4_request" in auth


class SerializedDynamoDB:
    """WSGI middleware: one DynamoDB request at a time, the response read in the lock."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if not is_dynamodb(environ):
            return self.app(environ, start_response)
        with self.lock:
            return list(self.app(environ, start_response))


def listening_socket(port: int, host: str = "127.0.0.1", backlog: int = 128) -> socket.socket:
    """A socket listening on `host:port`; a busy port raises OSError at once."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
        s.listen(backlog)
    except OSError:
        s.close()
        raise
    return s


def plain_projections() -> None:
    """moto projects an item (a keys-only or INCLUDE index, a projection of top-level
    names) by turning the whole item into Python numbers through boto3's decimal
    context, which refuses numbers DynamoDB stores (`10**40`: DynamoDB counts the
    significant digits without trailing zeros, boto3's context counts them all), so
    one such item in a ticket's `fields` failed every Query of the agents' queue
    (and of the due index) that reached it. Top-level names are copied as they are
    stored; anything else is left to moto."""
    from moto.dynamodb.models.dynamo_type import Item

    if getattr(Item.project, "plain", False):
        return
    original = Item.project

    def project(self: Item, projection_expressions: list[list[str]]) -> Item:
        names = {e[0] for e in projection_expressions if len(e) == 1 and "[" not in e[0]}
        if len(names) != len(projection_expressions):
            return original(self, projection_expressions)
        kept = {name: value.to_json() for name, value in self.attrs.items() if name in names}
        return Item(self.hash_key, self.range_key, kept)

    project.plain = True  # type: ignore[attr-defined]
    Item.project = project  # type: ignore[method-assign]


class EmbeddedAws:
    """moto's server on 127.0.0.1:`port`, bound at construction (a busy port raises
    OSError here, at once, where werkzeug would print and exit), served on a daemon
    thread by `start`."""

    def __init__(self, port: int) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import ThreadedWSGIServer

        from dev import moto_costs

        moto_costs.install()
        plain_projections()
        app = SerializedDynamoDB(DomainDispatcherApplication(create_backend_app))
        with listening_socket(port) as sock:  # werkzeug serves a duplicate of it
            self.server = ThreadedWSGIServer(
                "127.0.0.1", port, app, MotoRequestHandler, fd=sock.fileno()
            )
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()
