"""``opsweek ics``: an RFC 5545 calendar that calendar apps can subscribe to and update
(issue 13): it parses back, every event is complete, UIDs survive runs and changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from icalendar import Calendar

from opsweek.cli.main import main


@pytest.fixture
def demo_db(demo_db):
    """The demo, with handoff 5 (#16 Stark into qa) waiting on dev, as these stories tell it."""
    from opsweek.store import Store, changes, read

    with Store.open(demo_db) as store:
        changes.reassign_handoff(store, read.team(store), 5, "dev", actor="ivan")
    return demo_db


def run(db: Path, capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["--db", str(db), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def events(path: Path) -> dict[str, object]:
    calendar = Calendar.from_ical(path.read_bytes())
    return {str(ev["uid"]): ev for ev in calendar.walk("VEVENT")}


def test_the_team_calendar_parses_back_and_every_event_is_complete(demo_db, tmp_path, capsys):
    target = tmp_path / "public" / "team.ics"
    target.parent.mkdir()
    code, out, err = run(demo_db, capsys, "ics", "--everyone", "-o", str(target))
    assert code == 0 and out == "" and err == f"wrote {target}\n"
    found = events(target)
    kinds = sorted(str(ev["categories"].cats[-1]) for ev in found.values())
    # the demo's 10 pending handoffs, 4 dated open actions, the complaints review every friday and the
    # session every monday over the next 60 days
    assert (kinds.count("handoff"), kinds.count("action")) == (10, 4)
    assert kinds.count("scheduled") == 9 and kinds.count("session") == 8  # Fri 27 Nov…, Mon 30 Nov…
    for ev in found.values():
        assert ev.get("dtstart") is not None and ev.get("uid") and ev.get("summary")
        assert ev.get("dtstamp") is not None and ev.get("last-modified") is not None
    summaries = sorted(str(ev["summary"]) for ev in found.values())
    assert "Accept handoff 5: #16 Stark — intranet search (dev)" in summaries
    assert [p.name for p in target.parent.iterdir()] == ["team.ics"]  # no temp file left behind


def test_two_runs_give_the_same_uids_and_a_change_moves_the_sequence(demo_db, tmp_path, capsys):
    first, second, third = tmp_path / "1.ics", tmp_path / "2.ics", tmp_path / "3.ics"
    run(demo_db, capsys, "ics", "--everyone", "-o", str(first))
    run(demo_db, capsys, "ics", "--everyone", "-o", str(second))
    assert first.read_bytes() == second.read_bytes()
    before = events(first)
    # handoff 5 gets a new receiver through the TUI's core change: same event, one more version
    from opsweek.store import Store, changes, read

    with Store.open(demo_db) as store:
        changes.reassign_handoff(store, read.team(store), 5, "carla", actor="ivan")
    run(demo_db, capsys, "ics", "--everyone", "-o", str(third))
    after = events(third)
    assert set(after) == set(before)
    (uid,) = [u for u in after if u.startswith("handoff-5-")]
    assert int(after[uid]["sequence"]) == int(before[uid]["sequence"]) + 1
    assert "(carla)" in str(after[uid]["summary"])


def test_my_calendar_holds_only_my_deadlines(demo_db, capsys):
    code, out, _ = run(demo_db, capsys, "ics", "--me", "carla")
    assert code == 0
    calendar = Calendar.from_ical(out.encode("utf-8"))
    summaries = sorted(str(ev["summary"]) for ev in calendar.walk("VEVENT"))
    assert [t for t in summaries if not t.startswith("opsweek weekly session")] == [
        "Accept handoff 6: #19 Cyberdyne — status page",
        "Action 3 due: Find a new owner for the QA stage now that Jo has left"]
    assert str(calendar["x-wr-calname"]) == "opsweek: carla"


def test_bad_input_is_one_line_and_exit_2(demo_db, tmp_path, capsys):
    code, out, err = run(demo_db, capsys, "ics", "--me", "nobody")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    code, _, err = run(demo_db, capsys, "ics", "--everyone", "-o", str(tmp_path / "missing" / "x.ics"))
    assert code == 2 and "no such directory" in err
