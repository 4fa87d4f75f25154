"""A closed session's notes never change (SPEC: "The past stays put"; issue 10).

Two closed sessions: the demo's (2026-W47, run by Ivan Novak) and this Tuesday's, which
Carla runs on the demo: she reassigns a stuck item, escalates a late handoff, and records
a decision, an action and a note before she closes it. Their notes are exported; then the
team goes on working, one change after another — a handoff accepted, an item finished,
one reassigned, a handoff sent, actions done and moved, a carry-over in next week's
session, people renamed through a re-imported team file, a stage renamed, a stage given
a new owner — and after each change both sessions' notes export to the same bytes.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from opsweek import clock
from opsweek.cli.main import main
from opsweek.store import Store, changes, read


def run(db: Path, capsys, *argv: str, me: str = "ivan") -> str:
    code = main(["--db", str(db), "--me", me, *argv])
    out, err = capsys.readouterr()
    assert code == 0, (argv, err)
    return out


def exports(db: Path, capsys, meetings: list[int]) -> dict[tuple[int, str], str]:
    return {(m, fmt): run(db, capsys, "export", str(m), "--format", fmt) for m in meetings for fmt in ("md", "json")}


def carlas_session(db: Path, now) -> dict:
    """This week's session, closed an hour after it started; what it touched."""
    with Store.open(db) as store:
        team = read.team(store)
        meeting = changes.start_meeting(store, team, facilitator="carla", actor="carla", now=now)
        stuck = [it for it, _ in read.stuck_page(store, team, now, now.date()) if it.owner == "eve"][0]
        changes.reassign_item(store, team, stuck.id, "ivan", reason="eve is on the hiring fair", actor="carla",
                              meeting_id=meeting, now=now)
        handoff_id = read.escalations_due(store, team, now).handoffs[0][0]
        changes.escalate_handoff(store, handoff_id, reason="three days late", actor="carla", meeting_id=meeting,
                                 now=now)
        changes.record_entry(store, team, "decision", "Hiring pauses until Eve is back", meeting_id=meeting,
                             workflow="hiring", actor="carla", now=now)
        action = changes.record_entry(store, team, "action", "Book the courier review", meeting_id=meeting,
                                      owner="ben", item_id=35, actor="carla", now=now)
        second = changes.record_entry(store, team, "action", "Name a QA owner", meeting_id=meeting, owner="carla",
                                      workflow="client-delivery", actor="carla", now=now)
        changes.record_entry(store, team, "note", "Ben leads next week", meeting_id=meeting, actor="carla", now=now)
        changes.rate_as_attendee(store, meeting, "carla", 8, actor="carla", now=now)
        changes.close_meeting(store, meeting, actor="carla", now=now + timedelta(hours=1))
        receiver = next(h.to_owner for h in read.pending_handoffs(store) if h.id == handoff_id)
    return {"meeting": meeting, "item": stuck.id, "handoff": handoff_id, "receiver": receiver, "action": action,
            "second": second}


def test_closed_notes_are_the_same_bytes_after_everything_that_follows(demo_db, capsys, frozen_now, monkeypatch,
                                                                       tmp_path):
    session = carlas_session(demo_db, frozen_now)
    meetings = [1, session["meeting"]]
    monkeypatch.setenv("OPSWEEK_NOW", clock.stamp(frozen_now + timedelta(hours=2)))
    baseline = exports(demo_db, capsys, meetings)
    assert "Carla Jensen (carla)" in baseline[(session["meeting"], "md")]
    assert "Ivan Novak (ivan)" in baseline[(1, "md")] and "in Sourcing" in baseline[(1, "md")]
    with Store.open(demo_db) as store:
        w47_actions = [e.id for e in read.entries(store, "meeting_id = 1 AND kind = 'action'")]

    def carry_over_next_week() -> None:
        later = frozen_now + timedelta(days=7)
        monkeypatch.setenv("OPSWEEK_NOW", clock.stamp(later))
        with Store.open(demo_db) as store:
            meeting = changes.start_meeting(store, read.team(store), facilitator="ben", actor="ben", now=later)
            for entry in (session["second"], w47_actions[1]):
                changes.carry_action(store, entry, meeting_id=meeting, actor="ben", now=later)

    def rename_through_the_team_file() -> None:
        team_file = tmp_path / "team.toml"
        run(demo_db, capsys, "team", "export", "-o", str(team_file))
        text = team_file.read_text(encoding="utf-8")
        text = text.replace('name = "Ivan Novak"', 'name = "Ivan Novak-Berg"')
        text = text.replace('name = "Carla Jensen"', 'name = "Carla J. Ortiz"')
        team_file.write_text(text, encoding="utf-8")
        out = run(demo_db, capsys, "import", str(team_file))
        assert "imported" in out

    steps = [
        ("a handoff accepted", lambda: run(demo_db, capsys, "accept", str(session["handoff"]), me=session["receiver"])),
        ("an item finished", lambda: run(demo_db, capsys, "done", str(session["item"]), me="ivan")),
        ("an item reassigned", lambda: run(demo_db, capsys, "reassign", "24", "--to", "fay", "--reason", "gus is away")),
        ("a handoff sent", lambda: run(demo_db, capsys, "handoff", "24", me="fay")),
        ("an action done", lambda: run(demo_db, capsys, "action", str(session["action"]), "done", me="ben")),
        ("an action due moved", lambda: run(demo_db, capsys, "action", str(w47_actions[0]), "due", "fri")),
        ("a carry-over in a newer session", carry_over_next_week),
        ("people renamed by a re-imported team file", rename_through_the_team_file),
        ("a stage renamed", lambda: run(demo_db, capsys, "stage", "set", "hiring/sourcing", "--name", "Finding people")),
        ("a stage given a new owner", lambda: run(demo_db, capsys, "stage", "set", "client-delivery/qa",
                                                  "--owner", "hana")),
        ("a step's target changed", lambda: run(demo_db, capsys, "set", "step_minutes", "stuck=25")),
    ]
    for what, step in steps:
        step()
        again = exports(demo_db, capsys, meetings)
        for key, text in baseline.items():
            assert again[key] == text, f"{what} changed the notes of meeting {key[0]} ({key[1]})"

    # the changes did happen: today's team and items are not what the notes say
    with Store.open(demo_db) as store:
        team = read.team(store)
        assert team.people["ivan"].name == "Ivan Novak-Berg"
        assert team.stage_map[("hiring", "sourcing")].name == "Finding people"
        assert read.entry(store, session["action"]).status == "done"
        assert read.step_minutes(team.settings)["stuck"] == 25
    notes = baseline[(session["meeting"], "md")]
    assert re.search(r"\| ben \| Book the courier review \| [0-9-]+ \| #35 .* \| open \|", notes)


def test_a_session_closed_before_the_issues_step_keeps_its_time_table(demo_db, capsys, frozen_now):
    """The agenda gained an Issues step. A session that closed with nothing on it (no time,
    no issue) is told without that row, as it was exported then; one that used it lists it."""
    with Store.open(demo_db) as store:
        team = read.team(store)
        quiet = changes.start_meeting(store, team, facilitator="carla", actor="carla", now=frozen_now)
        changes.add_step_time(store, quiet, "stuck", 600, actor="carla")
        changes.close_meeting(store, quiet, actor="carla", now=frozen_now + timedelta(minutes=30))
    quiet_md = run(demo_db, capsys, "export", str(quiet))
    assert "| Stuck items | 10 min |" in quiet_md and "| Issues |" not in quiet_md

    with Store.open(demo_db) as store:
        busy = changes.start_meeting(store, read.team(store), facilitator="carla", actor="carla",
                                     now=frozen_now + timedelta(hours=1))
        changes.add_step_time(store, busy, "issues", 300, actor="carla")
        changes.close_meeting(store, busy, actor="carla", now=frozen_now + timedelta(hours=2))
    assert "| Issues | 5 min | 10 min |" in run(demo_db, capsys, "export", str(busy))
    # and an open session shows the whole agenda
    with Store.open(demo_db) as store:
        changes.start_meeting(store, read.team(store), facilitator="carla", actor="carla",
                              now=frozen_now + timedelta(hours=3))
    assert "| Issues | 0 min | 10 min |" in run(demo_db, capsys, "export", "2026-W48")
    assert run(demo_db, capsys, "export", str(quiet)) == quiet_md
