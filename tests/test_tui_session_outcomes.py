"""The session finishes the work: a facilitator marks items done, drops them, gives them a
due date, keeps them as they are, adds a note or a new item, and every row the session
touches in Stuck items, Overdue handoffs and Ownership gaps gets its outcome, in the
database (with the change that caused it) and in the notes."""

from __future__ import annotations

from datetime import date

import pytest

from tui_support import cursor_to, press, screen_text, settle, type_text

from opsweek import notes
from opsweek.store import Store, read
from opsweek.tui.app import make_app
from opsweek.tui.modal.new_item import NewItemDialog
from opsweek.tui.modal.text_prompt import TextPrompt

SIZE = (150, 45)


def outcomes(path, meeting_id: int) -> dict:
    with Store.open(path) as store:
        return read.outcomes(store, meeting_id)


def section(text: str, title: str) -> str:
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def row_of(text: str, start: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(start))


async def open_step(pilot, number: int):
    app = pilot.app
    await settle(pilot)
    session = app.screen
    await press(pilot, str(number))
    return session


async def test_stuck_items_are_finished_dropped_dated_and_kept_from_the_keyboard(demo_db):
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        session = await open_step(pilot, 4)
        meeting_id = session.meeting_id
        stuck = session.query_one("#stuck-table")
        assert "0 of 22 reviewed" in screen_text(app)

        # "that's finished": #21 is done, there and then
        await cursor_to(pilot, stuck, "21")
        await press(pilot, "c")
        # #30 is a duplicate: dropped, saying why (an empty reason is refused in the prompt)
        await cursor_to(pilot, stuck, "30")
        await press(pilot, "x")
        assert isinstance(app.screen, TextPrompt)
        await press(pilot, "enter")
        assert isinstance(app.screen, TextPrompt) and "reason" in screen_text(app)
        await type_text(pilot, "duplicate of #29")
        await press(pilot, "enter")
        # #1 gets a due date; a date that is not one is explained and nothing changes
        await cursor_to(pilot, stuck, "1")
        await press(pilot, "u")
        await type_text(pilot, "someday")
        await press(pilot, "enter")
        assert isinstance(app.screen, TextPrompt)
        await press(pilot, *["backspace"] * 7)
        await type_text(pilot, "2026-12-11")
        await press(pilot, "enter")
        # #15 was looked at and stays as it is
        await cursor_to(pilot, stuck, "15")
        await press(pilot, "k")
        # a decision on #13 is its outcome; a note on it is only a note
        await cursor_to(pilot, stuck, "13")
        await press(pilot, "d")
        await type_text(pilot, "Carla pairs with dev on the build")
        await press(pilot, "enter")
        await press(pilot, "o")
        await type_text(pilot, "dev is on the migration until Friday")
        await press(pilot, "enter")

        shown = screen_text(app)
        assert "4 of 22 reviewed" in shown
        assert session.counts["stuck"] == "4/22"

    with Store.open(demo_db) as store:
        assert read.item(store, 21).status == "done"
        dropped = read.item(store, 30)
        assert dropped.status == "dropped"
        assert read.item(store, 1).due == date(2026, 12, 11)
        assert read.item(store, 15).status == "open"
        [note] = read.meeting_entries(store, meeting_id, "note")
        assert (note.text, note.item_id) == ("dev is on the migration until Friday", 13)
        reason = store.scalar("SELECT reason FROM events WHERE action = 'item.drop' AND entity_id = '30'")
        assert reason == "duplicate of #29"
        # each outcome was written by the change that caused it, in this meeting
        done_change = store.scalar("SELECT change_id FROM events WHERE action = 'item.done' AND entity_id = '21'")
        assert store.scalar("SELECT change_id FROM outcomes WHERE subject_id = '21' AND meeting_id = ?",
                            (meeting_id,)) == done_change
        text = notes.render(store, meeting_id)
    assert outcomes(demo_db, meeting_id) == {
        ("stuck", "item", "21"): ["done"], ("stuck", "item", "30"): ["dropped"],
        ("stuck", "item", "15"): ["kept as is"], ("stuck", "item", "13"): ["decision"]}

    stuck_notes = section(text, "Stuck items reviewed")
    assert "22 stuck when the session started" in stuck_notes and "4 reviewed in the session" in stuck_notes
    assert row_of(stuck_notes, "| #21 ").endswith("| done |")
    assert row_of(stuck_notes, "| #30 ").endswith("| dropped |")
    assert row_of(stuck_notes, "| #15 ").endswith("| kept as is |")
    assert row_of(stuck_notes, "| #13 ").endswith("| decision |")
    assert row_of(stuck_notes, "| #1 ").endswith("| not reviewed |")
    assert "- dev is on the migration until Friday (#13" in section(text, "Notes")


async def test_a_new_item_is_added_from_any_step_in_the_rows_workflow(demo_db):
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        session = await open_step(pilot, 4)
        await cursor_to(pilot, session.query_one("#stuck-table"), "13")
        await press(pilot, "plus")
        dialog = app.screen
        assert isinstance(dialog, NewItemDialog)
        assert dialog.query_one("#item-workflow").value == "client-delivery"  # the row's workflow
        await type_text(pilot, "Fix the staging deploy")
        await press(pilot, "tab")
        await type_text(pilot, "nobody")  # not a person: said in the dialog, nothing written
        await press(pilot, "enter")
        assert isinstance(app.screen, NewItemDialog) and "unknown person" in screen_text(app)
        owner = dialog.query_one("#item-owner")
        owner.value = ""
        await type_text(pilot, "carla")
        await press(pilot, "tab")
        await type_text(pilot, "2026-12-04")
        await press(pilot, "enter")
        assert app.screen is session
        meeting_id = session.meeting_id

    with Store.open(demo_db) as store:
        item_id = store.scalar("SELECT max(id) FROM items")
        it = read.item(store, item_id)
        assert (it.workflow, it.title, it.owner, it.due) == ("client-delivery", "Fix the staging deploy", "carla",
                                                             date(2026, 12, 4))
        assert it.stage == store.scalar("SELECT key FROM stages WHERE workflow = 'client-delivery'"
                                        " ORDER BY position LIMIT 1")
        assert store.scalar("SELECT meeting_id FROM events WHERE action = 'item.add' AND entity_id = ?",
                            (str(item_id),)) == meeting_id


async def test_overdue_handoffs_get_their_outcomes(demo_db):
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        session = await open_step(pilot, 5)
        meeting_id = session.meeting_id
        table = session.query_one("#handoffs-table")
        # c still accepts here (for the receiver): the handoff is handed off
        await cursor_to(pilot, table, "5")
        await press(pilot, "c")
        await cursor_to(pilot, table, "8")
        await press(pilot, "k")
        # the item of handoff 2 is no longer wanted: dropped, its handoff withdrawn
        await cursor_to(pilot, table, "2")
        await press(pilot, "x")
        await type_text(pilot, "the candidate withdrew")
        await press(pilot, "enter")
        assert "3 of 9 reviewed" in screen_text(app)
        assert session.counts["handoffs"] == "3/9"

    assert outcomes(demo_db, meeting_id) == {
        ("handoffs", "handoff", "5"): ["handed off"], ("handoffs", "handoff", "8"): ["kept as is"],
        ("handoffs", "handoff", "2"): ["dropped"]}
    with Store.open(demo_db) as store:
        assert read.item(store, 5).status == "dropped"
        assert read.item(store, 16).stage == read.handoff(store, 5).to_stage
        text = notes.render(store, meeting_id)
    reviewed = section(text, "Overdue handoffs reviewed")
    assert "3 reviewed in the session" in reviewed
    assert row_of(reviewed, "| 5 ").endswith("| handed off |")
    assert row_of(reviewed, "| 8 ").endswith("| kept as is |")
    assert row_of(reviewed, "| 2 ").endswith("| dropped |")
    assert row_of(reviewed, "| 6 ").endswith("| not reviewed |")


async def test_ownership_gaps_are_listed_as_found_and_fixed(demo_db):
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        session = await open_step(pilot, 6)
        meeting_id = session.meeting_id
        table = session.query_one("#gaps-table")
        await cursor_to(pilot, table, "stage:hiring/references")
        await press(pilot, "r")
        await type_text(pilot, "ivan")
        await press(pilot, "enter")
        await cursor_to(pilot, table, "item:#25")
        await press(pilot, "k")
        # the fixed gap has left the list, and still counts as reviewed
        assert "stage:hiring/references" not in [row.key.value for row in table.ordered_rows]
        assert "2 of " in screen_text(app) and session.counts["gaps"].startswith("2/")

    assert outcomes(demo_db, meeting_id) == {("gaps", "stage", "hiring/references"): ["reassigned"],
                                             ("gaps", "item", "#25"): ["kept as is"]}
    with Store.open(demo_db) as store:
        text = notes.render(store, meeting_id)
    gaps = section(text, "Ownership gaps")
    assert "1 fixed in the session (2 reviewed in the session)" in gaps
    assert row_of(gaps, "| stage hiring/references ").endswith("| fixed: reassigned |")
    assert row_of(gaps, "| item #25 ").endswith("| kept as is |")
    assert row_of(gaps, "| item #24 ").endswith("| not reviewed |")


async def test_ctrl_z_takes_the_outcome_back_with_the_change(demo_db):
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        session = await open_step(pilot, 4)
        meeting_id = session.meeting_id
        await cursor_to(pilot, session.query_one("#stuck-table"), "21")
        await press(pilot, "c")
        assert outcomes(demo_db, meeting_id) == {("stuck", "item", "21"): ["done"]}
        await press(pilot, "ctrl+z")
        assert "0 of 22 reviewed" in screen_text(app)
    assert outcomes(demo_db, meeting_id) == {}
    with Store.open(demo_db) as store:
        assert read.item(store, 21).status == "open"


def test_an_outcome_lands_with_its_change_or_not_at_all(demo_db):
    from opsweek.errors import InputError
    from opsweek.store import changes
    from opsweek.store.records import Outcome

    with Store.open(demo_db) as store:
        meeting_id = changes.start_meeting(store, read.team(store), facilitator="ivan", actor="ivan")
        # a refused change (#21 is not blocked) writes no outcome either
        with pytest.raises(InputError, match="not blocked"):
            changes.with_outcome(store, Outcome(meeting_id, "stuck", "item", "21", "unblocked"),
                                 changes.unblock_item, 21, actor="ivan", meeting_id=meeting_id)
        # an outcome that is not one of SPEC's refuses the change it came with
        with pytest.raises(InputError, match="not an outcome"):
            changes.with_outcome(store, Outcome(meeting_id, "stuck", "item", "21", "sorted"),
                                 changes.finish_item, 21, actor="ivan", meeting_id=meeting_id)
        assert read.item(store, 21).status == "open"
        assert read.outcomes(store, meeting_id) == {}
        # once the session is closed it takes no outcome
        changes.close_meeting(store, meeting_id, actor="ivan")
        with pytest.raises(InputError, match="closed"):
            changes.keep_as_is(store, Outcome(meeting_id, "stuck", "item", "21", "kept as is"), actor="ivan")
        assert read.outcomes(store, meeting_id) == {}


def test_an_items_due_date_is_set_or_cleared_inside_the_write(demo_db):
    from opsweek.errors import InputError
    from opsweek.store import changes

    with Store.open(demo_db) as store:
        changes.set_item_due(store, 1, date(2026, 12, 11), actor="ivan")
        assert read.item(store, 1).due == date(2026, 12, 11)
        with pytest.raises(InputError, match="already due 2026-12-11"):
            changes.set_item_due(store, 1, date(2026, 12, 11), actor="ivan")
        changes.set_item_due(store, 1, None, actor="ivan")
        assert read.item(store, 1).due is None
        with pytest.raises(InputError, match="has no due date"):
            changes.set_item_due(store, 1, None, actor="ivan")
        changes.finish_item(store, 13, actor="ivan")
        with pytest.raises(InputError, match="is done"):
            changes.set_item_due(store, 13, date(2026, 12, 11), actor="ivan")


async def test_each_present_attendee_rates_the_session_and_the_average_is_its_rating(demo_db, tmp_path):
    from opsweek.store import changes

    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        session = await open_step(pilot, 8)
        meeting_id = session.meeting_id
        present = sorted(h for h, here in session.present.items() if here)
        assert "gus" not in present  # away this week: absent, so never asked
        await press(pilot, "t")
        asked = []
        for handle in present:
            prompt = app.screen
            assert isinstance(prompt, TextPrompt)
            asked.append(prompt.title_text.split(":")[0])
            if handle == "ben":
                await press(pilot, "enter")  # ben skips
                continue
            await type_text(pilot, "11" if handle == "ana" else "7" if handle != "carla" else "10")
            await press(pilot, "enter")
            if handle == "ana":  # 11 is not a rating: said in the prompt; ana gives 9
                assert isinstance(app.screen, TextPrompt) and "is not a rating" in screen_text(app)
                await press(pilot, "backspace", "backspace")
                await type_text(pilot, "9")
                await press(pilot, "enter")
        assert app.screen is session and asked == present
        # ana 9, carla 10, five more 7s: (9 + 10 + 5 * 7) / 7 = 7.7
        assert "rated 7.7/10" in screen_text(app)

    with Store.open(demo_db) as store:
        ratings = read.attendee_ratings(store, meeting_id)
        assert ratings["ana"] == 9 and ratings["carla"] == 10 and "ben" not in ratings and "gus" not in ratings
        assert len(ratings) == len(present) - 1
        assert read.meeting_rating(store, read.meeting(store, meeting_id)) == 7.7
        text = notes.render(store, meeting_id)
        # someone absent cannot rate it
        with pytest.raises(Exception, match="absent"):
            changes.rate_as_attendee(store, meeting_id, "gus", 5, actor="ivan")
    assert "- **Rating:** 7.7/10, the average of 7 (ana 9, carla 10, dev 7, eve 7, fay 7, hana 7, ivan 7)" in text


def test_meetings_lists_the_average_rating(demo_db, capsys, monkeypatch):
    from opsweek.cli.main import main
    from opsweek.store import changes

    with Store.open(demo_db) as store:
        meeting_id = changes.start_meeting(store, read.team(store), facilitator="ivan", actor="ivan")
        changes.rate_as_attendee(store, meeting_id, "ana", 8, actor="ivan")
        changes.rate_as_attendee(store, meeting_id, "ben", 5, actor="ivan")
    capsys.readouterr()
    assert main(["--db", str(demo_db), "meetings", "--json"]) == 0
    import json

    rows = json.loads(capsys.readouterr().out)["meetings"]
    assert [r["rating"] for r in rows if r["id"] == meeting_id] == [6.5]


async def test_a_closed_session_offers_no_changing_keys(demo_db):
    from opsweek.store import changes

    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=(200, 45)) as pilot:
        session = await open_step(pilot, 4)
        footer = screen_text(app).splitlines()[-1]
        assert "Reassign" in footer and "Done" in footer and "Decision" in footer
        changes.close_meeting(app.store, session.meeting_id, actor="ivan")
        session.reload()
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
        assert not any(word in footer for word in ("Reassign", "Done", "Drop", "Keep", "Decision", "Action"))
        assert "Next step" in footer
        await press(pilot, "8")
        footer = screen_text(app).splitlines()[-1]
        assert "Export notes" in footer and "Rate" not in footer and "Close session" not in footer
