"""docs/changing-a-ticket.md: its example runs as shown, and what it says a reader
can check with `git grep` holds."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from chalicelib.domain.ticket import Ticket
from chalicelib.services import unit_of_work
from chalicelib.services.unit_of_work import UnitOfWork
from tests.services.conftest import AGENT, MON_10, open_ticket
from tests.services.fakes import InMemoryTickets

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "changing-a-ticket.md").read_text()


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC, flags=re.S)


def test_the_example_assigns_through_the_unit_of_work(repo: InMemoryTickets) -> None:
    (example,) = _blocks("python")
    ticket_id = open_ticket("acme")
    scope = {
        "UnitOfWork": UnitOfWork,
        "Ticket": Ticket,
        "unit_of_work": unit_of_work,
        "ticket_id": ticket_id,
        "now": MON_10,
        "actor": unit_of_work.actor_of(AGENT),
    }
    exec(example, scope)  # noqa: S102 (the doc's own example)
    assert repo.tickets[ticket_id].assignee == "ana@provider.example"
    assert repo.types(ticket_id) == ["created", "action.assign"]


@pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout"
)
def test_only_the_named_modules_build_entries_and_alerts_or_call_e7_and_dx4() -> None:
    (commands,) = _blocks("sh")
    expected = ["chalicelib/services/records.py", "chalicelib/domain/ticket.py"]
    for line, where in zip(commands.strip().splitlines(), expected, strict=True):
        command = line.split("#")[0].strip()
        found = subprocess.run(
            ["/bin/sh", "-c", command], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout
        files = {hit.split(":", 1)[0] for hit in found.splitlines()}
        assert files == {where}, (command, found)
