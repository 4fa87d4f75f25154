"""The log is found by the kind of change through ``events_action``, which holds the action
alone (schema m014_events_action; it was action and time): every query that looks edits up
by their action still walks an index, never the whole log, and finds the same edits as a
walk of the whole log would."""

from __future__ import annotations

import re

from opsweek import trends
from opsweek.store import Store, changes, history, read


def _statements(store: Store, calls) -> list[str]:
    """The SELECTs on the log that ``calls`` run, as SQLite ran them (values bound)."""
    seen: list[str] = []
    store.conn.set_trace_callback(seen.append)
    try:
        for call in calls:
            call()
    finally:
        store.conn.set_trace_callback(None)
    return [sql for sql in seen if sql.lstrip().upper().startswith("SELECT") and "FROM events" in sql
            and re.search(r"\baction\b", sql)]


def _plan(store: Store, sql: str) -> list[str]:
    return [row[3] for row in store.conn.execute("EXPLAIN QUERY PLAN " + sql)]


def test_the_log_read_by_kind_of_change_walks_an_index_and_finds_every_such_edit(demo_db):
    with Store.open(demo_db) as store:
        team = read.team(store)
        # a few edits of the kinds the trends read: a block, an unblock, an action done
        item = store.scalar("SELECT min(id) FROM items WHERE status = 'open'")
        changes.block_item(store, item, "waiting for legal", actor="ivan")
        changes.unblock_item(store, item, actor="ivan")
        meeting = changes.start_meeting(store, team, facilitator="ivan", actor="ivan")
        action = changes.record_entry(store, team, "action", "Send the quote", meeting_id=meeting, owner="carla",
                                      actor="ivan")
        changes.set_action_status(store, action, "done", meeting_id=meeting, actor="carla")
        assert [(index, sql) for index, sql in store.query(
            "SELECT name, sql FROM sqlite_master WHERE name = 'events_action'")] == \
            [("events_action", "CREATE INDEX events_action ON events(action)")]
        statements = _statements(store, [
            lambda: trends._log(store),
            lambda: history.latest_at(store, "action.done", "entries"),
            lambda: history.earlier_values(store, "action.carry", "entries", "due", "2026-01-01", "2026-12-31"),
            lambda: history.meeting_edits(store, meeting, ("entry.add", "action.done")),
        ])
        assert len(statements) == 4
        for sql in statements:
            plan = _plan(store, sql)
            # each finds its rows by an index of the log, none reads the whole log
            assert any(step.startswith("SEARCH events USING INDEX") for step in plan), (sql, plan)
            assert not any(step.startswith("SCAN events") for step in plan), (sql, plan)
            # and the rows are those a walk of the whole log finds
            whole = sql.replace("FROM events", "FROM events NOT INDEXED", 1)
            assert sorted(map(tuple, store.query(sql))) == sorted(map(tuple, store.query(whole)))
        # the trends' blocks and unblocks are found by their action, as before
        assert "SEARCH events USING INDEX events_action (action=?)" in _plan(store, statements[0])
        assert {(e.action, e.entity) for e in trends._log(store)} >= {("item.block", "items"), ("item.unblock", "items")}
