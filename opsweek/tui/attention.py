"""What the home screen shows, read from the store — no Textual here.

At 100,000 items this is a few hundred milliseconds of SQL, so it is read in threads: the
health table and the rest at the same time on two connections, and at launch already
while Textual is still being imported (:func:`prefetch`), so the home screen is filled
about as soon as it is painted.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from opsweek import clock, rules
from opsweek.errors import OpsweekError
from opsweek.store import Store, read, recurring
from opsweek.tui.gap_list import gaps_count


@dataclass
class Attention:
    """Workflow health and what needs attention."""

    health: list = field(default_factory=list)
    reviews: dict = field(default_factory=dict)
    gaps: int = 0
    escalate: int = 0
    actions_open: int = 0
    actions_late: int = 0
    away: list[str] = field(default_factory=list)
    meeting: object = None
    closed_this_week: object = None
    next_session: datetime | None = None   # by the ``meeting`` setting
    unclosed: object = None                # a session of an earlier week that was never closed

    @property
    def stuck(self) -> int:
        return sum(h.stuck for h in self.health)

    @property
    def overdue(self) -> int:
        return sum(h.overdue for h in self.health)


def read_attention(store: Store, team: read.Team, now: datetime, today: date,
                   path: Path | None = None) -> Attention:
    """Everything the home screen shows; the health table and the rest are read at the
    same time, the rest on a connection of its own when ``path`` is given."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        rest = pool.submit(_read_rest, store, team, now, today, path)
        health = read.health(store, team, now, today)
        attention = rest.result()
    attention.health = health
    return attention


def _read_rest(store: Store, team: read.Team, now: datetime, today: date, path: Path | None) -> Attention:
    own = None
    if path is not None and Path(path).exists():
        try:
            own = Store.open(path, migrate=False)
        except OpsweekError:
            own = None
    try:
        return _attention(own or store, team, now, today)
    finally:
        if own is not None:
            own.close()


def _attention(store: Store, team: read.Team, now: datetime, today: date) -> Attention:
    week = clock.iso_week(now)
    bounds = clock.week_bounds(week)
    away = []
    for handle, person in team.people.items():
        if person.active and rules.is_away(person, today, today):
            cover = rules.cover_for(handle, team.people, today, today)
            away.append(f"{handle} ({cover} covers)" if cover else f"{handle} (no cover)")
    closed = store.one("SELECT * FROM meetings WHERE week = ? AND closed_at IS NOT NULL ORDER BY id DESC LIMIT 1",
                       (week,))
    return Attention(
        reviews=read.last_reviews(store),
        gaps=gaps_count(store, team, bounds),
        escalate=read.escalation_due_count(store, team, now),
        actions_open=store.scalar("SELECT count(*) FROM entries WHERE kind = 'action' AND status = 'open'"),
        actions_late=store.scalar("SELECT count(*) FROM entries WHERE kind = 'action' AND status = 'open'"
                                  " AND due < ?", (today.isoformat(),)),
        away=away,
        meeting=read.open_meeting(store, week),
        closed_this_week=read.meeting_from(closed) if closed else None,
        next_session=recurring.next_session(store, now),
        unclosed=recurring.unclosed_earlier_session(store, now),
    )


# --- read at launch, before Textual is imported --------------------------------------

_prefetched: dict[Path, Future] = {}


def prefetch(path: str | Path) -> None:
    """Start reading the home screen's numbers for the database at ``path`` now, in a
    thread with its own connection; the home screen takes them with :func:`take_prefetched`."""
    path = Path(path)
    future: Future = Future()
    _prefetched[path] = future

    def run() -> None:
        try:
            with Store.open(path, migrate=False) as store:
                now = clock.now()
                today = now.astimezone(clock.local_tz()).date()
                future.set_result(read_attention(store, read.team(store), now, today, path))
        except BaseException as error:  # the home screen then reads again itself
            future.set_exception(error)

    threading.Thread(target=run, name="opsweek-home-prefetch", daemon=True).start()


def take_prefetched(path: str | Path) -> Future | None:
    """The read :func:`prefetch` started for ``path`` (once), or None."""
    return _prefetched.pop(Path(path), None)
