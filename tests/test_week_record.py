"""The past stays put: a week that has ended keeps its trend figures (issue 10).

On the demo (Tuesday of 2026-W48), last week ended with 25 stuck items. Accepting
handoff 2 today moves the history rebuild of that week to 26 (the rebuild replays the
item's stage from today's row), but last week was recorded when it was first noticed
as over, and the record is what ``opsweek trends``, the home screen and scripts show.
Only the current week moves.
"""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from opsweek import clock, trends
from opsweek.cli.main import main
from opsweek.store import Store, read


def run(db: Path, capsys, *argv: str, me: str = "ivan") -> tuple[int, str, str]:
    code = main(["--db", str(db), "--me", me, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def trend_json(db: Path, capsys, *argv: str) -> dict:
    code, out, err = run(db, capsys, "trends", "--json", *argv)
    assert code == 0, err
    return json.loads(out)


def rows_of(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT week, stuck, overdue, escalated, handoffs_due, handoffs_on_time, actions_due,"
                            " actions_on_time, rating, frozen_at FROM week_figures ORDER BY week").fetchall()
    finally:
        conn.close()


def forget_the_record(db: Path) -> None:
    """The database as an opsweek from before the record left it: no week recorded."""
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("DELETE FROM week_figures")
    conn.close()


def a_busy_day(db: Path, capsys) -> None:
    """Tuesday's work: each kind of change to items, handoffs and actions."""
    with Store.open(db) as store:
        actions = read.entries(store, "kind = 'action' AND status = 'open'")
    for me, argv in [
        ("ivan", ("accept", "2")),                                  # a handoff accepted
        ("ana", ("done", "35")),                                    # an item finished
        ("ben", ("reassign", "31", "--to", "ana", "--reason", "ana knows the client")),
        ("ana", ("handoff", "31")),                                 # a handoff sent
        (actions[0].owner, ("action", str(actions[0].id), "done")),
        ("ivan", ("action", str(actions[1].id), "due", "fri")),
    ]:
        code, _, err = run(db, capsys, *argv, me=me)
        assert code == 0, (argv, err)


# --- ended weeks do not move -------------------------------------------------------------


def test_last_weeks_figures_stay_as_recorded_after_todays_changes(demo_db, capsys, frozen_now):
    before = trend_json(demo_db, capsys)
    with Store.open(demo_db) as store:
        core_before = trends.recorded_trends(store, frozen_now).weeks
    assert [w["week"] for w in before["weeks"]] == [f"2026-W{n}" for n in range(41, 49)]
    assert before["weeks"][-2]["stuck"] == 25 and before["weeks"][-2]["rating"] == 7.0

    a_busy_day(demo_db, capsys)

    after = trend_json(demo_db, capsys)
    assert after["weeks"][:-1] == before["weeks"][:-1]          # every ended week, byte for byte
    assert after["weeks"][-1] != before["weeks"][-1]            # this week is live
    with Store.open(demo_db) as store:
        core_after = trends.recorded_trends(store, frozen_now).weeks
        rebuilt = trends.weekly_trends(store, frozen_now)
    assert core_after[:-1] == core_before[:-1]
    # what history alone would say about last week has moved: the record is what holds it
    assert rebuilt.weeks[-2].stuck == 26


def test_the_current_week_is_the_live_count(demo_db, capsys, frozen_now):
    with Store.open(demo_db) as store:
        week = trends.recorded_trends(store, frozen_now).weeks[-1]
        team = read.team(store)
        assert (week.stuck, week.overdue) == (read.stuck_count(store, team, frozen_now, frozen_now.date()),
                                              read.overdue_count(store, frozen_now)) == (22, 9)
        assert week.recorded_at is None
    run(demo_db, capsys, "accept", "2")
    assert trend_json(demo_db, capsys)["weeks"][-1]["overdue"] == 8


def test_a_week_is_recorded_by_the_first_opsweek_that_notices_it_ended(demo_db, capsys, frozen_now, monkeypatch):
    assert "2026-W48" not in [row[0] for row in rows_of(demo_db)]
    monday = frozen_now + timedelta(days=6)                      # Monday 30 Nov, 10:00
    monkeypatch.setenv("OPSWEEK_NOW", clock.stamp(monday))
    code, _, err = run(demo_db, capsys, "--me", "ana", "block", "31", "--reason", "waiting on the client", me="ana")
    assert code == 0, err
    recorded = {row[0]: row for row in rows_of(demo_db)}
    assert recorded["2026-W48"][-1] == clock.stamp(monday)      # written by that command's tick
    week = trend_json(demo_db, capsys)["weeks"][-2]
    assert week["week"] == "2026-W48" and week["recorded_at"] == clock.stamp(monday)
    # a week later still, nothing about W48 has changed, whatever was done since
    monkeypatch.setenv("OPSWEEK_NOW", clock.stamp(monday + timedelta(days=2)))
    run(demo_db, capsys, "unblock", "31", me="ana")
    run(demo_db, capsys, "done", "31", me="ana")
    assert trend_json(demo_db, capsys, "--weeks", "3")["weeks"][-2] == week


def test_weeks_that_ended_before_the_record_are_frozen_from_history_at_the_first_tick(demo_db, capsys,
                                                                                      frozen_now):
    forget_the_record(demo_db)
    with Store.open(demo_db) as store:
        history_says = trends.weekly_trends(store, frozen_now).weeks[:-1]
    code, _, _ = run(demo_db, capsys, "tick")
    assert code == 0
    rows = rows_of(demo_db)
    assert [row[0] for row in rows] == [f"2026-W{n}" for n in range(40, 48)]   # the 8 weeks before this one
    with Store.open(demo_db) as store:
        stored = trends.recorded_trends(store, frozen_now).weeks[:-1]
    assert [(p.week, p.stuck, p.overdue, p.escalated, p.handoffs_due, p.actions_due, p.rating) for p in stored] == \
        [(p.week, p.stuck, p.overdue, p.escalated, p.handoffs_due, p.actions_due, p.rating) for p in history_says]
    assert all(p.recorded_at == frozen_now for p in stored)


def test_opsweek_trends_records_the_weeks_it_shows(demo_db, capsys):
    data = trend_json(demo_db, capsys, "--weeks", "12")
    assert [w["week"] for w in data["weeks"]][:2] == ["2026-W37", "2026-W38"]
    assert all(w["recorded_at"] for w in data["weeks"][:-1])
    assert "2026-W37" in [row[0] for row in rows_of(demo_db)]


def test_a_read_only_connection_computes_unrecorded_weeks_and_writes_nothing(demo_db, frozen_now):
    forget_the_record(demo_db)
    before = demo_db.read_bytes()
    with Store.open(demo_db, migrate=False) as store:
        with store.reader() as viewer:
            shown = trends.recorded_trends(viewer, frozen_now)
            rebuilt = trends.weekly_trends(viewer, frozen_now)
    assert shown.weeks == rebuilt.weeks and all(p.recorded_at is None for p in shown.weeks)
    assert rows_of(demo_db) == [] and demo_db.read_bytes() == before


def test_an_empty_database_records_nothing_so_a_dump_restores_into_it(demo_db, capsys, tmp_path):
    fresh = tmp_path / "fresh.db"
    assert run(fresh, capsys, "init")[0] == 0
    assert run(fresh, capsys, "tick")[0] == 0
    assert rows_of(fresh) == []
    dumped = tmp_path / "dump.json"
    assert run(demo_db, capsys, "dump", "-o", str(dumped))[0] == 0
    code, _, err = run(fresh, capsys, "import", str(dumped))
    assert code == 0, err
    assert rows_of(fresh) == rows_of(demo_db)                    # the record travels with the dump


def test_escalations_count_in_the_week_made_and_while_still_waiting(demo_db, capsys, frozen_now, monkeypatch):
    with Store.open(demo_db) as store:
        due = read.escalations_due(store, read.team(store), frozen_now).handoffs
    handoff_id = due[0][0]
    code, _, err = run(demo_db, capsys, "escalate", "--handoff", str(handoff_id), "--reason", "a week late")
    assert code == 0, err
    assert trend_json(demo_db, capsys)["weeks"][-1]["escalated"] == 1
    # next week it still waits, so it still counts; accepted the week after, it stops
    monkeypatch.setenv("OPSWEEK_NOW", clock.stamp(frozen_now + timedelta(days=7)))
    assert trend_json(demo_db, capsys)["weeks"][-1]["escalated"] == 1
    with Store.open(demo_db) as store:
        receiver = read.pending_handoffs(store)
        receiver = next(h.to_owner for h in receiver if h.id == handoff_id)
    monkeypatch.setenv("OPSWEEK_NOW", clock.stamp(frozen_now + timedelta(days=14)))
    code, _, err = run(demo_db, capsys, "accept", str(handoff_id), me=receiver)
    assert code == 0, err
    weeks = trend_json(demo_db, capsys)["weeks"]
    assert [w["escalated"] for w in weeks[-3:]] == [1, 1, 0]


# --- the command ---------------------------------------------------------------------------


def test_the_json_shape_is_pinned(demo_db, capsys):
    data = trend_json(demo_db, capsys, "--weeks", "2")
    assert set(data) == {"version", "now", "weeks"} and data["version"] == 1
    for week in data["weeks"]:
        assert set(week) == {"week", "from", "to", "current", "as_of", "recorded_at", "stuck", "overdue",
                             "escalated", "handoffs", "actions", "rating"}
        assert set(week["handoffs"]) == set(week["actions"]) == {"due", "on_time", "rate"}
    last, this = data["weeks"]
    assert (last["week"], last["from"], last["to"], last["current"]) == ("2026-W47", "2026-11-16", "2026-11-22", False)
    assert last["as_of"] == "2026-11-22T23:59:59Z" and this["current"] and this["recorded_at"] is None
    assert this["handoffs"] == {"due": 8, "on_time": 0, "rate": 0.0}


def test_the_plain_table_names_each_week(demo_db, capsys):
    code, out, _ = run(demo_db, capsys, "trends", "--weeks", "3")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["WEEK", "STUCK", "OVERDUE", "ESCALATED"]
    assert lines[2].split()[:3] == ["2026-W47", "25", "1"] and lines[2].endswith("recorded")
    assert lines[3].startswith("  2026-W48") and lines[3].endswith("this week, so far")


@pytest.mark.parametrize("weeks", ["0", "-3", "x", "261", "8.5"])
def test_bad_weeks_is_one_line_and_changes_nothing(demo_db, capsys, weeks):
    forget_the_record(demo_db)
    before = demo_db.read_bytes()
    code, out, err = run(demo_db, capsys, "trends", "--weeks", weeks)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "is not a number of weeks (accepted: 1 to 260)" in err
    assert demo_db.read_bytes() == before


# --- the home screen -----------------------------------------------------------------------


async def test_home_compares_this_week_with_last_weeks_record(demo_db, capsys, frozen_now):
    from opsweek.tui.app import make_app
    from opsweek.tui.widgets.trends import TrendPanel
    from tests.tui_support import settle

    assert run(demo_db, capsys, "accept", "2")[0] == 0          # history alone now says 26 for W47
    app = make_app(demo_db, me="ivan")
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(100):
            await settle(pilot)
            panel = app.screen.query_one(TrendPanel)
            if panel.trends is not None:
                break
        row = panel.query_one("#trend-stuck")
        assert str(row.query_one(".trend-value").render()) == "22  ▼ from 25 in W47"
        assert str(panel.query_one("#trend-overdue .trend-value").render()) == "8  ▲ from 1 in W47"


# --- several processes notice the same Monday ------------------------------------------------


def _freezer(db: str, moments: list[str], barrier, results) -> None:
    import os

    from opsweek import trends as core
    from opsweek.store import Store as S

    for moment in moments:
        os.environ["OPSWEEK_NOW"] = moment
        barrier.wait(timeout=60)
        with S.open(db) as store:
            written = core.freeze_ended_weeks(store, clock.parse_stamp(moment))
        results.put((moment, os.getpid(), written))


def test_racing_processes_record_each_week_exactly_once(demo_db, frozen_now):
    forget_the_record(demo_db)
    racers, rounds = 4, 5
    moments = [clock.stamp(frozen_now + timedelta(weeks=r)) for r in range(rounds)]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(racers)
    results = context.Queue()
    processes = [context.Process(target=_freezer, args=(str(demo_db), moments, barrier, results))
                 for _ in range(racers)]
    for process in processes:
        process.start()
    written: dict[str, list[str]] = {}
    try:
        for _ in range(racers * rounds):
            moment, _, weeks = results.get(timeout=120)
            for week in weeks:
                written.setdefault(week, []).append(moment)
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    assert all(process.exitcode == 0 for process in processes)
    expected = [f"2026-W{n}" for n in range(40, 48 + rounds - 1)]
    assert sorted(written) == expected and all(len(by) == 1 for by in written.values())
    assert [row[0] for row in rows_of(demo_db)] == expected     # one row per week


def test_importing_items_records_the_weeks_their_history_covers(tmp_path, capsys, frozen_now):
    from opsweek.demo import sample_dir

    db = tmp_path / "team.db"
    assert run(db, capsys, "init")[0] == 0
    code, _, err = run(db, capsys, "import", str(sample_dir() / "team.toml"), str(sample_dir() / "items.csv"))
    assert code == 0, err
    assert [row[0] for row in rows_of(db)] == [f"2026-W{n}" for n in range(40, 48)]
    # so a command refused for bad input afterwards writes nothing at all
    before = db.read_bytes()
    assert main(["--db", str(db), "--me", "ben", "done", "999"]) == 2
    assert db.read_bytes() == before
