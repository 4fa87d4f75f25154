"""Named queries of the weekly session: what the session screen and its steps read.

Standard library only, like the rest of the read side: each function takes a
:class:`~opsweek.store.Store` and returns plain values or light records, so no screen
writes SQL of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from opsweek.store.db import Store

class MeetingEnd(NamedTuple):
    """A session of a week, as far as deciding whether to start another one needs."""

    id: int
    week: str
    closed_at: str | None  # a stamp as stored (clock.stamp), None while it is open


def last_of_week(store: "Store", week: str) -> MeetingEnd | None:
    """The most recently started session of ``week`` (``2026-W48``), open or closed; None if none."""
    row = store.one("SELECT id, week, closed_at FROM meetings WHERE week = ? ORDER BY id DESC LIMIT 1", (week,))
    return None if row is None else MeetingEnd(row["id"], row["week"], row["closed_at"])


def entry_count(store: "Store", meeting_id: int) -> int:
    """How many decisions, actions and notes were recorded in the session."""
    return store.scalar("SELECT count(*) FROM entries WHERE meeting_id = ?", (meeting_id,))


def weeks(store: "Store") -> dict[int, str]:
    """Every session's week by its id (``{3: '2026-W47'}``): where an action came from."""
    return {row["id"]: row["week"] for row in store.query("SELECT id, week FROM meetings")}
