"""The weekly session, driven from the keyboard as a facilitator would, then checked in the
database: every change written at once, with the meeting in its audit event."""

from __future__ import annotations

import itertools
import json
from datetime import date

import pytest
from tui_support import cursor_to, press, screen_text, settle, type_text

from opsweek.store import Store, read
from opsweek.tui.app import make_app
from opsweek.tui.modal.entry_dialog import EntryDialog
from opsweek.tui.modal.owner_picker import OwnerPicker
from opsweek.tui.screens.session import SessionScreen

SIZE = (130, 40)


def events(path, meeting_id: int, action: str) -> list[dict]:
    with Store.open(path) as store:
        return [dict(r) for r in store.query("SELECT * FROM events WHERE meeting_id = ? AND action = ? ORDER BY id",
                                             (meeting_id, action))]


async def test_a_whole_session_from_the_keyboard(demo_db, tmp_path, monkeypatch):
    from opsweek.tui.screens import session as session_module

    monkeypatch.chdir(tmp_path)  # where x writes the notes
    clock = itertools.count(1000, 30)  # every reading of the session's clock: 30 s later
    monkeypatch.setattr(session_module, "monotonic", lambda: next(clock))
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        session = app.screen
        assert isinstance(session, SessionScreen)
        meeting_id = session.meeting_id
        assert session.step == "attendance"
        # people away this week start absent (gus); hana is away only later
        assert session.present["gus"] is False and session.present["hana"] is True

        # attendance: ben is not here today
        await cursor_to(pilot, session.query_one("#attendance-table"), "ben")
        await press(pilot, "space")
        assert session.present["ben"] is False

        # last week's actions: the courier chase is done, the QA owner search carries over
        await press(pilot, "n")
        assert session.step == "actions"
        table = session.query_one("#actions-table")
        await cursor_to(pilot, table, "5")
        await press(pilot, "space")
        await cursor_to(pilot, table, "3")
        await press(pilot, "c")
        await type_text(pilot, "fri")
        await press(pilot, "enter")

        # workflows: looked at, so reviewed in this session
        await press(pilot, "n")
        assert session.step == "workflows"

        # stuck items: #13 moves from dev to carla, with a decision and an action on it
        await press(pilot, "n")
        stuck = session.query_one("#stuck-table")
        assert stuck.rows_data and stuck.rows_data[0].key == "1"  # oldest in its stage first
        assert "ben absent" in screen_text(app)  # his items are flagged: he is not in the room
        await cursor_to(pilot, stuck, "13")
        await press(pilot, "r")
        assert isinstance(app.screen, OwnerPicker)
        picked = screen_text(app)  # the picker says who is away (and who covers) and who left
        assert "away 11-22→11-27, cover fay" in picked and "inactive" in picked
        await type_text(pilot, "Carla J")  # filters by name as well as handle
        options = app.screen.query_one("#picker-list")
        assert [options.get_option_at_index(i).id for i in range(options.option_count)] == ["carla"]
        await press(pilot, "enter")
        await type_text(pilot, "dev is on the migration")
        await press(pilot, "enter")
        await press(pilot, "d")
        assert isinstance(app.screen, EntryDialog)
        await type_text(pilot, "Initech gets a fixed-price quote")
        await press(pilot, "enter")
        await press(pilot, "a")
        await type_text(pilot, "Send Initech the quote")
        await press(pilot, "tab")
        await type_text(pilot, "carla")
        await press(pilot, "tab")
        await type_text(pilot, "fri")
        await press(pilot, "enter")
        assert app.screen is session

        # overdue handoffs: the most overdue one (5, of #16) goes to the workflow owner
        await press(pilot, "n")
        handoffs = session.query_one("#handoffs-table")
        assert handoffs.rows_data[0].key == "5"
        await press(pilot, "e")
        await type_text(pilot, "no reply for three days")
        await press(pilot, "enter")

        # ownership gaps, issues, then wrap-up: rate 8 and close
        await press(pilot, "n", "n", "n")
        assert session.step == "wrapup"
        shown = screen_text(app)
        assert "Initech gets a fixed-price quote" in shown and "Send Initech the quote" in shown
        assert "#13 reassigned dev → carla" in shown
        await press(pilot, "r")
        await type_text(pilot, "8")
        await press(pilot, "enter", "x")
        await press(pilot, "c", "y")
        assert session.closed
        await press(pilot, "x")  # and once more, closed: the notes now say how long it took
    notes = (tmp_path / "opsweek-2026-W48.md").read_text(encoding="utf-8")
    assert notes.startswith("# Weekly session 2026-W48") and "**Rating:** 8/10" in notes
    assert "Initech gets a fixed-price quote" in notes and "dev is on the migration" in notes

    with Store.open(demo_db) as store:
        meeting = read.meeting(store, meeting_id)
        assert meeting.facilitator == "ivan" and meeting.rating == 8 and meeting.closed_at is not None
        assert read.attendance(store, meeting_id)["ben"] is False
        assert read.item(store, 13).owner == "carla"
        entries = read.entries(store, "meeting_id = ?", (meeting_id,))
        assert [(e.kind, e.text, e.owner, e.item_id) for e in entries] == [
            ("decision", "Initech gets a fixed-price quote", None, 13),
            ("action", "Send Initech the quote", "carla", 13),
        ]
        assert entries[1].due == date(2026, 11, 27)  # "fri" from Tuesday 24 Nov
        assert read.handoff(store, 5).escalated_at is not None
        assert read.entry(store, 5).status == "done" and read.entry(store, 5).closed_meeting_id == meeting_id
        assert read.entry(store, 3).due == date(2026, 11, 27) and read.entry(store, 3).status == "open"
        reviewed = {r[0] for r in store.query("SELECT workflow FROM reviews WHERE meeting_id = ?", (meeting_id,))}
        assert reviewed == {"client-delivery", "complaints", "content", "hiring"}
        steps = read.step_seconds(store, meeting_id)
        # every step was visited, so every step has its time (at least one 30 s reading)
        assert set(steps) == {"attendance", "actions", "workflows", "stuck", "handoffs", "gaps", "issues", "wrapup"}
        assert min(steps.values()) >= 30, steps

    reassign = events(demo_db, meeting_id, "item.reassign")
    assert len(reassign) == 1 and reassign[0]["actor"] == "ivan"
    assert reassign[0]["reason"] == "dev is on the migration"
    assert json.loads(reassign[0]["before"])["owner"] == "dev" and json.loads(reassign[0]["after"])["owner"] == "carla"
    escalate = events(demo_db, meeting_id, "handoff.escalate")
    assert [e["entity_id"] for e in escalate] == ["5"] and escalate[0]["reason"] == "no reply for three days"
    for action in ("meeting.attendance", "action.done", "action.carry", "entry.decision", "entry.action",
                   "meeting.rate", "meeting.close"):
        assert events(demo_db, meeting_id, action), f"no {action} event in meeting {meeting_id}"


async def test_every_change_is_in_the_database_before_the_session_ends(demo_db):
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        meeting_id = app.screen.meeting_id
        await press(pilot, "4")
        await press(pilot, "b")
        await type_text(pilot, "waiting on legal")
        await press(pilot, "enter")
        # another connection (another process, the notes export) sees it already
        with Store.open(demo_db) as other:
            first = read.item(other, 1)
            assert first.status == "blocked" and first.blocked_reason == "waiting on legal"
            assert other.scalar("SELECT meeting_id FROM events WHERE action = 'item.block'") == meeting_id


async def test_ctrl_z_undoes_the_last_change_of_the_session(demo_db):
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "4", "r")
        await type_text(pilot, "ana")
        await press(pilot, "enter", "enter")
        assert read.item(app.store, 1).owner == "ana"
        await press(pilot, "ctrl+z")
        assert read.item(app.store, 1).owner == "eve"
        assert app.screen.query_one("#stuck-table").rows_data[0].data.owner == "eve"  # the list shows it


async def test_the_action_dialog_explains_problems_and_keeps_the_text(demo_db):
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "4", "a")
        dialog = app.screen
        await type_text(pilot, "Call the candidate")
        await press(pilot, "tab", "end", "ctrl+u")  # not eve's, whose item it is: clear the owner
        await press(pilot, "enter")  # no owner yet
        assert app.screen is dialog
        assert "needs an owner" in str(dialog.query_one("#entry-problem").render())
        assert app.focused is dialog.query_one("#entry-owner")  # straight to the field with the problem
        await type_text(pilot, "nobody-here")
        await press(pilot, "enter")
        assert "unknown person 'nobody-here'" in str(dialog.query_one("#entry-problem").render())
        await press(pilot, "escape")  # walk away from it...
        assert isinstance(app.screen, SessionScreen)
        await press(pilot, "a")  # ...and come back: the text is still there
        again = app.screen
        assert again.query_one("#entry-text").value == "Call the candidate"
        assert again.query_one("#entry-owner").value == "nobody-here"
        await press(pilot, "tab", "end", "ctrl+u")  # to the owner field, and clear it
        await type_text(pilot, "Eve")  # a first name is enough when it fits one person
        await press(pilot, "tab")
        await type_text(pilot, "1 Dec")
        await press(pilot, "enter")
        assert isinstance(app.screen, SessionScreen)
        action = read.entries(app.store, "kind = 'action' AND meeting_id = ?", (app.screen.meeting_id,))[0]
        assert (action.text, action.owner, action.due, action.item_id) == ("Call the candidate", "eve",
                                                                           date(2026, 12, 1), 1)


@pytest.mark.parametrize("start", ["home", "meeting"])
async def test_quitting_with_q_writes_the_time_spent(demo_db, monkeypatch, start):
    from opsweek.tui.screens import session as session_module

    clock = iter(range(1000, 100000, 30))  # every reading of the session's clock: 30 s later
    monkeypatch.setattr(session_module, "monotonic", lambda: next(clock))
    app = make_app(demo_db, me="ivan", start=start)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        if start == "home":
            await press(pilot, "m")
        meeting_id = app.screen.meeting_id
        await press(pilot, "q")
    with Store.open(demo_db) as store:
        assert read.step_seconds(store, meeting_id).get("attendance", 0) >= 30


async def test_enter_shows_the_item_and_o_opens_its_sop(demo_db):
    app = make_app(demo_db, me="ivan", start="meeting")
    opened = []
    app.open_url = lambda url, **kwargs: opened.append(url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "4", "enter")  # #1 Senior backend engineer, in hiring / sourcing
        details = screen_text(app)
        assert "Senior backend engineer" in details and "20d in Sourcing (max 10d)" in details
        await press(pilot, "o", "escape")
        assert isinstance(app.screen, SessionScreen)
    with Store.open(demo_db) as store:
        sop = read.team(store).stage("hiring", "sourcing").sop
    assert opened == [sop] and sop.startswith("https://")


async def test_the_stepper_shows_time_spent_against_the_target(demo_db, monkeypatch):
    from opsweek.tui.screens import session as session_module

    now = [1000.0]
    monkeypatch.setattr(session_module, "monotonic", lambda: now[0])
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        now[0] += 200  # 3:20 on attendance, whose target is 3 minutes
        app.screen.update_stepper()
        await settle(pilot)
        assert "3:20 / 3m  over" in screen_text(app)
        await press(pilot, "n")  # leaving the step writes its time
        assert read.step_seconds(app.store, app.screen.meeting_id)["attendance"] == 200
        assert "total 3:20 / 68m" in screen_text(app)


async def test_a_closed_session_takes_no_more_changes(demo_db):
    from opsweek.store import changes

    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        session = app.screen
        changes.close_meeting(app.store, session.meeting_id, actor="ivan")
        session.reload()
        assert session.closed
        before = app.store.scalar("SELECT count(*) FROM events")
        await press(pilot, "space")  # attendance
        await press(pilot, "4", "r")  # stuck items: reassign
        assert not isinstance(app.screen, OwnerPicker)
        await press(pilot, "6", "r")  # ownership gaps: assign
        assert not isinstance(app.screen, OwnerPicker)
        assert app.store.scalar(
            "SELECT count(*) FROM events WHERE action NOT IN ('meeting.step', 'meeting.time')") == \
            app.store.scalar("SELECT count(*) FROM events WHERE id <= ? AND action NOT IN"
                             " ('meeting.step', 'meeting.time')", (before,))


async def test_without_me_the_session_asks_who_facilitates(demo_db):
    app = make_app(demo_db, me=None, start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, OwnerPicker)
        await type_text(pilot, "fay")
        await press(pilot, "enter")
        await settle(pilot)
        session = app.screen
        assert isinstance(session, SessionScreen)
        meeting = read.meeting(app.store, session.meeting_id)
        assert meeting.facilitator == "fay"
        actors = {r[0] for r in app.store.query("SELECT DISTINCT actor FROM events WHERE meeting_id = ?",
                                                (session.meeting_id,))}
        assert actors == {"fay"}
