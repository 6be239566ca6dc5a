"""Measure how far EXPLAIN ANALYZE moved the sequences a statement draws from.

Sequences are not transactional: values drawn by ``nextval`` (directly, through a ``serial``
default or an identity column) stay drawn after the rollback, so the application's next ids
skip them. That is harmless — PostgreSQL never promised gap-free sequences — but a user should
know, so `planalyzer.live.explain` reads each sequence before and after and reports the values
consumed. Reading goes through ``pg_sequence_last_value(oid)`` guarded by
``has_sequence_privilege``, so no identifier is composed and a sequence the user may not read is
reported as unreadable instead of failing the EXPLAIN.

Example:
    >>> before = SequenceState(1, "public.t_id_seq", last_value=None, start=1, increment=1)
    >>> after = SequenceState(1, "public.t_id_seq", last_value=3, start=1, increment=1)
    >>> sequence_warnings([before], [after])[0]
    'EXPLAIN ANALYZE advanced sequence public.t_id_seq by 3 values (last value: none yet -> 3); \
the rollback does not return them, so the next values skip them (values other sessions drew \
meanwhile are counted too)'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from planalyzer.live.side_effects import SequenceRef

__all__ = ["SequenceState", "read_sequences", "sequence_warnings"]

_READ = """
SELECT s.seqrelid::int8, s.seqstart, s.seqincrement,
       pg_catalog.has_sequence_privilege(s.seqrelid, 'SELECT,USAGE'),
       CASE WHEN pg_catalog.has_sequence_privilege(s.seqrelid, 'SELECT,USAGE')
            THEN pg_catalog.pg_sequence_last_value(s.seqrelid) END
FROM pg_catalog.pg_sequence s
WHERE s.seqrelid = ANY(%s::oid[])
"""


@dataclass(frozen=True)
class SequenceState:
    """A sequence's position at one moment.

    Attributes:
        oid: the sequence's oid.
        name: its qualified name.
        last_value: the last value drawn; None when none was drawn yet (or unreadable).
        start: its start value.
        increment: its increment (negative for descending sequences).
        readable: False when the user lacks the privilege to read it.
    """

    oid: int
    name: str
    last_value: int | None
    start: int
    increment: int
    readable: bool = True

    def position(self) -> int:
        """The last value drawn, counting "none yet" as one increment before the start."""
        return self.last_value if self.last_value is not None else self.start - self.increment


def read_sequences(
    conn: psycopg.Connection[Any], sequences: Sequence[SequenceRef]
) -> list[SequenceState]:
    """Each sequence's last value now, in the order given (missing ones left out)."""
    if not sequences:
        return []
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute(_READ, [[ref.oid for ref in sequences]], prepare=False)
        rows = {int(row[0]): row for row in cur.fetchall()}
    states = []
    for ref in sequences:
        row = rows.get(ref.oid)
        if row is not None:
            _, start, increment, readable, last = row
            value = int(last) if last is not None else None
            states.append(SequenceState(ref.oid, ref.name, value, start, increment, readable))
    return states


def sequence_warnings(before: Sequence[SequenceState], after: Sequence[SequenceState]) -> list[str]:
    """One sentence per sequence that moved (or could not be read) between the two readings."""
    now = {state.oid: state for state in after}
    lines = []
    for old in before:
        new = now.get(old.oid)
        if new is None:
            continue
        if not (old.readable and new.readable):
            lines.append(
                f"EXPLAIN ANALYZE may have advanced sequence {old.name} (no privilege to read "
                "it); the rollback does not return values drawn from a sequence"
            )
            continue
        if new.last_value == old.last_value:
            continue
        drawn = (new.position() - old.position()) // old.increment
        was = "none yet" if old.last_value is None else str(old.last_value)
        if drawn > 0:
            lines.append(
                f"EXPLAIN ANALYZE advanced sequence {old.name} by {drawn} value"
                f"{'' if drawn == 1 else 's'} (last value: {was} -> {new.last_value}); the "
                "rollback does not return them, so the next values skip them (values other "
                "sessions drew meanwhile are counted too)"
            )
        else:  # it cycled, or another session reset it meanwhile
            lines.append(
                f"sequence {old.name} changed while EXPLAIN ANALYZE ran (last value: {was} -> "
                f"{new.last_value}); the rollback does not restore sequences"
            )
    return lines
