"""The local API of `make dev`: `chalice local`'s own gateway emulation, served so it
holds under load and answers as the contract says.

`chalice local` serves with Python's `http.server` and socketserver's default
listen backlog of 5: from about 25 simultaneous clients the kernel resets
connections. Here the same `LocalDevServer` (a thread per connection) listens with a
backlog of 1024, and the per-request access lines are printed only with `-v`.

What API Gateway (with the stack's gateway responses) answers and `chalice local`
does not, done here before the app is called, in the contract's error shape:
- an unknown route is a 404 (chalice local: 403 "Missing Authentication Token"),
  a method the route lacks a 405 (`http.server`: 501 for methods it has no
  handler for, such as TRACE);
- a declared `Content-Length` over the body limit is a 413 before the body is read
  (chalice local reads whatever length is declared into memory), one that is not
  a number a 400;
- with `--ready-file`, `GET /health` answers 503 until that file exists: `make dev`
  writes it once the demo tenants and keys are in place, so a client that waits
  for /health can use the keys at once.

    python -m dev.api_server --port 8000 --stage dev [--ready-file PATH] [-v]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from chalice.cli.factory import CLIFactory
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    LocalChalice,
    LocalDevServer,
    RouteMatcher,
    ThreadedHTTPServer,
)

from chalicelib.api.http import ALWAYS_HEADERS, MAX_BODY_BYTES, error_body
from dev import console

ROOT = Path(__file__).resolve().parent.parent
BACKLOG = 1024


class BusyServer(ThreadedHTTPServer):
    """A thread per connection and a deep accept queue (socketserver's default is 5);
    `routes` and `ready_file` are set by `serve`."""

    request_queue_size = BACKLOG
    routes: Routes
    ready_file: Path | None = None

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (reset, broken pipe, timeout) is not a server
        error: socketserver would print a traceback for it on the quiet console."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class ContractHandler(ChaliceRequestHandler):
    """Chalice's handler, with the answers above (`server` is a `BusyServer`)."""

    server: BusyServer

    def _generic_handle(self) -> None:
        refusal = self._refusal()
        if refusal is None:
            super()._generic_handle()
            return
        status, code, message, headers = refusal
        self._answer(status, code, message, headers)

    # chalice binds its own `_generic_handle` to these names: bind this one
    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def _refusal(self) -> tuple[int, str, str, dict[str, str]] | None:
        """(status, code, message, headers) when this request is answered here."""
        path = urlsplit(self.path).path
        ready = self.server.ready_file
        if ready is not None and path.rstrip("/") == "/health" and not ready.exists():
            return 503, "starting", "the local stack is still starting", {"Retry-After": "1"}
        routes = self.server.routes
        route = routes.route_of(path)
        if route is None:
            return 404, "not_found", f"no route {path[:200]}", {}
        allowed = routes.methods[route]
        if self.command not in allowed and self.command != "OPTIONS":
            return (
                405,
                "method_not_allowed",
                f"{self.command} is not allowed on {route}",
                {"Allow": ", ".join(sorted(allowed))},
            )
        declared = self.headers.get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                return 400, "bad_request", "Content-Length must be a number of bytes", {}
            if int(declared) > MAX_BODY_BYTES:
                return (
                    413,
                    "payload_too_large",
                    f"the body is over {MAX_BODY_BYTES // 1024} KiB",
                    {},
                )
        return None

    def _answer(self, status: int, code: str, message: str, headers: dict[str, str]) -> None:
        """The contract's error JSON. The connection closes after it when a body may be
        left unread (it is never read: a declared length is not trusted)."""
        request_headers = getattr(self, "headers", None)
        if request_headers is not None and request_headers.get("content-length", "0") != "0":
            self.close_connection = True
            headers = {**headers, "Connection": "close"}
        body = json.dumps(error_body(code, message)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in {**ALWAYS_HEADERS, **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """`http.server`'s own refusals (501 for a method it has no handler for, 400
        for a malformed request line, 414, 431) in the contract's shape."""
        if code == HTTPStatus.NOT_IMPLEMENTED and self.command:  # a method without do_X
            path = urlsplit(self.path).path
            route = self.server.routes.route_of(path)
            if route is None:
                self._answer(404, "not_found", f"no route {path[:200]}", {})
            else:
                allowed = ", ".join(sorted(self.server.routes.methods[route]))
                message = f"{self.command[:20]} is not allowed on {route}"
                self._answer(405, "method_not_allowed", message, {"Allow": allowed})
            return
        self.close_connection = True
        status = HTTPStatus(code)
        self._answer(code, status.phrase.lower().replace(" ", "_"), message or status.phrase, {})


class QuietHandler(ContractHandler):
    """The handler without the access line per request (errors still print)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


class Routes:
    """The app's routes, matched as `chalice local` matches them (its RouteMatcher)."""

    def __init__(self, app_routes: dict[str, dict[str, Any]]) -> None:
        self.matcher = RouteMatcher(list(app_routes))
        self.methods = {route: frozenset(views) for route, views in app_routes.items()}

    def route_of(self, path: str) -> str | None:
        try:
            return str(self.matcher.match_route(path).route)
        except ValueError:
            return None


def serve(port: int, stage: str, verbose: bool, ready_file: Path | None = None) -> int:
    console.configure(verbose)
    factory = CLIFactory(str(ROOT), environ=dict(os.environ))
    config = factory.create_config_obj(chalice_stage_name=stage)
    app_obj: Any = config.chalice_app  # loads app.py with the stage's environment
    # As chalice.local.create_local_server: a request-local `current_request`.
    CustomLocalChalice.__bases__ = (LocalChalice, app_obj.__class__)
    app_obj.__class__ = CustomLocalChalice
    try:
        server = LocalDevServer(
            app_obj,
            config,
            "127.0.0.1",
            port,
            handler_cls=ContractHandler if verbose else QuietHandler,
            server_cls=BusyServer,
        )
    except OSError as e:
        print(f"make dev: the API cannot listen on port {port}: {e.strerror}", file=sys.stderr)
        return 2
    busy: BusyServer = server.server
    busy.routes = Routes(app_obj.routes)
    busy.ready_file = ready_file
    try:
        server.server.serve_forever()
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: stop quietly
        pass
    finally:
        server.server.server_close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="dev")
    parser.add_argument(
        "--ready-file", type=Path, help="GET /health answers 503 until this file exists"
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    return serve(args.port, args.stage, args.verbose, args.ready_file)


if __name__ == "__main__":
    sys.exit(main())
