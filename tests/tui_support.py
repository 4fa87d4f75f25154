"""Helpers for every Pilot test of the TUI (not a test module): one settle(), one press()."""

from __future__ import annotations

import io
import time

from rich.console import Console


async def settle(pilot) -> None:
    """Let messages, workers (pages read in threads) and the repaint after them finish,
    and the tables measure their new rows (a DataTable does that when it is next idle)."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    for _ in range(20):
        if not any(table._require_update_dimensions for table in _tables(pilot.app)):
            break
        await pilot.pause()


def _tables(app):
    from textual.widgets import DataTable

    try:
        return list(app.screen.query(DataTable))
    except Exception:  # no screen (the app ended)
        return []


async def press(pilot, *keys: str) -> None:
    """Press keys one at a time, settling after each (dialogs open, pages load)."""
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


async def type_text(pilot, text: str) -> None:
    """Type into the focused input: the first character as a key press, the rest pasted
    (Pilot takes ~70 ms a key; a paste goes through the same Input events as typing)."""
    from textual.widgets import Input

    await pilot.press(text[0])
    focused = pilot.app.focused
    assert isinstance(focused, Input), f"typing into {focused!r}"
    focused.insert_text_at_cursor(text[1:])
    await settle(pilot)


async def within(pilot, seconds: float, condition) -> float:
    """Wait (no key pressed) until ``condition()`` holds; returns how long it took."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < seconds, f"not shown within {seconds} s"
        await pilot.pause(0.05)
    await settle(pilot)
    return time.monotonic() - start


def screen_text(app) -> str:
    """What the terminal shows right now, as plain text (every screen of the stack drawn)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


async def cursor_to(pilot, table, key: str) -> None:
    """Press down (from the top) until the row with ``key`` is highlighted."""
    keys = [row.key.value for row in table.ordered_rows]
    assert key in keys, f"{key} not in {keys}"
    while table.cursor_row > 0:
        await pilot.press("up")
    for _ in range(keys.index(key)):
        await pilot.press("down")
    await settle(pilot)
    assert keys[table.cursor_row] == key


def stark_waits_on_dev(db):
    """The demo, with handoff 5 (#16 Stark into qa) waiting on dev, as the escalation and
    calendar stories tell it (the sample file sends it to carla)."""
    from opsweek.store import Store, changes, read

    with Store.open(db) as store:
        changes.reassign_handoff(store, read.team(store), 5, "dev", actor="ivan")
    return db
