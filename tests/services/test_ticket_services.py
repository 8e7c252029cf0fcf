"""Ticket use cases on the in-memory repository: what each way in commits (history
entries, alerts, the retry on a lost race), with the rules cited by id."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.lifecycle import ActionRefused
from chalicelib.errors import Conflict, TicketNotFound
from chalicelib.services import checker, unit_of_work
from tests.services.conftest import ADMIN, AGENT, MON_10, action, comment, customer, open_ticket
from tests.services.fakes import InMemoryTickets


def test_opening_commits_its_entries_and_alerts_once(repo: InMemoryTickets) -> None:
    """K2: a prime customer's ticket raises `ticket.prime_opened` in the opening's
    commit, keyed once per ticket, and publishes it."""
    tid = open_ticket("keybe", kind="query")
    assert repo.types(tid) == ["created", "ticket.prime_opened"]
    assert [m["type"] for m in repo.published] == ["ticket.prime_opened"]
    assert repo.published[0]["id"] == f"{tid}:ticket.prime_opened"
    assert repo.writes == 1


def test_dx2_opening_records_its_quote_and_automatic_reply(repo: InMemoryTickets) -> None:
    tid = open_ticket("dx", kind="query", channel="email")
    assert repo.types(tid) == ["created", "charge.quoted", "comment"]
    (reply,) = repo.entries(tid, "comment")
    assert reply["actor"]["role"] == "system"
    assert reply["data"]["automatic"] is True


def test_an_action_commits_one_entry_with_what_it_decided(repo: InMemoryTickets) -> None:
    """E5: an assignment meets first response; A4: a resolution records its cause."""
    tid = open_ticket("acme")
    action(AGENT, tid, MON_10 + timedelta(minutes=5), "assign", agent="ana")
    action(AGENT, tid, MON_10 + timedelta(minutes=50), "resolve")
    assign, resolve = repo.entries(tid, "action.assign") + repo.entries(tid, "action.resolve")
    assert (assign["data"]["met"], assign["data"]["status"]) == (["first_response"], "open")
    assert assign["actor"] == {"role": "agent", "key_id": "key_agent", "partner_id": None}
    assert resolve["data"]["resolution_cause"] == "fixed"
    assert resolve["data"]["previous_status"] == "open"


def test_e7_set_priority_retargets_in_the_same_commit(repo: InMemoryTickets) -> None:
    tid = open_ticket("acme")
    view = action(AGENT, tid, MON_10 + timedelta(hours=1), "set_priority", priority="blocker")
    first = view["sla"]["targets"][0]
    assert (view["priority"], first["clock"], first["target_seconds"]) == ("blocker", "24x7", 3600)
    (entry,) = repo.entries(tid, "action.set_priority")
    assert (entry["data"]["priority"], entry["data"]["previous_priority"]) == ("blocker", "high")
    assert repo.tickets[tid].priority == "blocker"


def test_dx2_approval_raises_a_billing_order_once(repo: InMemoryTickets) -> None:
    tid = open_ticket("dx", kind="query", channel="email")
    action(customer("dx"), tid, MON_10 + timedelta(minutes=1), "approve_charge")
    assert repo.types(tid)[-3:] == ["action.approve_charge", "charge.approved", "billing.order"]
    assert [m["type"] for m in repo.published] == ["billing.order"]
    assert repo.published[0]["id"] == f"{tid}:billing.order"


def test_dx2_each_transfer_to_the_commercial_team_is_its_own_alert(repo: InMemoryTickets) -> None:
    """An alert that may recur is keyed on the change that raised it."""
    tid = open_ticket("dx", kind="query", channel="email")
    at = MON_10 + timedelta(minutes=1)
    action(AGENT, tid, at, "transfer_commercial")
    action(AGENT, tid, at + timedelta(minutes=1), "assign", agent="ana")
    action(AGENT, tid, at + timedelta(minutes=2), "transfer_commercial")
    ids = [m["id"] for m in repo.published if m["type"] == "commercial.review_required"]
    transfers = repo.entries(tid, "action.transfer_commercial")
    assert ids == [f"{tid}:commercial.review_required#{e['id']}" for e in transfers]


def test_dx4_a_late_reply_waives_the_fee_in_the_replys_commit(repo: InMemoryTickets) -> None:
    """DX4: a first reply after the first response's due instant waives the fee,
    with its `charge.waived` entry and alert, once."""
    tid = open_ticket("dx", kind="query", channel="email")
    action(customer("dx"), tid, MON_10 + timedelta(minutes=1), "approve_charge")
    action(ADMIN, tid, MON_10 + timedelta(minutes=2), "mark_paid")
    late = MON_10 + timedelta(days=5)
    comment(AGENT, tid, late, "Looking into it")
    comment(AGENT, tid, late + timedelta(minutes=1), "Still looking")
    (waived,) = repo.entries(tid, "charge.waived")
    assert waived["data"]["alert_id"] == f"{tid}:charge.waived"
    assert waived["data"]["charge"]["status"] == "waived"
    assert [m["type"] for m in repo.published].count("charge.waived") == 1
    charge = repo.tickets[tid].charge
    assert charge is not None
    assert charge.status == "waived"


def test_a_comment_answers_its_own_entry(repo: InMemoryTickets) -> None:
    tid = open_ticket("acme")
    answer = comment(AGENT, tid, MON_10 + timedelta(minutes=3), "On it")
    (entry,) = repo.entries(tid, "comment")
    assert (answer["id"], answer["at"]) == (entry["id"], entry["at"])
    assert entry["data"] == {"body": "On it", "public": True, "met": [], "author_role": "agent"}


def test_a_lost_race_is_read_again_and_applied_once(
    repo: InMemoryTickets, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(unit_of_work, "BACKOFF_SECONDS", 0.0)
    tid = open_ticket("acme")
    repo.races = 2
    action(AGENT, tid, MON_10 + timedelta(minutes=5), "assign", agent="ana")
    assert repo.types(tid) == ["created", "action.assign"]


def test_a_race_lost_every_time_is_a_conflict_and_changes_nothing(
    repo: InMemoryTickets, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(unit_of_work, "BACKOFF_SECONDS", 0.0)
    tid = open_ticket("acme")
    repo.races = unit_of_work.MAX_ATTEMPTS
    with pytest.raises(Conflict):
        action(AGENT, tid, MON_10 + timedelta(minutes=5), "assign", agent="ana")
    assert repo.types(tid) == ["created"]


def test_an_opening_that_met_another_write_on_a_counter_is_sent_again(
    repo: InMemoryTickets, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Openings for one tenant and priority share a report counter item: one that
    DynamoDB cancelled only for that (no condition failed) is written as it was."""
    monkeypatch.setattr(unit_of_work, "BACKOFF_SECONDS", 0.0)
    repo.collisions = 2
    tid = open_ticket("acme")
    assert repo.types(tid) == ["created"]
    assert repo.writes == 1
    (counted,) = repo.counts
    assert list(counted.values()) == [{"tickets": 1}]


def test_an_opening_whose_condition_failed_is_not_sent_again(repo: InMemoryTickets) -> None:
    repo.races = 1  # e.g. the id exists, or a partner's link was written meanwhile
    with pytest.raises(Conflict):
        open_ticket("acme")
    assert (repo.races, repo.writes) == (0, 0)


def test_a_change_retried_after_a_lost_race_counts_once(
    repo: InMemoryTickets, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(unit_of_work, "BACKOFF_SECONDS", 0.0)
    tid = open_ticket("acme")
    action(AGENT, tid, MON_10 + timedelta(minutes=5), "assign", agent="ana")
    repo.races = 2
    action(AGENT, tid, MON_10 + timedelta(minutes=50), "resolve")
    assert [list(moved.values()) for moved in repo.counts] == [[{"tickets": 1}], [], [{"met": 1}]]


def test_a_refused_action_records_nothing(repo: InMemoryTickets) -> None:
    tid = open_ticket("acme")
    with pytest.raises(ActionRefused):
        action(AGENT, tid, MON_10 + timedelta(minutes=5), "resolve")  # nobody took it
    assert repo.types(tid) == ["created"]


def test_another_tenants_ticket_is_not_found(repo: InMemoryTickets) -> None:
    tid = open_ticket("acme")
    with pytest.raises(TicketNotFound):
        comment(customer("dx"), tid, MON_10, "Hello")


def test_e8_the_checker_raises_each_threshold_once(repo: InMemoryTickets) -> None:
    """E8: a due ticket's crossed thresholds become alerts (lowest first) in one
    commit; a second run finds nothing left."""
    tid = open_ticket("acme")
    at = MON_10 + timedelta(hours=3)  # past 75 % and 100 % of the 2 h first response
    stored = repo.get(tid)
    assert stored is not None
    alerts = checker.evaluate(stored, at, repo.lookups())
    types = [a.message["type"] for a in alerts]
    assert types[:2] == ["sla.warning", "sla.breached"]
    assert repo.types(tid)[1:] == types
    again = repo.get(tid)
    assert again is not None
    assert checker.evaluate(again, at, repo.lookups()) == []
    assert repo.published == []  # the checker publishes in chunks itself


def test_dx4_nobody_took_it_in_time_the_checker_waives_the_fee(repo: InMemoryTickets) -> None:
    tid = open_ticket("dx", kind="query", channel="email")
    action(customer("dx"), tid, MON_10 + timedelta(minutes=1), "approve_charge")
    action(ADMIN, tid, MON_10 + timedelta(minutes=2), "mark_paid")
    stored = repo.get(tid)
    assert stored is not None
    due = stored.target("first_response")
    assert due is not None
    alerts = checker.evaluate(stored, MON_10 + timedelta(days=5), repo.lookups())
    assert "charge.waived" in [a.message["type"] for a in alerts]
    assert repo.entries(tid, "charge.waived")[0]["actor"]["role"] == "system"
