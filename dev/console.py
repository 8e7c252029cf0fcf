"""The quiet console of `make dev`: what a developer reads, not what CloudWatch reads.

By default: no INFO logs (botocore's credential discovery, PynamoDB's settings
note), no access line per request, no EMF metric blobs; warnings and errors print
in full. `-v` (make dev V=1) prints everything.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import threading
from typing import TextIO


class WithoutEmf(io.TextIOBase):
    """A text stream that drops whole lines holding an EMF document (`{"_aws": ...}`):
    Powertools prints them for CloudWatch to parse, and `single_metric` ignores
    POWERTOOLS_METRICS_DISABLED."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.pending = ""
        self.lock = threading.Lock()

    def write(self, text: str) -> int:
        with self.lock:
            self.pending += text
            *lines, self.pending = self.pending.split("\n")
            for line in lines:
                if not line.startswith('{"_aws":'):
                    self.stream.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        with self.lock:
            self.stream.flush()


def configure(verbose: bool) -> None:
    logging.basicConfig(
        stream=sys.stdout, level=logging.INFO if verbose else logging.WARNING, format="%(message)s"
    )
    # werkzeug (moto's server) logs every request at INFO on a handler of its own.
    logging.getLogger("werkzeug").setLevel(logging.INFO if verbose else logging.WARNING)
    if not verbose:
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        sys.stdout = WithoutEmf(sys.stdout)
