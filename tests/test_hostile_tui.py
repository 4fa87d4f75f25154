"""The TUI never dies on input: absurd dates, odd digits and huge pastes are answered
inline; an unexpected exception is one line and exit 70; a write that waits on another
process says so at once instead of freezing the screen."""

from __future__ import annotations

import sqlite3
import time

import pytest
from textual import events
from textual.widgets import Input, Label
from tui_support import press, screen_text, settle

from opsweek.agenda import STEP_KEYS
from opsweek.store import Store, changes, read
from opsweek.tui.app import ChangeRequested, make_app

SIZE = (120, 40)


def problem_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Label).render())


async def test_absurd_due_dates_and_ratings_are_answered_inline(demo_db):
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "a")  # record an action
        for field, text in (("#entry-text", "Call the courier"), ("#entry-owner", "ben"),
                            ("#entry-due", "+9999999d")):
            app.screen.query_one(field, Input).value = text
        await settle(pilot)
        app.screen.query_one("#entry-due", Input).focus()
        await press(pilot, "enter")
        assert "longer than 100 years" in problem_of(app, "#entry-problem")
        await press(pilot, "escape")

        await press(pilot, str(STEP_KEYS.index("wrapup") + 1), "r")  # wrap-up: rate the session
        for rating in ("\u00b2", "\u0661\u0660", "11"):
            prompt = app.screen.query_one("#prompt-input", Input)
            prompt.value = rating
            await press(pilot, "enter")
            assert "is not a rating" in problem_of(app, "#prompt-problem"), rating
        await press(pilot, "escape")
    with Store.open(demo_db) as store:
        meeting = read.latest_meeting(store)
        assert meeting.rating is None or meeting.closed_at  # nothing absurd was saved
        assert not store.scalar("SELECT count(*) FROM entries WHERE text = 'Call the courier'")


async def test_a_100_kb_paste_is_bounded(demo_db):
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "a")
        for selector in ("#entry-text", "#entry-owner", "#entry-due"):
            field = app.screen.query_one(selector, Input)
            field.focus()
            field.post_message(events.Paste("x" * 100_000))
            await settle(pilot)
            assert len(field.value) <= field.max_length > 0, selector
        assert "Record an action" in screen_text(app)  # still answering


async def test_an_unexpected_exception_exits_70_with_one_line(demo_db, capsys, monkeypatch):
    from opsweek.cli.tui import outcome

    monkeypatch.delenv("OPSWEEK_DEBUG", raising=False)
    app = make_app(demo_db, me="ivan")

    def broken() -> None:
        raise RuntimeError("a bug of ours")

    with pytest.raises(RuntimeError):
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            app.call_later(broken)
            await pilot.pause()
    capsys.readouterr()
    assert outcome(app) == 70
    err = capsys.readouterr().err
    assert err == "opsweek: internal error in the TUI: RuntimeError: a bug of ours (set OPSWEEK_DEBUG=1 for details)\n"


async def test_a_quiet_exit_is_0(demo_db):
    from opsweek.cli.tui import outcome

    app = make_app(demo_db, me="ivan")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "q")
    assert outcome(app) == 0


async def test_a_write_behind_another_process_says_so_at_once(demo_db):
    other = sqlite3.connect(demo_db, isolation_level=None)
    app = make_app(demo_db, me="ben")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        other.execute("BEGIN IMMEDIATE")  # another opsweek, mid-write
        started = time.monotonic()
        written = app.apply_change(ChangeRequested(changes.block_item, (31, "waiting on the vendor")))
        waited = time.monotonic() - started
        assert written is False and waited < 0.5 + 0.2  # not the 5 s busy timeout
        await pilot.pause()
        assert any("waiting for it" in n.message for n in app._notifications)
        other.execute("ROLLBACK")  # the other write finishes: ours goes through
        await pilot.pause(0.3)
        await settle(pilot)
        assert read.item(app.store, 31).status == "blocked"
    other.close()


def test_a_quick_wait_store_raises_busy_within_half_a_second(demo_db):
    from opsweek.store.db import Busy

    other = sqlite3.connect(demo_db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with Store.open(demo_db) as store:
            store.quick_wait_ms = 300
            started = time.monotonic()
            with pytest.raises(Busy, match="another opsweek is writing"):
                changes.block_item(store, 31, "x", actor="ben")
            assert time.monotonic() - started < 0.6
            assert store.scalar("PRAGMA busy_timeout") == 5000  # the full wait is back for others
    finally:
        other.execute("ROLLBACK")
        other.close()


async def test_an_sop_that_is_not_a_web_or_file_link_is_shown_not_opened(demo_db):
    with Store.open(demo_db) as store:
        with store.change("test", actor="ana") as change:
            stage = store.scalar("SELECT id FROM stages WHERE workflow = 'hiring' AND key = 'sourcing'")
            change.update("stages", stage, {"sop": "--new-window=javascript:alert(1)"})
    app = make_app(demo_db, me="ivan", start="meeting")
    opened = []
    app.open_url = lambda url, **kwargs: opened.append(url)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "4", "enter")  # #1 Senior backend engineer, in hiring / sourcing
        await press(pilot, "o")
        assert opened == []
        assert any("not opened" in n.message and "--new-window" in n.message for n in app._notifications)


async def test_the_screens_still_stand_after_hostile_but_accepted_input(demo_db, capsys):
    from opsweek.cli.main import main

    for argv in (["add", "complaints", "\x1b]0;owned\x07\u202etitle" + "t" * 5000, "--due", "9999-12-31"],
                 ["add", "complaints", "[bold]x[/] \x9b31m", "--due", "1000-01-01"],
                 ["block", "31", "--reason", "\x1b[2Jvendor"],
                 ["handoff", "32", "--note", "\x1b[5m" + "n" * 2000]):
        assert main(["--db", str(demo_db), "--me", "ben", *argv]) == 0, capsys.readouterr().err
    app = make_app(demo_db, me="ben")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key in ("y", "escape", "w", "escape", "a", "escape", "m"):
            await press(pilot, key)
            shown = screen_text(app)
            assert "\x1b" not in shown and "\u202e" not in shown and app.crash is None, key
        await press(pilot, "4", "enter", "escape", "q")
    assert app.crash is None
