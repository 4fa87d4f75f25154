"""Opening a session pre-fills its attendance (people away are absent), each row with its
own event in the log, as one change: written in one statement for the whole team, the rows
and the log read as they did when each row was written on its own."""

from __future__ import annotations

import json

from opsweek.store import Store, changes, history, read


def test_a_new_session_has_everyone_on_its_attendance_each_with_an_event(demo_db):
    with Store.open(demo_db) as store:
        team = read.team(store)
        before = store.scalar("SELECT max(id) FROM events")
        meeting_id = changes.start_meeting(store, team, facilitator="ivan", actor="ivan")
        rows = [dict(r) for r in store.query("SELECT * FROM attendance WHERE meeting_id = ? ORDER BY id",
                                             (meeting_id,))]
        active = [handle for handle, person in team.people.items() if person.active]
        # everyone active, in the team's order, present unless away this week
        assert [r["handle"] for r in rows] == active
        assert read.attendance(store, meeting_id) == {r["handle"]: bool(r["present"]) for r in rows}
        events = store.query("SELECT * FROM events WHERE id > ? ORDER BY id", (before,))
        # the session's row first, then one event per attendance row, all of one change
        assert [(e["entity"], e["action"]) for e in events] == \
            [("meetings", "meeting.start")] + [("attendance", "meeting.start")] * len(rows)
        assert len({e["change_id"] for e in events}) == 1
        meeting_event = events[0]
        for event, row in zip(events[1:], rows):
            # each event holds its row as stored, written as every single-row insert writes it
            assert event["entity_id"] == str(row["id"])
            assert event["before"] is None
            assert event["after"] == json.dumps(row, sort_keys=True, default=str)
            assert (event["at"], event["actor"], event["meeting_id"]) == \
                (meeting_event["at"], "ivan", meeting_id)
        # and the log tells the opening as one change with every row it wrote
        assert history.edit_count(store, meeting_event["change_id"]) == 1 + len(rows)
