"""Triggers in the TUI, on the demo with the clock frozen (Tuesday 2026-11-24 10:00 UTC):
opening the app on Friday opens the weekly review; a project handed over starts a case
study, and its details say so both ways; home says when the next session is and warns
about last week's session that was never closed."""

from __future__ import annotations

from opsweek.store import Store, changes, read
from opsweek.tui.app import make_app
from opsweek.tui.modal.item_details import ItemDetails
from tui_support import screen_text, settle

SIZE = (120, 40)


async def test_opening_the_app_on_friday_opens_the_weekly_review_once(demo_db, monkeypatch):
    monkeypatch.setenv("OPSWEEK_NOW", "2026-11-27T09:30:00Z")
    for _ in range(2):
        app = make_app(demo_db, me="ana")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
    with Store.open(demo_db) as store:
        rows = store.query("SELECT owner, due FROM items WHERE title = 'Review open complaints, 2026-W48'")
        assert [tuple(r) for r in rows] == [("ana", "2026-11-28")]


async def test_item_details_show_where_an_item_came_from_and_what_it_started(demo_db):
    with Store.open(demo_db) as store:
        soylent = store.scalar("SELECT id FROM items WHERE title LIKE 'Soylent%'")
        changes.finish_item(store, soylent, actor="carla")
        case_study = store.scalar("SELECT id FROM items WHERE fed_from = ?", (soylent,))
        assert read.item(store, case_study).workflow == "content"
    app = make_app(demo_db, me="carla")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(ItemDetails(soylent))
        await settle(pilot)
        assert f"started         #{case_study} Soylent — ops handbook  (content)" in screen_text(app)
        app.pop_screen()
        app.push_screen(ItemDetails(case_study))
        await settle(pilot)
        assert f"came from       #{soylent} Soylent — ops handbook  (client-delivery)" in screen_text(app)


async def test_home_says_when_the_next_session_is_and_warns_about_an_unclosed_one(demo_db):
    with Store.open(demo_db) as store:
        changes.start_meeting(store, read.team(store), week="2026-W47", facilitator="ana", actor="ana")
    app = make_app(demo_db, me="ana")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "next session Mon 2026-11-30 10:00" in text
        assert "2026-W47's session was never closed" in text


async def test_s_on_the_map_schedules_recurring_work(demo_db):
    from opsweek.store import recurring
    from tui_support import press, type_text

    app = make_app(demo_db, me="fay")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.show("workflows", workflow="content")
        await settle(pilot)
        await press(pilot, "s")
        await type_text(pilot, "roundup")
        await press(pilot, "enter")
        await type_text(pilot, "Roundup {nope}")
        await press(pilot, "enter")
        assert "unknown placeholder {nope}" in screen_text(app)  # shown inline, the dialog stays
        app.focused.value = "Roundup, {week}"
        await press(pilot, "enter")
        await type_text(pilot, "every 2 weeks on fri")
        await press(pilot, "enter")
        assert "opens Roundup, {week} every 2 weeks on fri" in screen_text(app)
    with Store.open(demo_db) as store:
        [s] = recurring.schedules(store, "content")
        assert (s.key, s.title, s.rrule) == ("roundup", "Roundup, {week}", "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR")
        assert store.scalar("SELECT actor FROM events WHERE entity = 'recurring' ORDER BY id DESC LIMIT 1") == "fay"
