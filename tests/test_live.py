"""Everyone in the room sees it: a screen shows what another terminal changed within two
seconds, with no key pressed, and a follower moves with the facilitator but never writes."""

from __future__ import annotations

import subprocess
import sys

from tui_support import cursor_to, press, screen_text, settle, within

from opsweek.store import Store
from opsweek.tui.app import make_app
from opsweek.tui.screens.my_handoffs import MyHandoffsScreen
from opsweek.tui.screens.session import SessionScreen

SIZE = (130, 40)


def opsweek(db, me: str, *args: str) -> str:
    """Another person's terminal: the real CLI in another process (same frozen clock)."""
    done = subprocess.run([sys.executable, "-m", "opsweek", "--db", str(db), "--me", me, *args],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def rows(table) -> list[str]:
    return [row.key.value for row in table.ordered_rows]


def facts(db) -> tuple:
    """What a viewer must never change: the audit log and the sessions as stored."""
    with Store.open(db) as store:
        return (store.scalar("SELECT count(*) FROM events"),
                [tuple(r) for r in store.query("SELECT * FROM meetings ORDER BY id")],
                [tuple(r) for r in store.query("SELECT * FROM step_times ORDER BY id")])


async def test_my_handoffs_show_an_accept_and_a_new_item_made_in_another_terminal(demo_db):
    app = make_app(demo_db, me="ben", start="mine")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MyHandoffsScreen)
        incoming = screen.query_one("#mine-incoming")
        stuck = screen.query_one("#mine-stuck")
        assert rows(incoming) == ["10"]
        assert "Live: refund for order 991" not in screen_text(app)
        # ben has his stuck #31 highlighted while the others work
        stuck.focus()
        await cursor_to(pilot, stuck, "31")

        # in ben's other terminal: he accepts handoff 10, and ana adds a late complaint for him
        opsweek(demo_db, "ben", "accept", "10")
        opsweek(demo_db, "ana", "add", "complaints", "Live: refund for order 991", "--owner", "ben",
                "--due", "2026-11-20")

        took = await within(pilot, 2.0, lambda: "Live: refund for order 991" in screen_text(app)
                            and not incoming.display)
        assert took < 2.0
        text = screen_text(app)
        assert "Waiting for me to accept (0)" in text
        assert "#45 Live: refund for order 991" in text
        assert "45" in rows(stuck)
        # the cursor stayed on the row ben was on
        assert rows(stuck)[stuck.cursor_row] == "31"
        assert app.screen is screen


async def test_a_stuck_item_finished_elsewhere_leaves_the_session_list_before_anyone_acts_on_it(demo_db):
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        session = app.screen
        assert isinstance(session, SessionScreen)
        await press(pilot, "4")
        assert session.step == "stuck"
        table = session.query_one("#stuck-table")
        keys = [row.key for row in table.rows_data]
        assert "13" in keys and "31" in keys
        await cursor_to(pilot, table, "31")
        stuck_before = int(session.counts["stuck"].replace(",", ""))

        opsweek(demo_db, "dev", "done", "13")  # dev finishes #13 from his shell during the session

        await within(pilot, 2.0, lambda: "13" not in [row.key for row in table.rows_data])
        assert table.current.key == "31"  # the facilitator's row is still highlighted
        # and the stepper's count followed
        assert int(session.counts["stuck"].replace(",", "")) == stuck_before - 1


async def test_a_follower_moves_with_the_facilitator_and_writes_nothing(demo_db):
    facilitator = make_app(demo_db, me="ivan", start="meeting")
    follower = make_app(demo_db, me="ana", start="meeting", read_only=True)
    async with facilitator.run_test(size=SIZE) as lead:
        await settle(lead)
        session = facilitator.screen
        assert isinstance(session, SessionScreen) and session.step == "attendance"
        async with follower.run_test(size=SIZE) as view:
            await settle(view)
            watching = follower.screen
            assert isinstance(watching, SessionScreen)
            assert watching.meeting_id == session.meeting_id and watching.step == "attendance"
            assert "following" in screen_text(follower)

            # the facilitator moves on twice; the follower comes along, pressing nothing
            await press(lead, "n")
            await press(lead, "n")
            assert session.step == "workflows"
            await within(view, 2.0, lambda: watching.step == "workflows")

            # the viewer tries to change things: attendance, a decision, undo; all refused
            before = facts(demo_db)
            said: list[str] = []  # every notice the viewer gets (toasts expire; this list does not)
            follower.notify = lambda message, **_: said.append(message)
            await press(view, "1")  # looks around: back at attendance, no longer following
            assert watching.step == "attendance" and not watching.following
            assert "looking around: f follows again" in screen_text(follower)
            await press(view, "space", "d", "ctrl+z")
            assert follower.screen is watching  # no dialog opened
            assert said.count("this is a read-only view; nothing can be changed from it") == 3
            await press(view, "4", "b", "r")  # block, reassign a stuck item
            await press(view, "8", "r", "x", "c")  # rate, export the notes, close the session
            assert follower.screen is watching  # no prompt, no confirmation opened
            assert said.count("this is a read-only view; nothing can be changed from it") == 8, said
            await view.pause(1.2)  # a live check passes: nothing of the viewer's is written
            await settle(view)
            assert facts(demo_db) == before

            # while it looks around, the facilitator's steps do not pull it along...
            await press(lead, "n")
            assert session.step == "stuck"
            await press(lead, "n")
            assert session.step == "handoffs"
            await view.pause(1.5)
            await settle(view)
            assert watching.step == "wrapup"  # where the viewer went by itself
            # ...until f follows again
            await press(view, "f")
            assert watching.following and watching.step == "handoffs"
            await press(lead, "n")
            await within(view, 2.0, lambda: watching.step == "gaps")
        # the viewer quit: still nothing of its own in the database (no time, no step, no review)
        with Store.open(demo_db) as store:
            actors = {r[0] for r in store.query("SELECT DISTINCT actor FROM events WHERE meeting_id = ?",
                                                 (session.meeting_id,))}
        assert actors == {"ivan"}


async def test_a_follower_waits_for_the_session_to_start(demo_db):
    follower = make_app(demo_db, me="ana", start="meeting", read_only=True)
    async with follower.run_test(size=SIZE) as view:
        await settle(view)
        watching = follower.screen
        assert isinstance(watching, SessionScreen) and watching.meeting is None
        assert "no session is open yet" in screen_text(follower)
        with Store.open(demo_db) as store:
            assert store.scalar("SELECT count(*) FROM meetings WHERE closed_at IS NULL") == 0

        # the facilitator starts the session in their own terminal
        facilitator = make_app(demo_db, me="ivan", start="meeting")
        async with facilitator.run_test(size=SIZE) as lead:
            await settle(lead)
            await press(lead, "n")
            await within(view, 2.0, lambda: watching.meeting is not None and watching.step == "actions")
            assert watching.meeting_id == facilitator.screen.meeting_id
