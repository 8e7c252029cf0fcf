"""The operations CLI as an operator meets it: `--help` everywhere, one-line errors
that say what to set, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.e2e.conftest import ROOT, free_port

pytestmark = pytest.mark.e2e
COMMANDS = ["bootstrap", "create-tenant", "issue-key", "check", "api-url"]


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chalicelib.cli", *args],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_every_command_has_help(command: str) -> None:
    done = run(*([command] if command else []), "--help")
    assert done.returncode == 0, done.stderr
    assert "usage: python -m chalicelib.cli" in done.stdout
    assert "../" not in done.stdout
    if command:
        assert len(done.stdout.split("\n\n")[1].strip()) > 10  # a description
        assert "--stack STACK" in done.stdout  # every command can name a deployed stack


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["check", "--at", "2026-03-02T14:00:00Z"], {}, "AWS_ACCESS_KEY_ID"),
        (["issue-key", "--tenant-id", "acme", "--role", "customer"], {}, "source .dev/aws.env"),
        (
            ["bootstrap"],
            {
                "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "x",
                "AWS_SECRET_ACCESS_KEY": "x",
                "AWS_MAX_ATTEMPTS": "1",
            },
            "start make dev",
        ),
        (
            ["create-tenant", "--id", "a", "--name", "A", "--policy", "aivo", "--json", "{"],
            {},
            "--json",
        ),
        # a JSON document that is not an object: the same line, not a TypeError
        (
            ["create-tenant", "--id", "a", "--name", "A", "--policy", "aivo", "--json", "[1,2]"],
            {},
            "--json must be a JSON object",
        ),
        (
            ["create-tenant", "--id", "a", "--name", "A", "--policy", "aivo", "--json", "null"],
            {},
            "not null",
        ),
        (["check", "--at", "yesterday"], {}, "not an RFC 3339 instant"),
        (["bootstrap"], {}, "--stack NAME"),
    ],
)
def test_an_error_is_one_line_saying_what_to_set(
    args: list[str], env: dict[str, str], says: str
) -> None:
    done = run(*args, **env)
    assert done.returncode == 1
    assert done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: ")
    assert says in line


def test_make_deploy_without_its_arguments_prints_its_usage_before_packaging() -> None:
    done = subprocess.run(
        ["make", "--no-print-directory", "deploy"],  # noqa: S607 - the developer's make
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stdout.startswith("usage: make deploy STACK=<stack name> BUCKET=<S3 bucket>")
    assert "chalice" not in done.stdout + done.stderr  # nothing was packaged
