"""One rule, one answer: a bad value is refused with the same words wherever it is typed.

Each input rule of SPEC.md (a rating is a whole number 1–10, the what-if volume is
0.1–100, a block and a drop need a reason, an action needs an owner and is due in 7
days by default) is defined once, in :mod:`opsweek.inputs`. Here the same bad value is
typed at every place that takes it — the command line, the core, the session's dialogs,
the what-if screen, the team's CSV and the models — and each refuses it with the very
line the rule says, changing nothing.
"""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest
from pydantic import ValidationError
from textual.widgets import Input
from tui_support import press, settle, type_text

from opsweek import inputs
from opsweek.cli.main import main
from opsweek.errors import InputError
from opsweek.model import Entry, Item, Meeting, explain
from opsweek.store import Store, changes, read
from opsweek.tui.app import make_app
from opsweek.tui.modal.entry_dialog import EntryDialog
from opsweek.tui.modal.text_prompt import TextPrompt
from opsweek.tui.screens.steps.wrapup import parse_rating
from opsweek.tui.screens.whatif import parse_volume

BAD_RATINGS = ["11", "0", "-3", "7.5", "ten", ""]
BAD_VOLUMES = ["0.05", "0", "101", "-2", "lots", "nan", "2y"]
EMPTY_REASONS = ["", "   ", "\x1b\x07"]  # nothing but terminal control characters is nothing too
SIZE = (130, 40)


def refusal(check, value) -> str:
    """The one line the rule says about ``value``."""
    with pytest.raises(InputError) as error:
        check(value)
    return str(error.value)


def rows(db) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def cli(db, capsys, *argv: str) -> tuple[int, str]:
    code = main(["--db", str(db), *argv])
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    return code, err


# --- the rules themselves ---------------------------------------------------------------


def test_the_rules_say_what_they_accept():
    assert [inputs.check_rating(v) for v in (1, 10, "7", " 3 ")] == [1, 10, 7, 3]
    assert refusal(inputs.check_rating, "11") == "'11' is not a rating (accepted: a whole number 1–10)"
    assert refusal(inputs.check_rating, 11) == refusal(inputs.check_rating, "11")  # a number or typed text alike
    assert refusal(inputs.check_rating, True).endswith("is not a rating (accepted: a whole number 1–10)")
    assert [inputs.check_volume(v) for v in ("0.1", "100", "2x", "x1.5", "1.5X", 3)] == [0.1, 100, 2, 1.5, 1.5, 3]
    assert refusal(inputs.check_volume, "lots") == ("'lots' is not a multiplier"
                                                    " (accepted: a number from 0.1 to 100, like 1.5 or 2x)")
    assert refusal(inputs.check_volume, "101") == ("'101' is out of range"
                                                   " (accepted: a number from 0.1 to 100, like 1.5 or 2x)")
    assert inputs.check_block_reason("  waiting on legal ") == "waiting on legal"
    assert refusal(inputs.check_block_reason, " ") == ("reason is empty: a block needs a reason"
                                                       " (accepted: any text saying why)")
    assert refusal(inputs.check_drop_reason, None) == ("reason is empty: a drop needs a reason"
                                                       " (accepted: any text saying why)")
    assert refusal(inputs.check_action_owner, " ") == "an action needs an owner (accepted: a person's handle)"
    assert inputs.action_due(date(2026, 11, 24)) == date(2026, 12, 1)
    assert inputs.action_due(date(2026, 11, 24), date(2026, 11, 27)) == date(2026, 11, 27)


# --- a rating ---------------------------------------------------------------------------


@pytest.mark.parametrize("typed", BAD_RATINGS)
def test_a_bad_rating_gets_the_same_answer_from_the_core_the_prompt_and_the_model(typed, demo_db):
    said = refusal(inputs.check_rating, typed)
    with Store.open(demo_db) as store:
        meeting = changes.start_meeting(store, read.team(store), facilitator="ana", actor="ana")
        before = rows(demo_db)
        given = int(typed) if typed.lstrip("-").isdigit() else typed
        assert refusal(lambda v: changes.rate_meeting(store, meeting, v, actor="ana"), given) == said
        assert rows(demo_db) == before
    assert parse_rating(typed) == said  # what the wrap-up prompt shows under the field
    with pytest.raises(ValidationError) as error:
        Meeting.model_validate({"week": "2026-W48", "started_at": "2026-11-24T10:00:00Z", "rating": typed})
    assert explain(error.value).endswith(said)


# --- the what-if volume -----------------------------------------------------------------


@pytest.mark.parametrize("typed", BAD_VOLUMES)
def test_a_bad_volume_gets_the_same_answer_from_the_cli_and_the_whatif_screen(typed, demo_db, capsys):
    said = refusal(inputs.check_volume, typed)
    code, err = cli(demo_db, capsys, "whatif", "--away", "ana", "--volume", typed)
    assert code == 2 and err == f"opsweek: argument --volume: {said} (see 'opsweek whatif --help')\n"
    assert refusal(parse_volume, typed) == said


def test_the_whatif_volume_runs_from_a_tenth_to_a_hundred_times_the_work(demo_db, capsys):
    for typed in ("0.1", "100"):
        assert main(["--db", str(demo_db), "whatif", "--away", "ana", "--volume", typed, "--json"]) == 0
        capsys.readouterr()
    assert parse_volume("") == 1.0  # an empty field on the screen is this week's work


async def test_the_whatif_screen_shows_the_rule_for_a_volume_it_refuses(demo_db):
    app = make_app(demo_db, me="ivan")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.show("whatif")
        await settle(pilot)
        volume = app.screen.query_one("#whatif-volume", Input)
        volume.value = "0.05"
        await settle(pilot)
        summary = str(app.screen.query_one("#whatif-summary").render())
        assert summary == "volume: " + refusal(inputs.check_volume, "0.05")


# --- a block and a drop need a reason -----------------------------------------------------


@pytest.mark.parametrize("reason", EMPTY_REASONS)
def test_a_block_without_a_reason_gets_the_same_answer_everywhere(reason, demo_db, capsys, tmp_path):
    said = refusal(inputs.check_block_reason, reason)
    before = rows(demo_db)
    code, err = cli(demo_db, capsys, "--me", "ben", "block", "31", "--reason", reason)
    assert code == 2 and err == f"opsweek: {said}\n"
    with Store.open(demo_db) as store:
        assert refusal(lambda r: changes.block_item(store, 31, r, actor="ben"), reason) == said
    # a blocked row in the team's CSV
    csv = tmp_path / "items.csv"
    csv.write_text("workflow,stage,title,owner,status,blocked_reason\n"
                   f'complaints,triage,Refund missing,ben,blocked,"{reason}"\n', encoding="utf-8")
    code, err = cli(demo_db, capsys, "import", str(csv))
    assert code == 2 and err.rstrip("\n").endswith(f"line 2, column blocked_reason: {said}")
    with pytest.raises(ValidationError) as error:
        Item.model_validate({"workflow": "complaints", "stage": "triage", "title": "X", "status": "blocked",
                             "blocked_reason": reason})
    assert explain(error.value).endswith(said)
    assert rows(demo_db) == before


@pytest.mark.parametrize("reason", EMPTY_REASONS)
def test_a_drop_without_a_reason_gets_the_same_answer_from_the_cli_and_the_core(reason, demo_db, capsys):
    said = refusal(inputs.check_drop_reason, reason)
    before = rows(demo_db)
    code, err = cli(demo_db, capsys, "--me", "ben", "drop", "31", "--reason", reason)
    assert code == 2 and err == f"opsweek: {said}\n"
    with Store.open(demo_db) as store:
        assert refusal(lambda r: changes.drop_item(store, 31, r, actor="ben"), reason) == said
    assert rows(demo_db) == before


# --- an action needs an owner, and is due in 7 days unless told ---------------------------


def test_an_action_without_an_owner_gets_the_same_answer_from_the_core_and_the_model(demo_db):
    said = refusal(inputs.check_action_owner, None)
    with Store.open(demo_db) as store:
        team = read.team(store)
        before = rows(demo_db)
        for owner in (None, "", "  "):
            assert refusal(lambda o: changes.record_entry(store, team, "action", "Call the courier",
                                                          meeting_id=None, owner=o, actor="ana"), owner) == said
        assert rows(demo_db) == before
    with pytest.raises(ValidationError) as error:
        Entry.model_validate({"kind": "action", "text": "Call the courier"})
    assert explain(error.value).endswith(said)


def test_an_action_is_due_in_seven_days_unless_told(demo_db, frozen_now):
    in_a_week = inputs.action_due(frozen_now.date())
    assert in_a_week == date(2026, 12, 1)
    with Store.open(demo_db) as store:
        team = read.team(store)
        entry = changes.record_entry(store, team, "action", "Call the courier", meeting_id=None, owner="ben",
                                     actor="ana")
        assert read.entry(store, entry).due == in_a_week
        told = changes.record_entry(store, team, "action", "Call again", meeting_id=None, owner="ben",
                                    due=date(2026, 11, 26), actor="ana")
        changes.carry_action(store, told, meeting_id=None, actor="ana")  # carried over: a week from today
        assert read.entry(store, told).due == in_a_week


async def test_the_session_dialogs_refuse_with_the_rules_words(demo_db):
    """In one session: a block with no reason, an action with no owner (whose due date the
    dialog shows as a week out), and a rating of 11 — each dialog stays open and says why."""
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        meeting_id = app.screen.meeting_id
        await press(pilot, "4", "b")  # stuck items: block the first one
        prompt = app.screen
        assert isinstance(prompt, TextPrompt)
        await press(pilot, "enter")
        assert app.screen is prompt
        assert str(prompt.query_one("#prompt-problem").render()) == refusal(inputs.check_block_reason, "")
        await press(pilot, "escape", "a")
        dialog = app.screen
        assert isinstance(dialog, EntryDialog)
        assert str(dialog.query_one("#entry-due-shown").render()) == "→ Tue 2026-12-01"
        await type_text(pilot, "Call the candidate")
        await press(pilot, "tab", "end", "ctrl+u")  # clear the owner the item suggested (eve)
        await press(pilot, "enter")
        assert app.screen is dialog
        assert str(dialog.query_one("#entry-problem").render()).startswith(
            refusal(inputs.check_action_owner, ""))
        await press(pilot, "escape", "8", "r")  # wrap-up: rate the session
        prompt = app.screen
        assert isinstance(prompt, TextPrompt)
        await type_text(pilot, "11")
        await press(pilot, "enter")
        assert app.screen is prompt
        assert str(prompt.query_one("#prompt-problem").render()) == refusal(inputs.check_rating, "11")
        await press(pilot, "escape")
    with Store.open(demo_db) as store:  # none of the three was written
        assert store.scalar("SELECT count(*) FROM events WHERE meeting_id = ?"
                            " AND action IN ('item.block', 'entry.action', 'meeting.rate')", (meeting_id,)) == 0
