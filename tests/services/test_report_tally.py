"""The SLA report's rows from day counters (services.reports.Tally): a counter item
left at zero (its tickets moved to another priority) adds no row, as reading every
ticket would not; the policy's own priorities keep their rows of zeros."""

from __future__ import annotations

from chalicelib.services.reports import Tally


def test_a_counter_of_nothing_adds_no_row_and_the_policy_s_priorities_keep_theirs() -> None:
    tally = Tally()
    tally.expect(["P1", "P2"])
    tally.count("urgent", tickets=0, met=0, breached=0)  # moved away by set_priority
    tally.count("P2", tickets=2, met=1, breached=1)
    assert [(i["priority"], i["tickets"]) for i in tally.items()] == [("P1", 0), ("P2", 2)]
