"""Recurring work and the session's rhythm from the shell, as a team lead types it:
``recur add/list/drop``, ``schedule``, ``tick``, ``set``; bad input is one line, exit 2,
and the database is byte for byte as it was.

Clock frozen at Tuesday 2026-11-24 10:00 UTC (conftest.py), the sample team's demo.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from opsweek.cli.main import main
from opsweek.store import Store


@pytest.fixture(autouse=True)
def _no_forced_colour(monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)


def run(db: Path, capsys, *argv: str, me: str | None = "ana") -> tuple[int, str, str]:
    code = main(["--db", str(db)] + (["--me", me] if me else []) + list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def files(db: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in db.parent.glob(db.name + "*") if p.is_file()}


def count(db: Path, sql: str, params=()) -> int:
    with Store.open(db) as store:
        return store.scalar(sql, params)


def test_a_weekly_review_opens_on_friday_once_however_often_cron_ticks(demo_db, capsys, monkeypatch):
    code, out, err = run(demo_db, capsys, "recur", "add", "complaints/friday-review",
                         "--title", "Friday check, {week}", "--schedule", "every friday", "--due", "+1d")
    assert (code, err) == (0, "")
    assert "first opens Fri 2026-11-27 00:00" in out
    code, out, _ = run(demo_db, capsys, "recur", "list")
    assert "complaints/friday-review" in out and "every friday" in out
    code, out, _ = run(demo_db, capsys, "tick")
    assert (code, out) == (0, "")  # Tuesday: nothing due yet
    monkeypatch.setenv("OPSWEEK_NOW", "2026-11-27T07:00:00Z")
    code, out, _ = run(demo_db, capsys, "tick", me=None)
    assert code == 0 and out.startswith("opened #45 in complaints: Friday check, 2026-W48 (ben)")
    for _ in range(3):
        assert run(demo_db, capsys, "tick", me=None)[:2] == (0, "")
    assert count(demo_db, "SELECT count(*) FROM items WHERE title LIKE 'Friday check%'") == 1


def test_a_write_command_ticks_first(demo_db, capsys, monkeypatch):
    run(demo_db, capsys, "recur", "add", "complaints/daily", "--title", "Inbox sweep {date}",
        "--schedule", "every day 08:00")
    monkeypatch.setenv("OPSWEEK_NOW", "2026-11-25T09:00:00Z")
    code, _, _ = run(demo_db, capsys, "add", "complaints", "Lost parcel")
    assert code == 0
    titles = [r[0] for r in Store.open(demo_db).query("SELECT title FROM items WHERE id > 44 ORDER BY id")]
    assert titles == ["Inbox sweep 2026-11-25", "Lost parcel"]


def test_mine_stays_read_only(demo_db, capsys, monkeypatch):
    run(demo_db, capsys, "recur", "add", "complaints/daily", "--title", "Sweep", "--schedule", "every day")
    monkeypatch.setenv("OPSWEEK_NOW", "2026-11-26T09:00:00Z")
    before = files(demo_db)
    assert run(demo_db, capsys, "mine", me="ben")[0] in (0, 1)
    assert files(demo_db) == before


def test_dropping_a_schedule_stops_it(demo_db, capsys, monkeypatch):
    run(demo_db, capsys, "recur", "add", "complaints/daily", "--title", "Sweep", "--schedule", "every day")
    code, out, _ = run(demo_db, capsys, "recur", "drop", "complaints/daily")
    assert code == 0 and out.startswith("dropped complaints/daily")
    monkeypatch.setenv("OPSWEEK_NOW", "2026-12-20T09:00:00Z")
    code, out, _ = run(demo_db, capsys, "tick")
    assert code == 0 and "Sweep" not in out  # the demo's own weekly review still opens
    assert count(demo_db, "SELECT count(*) FROM items WHERE title = 'Sweep'") == 0


def test_the_meeting_setting_shows_in_the_schedule(demo_db, capsys):
    # the demo meets every monday 10:00; the team moves it to mondays at 10:30
    code, out, err = run(demo_db, capsys, "set", "meeting", "every monday 10:30")
    assert (code, err) == (0, "")
    assert out == "meeting: every monday 10:00 → every monday 10:30; next session Mon 2026-11-30 10:30\n"
    run(demo_db, capsys, "recur", "add", "content/roundup", "--title", "Roundup {week}", "--schedule",
        "every 2 weeks on fri")
    code, out, _ = run(demo_db, capsys, "schedule", "--days", "8")
    lines = [line for line in out.splitlines() if "complaints" not in line]  # not the demo's own review
    assert code == 0 and len(lines) == 2  # the next roundup is two weeks on, past the 8 days
    assert lines[0].startswith("Fri 2026-11-27 00:00") and "opens in content" in lines[0] and "Roundup 2026-W48" in lines[0]
    assert lines[1].startswith("Mon 2026-11-30 10:30") and "weekly session 2026-W49" in lines[1]
    assert run(demo_db, capsys, "set", "handoff_sla", "36h")[:2] == (0, "handoff_sla: 48h → 36h\n")
    assert count(demo_db, "SELECT count(*) FROM settings WHERE key = 'handoff_sla' AND value = '36h'") == 1


@pytest.mark.parametrize("argv, says", [
    (["recur", "add", "complaints/x", "--title", "T", "--schedule", "whenever"], "accepted: every day"),
    (["recur", "add", "complaints/x", "--title", "T", "--schedule", "FREQ=HOURLY"], "more often than daily"),
    (["recur", "add", "complaints/x", "--title", "T", "--schedule", "every monday 24:30"], "has no time"),
    (["recur", "add", "complaints/x", "--title", "T", "--schedule", "FREQ=WEEKLY;BYDAY=XY"], "RRULE"),
    (["recur", "add", "complaints/x", "--title", "T {day}", "--schedule", "every day"], "unknown placeholder {day}"),
    (["recur", "add", "complaints/x", "--title", "T {", "--schedule", "every day"], "title"),
    (["recur", "add", "complaints/x", "--title", "", "--schedule", "every day"], "title is empty"),
    (["recur", "add", "nowhere/x", "--title", "T", "--schedule", "every day"], "unknown workflow 'nowhere'"),
    (["recur", "add", "complaints", "--title", "T", "--schedule", "every day"], "WORKFLOW/KEY"),
    (["recur", "add", "complaints/Bad Key", "--title", "T", "--schedule", "every day"], "not a slug"),
    (["recur", "add", "complaints/x", "--title", "T", "--schedule", "every day", "--owner", "zed"],
     "unknown person 'zed'"),
    (["recur", "add", "complaints/x", "--title", "T", "--schedule", "every day", "--due", "soon"], "+1d"),
    (["recur", "add", "complaints/x", "--title", "T", "--schedule", "every day", "--catch-up", "some"], "choice"),
    (["recur", "drop", "complaints/never"], "unknown recurring schedule"),
    (["set", "colour", "blue"], "accepted: meeting, handoff_sla"),
    (["set", "meeting", "on mondays"], "accepted: every day"),
    (["set", "stale_after", "a week"], "not a duration"),
    (["schedule", "--days", "0"], "1 or more"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(demo_db, capsys, argv, says):
    before = files(demo_db)
    code, out, err = run(demo_db, capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and says in err and "Traceback" not in err
    assert files(demo_db) == before


def test_a_schedule_key_is_added_once(demo_db, capsys):
    assert run(demo_db, capsys, "recur", "add", "complaints/x", "--title", "T", "--schedule", "every day")[0] == 0
    before = files(demo_db)
    code, _, err = run(demo_db, capsys, "recur", "add", "complaints/x", "--title", "T", "--schedule", "every day")
    assert code == 2 and "already exists" in err and files(demo_db) == before


def test_the_schedule_lists_what_the_next_tick_will_open(demo_db, capsys, monkeypatch):
    run(demo_db, capsys, "recur", "add", "content/daily", "--title", "Socials {date}", "--schedule", "every day 08:00",
        "--catch-up", "all")
    monkeypatch.setenv("OPSWEEK_NOW", "2026-11-26T09:00:00Z")  # two mornings missed, nothing ticked
    code, out, _ = run(demo_db, capsys, "schedule", "--days", "1")
    assert code == 0
    assert [line.split("  ")[0] for line in out.splitlines() if "Socials" in line] == [
        "Wed 2026-11-25 08:00", "Thu 2026-11-26 08:00", "Fri 2026-11-27 08:00"]
