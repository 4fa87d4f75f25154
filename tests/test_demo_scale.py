"""The scale demo (``opsweek demo --scale N``, the data every benchmark uses) stays the same
team however its build is sped up: the same rows, the same history, the same week figures."""

from __future__ import annotations

import hashlib
import random
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from opsweek import clock, demo

TABLES = ("people", "away", "workflows", "stages", "items", "handoffs", "meetings", "attendance", "step_times",
          "entries", "reviews", "events", "week_figures", "settings")

# Each table's rows in order, hashed: the digests of the demo as main built it at b1fb010
# (2026-12-02), before its rows' times were stamped in Python and 50 rows went in per statement.
PINNED = {
    (12_000, "2026-11-24T10:00:00Z"): "f75bc3c8d1accf22928238b92e5cca43297718b5e179ef6228923aa06c3b6307",
    (3_000, "2026-03-28T23:30:05Z"): "e44f95b94f4f0a3614ff04f8b667ce78b8cc9a12a532ba0dc17adab566eb3898",
}


def _digest(path) -> str:
    conn = sqlite3.connect(path)
    digest = hashlib.sha256()
    for table in TABLES:
        for row in conn.execute(f"SELECT * FROM {table} ORDER BY rowid"):
            digest.update(repr(tuple(row)).encode())
    conn.close()
    return digest.hexdigest()


@pytest.mark.parametrize("scale, when", list(PINNED), ids=["12,000 items on a Tuesday", "3,000 on a Saturday night"])
def test_a_team_built_at_scale_is_the_same_demo_as_before(tmp_path, monkeypatch, scale, when):
    # a benchmark run today measures the same database as one run before the build got faster
    monkeypatch.setenv("OPSWEEK_NOW", when)
    now = datetime.fromisoformat(when.replace("Z", "+00:00"))
    demo.build(tmp_path / "scaled.db", scale=scale, now=now).close()
    assert _digest(tmp_path / "scaled.db") == PINNED[(scale, when)]


def test_the_demo_stamps_times_as_the_clock_and_sqlite_do():
    # the generated rows' times are written by the demo's own stamper; each is the text the
    # clock writes for that second, and what SQLite's strftime wrote for them before
    stamp = demo._stamper()
    conn = sqlite3.connect(":memory:")
    rng = random.Random(3)
    moments = [datetime(2026, 11, 24, tzinfo=timezone.utc).timestamp() + rng.uniform(-80, 10) * 86400
               for _ in range(2000)]
    for day in (datetime(2024, 2, 29, tzinfo=timezone.utc), datetime(2025, 12, 31, 23, 59, 59, tzinfo=timezone.utc),
                datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(1970, 1, 1, tzinfo=timezone.utc)):
        moments += [day.timestamp(), day.timestamp() + 0.999, day.timestamp() - 0.5 + 1]
    for seconds in moments:
        expected = clock.stamp(datetime.fromtimestamp(int(seconds), timezone.utc))
        assert stamp(seconds) == expected
        assert conn.execute("SELECT strftime('%Y-%m-%dT%H:%M:%SZ', CAST(? AS INTEGER), 'unixepoch')",
                            (seconds,)).fetchone()[0] == expected


@pytest.mark.parametrize("rows", [1, 49, 50, 51, 120])
def test_many_rows_to_a_statement_insert_each_row_once_as_given(rows):
    # the demo's rows go in 50 to a statement, the rest in one statement of their own
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, twice TEXT)")
    values = []
    for k in range(1, rows + 1):
        values.extend((k, f"row {k}"))
    demo._insert_flat(conn, "t", ("id", "name", "twice"), ("(?1, ?2, ?2 || ?2)", 2), values)
    assert conn.execute("SELECT * FROM t ORDER BY id").fetchall() == \
        [(k, f"row {k}", f"row {k}row {k}") for k in range(1, rows + 1)]


def test_the_scale_demo_has_its_items_events_and_meetings(tmp_path, frozen_now):
    # every generated row has its event at the time it appeared; the past sessions are there
    store = demo.build(tmp_path / "scaled.db", scale=2500, now=frozen_now)
    try:
        assert store.scalar("SELECT count(*) FROM items") == 2500
        assert store.scalar("SELECT count(*) FROM events WHERE entity = 'items'") == 2500
        assert store.scalar("SELECT count(*) FROM events e JOIN items i ON e.entity = 'items'"
                            " AND e.entity_id = CAST(i.id AS TEXT) WHERE e.at != i.opened_at") == 0
        assert store.scalar("SELECT count(*) FROM events e JOIN handoffs h ON e.entity = 'handoffs'"
                            " AND e.entity_id = CAST(h.id AS TEXT) WHERE e.at != h.sent_at") == 0
        assert store.scalar("SELECT count(*) FROM meetings WHERE closed_at IS NOT NULL") == 8
        assert store.scalar("SELECT min(opened_at) FROM items") >= clock.stamp(frozen_now - timedelta(days=70))
    finally:
        store.close()
