"""Bad input never changes anything: exit 2, one clear line on stderr naming what was
wrong (with near matches for names), nothing on stdout, and the database as it was."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from opsweek.cli.main import main


def dump(db: Path) -> list[str]:
    """Every row of every table (the audit log included), read from a fresh connection."""
    conn = sqlite3.connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


@pytest.fixture
def team_db(demo_db, capsys) -> Path:
    """The demo team with handoff 9 (#33 to ana) already accepted."""
    assert main(["--db", str(demo_db), "--me", "ana", "accept", "9"]) == 0
    capsys.readouterr()
    return demo_db


ERRORS = [
    # (what, argv after --db, what the one line must say)
    ("unknown item", ["--me", "ben", "done", "999"], "unknown item #999"),
    ("unknown item to hand off", ["--me", "ben", "handoff", "999"], "unknown item #999"),
    ("unknown item in the log", ["log", "--item", "999"], "unknown item #999"),
    ("unknown handoff", ["--me", "ana", "accept", "999"], "unknown handoff 999"),
    ("unknown handle", ["--me", "ben", "reassign", "31", "--to", "anna"],
     "unknown person 'anna' (did you mean: ana"),
    ("unknown owner for a new item", ["--me", "ben", "add", "complaints", "x", "--owner", "bne"],
     "unknown person 'bne' (did you mean: ben"),
    ("unknown handle as --me", ["--me", "bne", "block", "31", "--reason", "x"],
     "--me: unknown person 'bne' (did you mean: ben"),
    ("unknown handle in whatif", ["whatif", "--away", "ana,evee"], "unknown person 'evee' (did you mean: eve"),
    ("unknown stage", ["--me", "ben", "handoff", "31", "--to", "investgate"],
     "unknown stage of complaints 'investgate' (did you mean: investigate)"),
    ("unknown workflow", ["--me", "ben", "add", "complaint", "Parcel lost"],
     "unknown workflow 'complaint' (did you mean: complaints"),
    ("bad date", ["--me", "ben", "add", "complaints", "Parcel lost", "--due", "someday"],
     "--due: 'someday' is not a date (accepted: 2026-12-01, 1 Dec, +3d, fri)"),
    ("impossible date", ["--me", "ben", "add", "complaints", "Parcel lost", "--due", "2026-02-30"],
     "--due: '2026-02-30' is not a date"),
    ("bad relative date", ["--me", "ben", "add", "complaints", "Parcel lost", "--due", "+3q"],
     "--due: '+3q' is not a date"),
    ("accepting an accepted handoff", ["--me", "ana", "accept", "9"], "handoff 9 was already accepted by ana"),
    ("handing off a done item", ["--me", "ben", "handoff", "41"], "item #41 is done"),
    ("handoff to the same stage", ["--me", "ben", "handoff", "31", "--to", "triage"],
     "item #31 is already in triage"),
    ("reassigning to the current owner", ["--me", "ben", "reassign", "31", "--to", "ben"],
     "item #31 is already owned by ben"),
    ("handoff to a stage with no owner", ["--me", "ivan", "handoff", "6"],
     "stage hiring/references has no owner; name who receives it (--owner HANDLE)"),
    ("handoff while one waits", ["--me", "ben", "handoff", "36"], "item #36 already has handoff 10"),
    ("blocking a done item", ["--me", "ben", "block", "41", "--reason", "x"], "item #41 is done"),
    ("unblocking an open item", ["--me", "ben", "unblock", "31"], "item #31 is not blocked"),
    ("dropping without a reason", ["--me", "ben", "drop", "31", "--reason", "  "], "reason is empty"),
    ("an empty title", ["--me", "ben", "add", "complaints", " "], "title is empty"),
    ("an inactive owner", ["--me", "ben", "reassign", "31", "--to", "jo"], "jo is inactive"),
    ("nothing to undo", ["--me", "hana", "undo"], "nothing of hana's to undo"),
    ("not an item number", ["--me", "ben", "done", "x1"], "'x1' is not an item number (accepted: 42 or #42)"),
    ("missing reason", ["--me", "ben", "block", "31"], "the following arguments are required: --reason"),
    ("whatif with no one away", ["whatif", "--away", ","], "--away: no handles given"),
    ("bad volume", ["whatif", "--away", "ana", "--volume", "lots"], "'lots' is not a multiplier"),
    ("mine for nobody known", ["mine", "--me", "anna"], "--me: unknown person 'anna' (did you mean: ana"),
]


@pytest.mark.parametrize("argv, expected", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_bad_input_is_one_line_exit_2_and_nothing_written(team_db, capsys, argv, expected):
    before = dump(team_db)
    code = main(["--db", str(team_db), *argv])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("opsweek: "), err
    assert expected in err
    assert "Traceback" not in err
    assert dump(team_db) == before


def test_no_database_is_exit_3_and_creates_nothing(tmp_path, capsys):
    missing = tmp_path / "nowhere.db"
    code = main(["--db", str(missing), "--me", "ben", "done", "1"])
    _, err = capsys.readouterr()
    assert code == 3 and "no opsweek database" in err and not missing.exists()


@pytest.mark.parametrize("argv, expected", [
    (["--me", "ben", "reassign", "31", "--to", "anna"], "did you mean: ana"),
    (["--me", "ana", "accept", "9"], "already accepted"),
    (["--me", "ben", "add", "complaints", "x", "--due", "31 Foo"], "is not a date"),
])
def test_real_command_errors_are_one_line_without_traceback(team_db, argv, expected):
    before = dump(team_db)
    env = {k: v for k, v in os.environ.items() if k != "OPSWEEK_DEBUG"}
    result = subprocess.run([sys.executable, "-m", "opsweek", "--db", str(team_db), *argv], capture_output=True,
                            text=True, timeout=60, env=env)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and expected in result.stderr
    assert dump(team_db) == before
