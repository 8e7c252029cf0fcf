"""The local API of `make dev`: `chalice local`'s own gateway emulation, served so it
holds under load.

`chalice local` serves with Python's `http.server` and socketserver's default
listen backlog of 5: from about 25 simultaneous clients the kernel resets
connections. Here the same `LocalDevServer` (a thread per connection) listens with a
backlog of 1024, and the per-request access lines are printed only with `-v`.

    python -m dev.api_server --port 8000 --stage dev [-v]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from chalice.cli.factory import CLIFactory
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    LocalChalice,
    LocalDevServer,
    ThreadedHTTPServer,
)

from dev import console

ROOT = Path(__file__).resolve().parent.parent
BACKLOG = 1024


class BusyServer(ThreadedHTTPServer):
    """A thread per connection and a deep accept queue (socketserver's default is 5)."""

    request_queue_size = BACKLOG

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (reset, broken pipe, timeout) is not a server
        error: socketserver would print a traceback for it on the quiet console."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class QuietHandler(ChaliceRequestHandler):
    """Chalice's handler without the access line per request (errors still print)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


def serve(port: int, stage: str, verbose: bool) -> int:
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
            handler_cls=ChaliceRequestHandler if verbose else QuietHandler,
            server_cls=BusyServer,
        )
    except OSError as e:
        print(f"make dev: the API cannot listen on port {port}: {e.strerror}", file=sys.stderr)
        return 2
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
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    return serve(args.port, args.stage, args.verbose)


if __name__ == "__main__":
    sys.exit(main())
