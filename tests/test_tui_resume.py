"""Nothing is lost: quit mid-session (or have the terminal killed) and ``opsweek meeting``
opens the same session at the same step, with every change made so far."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tui_support import press, settle, type_text

from opsweek.store import Store, read
from opsweek.tui.app import make_app
from opsweek.tui.screens.session import SessionScreen

SIZE = (130, 40)
TESTS = Path(__file__).resolve().parent


async def test_quit_mid_session_and_reopen_at_the_same_step(demo_db):
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = app.screen.meeting_id
        await press(pilot, "space")  # ana (first row) is not here
        await press(pilot, "n", "n", "n")  # actions, workflows, stuck items
        await press(pilot, "r")
        await type_text(pilot, "dev")
        await press(pilot, "enter", "enter")  # #1 goes to dev, no reason
        await press(pilot, "n")  # overdue handoffs: where we stop
        await press(pilot, "q")
    assert not app.is_running

    again = make_app(demo_db, me="ivan", start="meeting")
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        session = again.screen
        assert isinstance(session, SessionScreen)
        assert session.meeting_id == first
        assert session.step == "handoffs"
        assert session.present["ana"] is False
        assert read.item(again.store, 1).owner == "dev"
        reviewed = again.store.scalar("SELECT count(*) FROM reviews WHERE meeting_id = ?", (first,))
        assert reviewed == 4
        assert again.store.scalar("SELECT count(*) FROM meetings WHERE closed_at IS NULL") == 1  # no second one


async def test_home_shows_the_unfinished_session_and_m_resumes_it(demo_db):
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = app.screen.meeting_id
        await press(pilot, "3", "escape")  # to the workflows step, then home
        home = app.screen
        assert "in progress, at Workflows" in str(home.query_one("#session-state").render())
        await press(pilot, "m")
        assert isinstance(app.screen, SessionScreen)
        assert app.screen.meeting_id == first and app.screen.step == "workflows"


KILLED_SESSION = textwrap.dedent("""
    import asyncio, os, signal, subprocess, sys
    sys.path.insert(0, {tests!r})
    from tui_support import press, settle, type_text
    from opsweek.tui.app import make_app

    DB = {db!r}
    READER = ("import sqlite3; c = sqlite3.connect(%r);"
              " c.execute('SELECT count(*) FROM items').fetchall(); c.close()" % DB)

    async def main():
        app = make_app(DB, me="ivan", start="meeting")
        async with app.run_test(size=(130, 40)) as pilot:
            await settle(pilot)
            await press(pilot, "space")                      # ana is absent
            await press(pilot, "4", "b")                     # stuck items: block #1
            await type_text(pilot, "waiting on legal")
            await press(pilot, "enter")
            subprocess.run([sys.executable, "-c", READER], check=True)  # a shell reads the database meanwhile
            await press(pilot, "d")
            await type_text(pilot, "Legal reviews the contract this week")
            await press(pilot, "enter")
            print("killing", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)             # the terminal goes away: no clean exit

    asyncio.run(main())
""")


async def test_a_killed_terminal_loses_nothing(demo_db):
    script = KILLED_SESSION.format(tests=str(TESTS), db=str(demo_db))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr[-2000:]
    assert "killing" in done.stdout

    with Store.open(demo_db) as store:  # what another process finds on disk
        meeting = read.open_meeting(store, "2026-W48")
        assert meeting is not None and meeting.step == "stuck"
        assert read.attendance(store, meeting.id)["ana"] is False
        assert read.item(store, 1).status == "blocked"
        decisions = read.entries(store, "meeting_id = ? AND kind = 'decision'", (meeting.id,))
        assert [d.text for d in decisions] == ["Legal reviews the contract this week"]

    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.screen.meeting_id == meeting.id and app.screen.step == "stuck"


def test_a_second_connection_in_the_process_keeps_the_write_ahead_log(demo_db):
    """Closing any descriptor of the file drops the process's POSIX locks; the store must
    not do that behind an open connection, or another process may delete the WAL."""
    import os

    store = Store.open(demo_db)
    try:
        store.conn.execute("INSERT INTO settings (key, value) VALUES ('probe', '1')")
        Store.open(demo_db).close()  # e.g. a worker's own connection
        reader = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
                  " c.execute('SELECT count(*) FROM items').fetchall(); c.close()")
        subprocess.run([sys.executable, "-c", reader, str(demo_db)], check=True)
        assert os.path.exists(f"{demo_db}-wal")
        store.conn.execute("INSERT INTO settings (key, value) VALUES ('probe2', '1')")
        check = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
                 " print(c.execute(\"SELECT count(*) FROM settings WHERE key LIKE 'probe%'\").fetchone()[0])")
        seen = subprocess.run([sys.executable, "-c", check, str(demo_db)], capture_output=True, text=True, check=True)
        assert seen.stdout.strip() == "2"  # another process sees both writes
    finally:
        store.close()


async def test_ctrl_c_quits_and_the_session_resumes_where_it_was(demo_db):
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = app.screen.meeting_id
        await press(pilot, "n", "n")  # to the workflows step
        await press(pilot, "ctrl+c")
    assert not app.is_running

    again = make_app(demo_db, me="ivan", start="meeting")
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert again.screen.meeting_id == first
        assert again.screen.step == "workflows"
