"""The session's named queries (opsweek.store.meetings), on the demo data with the clock frozen."""

from __future__ import annotations

import json
import subprocess
import sys

from opsweek.store import Store, changes, meetings, read


def test_the_last_session_of_a_week_and_what_was_recorded_in_it(demo_db):
    with Store.open(demo_db) as store:
        team = read.team(store)
        assert meetings.last_of_week(store, "2026-W48") is None  # this week has not started
        first = changes.start_meeting(store, team, facilitator="ivan", actor="ivan")
        assert meetings.last_of_week(store, "2026-W48") == (first, "2026-W48", None)
        assert meetings.entry_count(store, first) == 0
        changes.record_entry(store, team, "decision", "Initech gets a quote", meeting_id=first, actor="ivan")
        changes.record_entry(store, team, "action", "Send the quote", meeting_id=first, owner="carla",
                             actor="ivan")
        assert meetings.entry_count(store, first) == 2
        changes.close_meeting(store, first, actor="ivan")
        closed = meetings.last_of_week(store, "2026-W48")
        assert closed.id == first and closed.closed_at == "2026-11-24T10:00:00Z"
        second = changes.start_meeting(store, team, facilitator="ivan", actor="ivan")
        assert meetings.last_of_week(store, "2026-W48").id == second  # the latest one
        assert meetings.weeks(store)[second] == "2026-W48"
        assert {m.id: m.week for m in read.meetings(store)} == meetings.weeks(store)


def test_item_titles_by_id(demo_db):
    # read.item_titles passes the ids as one JSON array: no limit on bound values
    with Store.open(demo_db) as store:
        assert read.item_titles(store, []) == {}
        titles = read.item_titles(store, [13, 1, 13, 999_999])  # repeats and unknown ids are fine
        assert set(titles) == {1, 13}
        assert titles[13] == read.item(store, 13).title and titles[1] == read.item(store, 1).title
        every = [item.id for item in read.items(store)]
        assert len(read.item_titles(store, every)) == len(every)


def test_the_session_queries_need_only_the_standard_library():
    code = ("import json, sys\nimport opsweek.store.meetings\n"
            "print(json.dumps([m for m in ('textual', 'pydantic', 'sqlite_utils', 'rich') if m in sys.modules]))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
