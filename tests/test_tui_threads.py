"""Who reads and who writes in the TUI: workers read through connections of their own, and
every change a screen or a step asks for is made in one place, the app, on the UI thread."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from textual.widgets import DataTable
from tui_support import press, settle

from opsweek.store import Store, changes, read
from opsweek.tui.app import ChangeRequested, OpsweekApp, make_app
from opsweek.tui.screens.my_handoffs import MyHandoffsScreen
from opsweek.tui.screens.session import SessionScreen

SIZE = (130, 40)


def record_reads(monkeypatch, name: str, seen: list[tuple[int, int, int, float | None]]) -> None:
    """Wrap ``read.<name>`` so that every call notes its thread, its connection, whether
    that connection may write (``PRAGMA query_only``) and the budget it reads within."""
    original = getattr(read, name)

    def recorded(store, *args, **kwargs):
        query_only = store.conn.execute("PRAGMA query_only").fetchone()[0]
        seen.append((threading.get_ident(), id(store.conn), query_only, store.budget_ms))
        return original(store, *args, **kwargs)

    monkeypatch.setattr(read, name, recorded)


def read_as_promised(seen, ui_thread: int, ui_connection: int) -> None:
    """Every read in a worker went through a read-only connection of its own; a read on
    the UI thread (a page quick enough to be shown at once) had a budget that stops it."""
    assert seen, "nothing was read"
    workers = [(connection, query_only) for thread, connection, query_only, _ in seen if thread != ui_thread]
    assert workers, "nothing was read in a worker"
    assert all(connection != ui_connection and query_only == 1 for connection, query_only in workers)
    assert all(budget is not None for thread, _, _, budget in seen if thread == ui_thread)


async def test_lists_and_counts_are_read_in_workers_through_connections_of_their_own(demo_db, monkeypatch):
    """The facilitator opens the overdue handoffs: the stepper's counts, and any page that
    takes longer than a moment, are read in worker threads, none of them on the UI thread's
    connection, and none of them able to write; a quick page is read at once within a budget."""
    seen: list[tuple[int, int, int, float | None]] = []
    record_reads(monkeypatch, "overdue_page", seen)
    record_reads(monkeypatch, "overdue_count", seen)
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "5")
        session = app.screen
        assert isinstance(session, SessionScreen) and session.step == "handoffs"
        assert session.query_one("#handoffs-table").rows_data[0].key == "5"  # the list did arrive
        ui_thread, ui_connection = threading.get_ident(), id(app.store.conn)
    read_as_promised(seen, ui_thread, ui_connection)


async def test_a_worker_reads_but_never_writes_nor_borrows_the_ui_connection(demo_db):
    """What a worker thread can do: read through ``app.reader()``; not touch ``app.store``
    outside it, not write through its reader, not make a change itself."""
    app = make_app(demo_db, me="ivan")
    outcome: dict[str, object] = {}

    def worker() -> None:
        with pytest.raises(RuntimeError, match="reads through its own"):
            app.store  # noqa: B018 - the UI thread's connection is not for workers
        with app.reader() as store:
            outcome["same"] = app.store is store  # inside, app.store is the worker's reader
            outcome["pending"] = read.handoff(store, 5).accepted_at is None
            with pytest.raises(Exception, match="readonly"):
                changes.accept_handoff(store, 5, actor="ivan")
        with pytest.raises(RuntimeError, match="only the UI thread writes"):
            app.apply_change(ChangeRequested(changes.accept_handoff, (5,)))
        outcome["done"] = True

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join(timeout=30)
    assert outcome == {"same": True, "pending": True, "done": True}
    with Store.open(demo_db) as store:
        assert read.handoff(store, 5).accepted_at is None  # nothing was written


async def test_an_in_memory_database_is_read_by_workers_too(demo_db, tmp_path, monkeypatch):
    """A test database in memory (no file) works the same way: the workers open their own
    connection to it by its name."""
    memory = Store.memory()
    with Store.open(demo_db) as demo:
        demo.conn.backup(memory.conn)
    seen: list[tuple[int, int, int, float | None]] = []
    record_reads(monkeypatch, "overdue_page", seen)
    record_reads(monkeypatch, "overdue_count", seen)
    app = OpsweekApp(tmp_path / "not-a-file.db", me="ivan", start="meeting", store=memory)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "5")
        assert app.screen.query_one("#handoffs-table").rows_data[0].key == "5"
        ui_thread, ui_connection = threading.get_ident(), id(app.store.conn)
    read_as_promised(seen, ui_thread, ui_connection)


async def test_a_step_asks_for_a_change_and_the_app_makes_it(demo_db, monkeypatch):
    """Accepting an overdue handoff for its receiver: the step posts a request, and the app's
    one applier writes it (in this session), says so, and reloads the list."""
    with Store.open(demo_db) as store:
        handoff = read.handoff(store, 5)
    app = make_app(demo_db, me="ivan", start="meeting")
    applied: list[tuple[tuple, int]] = []
    apply_change = app.apply_change

    def applier(request: ChangeRequested) -> bool:
        before = app.store.scalar("SELECT count(*) FROM events")
        written = apply_change(request)
        after = app.store.scalar("SELECT count(*) FROM events")
        applied.append(((request.change.__name__, request.args, request.meeting_id), after - before))
        return written

    monkeypatch.setattr(app, "apply_change", applier)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await press(pilot, "5")
        session = app.screen
        table = session.query_one("#handoffs-table")
        assert table.current.key == "5"
        await press(pilot, "c")
        assert "5" not in [row.key for row in table.rows_data]  # the session reloaded its list
        messages = [str(n.message) for n in app._notifications]
        meeting_id = session.meeting_id

    asked, events = applied[-1]
    assert asked == ("accept_handoff", (5,), meeting_id)  # what the step asked for, in this session
    assert events == 2  # the handoff and its item, both written inside the one applier
    assert f"handoff 5 accepted for {handoff.to_owner}; #{handoff.item_id} is now in {handoff.to_stage}" in messages
    with Store.open(demo_db) as store:
        assert read.handoff(store, 5).accepted_by == "ivan"
        accepted = store.one("SELECT meeting_id, actor FROM events WHERE action = 'handoff.accept' AND entity = 'handoffs'"
                             " AND entity_id = '5'")
        assert accepted["meeting_id"] == meeting_id and accepted["actor"] == "ivan"


async def test_a_refused_change_says_why_and_shows_the_list_as_it_is_now(demo_db, monkeypatch):
    """Ben opens his handoffs; meanwhile ana accepts one of them from the command line. When
    ben presses a, he is told it was already accepted, and his list no longer offers it.
    (Ben presses before his screen's live check comes round: on a loaded machine the check
    could otherwise refresh the list first, which test_live.py tells.)"""
    monkeypatch.setattr("opsweek.tui.app.LIVE_SECONDS", 3600)
    with Store.open(demo_db) as store:
        pending = [h.id for h in read.handoffs(store, "h.to_owner = 'ben' AND h.accepted_at IS NULL")]
    app = make_app(demo_db, me="ben")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await press(pilot, "y")
        screen = app.screen
        assert isinstance(screen, MyHandoffsScreen)
        incoming = screen.query_one("#mine-incoming", DataTable)
        assert incoming.row_count == len(pending) >= 1
        first = pending[0]
        with Store.open(demo_db) as other:  # another process
            changes.accept_handoff(other, first, actor="ana")
        incoming.focus()
        await settle(pilot)
        await press(pilot, "a")
        messages = [str(n.message) for n in app._notifications]
        assert any(m.startswith(f"handoff {first} was already accepted by ana") for m in messages), messages
        assert incoming.row_count == len(pending) - 1
    with Store.open(demo_db) as store:
        assert read.handoff(store, first).accepted_by == "ana"


def test_a_reader_sees_what_the_writer_committed_and_cannot_write():
    """``Store.reader`` on an in-memory database: a second connection, read only."""
    store = Store.memory()
    reader = store.reader()
    try:
        assert reader.conn is not store.conn
        with store.change("setting", actor="test") as change:
            change.insert("settings", {"key": "sla_hours", "value": "24"})
        assert reader.setting("sla_hours") == "24"
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.conn.execute("INSERT INTO settings (key, value) VALUES ('x', 'y')")
    finally:
        reader.close()
        store.close()
