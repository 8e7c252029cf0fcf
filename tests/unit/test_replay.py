"""The replay's mapping of history entries onto the aggregate (issue 23), pure:
entries written the way the services write them (services/lifecycle.py), a
ticket driven through the aggregate alongside, the replay compared with it. The
proof over the real services' histories is tests/integration/test_replay.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib import policies
from chalicelib.domain import replay
from chalicelib.domain.instants import format_instant
from chalicelib.domain.intake import Intake
from chalicelib.domain.policy import Policy
from chalicelib.domain.terms import SlaBasis
from chalicelib.domain.ticket import Ticket

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)  # Monday 09:00 in Buenos Aires
AIVO = policies.load_shipped()["aivo"]
BASIS = SlaBasis.of(AIVO, {"name": "Acme"})


class Recorder:
    """A ticket driven through the aggregate, and its history as the services
    record it (type, actor, data with the action's parameters and outcome)."""

    def __init__(self, priority: str = "high", fields: dict[str, Any] | None = None) -> None:
        intake = Intake(kind="incident", priority=priority, fields=fields or {})
        self.ticket, _ = Ticket.open(
            ticket_id="tkt_1",
            tenant_id="acme",
            title="Down",
            intake=intake,
            basis=BASIS,
            reported_at=T0,
            now=T0,
        )
        self.history: list[dict[str, Any]] = []
        self._entry("created", "agent", {"status": self.ticket.status}, T0)

    def _entry(self, type_: str, role: str, data: dict[str, Any], at: datetime) -> None:
        self.history.append(
            {
                "id": f"{len(self.history):04d}",
                "at": format_instant(at),
                "type": type_,
                "actor": {"role": role, "key_id": None, "partner_id": None},
                "data": data,
            }
        )

    def act(self, action: str, after: int, role: str = "agent", **params: Any) -> None:
        at = T0 + timedelta(minutes=after)
        previous_status, previous_priority = self.ticket.status, self.ticket.priority
        outcome = self.ticket.act(action, params, role, at, basis=BASIS)
        data = {**params, "status": self.ticket.status, "previous_status": previous_status}
        data["met"] = outcome.met
        if action == "set_priority":
            data.update(priority=self.ticket.priority, previous_priority=previous_priority)
        if action == "log_time":
            data["total_minutes"] = self.ticket.fields["logged_minutes"]
        self._entry(f"action.{action}", role, data, at)

    def comment(self, minutes: int, role: str = "agent", public: bool = True) -> None:
        at = T0 + timedelta(minutes=minutes)
        met = self.ticket.comment(role, public, at)
        self._entry("comment", role, {"body": "…", "public": public, "met": met}, at)


NOW = T0 + timedelta(days=3)


def test_a_history_replays_to_the_ticket_that_recorded_it() -> None:
    r = Recorder(priority="medium", fields={"note": "kept"})
    r.act("wait_on_customer", 30)
    r.comment(40, role="customer")
    r.act("resume", 200, role="customer")
    r.act("set_priority", 210, priority="high")  # E7
    r.act("assess", 220, requires_quote=True)
    r.act("log_time", 230, minutes=20)
    r.act("assign", 240, agent="ana")  # late for first response: breached, then met
    r.act("resolve", 600)
    r.act("reopen", 700, role="customer")
    r.act("resolve", 800, resolution_cause="external")
    again = replay.replay(r.ticket, r.history, BASIS, NOW)
    assert replay.differences(r.ticket, again, NOW) == []
    assert again.ticket is not None
    assert again.ticket.fields == {"note": "kept", "requires_quote": True, "logged_minutes": 20}


def test_the_opening_is_read_back_from_the_first_priority_change_and_the_fields() -> None:
    r = Recorder(priority="medium", fields={"note": "kept"})
    r.act("set_priority", 10, priority="high")
    r.act("assess", 20, requires_quote=True)
    r.act("log_time", 30, minutes=15)
    intake = replay.opening(r.ticket, r.history, BASIS)
    assert (intake.priority, dict(intake.fields), intake.tier) == ("medium", {"note": "kept"}, None)


def test_entries_after_now_are_not_replayed() -> None:
    r = Recorder()
    r.act("assign", 30, agent="ana")
    early = replay.replay(r.ticket, r.history, BASIS, T0 + timedelta(minutes=10))
    assert early.ticket is not None
    assert early.ticket.assignee is None


def with_rules(**changes: Any) -> Policy:
    return Policy.model_validate({**AIVO.model_dump(mode="json"), **changes})


def test_a_draft_that_refuses_the_opening_or_an_entry_says_so() -> None:
    r = Recorder()
    r.act("assign", 30, agent="ana")
    # a draft without incidents would not have opened it
    no_incidents = with_rules(
        kinds={"query": AIVO.kinds["query"].model_dump(mode="json")},
        target_rules=[],
    )
    refused = replay.replay(r.ticket, r.history, SlaBasis.of(no_incidents, {}), NOW)
    assert refused.ticket is None
    assert refused.refused is not None
    assert "kind" in refused.refused
    # a draft that holds every ticket for approval refuses the assignment (DX2's flow)
    held = with_rules(status_rules=[{"id": "X", "when": {}, "status": "awaiting_approval"}])
    skipped = replay.replay(r.ticket, r.history, SlaBasis.of(held, {}), NOW)
    assert skipped.ticket is not None
    assert skipped.ticket.status == "awaiting_approval"
    assert list(skipped.skipped) == ["0001"]
    assert "assign is not allowed" in skipped.skipped["0001"]


def test_target_changes_name_each_target_whose_due_instant_or_state_differ() -> None:
    r = Recorder()
    r.act("assign", 30, agent="ana")
    longer = with_rules(
        target_rules=[
            {
                "id": "A2.high",
                "when": {"priorities": ["high"]},
                "targets": [
                    {"metric": "first_response", "clock": "business", "hours": 2},
                    {"metric": "resolution", "clock": "business", "hours": 9},
                    {"metric": "next_response", "clock": "24x7", "hours": 1},
                ],
            }
        ]
    )
    draft = replay.replay(r.ticket, r.history, SlaBasis.of(longer, {}), NOW).ticket
    changes = replay.target_changes("tkt_1", r.ticket, draft, T0 + timedelta(hours=1))
    assert [(c["metric"], c["current_due_at"], c["draft_due_at"]) for c in changes] == [
        ("resolution", "2026-11-02T20:00:00Z", "2026-11-02T21:00:00Z"),  # 17:00 -> 18:00 local
        ("next_response", None, "2026-11-02T13:00:00Z"),  # only the draft has it
    ]
