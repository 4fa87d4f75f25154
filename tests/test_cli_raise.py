"""Raising an issue from the shell: anyone on the team raises one between sessions, about an
item, a workflow or nothing in particular; the log says it in words, undo takes it back,
and bad input is one line, exit 2, with the database left as it was.

Clock frozen at Tuesday 2026-11-24 10:00 UTC (conftest.py); #13 is "Initech — billing
portal" in client-delivery.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from opsweek.cli.main import main
from opsweek.store import Store, read


@pytest.fixture(autouse=True)
def _no_forced_colour(monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)


def run(db: Path, capsys, *argv: str, me: str | None = "ana") -> tuple[int, str, str]:
    code = main(["--db", str(db), *(["--me", me] if me else []), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def issues(db: Path) -> list:
    with Store.open(db) as store:
        return read.open_issues(store)


def test_anyone_raises_an_issue_about_an_item_a_workflow_or_nothing(demo_db, capsys):
    code, out, err = run(demo_db, capsys, "raise", "The courier keeps losing parcels", "--item", "#13")
    assert (code, err) == (0, "")
    assert out == ("issue 1 raised by ana about #13 “Initech — billing portal”: “The courier keeps losing parcels”"
                   " (the next session's Issues step lists it)\n")
    code, out, _ = run(demo_db, capsys, "raise", "Hiring needs a second interviewer", "--workflow", "hiring",
                       me="ben")
    assert code == 0 and "issue 2 raised by ben about Hiring" in out
    code, out, _ = run(demo_db, capsys, "raise", "  Stand-ups run long  ", me="eve")
    assert code == 0 and out.startswith("issue 3 raised by eve: “Stand-ups run long”")

    found = issues(demo_db)
    assert [(i.id, i.text, i.raised_by, i.item_id, i.workflow, i.status, i.meeting_id) for i in found] == [
        (1, "The courier keeps losing parcels", "ana", 13, None, "open", None),
        (2, "Hiring needs a second interviewer", "ben", None, "hiring", "open", None),
        (3, "Stand-ups run long", "eve", None, None, "open", None),
    ]
    # raised between sessions: the next session to start is the first to list them
    assert {i.first_meeting for i in found} == {None}


def test_the_log_says_it_in_words_and_undo_takes_it_back(demo_db, capsys):
    run(demo_db, capsys, "raise", "The courier keeps losing parcels", "--item", "13")
    code, out, _ = run(demo_db, capsys, "log", "--limit", "1")
    assert code == 0
    assert "raised issue 1 “The courier keeps losing parcels” about #13  by ana  issue.raise" in out
    assert "issue 1 created: “The courier keeps losing parcels” about #13, raised by ana, open" in out
    code, out, _ = run(demo_db, capsys, "undo")
    assert code == 0 and out.startswith("undid: raised issue 1 “The courier keeps losing parcels” about #13 (change ")
    assert issues(demo_db) == []


def test_control_characters_are_removed_and_never_printed(demo_db, capsys):
    code, out, err = run(demo_db, capsys, "raise", "Printer \x1b[31mjams\x1b[0m\x07 again")
    assert (code, err) == (0, "")
    assert "\x1b" not in out and "\x07" not in out
    assert issues(demo_db)[0].text == "Printer [31mjams[0m again"


@pytest.mark.parametrize("argv, fragment", [
    (["raise", ""], "issue text is empty (accepted: any text)"),
    (["raise", "   "], "issue text is empty"),
    (["raise", "\x1b\x07\x00"], "issue text holds nothing but terminal control characters"),
    (["raise", "Lost parcels", "--item", "999"], "unknown item #999"),
    (["raise", "Lost parcels", "--item", "x1"], "is not an item number (accepted: 42 or #42)"),
    (["raise", "Lost parcels", "--workflow", "hirng"], "unknown workflow 'hirng' (did you mean: hiring)"),
    (["raise", "Lost parcels", "--item", "13", "--workflow", "hiring"],
     "an issue is about an item or a workflow, not both (accepted: --item N or --workflow W)"),
    (["--me", "nobody", "raise", "Lost parcels"], "--me: unknown person 'nobody'"),
    (["raise"], "the following arguments are required: TEXT"),
])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(demo_db, capsys, argv, fragment):
    before = digest(demo_db)
    code, out, err = run(demo_db, capsys, *argv)
    assert code == 2, (out, err)
    assert out == ""
    assert fragment in err and err.count("\n") == 1, err
    assert "Traceback" not in err and "\x1b" not in err
    assert digest(demo_db) == before
    assert issues(demo_db) == []


def test_mine_lists_the_open_issues_you_raised_and_its_json_is_unchanged(demo_db, capsys):
    run(demo_db, capsys, "raise", "The courier keeps losing parcels", "--item", "13")
    run(demo_db, capsys, "raise", "Hiring needs a second interviewer", me="ben")
    code, out, _ = run(demo_db, capsys, "mine")
    assert code == 0
    listed = out.split("Issues you raised that are open (1)\n", 1)[1]
    assert "The courier keeps losing parcels  #13" in listed and "second interviewer" not in out
    code, out, _ = run(demo_db, capsys, "mine", "--json")
    assert "courier keeps" not in out
