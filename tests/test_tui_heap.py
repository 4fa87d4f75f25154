"""The TUI keeps what lives as long as it does out of the garbage collector's way, so that
a full collection (50–80 ms on the UI thread in a session) never lands in a keystroke."""

from __future__ import annotations

import gc

from tui_support import press, settle

from opsweek.tui.app import HEAP_SETTLES_S, make_app


async def test_after_the_first_screen_and_the_session_are_up_their_objects_are_kept(demo_db):
    gc.unfreeze()
    app = make_app(demo_db, me="ivan")
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert gc.get_freeze_count() == 0  # not yet: the first screen is still being made
            await pilot.pause(HEAP_SETTLES_S + 0.3)
            on_home = gc.get_freeze_count()
            assert on_home > 10000
            await press(pilot, "m")  # a session: the facilitator is ivan, asked for first
            await press(pilot, "enter")
            await pilot.pause(HEAP_SETTLES_S + 0.3)
            assert app.screen.__class__.__name__ == "SessionScreen"
            assert gc.get_freeze_count() > on_home
    finally:
        gc.unfreeze()


async def test_a_launch_pauses_the_collector_until_the_first_screen_is_up(demo_db):
    # opsweek's launch (cli.tui.make_app) makes its tens of thousands of long-lived objects
    # with the collector paused; once the first screen is up they are frozen and it resumes
    from opsweek.cli.tui import make_app as launch_app

    gc.unfreeze()
    assert gc.isenabled()
    app = launch_app(demo_db, me="ivan")
    try:
        assert not gc.isenabled()
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert not gc.isenabled() and gc.get_freeze_count() == 0
            await pilot.pause(HEAP_SETTLES_S + 0.3)
            assert gc.isenabled() and gc.get_freeze_count() > 10000
            assert app.screen.ready  # the home screen, its numbers read by the child at launch
    finally:
        gc.unfreeze()
        gc.enable()
