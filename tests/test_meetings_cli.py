"""Sessions are named and listed, and actions can be closed between sessions (issue 10).

The demo holds last week's closed session (2026-W47, run by ivan). A team that meets
twice in one week gets ``opsweek-2026-W47.md`` and ``opsweek-2026-W47-2.md``.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from opsweek import clock
from opsweek.cli.main import main
from opsweek.store import Store, changes, read


def run(db: Path, capsys, *argv: str, me: str = "ivan") -> tuple[int, str, str]:
    code = main(["--db", str(db), "--me", me, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def second_session(db: Path, frozen_now) -> int:
    """A second, closed session in last week's ISO week."""
    with Store.open(db) as store:
        first = read.latest_meeting(store)
        started = first.started_at + timedelta(hours=3)
        meeting_id = changes.start_meeting(store, read.team(store), week=first.week, facilitator="carla",
                                           actor="carla", now=started)
        changes.close_meeting(store, meeting_id, actor="carla", now=started + timedelta(minutes=20))
        return meeting_id


def test_meetings_lists_every_session(demo_db, capsys, frozen_now):
    second = second_session(demo_db, frozen_now)
    code, out, _ = run(demo_db, capsys, "meetings")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "WEEK", "FACILITATOR", "STARTED", "CLOSED", "RATING"]
    assert lines[1].split()[:3] == ["1", "2026-W47", "ivan"] and lines[1].split()[-1] == "7"
    assert lines[2].split()[:4] == [str(second), "2026-W47", "#2", "carla"]
    code, out, _ = run(demo_db, capsys, "meetings", "--json")
    data = json.loads(out)
    assert data["version"] == 1
    assert [(m["id"], m["week"], m["session"], m["facilitator"]) for m in data["meetings"]] == [
        (1, "2026-W47", 1, "ivan"), (second, "2026-W47", 2, "carla")]


def test_two_sessions_in_a_week_get_their_own_notes_files(demo_db, capsys, frozen_now, tmp_path):
    second = second_session(demo_db, frozen_now)
    code, out, _ = run(demo_db, capsys, "export", "1", "-o", str(tmp_path))
    assert code == 0 and (tmp_path / "opsweek-2026-W47.md").exists()
    code, out, _ = run(demo_db, capsys, "export", str(second), "-o", str(tmp_path))
    assert code == 0 and (tmp_path / "opsweek-2026-W47-2.md").exists()
    first_notes = (tmp_path / "opsweek-2026-W47.md").read_text()
    assert "ivan" in first_notes and first_notes != (tmp_path / "opsweek-2026-W47-2.md").read_text()


def test_export_of_a_week_means_its_latest_session_and_says_so(demo_db, capsys, frozen_now):
    second = second_session(demo_db, frozen_now)
    code, out, err = run(demo_db, capsys, "export", "2026-W47", "--format", "json")
    assert code == 0 and json.loads(out)["meeting"]["id"] == second
    assert err.strip() == (f"2026-W47 had 2 sessions: this is the latest (meeting {second}); the others: 1"
                           " (export one by its number)")


def test_an_unknown_meeting_lists_what_exists(demo_db, capsys):
    code, out, err = run(demo_db, capsys, "export", "12")
    assert code == 2 and out == ""
    assert err.strip() == "opsweek: unknown meeting 12 (meetings: 1 (2026-W47); see 'opsweek meetings')"


def test_an_action_is_finished_dropped_or_rescheduled_between_sessions(demo_db, capsys, frozen_now):
    with Store.open(demo_db) as store:
        actions = [e for e in read.entries(store, "kind = 'action' AND status = 'open'")]
    first, second = actions[0], actions[1]
    code, out, _ = run(demo_db, capsys, "action", str(first.id), "done", me=first.owner)
    assert code == 0 and out.startswith(f"action {first.id} done: ")
    code, out, _ = run(demo_db, capsys, "action", str(second.id), "due", "fri", "--reason", "waiting on legal")
    assert code == 0 and "now due Fri 27 Nov" in out
    with Store.open(demo_db) as store:
        assert read.entry(store, first.id).status == "done"
        assert read.entry(store, second.id).due.isoformat() == "2026-11-27"
        last = store.one("SELECT action, reason, meeting_id FROM events ORDER BY id DESC LIMIT 1")
        assert (last["action"], last["reason"], last["meeting_id"]) == ("action.due", "waiting on legal", None)
    before = demo_db.read_bytes()
    for argv, expected in [
        ((str(first.id), "done"), f"action {first.id} is already done"),
        ((str(first.id), "drop", "--reason", "x"), f"action {first.id} is already done"),
        ((str(second.id), "due"), "action ID due needs the new date"),
        ((str(second.id), "drop", "fri"), "takes no date"),
        ((str(second.id), "due", "someday"), "is not a date"),
        (("99", "drop"), "unknown action 99"),
    ]:
        code, out, err = run(demo_db, capsys, "action", *argv)
        assert code == 2 and out == "" and err.count("\n") == 1 and expected in err, (argv, err)
    assert demo_db.read_bytes() == before


def test_the_demo_is_consistent(demo_db, frozen_now):
    with Store.open(demo_db) as store:
        pending = read.pending_handoffs(store)
        items = {it.id: it for it in read.items(store)}
        assert all(h.from_owner != h.to_owner for h in pending)
        assert all(abs((h.due_at - frozen_now).total_seconds()) > 60 for h in pending)
        assert read.attendance(store, 1) == {h: h != "hana" for h in read.attendance(store, 1)}
        assert all(items[h.item_id].owner != h.to_owner for h in pending)
    assert clock.iso_week(frozen_now) == "2026-W48"
