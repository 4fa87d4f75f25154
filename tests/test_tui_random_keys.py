"""Whatever a facilitator presses, in whatever order, the TUI never crashes.

A seeded walk of random keys through the session and the screens it leads to (dialogs
opened and cancelled or submitted half-filled, filters typed, pages crossed, steps
skipped, home and back): afterwards the app has met no exception and still answers.
The seeds are fixed so that a failure is the same failure on every run."""

from __future__ import annotations

import random

import pytest

from opsweek.tui.app import make_app

KEYS = [*"nprbhecxukdao+i/123456789ywtg?", "enter", "enter", "escape", "down", "down", "up", "pagedown",
        "pageup", "tab", "space", "home", "end", "backspace"]


@pytest.mark.parametrize("seed", [1, 2])
async def test_random_keys_never_crash_the_session(demo_db, seed):
    rnd = random.Random(seed)
    app = make_app(demo_db, me="ivan", start="meeting")
    pressed: list[str] = []
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        for _ in range(150):
            key = rnd.choice(KEYS)
            pressed.append(key)
            await pilot.press(key)
            if rnd.random() < 0.3:  # sometimes at human speed: pages and dialogs settle
                await pilot.pause()
            assert app.crash is None, pressed[-20:]
            assert app.is_running, f"the app ended after {pressed[-20:]}"
        await pilot.pause()
        assert app.screen_stack, "no screen left"
    assert app.crash is None, pressed[-20:]
