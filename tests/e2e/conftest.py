"""The local stack of `make dev`, started on free ports with a state dir of its own
(so a developer's running `make dev` and its `.dev/keys.env` are left alone)."""

from __future__ import annotations

import contextlib
import os
import queue
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def read_env(path: Path) -> dict[str, str]:
    """The variables an `export A=1 B=2` file sets, as a shell would read them."""
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        words = shlex.split(line, comments=True)
        if words and words[0] == "export":
            env.update(word.split("=", 1) for word in words[1:])  # type: ignore[misc]
    return env


class Stack:
    def __init__(self, proc: subprocess.Popen[str], api: str, moto: str, state: Path) -> None:
        self.proc = proc
        self.api = api
        self.moto = moto
        self.state = state
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line)

    @property
    def keys(self) -> dict[str, str]:
        return read_env(self.state / "keys.env")

    def read_until(self, predicate: Any, timeout: float) -> str:
        deadline = time.time() + timeout
        while (left := deadline - time.time()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            self.lines.append(line)
            if predicate(line):
                return line
        raise AssertionError("stack output so far:\n" + "".join(self.lines))

    def collect(self, seconds: float) -> None:
        """Take in every line printed within `seconds`."""
        deadline = time.time() + seconds
        while (left := deadline - time.time()) > 0:
            try:
                self.lines.append(self._queue.get(timeout=left))
            except queue.Empty:
                break

    def call(self, method: str, path: str, key: str | None = None, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return requests.request(method, self.api + path, json=body, headers=headers, timeout=30)

    def aws(self, service: str) -> Any:
        """A boto3 client of the stack's embedded AWS."""
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.moto,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        return self.proc.poll()


def aws_free_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


@contextlib.contextmanager
def running_stack(
    state: Path, *extra: str, api_port: int | None = None, moto_port: int | None = None
) -> Iterator[Stack]:
    moto_port, api_port = moto_port or free_port(), api_port or free_port()
    command = [sys.executable, "-u", "-m", "dev.local_stack", "--state-dir", str(state)]
    command += ["--aws-port", str(moto_port), "--api-port", str(api_port), *extra]
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=aws_free_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    s = Stack(proc, f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{moto_port}", state)
    try:
        s.read_until(lambda line: line.startswith("API on"), 120)
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One stack for the e2e session (the checker every 2 s)."""
    with running_stack(tmp_path_factory.mktemp("dev"), "--interval", "2") as s:
        yield s


# What a reader's shell must never print: a jq error, a 500, a traceback.
BAD_OUTPUT = ("jq: error", "internal_error", "Traceback", "command not found", "parse error")


def require_jq(what: str) -> None:
    """The docs' shell examples pipe into jq: required where .ci/run installs it."""
    if shutil.which("jq") is None:
        if os.environ.get("SLAGUARD_REQUIRE_TOOLS"):  # .ci/run installs it
            pytest.fail("jq is required here: apt-get install jq")
        pytest.skip(f"{what} need jq (apt-get install jq; .ci/run does)")


def reader_checkout(folder: Path) -> Path:
    """A folder laid out like a checkout (`.venv`, `chalicelib`, ...), for a reader's
    shell; the stack's `.dev/` goes in it."""
    folder.mkdir()
    for name in (".venv", "chalicelib", "app.py", ".chalice"):
        (folder / name).symlink_to(ROOT / name)
    return folder


def run_as_reader(blocks: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Shell blocks in order in one bash, as pasted into one terminal."""
    return subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + "\n".join(blocks)],  # noqa: S607 - the reader's shell
        cwd=cwd,
        env=aws_free_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
