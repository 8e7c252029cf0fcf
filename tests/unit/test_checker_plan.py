"""The breach checker's fan-out plan (issue 14): every due-index shard and every
outbox shard belongs to exactly one worker task."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.services.checker import Task, plan
from chalicelib.store.outbox import OUTBOX_SHARDS

AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@given(st.integers(1, 64).flatmap(lambda s: st.tuples(st.just(s), st.integers(1, s))))
def test_every_shard_in_exactly_one_task(shards_workers: tuple[int, int]) -> None:
    shards, workers = shards_workers
    tasks = plan(AT, shards, workers)
    assert len(tasks) == workers
    assert sorted(s for t in tasks for s in t.shards) == list(range(shards))
    assert sorted(s for t in tasks for s in t.outbox_shards) == list(range(OUTBOX_SHARDS))
    assert all(t.shards for t in tasks)  # no idle worker: workers <= shards
    assert max(len(t.shards) for t in tasks) - min(len(t.shards) for t in tasks) <= 1


def test_a_task_travels_as_json() -> None:
    (task,) = plan(AT, 8, 1)
    assert Task.from_json(task.to_json()) == task
    assert task.to_json() == {
        "at": "2026-03-02T12:00:00Z",
        "shards": [0, 1, 2, 3, 4, 5, 6, 7],
        "outbox": [0, 1, 2, 3],
    }
