"""The SLA rules tickets share: what a ticket's targets were planned under (its
policy and version, the tenant's terms version, the calendar and its version, how
first response is met, and each target's metric, clock, length and ladder), stored
once per distinct content as its own item (pk `SLARULES#<ref>`, sk `SLARULES`,
attribute `rules`), not in every ticket. A ticket's `sla` keeps the ref and each
target's live state only: ~400 bytes less per ticket, so a typical ticket item
fits one write unit (1 KB) where it took two, on every change of it
(docs/performance.md, write units).

The ref is a hash of the content, so an item never changes: a process keeps every
rules document it has read or written (a handful per policy version and tenant
terms), and writes each item once per DynamoDB client and table (none when it
read it there through that client), before the first ticket transaction that refers to it
(an unconditional put of the same content under the same key: idempotent,
whoever else wrote it first). A ticket written before this
change carries its rules in its own `sla`, which reads the same.
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from collections.abc import Iterable
from typing import Any

from chalicelib.store.raw import dynamo

PREFIX = "SLARULES#"
SORT_KEY = "SLARULES"
BATCH_GET_KEYS = 100

_docs: dict[str, dict[str, Any]] = {}  # ref -> rules document (plain values)
# per DynamoDB client, the (table, ref) it wrote or read: stored there
_written: weakref.WeakKeyDictionary[Any, set[tuple[str, str]]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def ref_of(doc: dict[str, Any]) -> str:
    """The rules' ref: 16 hex digits of a hash of their canonical JSON (64 bits:
    no two of the few thousand rule sets a stack ever has meet by chance). The
    document is remembered under it."""
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    ref = hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
    if ref not in _docs:
        _docs[ref] = doc
    return ref


def key(ref: str) -> dict[str, Any]:
    return {"pk": {"S": PREFIX + ref}, "sk": {"S": SORT_KEY}}


def ensure_stored(client: Any, table: str, ref: str) -> None:
    """Write the rules item `ref` (the document `ref_of` remembered) unless this
    client already did in that table: one PutItem per process, table and rules,
    before the ticket transaction that refers to it (an orphan left by a failed
    transaction is harmless: the same content whoever refers to it)."""
    with _lock:
        done = _written.setdefault(client, set())
        if (table, ref) in done:
            return
    client.put_item(TableName=table, Item={**key(ref), "rules": dynamo(_docs[ref])})
    with _lock:
        done.add((table, ref))


def missing(refs: Iterable[str]) -> list[str]:
    """The refs of these whose document this process has not read or written yet."""
    return [ref for ref in dict.fromkeys(refs) if ref not in _docs]


def remember(ref: str, doc: dict[str, Any], *, stored_by: Any, table: str) -> None:
    """Rules read from `table` through `stored_by` (a client): known, and known to
    be there, so that client does not write them there again."""
    _docs[ref] = doc
    with _lock:
        _written.setdefault(stored_by, set()).add((table, ref))


def known(ref: str) -> dict[str, Any] | None:
    return _docs.get(ref)
