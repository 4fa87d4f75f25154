"""The smaller slips found on the walk (issue 14 part 7), each told as the user met it:
what they pressed, what the screen said, and what the database holds afterwards."""

from __future__ import annotations

import re

from tui_support import cursor_to, press, screen_text, settle, type_text

from opsweek.store import Store, changes, read
from opsweek.tui.app import make_app

SIZE = (130, 40)
# what the interface must never show: audit action names, entity.field, class names
INTERNAL = re.compile(r"\b(entry|item|handoff|meeting|action)\.[a-z_]+\b|[A-Z][a-z]+Screen\b|\baction_[a-z_]+")


def notices(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


# --- internal names in the interface ------------------------------------------------


async def test_the_palette_describes_screens_and_keys_in_words(demo_db):
    app = make_app(demo_db, me="ivan")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        home = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert home["Open: My handoffs and work"] == "opens my handoffs and work (escape comes back)"
        assert home["Meeting (m)"] == "key on home: m"
        app.show("meeting")
        await settle(pilot)
        await press(pilot, "4")  # stuck items: the step's own keys say where they work
        session = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert session["Reassign (r)"] == "key in Stuck items: r"
        assert session["Next step (n)"] == "key on this week's session: n"
        for words in (*home.values(), *session.values()):
            assert not INTERNAL.search(words), words
            assert "mine screen" not in words


async def test_the_action_number_that_undo_names_is_in_the_table(demo_db):
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await press(pilot, "2")  # last week's actions
        table = app.screen.query_one("#actions-table")
        await cursor_to(pilot, table, "5")
        await press(pilot, "space")
        assert "action 5 done" in notices(app)
        row = [str(c) for c in table.get_row("5")]
        assert "5  Chase the courier about the rude-reply complaint" in row  # the number undo names
        await press(pilot, "ctrl+z")
        said = notices(app)[-1]
        assert said == "undid: marked action 5 done"
        assert not INTERNAL.search(said)
        # and the session's own record of it shows the number with the action
        await press(pilot, "a")
        await type_text(pilot, "Send the courier the photos")  # for ana, whose action it is about
        await press(pilot, "enter")
        await press(pilot, str(len(app.screen.query("Step"))))  # wrap-up
        meeting_id = app.screen.meeting_id
        (entry,) = [e for e in read.meeting_entries(app.store, meeting_id) if e.kind == "action"]
        assert f"{entry.id}  Send the courier the photos" in screen_text(app)
    with Store.open(demo_db) as store:
        assert read.entry(store, 5).status == "open"


async def test_the_wrap_up_says_every_change_in_words(demo_db):
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await press(pilot, "4")  # stuck items: a new due date, and one kept as is
        stuck = app.screen.query_one("#stuck-table")
        await cursor_to(pilot, stuck, "13")
        await press(pilot, "u")
        await type_text(pilot, "2026-12-11")
        await press(pilot, "enter")
        await cursor_to(pilot, stuck, "1")
        await press(pilot, "k")
        await press(pilot, str(len(app.screen.query("Step"))))  # wrap-up
        shown = screen_text(app)
        assert "set #13 due 2026-12-11" in shown
        assert "kept #1 as it is" in shown
        assert not INTERNAL.search(shown), INTERNAL.search(shown)


# --- the palette's Screenshot ----------------------------------------------------------


async def _screenshot_from_the_palette(pilot) -> str:
    """ctrl+p, "screenshot", enter; returns the notice once the file is written (or not)."""
    import asyncio

    app = pilot.app
    await press(pilot, "ctrl+p")
    await type_text(pilot, "screenshot")
    await pilot.pause(0.3)  # the palette searches as you type
    await press(pilot, "enter")
    for _ in range(100):
        said = [n for n in notices(app) if "screenshot" in n.lower()]
        if said:
            return said[-1]
        await asyncio.sleep(0.05)
        await pilot.pause()
    raise AssertionError(f"no screenshot notice: {notices(app)}")


async def test_a_screenshot_from_the_palette_lands_in_the_current_directory(demo_db, tmp_path, monkeypatch):
    here = tmp_path / "walk"
    here.mkdir()
    monkeypatch.chdir(here)  # a host with no ~/Downloads: the current directory is used
    monkeypatch.setenv("HOME", str(tmp_path / "home-without-downloads"))
    app = make_app(demo_db, me="ivan")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        said = await _screenshot_from_the_palette(pilot)
    (saved,) = here.glob("*.svg")
    assert said == f"screenshot saved to {saved}"  # plain words, no "[$text-success]"
    assert "<svg" in saved.read_text(encoding="utf-8")


async def test_a_screenshot_that_cannot_be_saved_says_where_and_why(demo_db, tmp_path, monkeypatch):
    from opsweek.tui import app as tui_app

    blocked = tmp_path / "notes.md" / "shots"  # a file stands where the directory should be
    blocked.parent.write_text("not a directory", encoding="utf-8")
    monkeypatch.setattr(tui_app, "screenshot_directory", lambda: blocked)
    app = make_app(demo_db, me="ivan")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        said = await _screenshot_from_the_palette(pilot)
    assert said == f"screenshot not saved in {blocked}: Not a directory"


# --- escalating something already escalated -------------------------------------------


async def test_escalating_again_says_why_not_before_asking_for_a_note(demo_db):
    from opsweek.tui.modal.text_prompt import TextPrompt

    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await press(pilot, "5")  # overdue handoffs: handoff 5 is three days late
        table = app.screen.query_one("#handoffs-table")
        await cursor_to(pilot, table, "5")
        await press(pilot, "e")
        assert isinstance(app.screen, TextPrompt)
        await press(pilot, "enter")  # escalated, no note
        await cursor_to(pilot, table, "5")
        await press(pilot, "e")  # again, at once: refused with the reason, no note asked for
        assert not isinstance(app.screen, TextPrompt)
        said = notices(app)[-1]
        assert said.startswith("handoff 5 has no one left to escalate to (it went to dev, tier 3)")
    with Store.open(demo_db) as store:
        assert len(read.escalations_of(store, handoff_ids=[5])) == 1


# --- what-if -----------------------------------------------------------------------------


def test_load_that_moves_counts_work_that_reaches_nobody_and_only_what_the_scenario_moves(demo_db):
    from opsweek import clock, rules

    with Store.open(demo_db) as store:
        team = read.team(store)
        items, pending = read.open_items(store), read.pending_handoffs(store)
    now = clock.now()
    first, last = clock.week_bounds(clock.iso_week(now))
    # eve has no cover: her four items go to nobody (before, they vanished from the table);
    # gus is away this week and jo is inactive: the scenario moves none of their work
    eve = rules.what_if(["eve"], 1.0, team.people, team.workflows, team.stages, items, pending, now, first, last)
    assert [(m.who, m.usual, m.then) for m in eve.moves] == [("eve", 4, 0), (None, 1, 5)]
    ana = rules.what_if(["ana"], 1.0, team.people, team.workflows, team.stages, items, pending, now, first, last)
    assert [(m.who, m.usual, m.then) for m in ana.moves] == [("ben", 6, 10), ("ana", 4, 0)]
    # whoever holds it, the work is all there: nothing is lost on the way
    for result in (eve, ana):
        assert sum(m.then for m in result.moves) == sum(m.usual for m in result.moves)


async def test_what_if_a_late_result_never_paints_over_a_newer_volume_error(demo_db, monkeypatch):
    import threading

    from textual.widgets import DataTable, Input

    from opsweek.tui.screens import whatif

    release = threading.Event()
    real = whatif.rules.what_if

    def slow_what_if(*args, **kwargs):  # the worker takes its time, as at 100,000 items
        release.wait(10)
        return real(*args, **kwargs)

    app = make_app(demo_db, me="ana")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.show("whatif")
        await settle(pilot)
        screen = app.screen
        monkeypatch.setattr(whatif.rules, "what_if", slow_what_if)
        await pilot.click("#whatif-filter")
        await pilot.press(*"eve", "enter", "space")  # eve away: worked out in a worker...
        await pilot.pause()
        volume = screen.query_one("#whatif-volume", Input)
        volume.value = "lots"  # ... while the facilitator types a volume that is no number
        await pilot.pause()
        release.set()
        await settle(pilot)
        assert "is not a multiplier" in str(screen.query_one("#whatif-summary").render())
        volume.value = "1"  # a volume again: the answer comes back
        await settle(pilot)
        summary = str(screen.query_one("#whatif-summary").render())
        assert "What if eve is away" in summary
        load = [[str(c) for c in row] for row in (screen.query_one("#whatif-load", DataTable).get_row_at(n)
                                                  for n in range(screen.query_one("#whatif-load").row_count))]
        assert load == [["eve", "4", "0"], ["nobody", "1", "5"]]


# --- the action dialog -----------------------------------------------------------------


async def test_an_action_on_a_stuck_item_is_for_its_owner_and_a_past_due_date_is_questioned(demo_db):
    from textual.widgets import Input, Label

    from opsweek.tui.modal.entry_dialog import EntryDialog

    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "4")  # stuck items: #13 is dev's
        await cursor_to(pilot, app.screen.query_one("#stuck-table"), "13")
        await press(pilot, "a")
        dialog = app.screen
        assert isinstance(dialog, EntryDialog)
        assert dialog.query_one("#entry-owner", Input).value == "dev"  # from the item
        await type_text(pilot, "Send Initech the quote")
        await press(pilot, "tab", "tab")  # past the owner to the due date
        await type_text(pilot, "2026-11-20")  # meant 2026-12-20: last Friday
        assert "in the past" in str(dialog.query_one("#entry-due-shown", Label).render())
        await press(pilot, "shift+tab", "shift+tab", "space")  # back to the text, to add a word
        await type_text(pilot, "today")
        await press(pilot, "enter")
        assert app.screen is dialog  # not saved yet: the past date is questioned first
        problem = str(dialog.query_one("#entry-problem", Label).render())
        assert problem == "due 2026-11-20 is 4 days in the past: enter again to keep it, or type another date"
        await press(pilot, "enter")  # yes, that date
        assert app.screen is not dialog
        meeting_id = app.screen.meeting_id
    with Store.open(demo_db) as store:
        (entry,) = [e for e in read.meeting_entries(store, meeting_id) if e.kind == "action"]
        assert (entry.text, entry.owner, entry.item_id, str(entry.due)) == (
            "Send Initech the quote today", "dev", 13, "2026-11-20")


# --- notes and sessions left open ------------------------------------------------------


async def test_closing_offers_the_final_notes_after_an_export_that_said_still_open(demo_db, tmp_path, monkeypatch):
    from opsweek.tui.modal.confirm import Confirm

    monkeypatch.chdir(tmp_path)
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, str(len(app.screen.query("Step"))), "x")  # wrap-up: export while open
        notes = tmp_path / "opsweek-2026-W48.md"
        await settle(pilot)
        assert "**Duration:** still open" in notes.read_text(encoding="utf-8")
        await press(pilot, "c", "y")  # close it
        offer = app.screen
        assert isinstance(offer, Confirm) and offer.question == "Export the final notes now?"
        assert offer.detail.startswith("opsweek-2026-W48.md, written before closing, still says the session is open.")
        await press(pilot, "y")
        await settle(pilot)
    final = notes.read_text(encoding="utf-8")
    assert "**Duration:** still open" not in final and "**Duration:**" in final


async def test_m_offers_to_close_a_session_an_earlier_week_left_open(demo_db):
    from opsweek.tui.modal.choice import Choice

    with Store.open(demo_db) as store:
        left_open = changes.start_meeting(store, read.team(store), week="2026-W47", facilitator="ana", actor="ana")
    app = make_app(demo_db, me="ivan")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "2026-W47's session was never closed" in screen_text(app)  # home warns
        await press(pilot, "m")
        assert isinstance(app.screen, Choice)
        assert "The 2026-W47 session" in screen_text(app) and "carry on in the 2026-W47 session" in screen_text(app)
        await press(pilot, "x")  # close it, then start this week's
        session = app.screen
        assert session.meeting.week == "2026-W48" and session.meeting_id != left_open
    with Store.open(demo_db) as store:
        assert read.meeting(store, left_open).closed_at is not None


async def test_m_can_carry_on_in_the_session_an_earlier_week_left_open(demo_db):
    with Store.open(demo_db) as store:
        left_open = changes.start_meeting(store, read.team(store), week="2026-W47", facilitator="ana", actor="ana")
    app = make_app(demo_db, me="ivan")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "m", "c")  # carry on in it
        assert app.screen.meeting_id == left_open
        assert "Weekly session 2026-W47" in screen_text(app)
    with Store.open(demo_db) as store:
        assert read.meeting(store, left_open).closed_at is None
        assert read.open_meeting(store, "2026-W48") is None  # no second session was started


# --- an empty database -------------------------------------------------------------------


async def test_an_empty_database_says_how_to_begin_and_starts_no_session(tmp_path):
    from opsweek.tui.screens.home import HomeScreen

    path = tmp_path / "empty.db"
    Store.open(path, create=True).close()  # opsweek init
    app = make_app(path, me="ivan")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        shown = screen_text(app)
        assert "No team yet: import a team file" in shown
        assert "opsweek import team.toml" in shown and "opsweek demo" in shown
        await press(pilot, "m")
        assert isinstance(app.screen, HomeScreen)  # back home, no session with "facilitator none"
        assert notices(app)[-1] == ("no one is on the team yet: import a team file first"
                                    " (opsweek import team.toml) or try it out with opsweek demo")
    with Store.open(path) as store:
        assert read.latest_meeting(store) is None


async def test_someone_not_on_the_team_is_asked_who_facilitates(demo_db):
    from opsweek.tui.modal.owner_picker import OwnerPicker

    app = make_app(demo_db, me="zed", start="meeting")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, OwnerPicker)
        assert "zed is not an active person of the team: who is facilitating?" in notices(app)
        await type_text(pilot, "fay")
        await press(pilot, "enter")
        meeting = app.screen.meeting
        assert meeting.facilitator == "fay"


# a key's own name where its character belongs: "right_square_bracket", "greater_than_sign"
RAW_KEY = re.compile(r"\((?:[a-z]+_[a-z_]+|plus|slash|minus|comma|full_stop)\)|: (?:[a-z]+_[a-z_]+|plus|slash)$")


async def test_every_key_the_palette_and_footer_show_reads_as_a_key(demo_db):
    """The palette said "Next workflow (right_square_bracket)"; on every screen, and in
    every session step, it names keys as the footer does: "]", "+", "/"."""
    app = make_app(demo_db, me="ivan")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        seen: dict[str, str] = {}
        for name in ("home", "workflows", "audit", "whatif", "mine", "team", "meeting"):
            app.show(name)
            await settle(pilot)
            steps = [str(n) for n in range(1, 10)] if name == "meeting" else [""]
            for step in steps:
                if step:
                    await press(pilot, step)
                for command in app.get_system_commands(app.screen):
                    seen[command.title] = command.help
                for binding in (active.binding for active in app.screen.active_bindings.values()):
                    if binding.show:
                        seen[f"footer {binding.description}"] = f"({app.get_key_display(binding)})"
            await press(pilot, "escape")
        assert seen["Next workflow (])"] == "key on workflow map: ]"
        assert seen["Add person (+)"].endswith(": +")
        assert seen["Filter (/)"].endswith(": /")
        raw = {title: help for title, help in seen.items() if RAW_KEY.search(title) or RAW_KEY.search(help)}
        assert raw == {}
