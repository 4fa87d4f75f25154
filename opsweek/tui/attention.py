"""Reading what the home screen shows (``read.attention``), in threads — no Textual here.

At 100,000 items this is a few hundred milliseconds of SQL, so it is read in threads: the
health table and the rest at the same time on two connections, and at launch already
while Textual is still being imported (:func:`prefetch`), so the home screen is filled
about as soon as it is painted.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path

from opsweek import clock
from opsweek.errors import OpsweekError
from opsweek.rules.attention import Attention
from opsweek.store import Store, read

__all__ = ["Attention", "prefetch", "read_attention", "take_prefetched"]


def read_attention(store: Store, team: read.Team, now: datetime, today: date,
                   path: Path | None = None) -> Attention:
    """Everything the home screen shows (``read.attention``); the health table and the
    rest are read at the same time, the rest on a connection of its own when ``path`` is
    given."""
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
        return read.attention(own or store, team, now, today, with_health=False)
    finally:
        if own is not None:
            own.close()


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
