"""Import of the team TOML and items CSV as SPEC.md writes them, and every bad input we
could think of for ``opsweek import``, ``init`` and ``demo``: exit 2 or 3, one line on
stderr, no traceback, and the database byte-identical."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from opsweek.cli.main import main

# SPEC.md's team file example, completed with the people and stage it refers to.
TEAM_TOML = """\
[settings]
handoff_sla = "48h"
stale_after = "7d"

[[people]]
handle = "ana"
name = "Ana Ruiz"
role = "Support lead"
cover = "ben"
away = [{ from = "2026-12-01", to = "2026-12-05" }]

[[people]]
handle = "ben"
name = "Ben Okafor"
role = "Support specialist"

[[workflows]]
key = "complaints"
name = "Customer complaints"
outcome = "Every complaint resolved within 5 days"
owner = "ana"
trigger = "A complaint arrives in the support inbox"

[[workflows.stages]]
key = "triage"
name = "Triage"
owner = "ben"
sop = "https://wiki.example.com/sop/complaint-triage"
max_days = 1
handoff_sla = "24h"

[[workflows.stages]]
key = "resolve"
name = "Resolve"
owner = "ana"
max_days = 3
handoff_sla = "2bd"
"""

HEADER = ("workflow,stage,title,owner,status,opened,stage_entered,last_activity,due,ref,"
          "blocked_reason,handoff_to,handoff_owner,handoff_sent")
ROW_OK = "complaints,triage,Refund not received,ben,open,-3d,-3d,-36h,2026-11-30,ZD-101,,resolve,ana,-30h"
ROW_BLOCKED = ("complaints,resolve,Broken login,ana,blocked,2026-11-20T09:00:00Z,-2d,-2d,,ZD-102,"
               "Waiting on vendor,,,")
ROW_DONE = "complaints,resolve,Old ticket,ana,done,-20d,-10d,-9d,,ZD-090,,,,"
ITEMS_CSV = "\n".join([HEADER, ROW_OK, ROW_BLOCKED, ROW_DONE]) + "\n"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(err: str, *fragments: str) -> None:
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("opsweek: ") and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"


@pytest.fixture
def files(tmp_path):
    team = tmp_path / "team.toml"
    team.write_text(TEAM_TOML, encoding="utf-8")
    items = tmp_path / "items.csv"
    items.write_text(ITEMS_CSV, encoding="utf-8")
    return team, items


@pytest.fixture
def loaded(tmp_path, files, frozen_now, capsys):
    """A database holding the SPEC.md example team and items; returns its path."""
    db = tmp_path / "db" / "opsweek.db"
    code, _, err = run(capsys, "--db", db, "import", *files)
    assert code == 0, err
    return db


# --- the happy path ----------------------------------------------------------------------


def test_init_then_import_of_spec_examples(tmp_path, files, frozen_now, capsys):
    db = tmp_path / "new" / "opsweek.db"
    code, out, _ = run(capsys, "--db", db, "init")
    assert code == 0 and "created" in out
    code, out, err = run(capsys, "--db", db, "import", *files)
    assert code == 0, err
    assert "2 people" in out and "3 items" in out and "1 handoffs" in out

    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        items = conn.execute("SELECT title, owner, status, opened_at, stage_entered_at, last_activity_at,"
                             " due, ref, blocked_reason, closed_at FROM items ORDER BY id").fetchall()
        handoffs = conn.execute("SELECT item_id, from_stage, from_owner, to_stage, to_owner, sent_at, due_at,"
                                " accepted_at FROM handoffs").fetchall()
        away = conn.execute("SELECT handle, start, end FROM away").fetchall()
        settings = dict(conn.execute("SELECT key, value FROM settings").fetchall())
        stages = conn.execute("SELECT key, position, owner, sop, max_days, handoff_sla FROM stages"
                              " ORDER BY position").fetchall()
        events = conn.execute("SELECT count(*), count(DISTINCT change_id) FROM events").fetchone()
    finally:
        conn.close()
    # relative times resolved against the frozen clock (Tuesday 2026-11-24 10:00 UTC)
    assert items[0] == ("Refund not received", "ben", "open", "2026-11-21T10:00:00Z", "2026-11-21T10:00:00Z",
                        "2026-11-22T22:00:00Z", "2026-11-30", "ZD-101", None, None)
    assert items[1][2:5] == ("blocked", "2026-11-20T09:00:00Z", "2026-11-22T10:00:00Z")
    assert items[1][8] == "Waiting on vendor"
    assert items[2][2] == "done" and items[2][9] is not None
    # the pending handoff: sent 30h ago, due after the receiving stage's SLA (2 business days)
    assert handoffs == [(1, "triage", "ben", "resolve", "ana", "2026-11-23T04:00:00Z",
                         "2026-11-25T04:00:00Z", None)]
    assert away == [("ana", "2026-12-01", "2026-12-05")]
    assert settings == {"handoff_sla": "48h", "stale_after": "7d"}
    assert stages == [("triage", 1, "ben", "https://wiki.example.com/sop/complaint-triage", 1.0, "24h"),
                      ("resolve", 2, "ana", None, 3.0, "2bd")]
    # one change, with an event per row written
    assert events[1] == 1  # init wrote nothing; the import is one change
    assert events[0] == 2 + 1 + 2 + 1 + 3 + 1 + 2  # people, away, stages, workflow, items, handoff, settings


def test_import_into_a_missing_database_creates_it_0600(tmp_path, files, frozen_now, capsys):
    db = tmp_path / "deep" / "er" / "opsweek.db"
    code, _, err = run(capsys, "--db", db, "import", *files)
    assert code == 0, err
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700


def test_opsweek_db_env_is_honoured(tmp_path, files, frozen_now, capsys, monkeypatch):
    db = tmp_path / "env.db"
    monkeypatch.setenv("OPSWEEK_DB", str(db))
    code, _, err = run(capsys, "import", *files)
    assert code == 0, err
    assert sqlite3.connect(db).execute("SELECT count(*) FROM items").fetchone()[0] == 3


def test_team_then_items_in_separate_imports(tmp_path, files, frozen_now, capsys):
    db = tmp_path / "two.db"
    team, items = files
    assert run(capsys, "--db", db, "import", team)[0] == 0
    assert run(capsys, "--db", db, "import", items)[0] == 0
    assert sqlite3.connect(db).execute("SELECT count(*) FROM items").fetchone()[0] == 3


def test_reimporting_a_team_file_updates_it(loaded, tmp_path, capsys):
    team = tmp_path / "team2.toml"
    team.write_text(TEAM_TOML.replace('name = "Ben Okafor"', 'name = "Benjamin Okafor"')
                    .replace('away = [{ from = "2026-12-01", to = "2026-12-05" }]', ""), encoding="utf-8")
    code, _, err = run(capsys, "--db", loaded, "import", team)
    assert code == 0, err
    conn = sqlite3.connect(loaded)
    assert conn.execute("SELECT name FROM people WHERE handle = 'ben'").fetchone()[0] == "Benjamin Okafor"
    assert conn.execute("SELECT count(*) FROM away").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM people").fetchone()[0] == 2


def test_csv_quirks_are_accepted(tmp_path, files, frozen_now, capsys):
    """A BOM, CRLF line ends, a quoted multi-line title, blank lines and columns in any order."""
    db = tmp_path / "quirks.db"
    team, _ = files
    items = tmp_path / "quirky.csv"
    text = ('title,workflow,stage\r\n"Two\nlines, and a comma",complaints,triage\r\n\r\n'
            "Plain,complaints,resolve\r\n")
    items.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    code, _, err = run(capsys, "--db", db, "import", team, items)
    assert code == 0, err
    rows = sqlite3.connect(db).execute("SELECT title, owner, status, opened_at FROM items ORDER BY id").fetchall()
    # defaults: open, opened now, and no owner unless given
    assert rows == [("Two\nlines, and a comma", None, "open", "2026-11-24T10:00:00Z"),
                    ("Plain", None, "open", "2026-11-24T10:00:00Z")]


def test_control_characters_are_removed_from_imported_text(tmp_path, files, frozen_now, capsys):
    db = tmp_path / "ctl.db"
    team, _ = files
    items = tmp_path / "ctl.csv"
    items.write_text("workflow,stage,title\ncomplaints,triage,\x1b[31mRed\x07 alert\x9b\n", encoding="utf-8")
    assert run(capsys, "--db", db, "import", team, items)[0] == 0
    assert sqlite3.connect(db).execute("SELECT title FROM items").fetchone()[0] == "[31mRed alert"


# --- all or nothing ------------------------------------------------------------------------


def test_a_bad_row_rejects_the_whole_file_and_the_database_stays_byte_identical(loaded, tmp_path, capsys):
    before = digest(loaded)
    bad = tmp_path / "more.csv"
    bad.write_text("\n".join([HEADER, ROW_OK, ROW_BLOCKED,
                              "complaints,triage,Third,ben,open,-1d,,,31 Febtember,,,,,", ROW_OK]) + "\n",
                   encoding="utf-8")
    code, _, err = run(capsys, "--db", loaded, "import", bad)
    assert code == 2
    assert_one_line(err, "more.csv", "line 4", "column due", "'31 Febtember' is not a date", "accepted")
    assert digest(loaded) == before
    assert sqlite3.connect(loaded).execute("SELECT count(*) FROM items").fetchone()[0] == 3


def test_a_bad_items_file_also_rejects_the_team_file_of_the_same_import(tmp_path, files, frozen_now, capsys):
    db = tmp_path / "fresh.db"
    assert run(capsys, "--db", db, "init")[0] == 0
    before = digest(db)
    team, _ = files
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{HEADER}\n{ROW_OK}\ncomplaints,triage,X,zed,open,,,,,,,,,\n", encoding="utf-8")
    code, _, err = run(capsys, "--db", db, "import", team, bad)
    assert code == 2
    assert_one_line(err, "bad.csv", "line 3", "column owner", "unknown person 'zed'")
    assert digest(db) == before
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM people").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 0


def test_a_failed_first_import_leaves_no_database_behind(tmp_path, files, frozen_now, capsys):
    db = tmp_path / "never.db"
    team, _ = files
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{HEADER}\nnope,triage,X,,,,,,,,,,,\n", encoding="utf-8")
    code, _, err = run(capsys, "--db", db, "import", team, bad)
    assert code == 2
    assert_one_line(err, "bad.csv", "line 2", "column workflow", "unknown workflow 'nope'")
    assert not db.exists() and not Path(f"{db}-wal").exists()


# --- every bad team file --------------------------------------------------------------------

PERSON = '[[people]]\nhandle = "cy"\nname = "Cy"\n'

BAD_TEAM = {
    "not UTF-8": (b'[[people]]\nhandle = "\xff"\n', ["not UTF-8"]),
    "not TOML": ("[[people]\nhandle = 'x'\n", ["not valid TOML", "line 1"]),
    "unknown section": ("[teams]\nx = 1\n", ["unknown section 'teams'", "accepted: settings, people, workflows"]),
    "unknown person field": (PERSON + "email = 'cy@example.com'\n", ["people[1] email", "not a known field"]),
    "unknown setting": ('[settings]\nsla = "48h"\n', ["settings sla", "not a known field"]),
    "bad handle": ('[[people]]\nhandle = "Cy Young"\nname = "Cy"\n', ["people[1] handle", "not a slug", "accepted"]),
    "empty handle": ('[[people]]\nhandle = ""\nname = "Cy"\n', ["people[1] handle", "not a slug"]),
    "missing name": ('[[people]]\nhandle = "cy"\n', ["people[1] name", "is required"]),
    "duplicate handle": (PERSON + PERSON, ["person 'cy' is listed twice"]),
    "unknown cover": (PERSON + 'cover = "zed"\n', ["people[1] cover", "unknown person 'zed'"]),
    "own cover": (PERSON + 'cover = "cy"\n', ["cy cannot cover for themselves"]),
    "bad away": (PERSON + 'away = [{ from = "2026-12-05", to = "2026-12-01" }]\n', ["people[1]", "before it starts"]),
    "away not a date": (PERSON + 'away = [{ from = "soon", to = "2026-12-01" }]\n', ["'soon' is not a date"]),
    "active not bool": (PERSON + 'active = "maybe"\n', ["people[1] active", "'maybe' is not true/false"]),
    "people not a list": ('people = "ana"\n', ["people must be a list"]),
    "person not a table": ("people = [1]\n", ["people[1]", "1 is not a table"]),
    "away not a list": (PERSON + 'away = "2026-12-01"\n', ["people[1] away", "is not a list"]),
    "away without end": (PERSON + 'away = [{ from = "2026-12-01" }]\n', ["people[1] away.0.to", "is required"]),
    "handle not text": ('[[people]]\nhandle = 5\nname = "Cy"\n', ["people[1] handle", "5 is not text"]),
    "settings not a table": ("settings = 5\n", ["[settings] must be a table"]),
    "stages not a list": ('[[workflows]]\nkey = "w"\nname = "W"\nstages = "x"\n', ["stages must be a list"]),
    "unknown owner": ('[[workflows]]\nkey = "w"\nname = "W"\nowner = "zed"\n',
                      ["workflows[1] owner", "unknown person 'zed'"]),
    "unknown stage owner": ('[[workflows]]\nkey = "w"\nname = "W"\n[[workflows.stages]]\nkey = "s"\nname = "S"\n'
                            'owner = "zed"\n', ["workflows[1].stages[1] owner", "unknown person 'zed'"]),
    "bad workflow status": ('[[workflows]]\nkey = "w"\nname = "W"\nstatus = "on"\n',
                            ["workflows[1] status", "'on' is not allowed"]),
    "duplicate workflow": ('[[workflows]]\nkey = "w"\nname = "W"\n[[workflows]]\nkey = "w"\nname = "W"\n',
                           ["workflow 'w' is listed twice"]),
    "duplicate stage": ('[[workflows]]\nkey = "w"\nname = "W"\n[[workflows.stages]]\nkey = "s"\nname = "S"\n'
                        '[[workflows.stages]]\nkey = "s"\nname = "S"\n', ["stage 's' is listed twice"]),
    "bad duration setting": ('[settings]\nhandoff_sla = "soon"\n',
                             ["settings handoff_sla", "'soon' is not a duration", "48h"]),
    "bad stage sla": ('[[workflows]]\nkey = "w"\nname = "W"\n[[workflows.stages]]\nkey = "s"\nname = "S"\n'
                      'handoff_sla = "2x"\n', ["workflows[1].stages[1] handoff_sla", "'2x' is not a duration"]),
    "max_days zero": ('[[workflows]]\nkey = "w"\nname = "W"\n[[workflows.stages]]\nkey = "s"\nname = "S"\n'
                      'max_days = 0\n', ["workflows[1].stages[1] max_days"]),
    "max_days text": ('[[workflows]]\nkey = "w"\nname = "W"\n[[workflows.stages]]\nkey = "s"\nname = "S"\n'
                      'max_days = "three"\n', ["max_days", "'three' is not a number"]),
    "unknown step": ('[settings]\nstep_minutes = { coffee = 5 }\n', ["'coffee' is not a step"]),
}


@pytest.mark.parametrize("case", sorted(BAD_TEAM))
def test_bad_team_file(case, loaded, tmp_path, capsys):
    content, fragments = BAD_TEAM[case]
    bad = tmp_path / "bad team.toml"
    if isinstance(content, bytes):
        bad.write_bytes(content)
    else:
        bad.write_text(content, encoding="utf-8")
    before = digest(loaded)
    code, out, err = run(capsys, "--db", loaded, "import", bad)
    assert code == 2
    assert out == ""
    assert_one_line(err, "bad team.toml", *fragments)
    assert digest(loaded) == before


# --- every bad items file -----------------------------------------------------------------------


def row(**cells) -> str:
    base = dict(workflow="complaints", stage="triage", title="X", owner="ben", status="open", opened="-1d",
                stage_entered="", last_activity="", due="", ref="", blocked_reason="", handoff_to="",
                handoff_owner="", handoff_sent="")
    base.update(cells)
    return ",".join(base.values())


BAD_ITEMS = {
    "missing column": ("workflow,stage,owner\ncomplaints,triage,ben\n", ["line 1", "missing column 'title'"]),
    "unknown column": (f"{HEADER},colour\n{ROW_OK},red\n", ["line 1", "unknown column 'colour'", "accepted"]),
    "column twice": ("workflow,stage,title,title\ncomplaints,triage,a,b\n", ["line 1", "named twice"]),
    "empty file": ("", ["empty file", "header row is required"]),
    "too few cells": (f"{HEADER}\n{ROW_OK}\ncomplaints,triage,Short\n", ["line 3", "3 cells, the header has 14"]),
    "too many cells": (f"{HEADER}\n{ROW_OK},extra\n", ["line 2", "15 cells, the header has 14"]),
    "unknown workflow": (f"{HEADER}\n{ROW_OK}\n{row(workflow='nope')}\n", ["line 3", "column workflow",
                                                                           "unknown workflow 'nope'"]),
    "unknown stage": (f"{HEADER}\n{row(stage='nope')}\n", ["line 2", "column stage", "'nope' is not a stage"]),
    "unknown owner": (f"{HEADER}\n{row(owner='zed')}\n", ["line 2", "column owner", "unknown person 'zed'"]),
    "empty workflow": (f"{HEADER}\n{row(workflow='')}\n", ["line 2", "column workflow", "is required"]),
    "empty title": (f"{HEADER}\n{row(title='')}\n", ["line 2", "column title", "is required"]),
    "bad due": (f"{HEADER}\n{row(due='31/31/2026')}\n", ["line 2", "column due", "not a date", "accepted"]),
    "bad opened": (f"{HEADER}\n{row(opened='yesterday')}\n", ["line 2", "column opened", "not a time", "-3d"]),
    "bad stage_entered": (f"{HEADER}\n{row(stage_entered='2026-13-01')}\n", ["column stage_entered", "not a time"]),
    "bad last_activity": (f"{HEADER}\n{row(last_activity='-3x')}\n", ["column last_activity", "not a time"]),
    "opened in the future": (f"{HEADER}\n{row(opened='+3d')}\n", ["line 2", "column opened", "in the future"]),
    "entered before opened": (f"{HEADER}\n{row(opened='-1d', stage_entered='-2d')}\n",
                              ["column stage_entered", "before the item was opened"]),
    "bad status": (f"{HEADER}\n{row(status='closed')}\n", ["line 2", "column status", "'closed' is not allowed",
                                                          "'open'"]),
    "blocked without reason": (f"{HEADER}\n{row(status='blocked')}\n", ["line 2", "column blocked_reason",
                                                                        "needs a reason"]),
    "bad handoff stage": (f"{HEADER}\n{row(handoff_to='nope')}\n", ["column handoff_to", "'nope' is not a stage"]),
    "handoff to own stage": (f"{HEADER}\n{row(handoff_to='triage')}\n", ["column handoff_to", "already in triage"]),
    "handoff of a done item": (f"{HEADER}\n{row(status='done', handoff_to='resolve')}\n",
                               ["column handoff_to", "a done item cannot have a pending handoff"]),
    "unknown handoff owner": (f"{HEADER}\n{row(handoff_to='resolve', handoff_owner='zed')}\n",
                              ["column handoff_owner", "unknown person 'zed'"]),
    "bad handoff_sent": (f"{HEADER}\n{row(handoff_to='resolve', handoff_sent='later')}\n",
                         ["column handoff_sent", "'later' is not a time"]),
    "handoff owner without stage": (f"{HEADER}\n{row(handoff_owner='ana')}\n", ["column handoff_to", "needed"]),
}


@pytest.mark.parametrize("case", sorted(BAD_ITEMS))
def test_bad_items_file(case, loaded, tmp_path, capsys):
    content, fragments = BAD_ITEMS[case]
    bad = tmp_path / "bad-items.csv"
    bad.write_text(content, encoding="utf-8")
    before = digest(loaded)
    code, out, err = run(capsys, "--db", loaded, "import", bad)
    assert code == 2
    assert out == ""
    assert_one_line(err, "bad-items.csv", *fragments)
    assert digest(loaded) == before


@pytest.mark.parametrize("chunk", [2, 5_000])
def test_a_problem_after_cells_over_several_lines_names_its_line(chunk, loaded, tmp_path, capsys, monkeypatch):
    """A quoted cell's line breaks (\\n, \\r\\n, \\r) count as lines: the row after them
    is named by the line it is on, read a block at a time or all at once."""
    from opsweek import importing

    monkeypatch.setattr(importing, "CHUNK", chunk)
    over_lines = [row(title='"a\nb"'), row(title='"c\r\nd\re"'), row(ref='"x\n\ny"')]  # lines 2-3, 4-6, 7-9
    long_title = '"' + ("t" * 40_000 + "\n") * 2 + '"'  # 80 KB, no line of it over 64 KB
    cases = [
        (row(owner="zed"), ["line 10", "column owner", "unknown person 'zed'"]),
        (row(title=long_title), ["line 12", "the row is too long"]),
        (row(title='"' + "x" * 140_000 + '"'), ["line 10", "not valid CSV", "field larger than field limit"]),
        (",".join([""] * 14) + "\n" + row(status="closed"), ["line 11", "column status"]),
    ]
    before = digest(loaded)
    for last, fragments in cases:
        bad = tmp_path / "lines.csv"
        bad.write_bytes("\n".join([HEADER, *over_lines, last, ""]).encode())
        code, out, err = run(capsys, "--db", loaded, "import", bad)
        assert code == 2 and out == "", err
        assert_one_line(err, "lines.csv", *fragments)
    for chunk_start in ([], over_lines[:1]):  # the long row first in its block, or after one
        bad = tmp_path / "lines.csv"
        bad.write_bytes("\n".join([HEADER, *chunk_start, row(title=long_title), row(), ""]).encode())
        code, _, err = run(capsys, "--db", loaded, "import", bad)
        assert code == 2 and f"line {4 + 2 * len(chunk_start)}: the row is too long" in err, err
    good = tmp_path / "good.csv"
    good.write_bytes("\n".join([HEADER, *over_lines, row(), ""]).encode())
    assert run(capsys, "--db", loaded, "import", good)[0] == 0
    titles = [r[0] for r in sqlite3.connect(loaded).execute("SELECT title FROM items ORDER BY id DESC LIMIT 4")]
    assert titles[2:] == ["c\nd\ne", "a\nb"]  # each line break kept, as a newline
    assert before != digest(loaded)


def test_items_file_not_utf8(loaded, tmp_path, capsys):
    bad = tmp_path / "utf16.csv"
    bad.write_text(f"{HEADER}\n{ROW_OK}\n", encoding="utf-16")
    before = digest(loaded)
    code, _, err = run(capsys, "--db", loaded, "import", bad)
    assert code == 2
    assert_one_line(err, "utf16.csv", "not UTF-8")
    assert digest(loaded) == before


# --- bad paths and arguments ------------------------------------------------------------------


def test_missing_file_directory_and_unknown_type(loaded, tmp_path, files, capsys):
    before = digest(loaded)
    directory = tmp_path / "folder.csv"
    directory.mkdir()
    other = tmp_path / "items.xlsx"
    other.write_text("x", encoding="utf-8")
    cases = [
        ([tmp_path / "nope.csv"], ["nope.csv", "no such file"]),
        ([files[0], tmp_path / "nope.toml"], ["nope.toml", "no such file"]),
        ([directory], ["folder.csv", "not a file"]),
        ([other], ["items.xlsx", "unknown file type '.xlsx'", "accepted"]),
    ]
    for paths, fragments in cases:
        code, _, err = run(capsys, "--db", loaded, "import", *paths)
        assert code == 2, paths
        assert_one_line(err, *fragments)
    code, _, err = run(capsys, "--db", loaded, "import")
    assert code == 2
    assert_one_line(err, "required: FILE")
    assert digest(loaded) == before


def test_missing_file_creates_no_database(tmp_path, capsys):
    db = tmp_path / "sub" / "never.db"
    code, _, err = run(capsys, "--db", db, "import", tmp_path / "nope.toml")
    assert code == 2
    assert not db.exists() and not db.parent.exists()


def test_unknown_options(loaded, capsys):
    before = digest(loaded)
    for argv in (["init", "extra"], ["import", "--frobnicate", "x.csv"], ["demo", "--scale"]):
        code, _, err = run(capsys, "--db", loaded, *argv)
        assert code == 2, argv
        assert_one_line(err, "--help")
    assert digest(loaded) == before


# --- databases that cannot be used: exit 3, untouched ---------------------------------------------


def _newer(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = DELETE")  # so that any later WAL switch would show in the bytes
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
                  " VALUES ('opsweek', 'm999_from_the_future', '2030-01-01T00:00:00')")
    conn.commit()
    conn.close()


def _corrupt(db: Path) -> None:
    data = bytearray(db.read_bytes())
    data[4096 * 2:4096 * 2 + 4000] = b"\xde\xad" * 2000
    db.write_bytes(bytes(data))


def _truncate(db: Path) -> None:
    db.write_bytes(db.read_bytes()[:5000])


def _not_sqlite(db: Path) -> None:
    db.write_text("name,owner\nthis is a spreadsheet,ana\n", encoding="utf-8")


def _other_sqlite(db: Path) -> None:
    db.unlink()
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()


UNUSABLE = {
    "newer opsweek": (_newer, "newer opsweek"),
    "corrupt": (_corrupt, "corrupt"),
    "truncated": (_truncate, "corrupt"),
    "not SQLite": (_not_sqlite, "not an opsweek database"),
    "another SQLite database": (_other_sqlite, "not an opsweek database"),
}


@pytest.mark.parametrize("case", sorted(UNUSABLE))
@pytest.mark.parametrize("command", ["import", "init"])
def test_unusable_database_is_exit_3_and_untouched(case, command, loaded, files, capsys):
    spoil, fragment = UNUSABLE[case]
    spoil(loaded)
    before = digest(loaded)
    argv = ["import", *files] if command == "import" else ["init"]
    code, out, err = run(capsys, "--db", loaded, *argv)
    assert code == 3
    assert_one_line(err, str(loaded), fragment)
    assert digest(loaded) == before
    assert not Path(f"{loaded}-wal").exists() or Path(f"{loaded}-wal").stat().st_size == 0


def test_a_directory_as_db_is_exit_3(tmp_path, files, capsys):
    code, _, err = run(capsys, "--db", tmp_path, "import", *files)
    assert code == 3
    assert_one_line(err, "is a directory")
    code, _, err = run(capsys, "--db", tmp_path, "init")
    assert code == 3
    assert_one_line(err, "is a directory")


def test_an_uncreatable_db_path_is_exit_3(tmp_path, files, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    code, _, err = run(capsys, "--db", blocker / "sub" / "opsweek.db", "init")
    assert code == 3
    assert_one_line(err, "cannot create")


def test_init_on_an_existing_database_changes_nothing(loaded, capsys):
    before = digest(loaded)
    code, out, _ = run(capsys, "--db", loaded, "init")
    assert code == 0 and "already exists" in out
    assert digest(loaded) == before


# --- demo --------------------------------------------------------------------------------


@pytest.mark.parametrize("scale, fragment", [("0", "must be 1 or more"), ("abc", "not a whole number"),
                                             ("-5", "not a whole number"), ("1.5", "not a whole number"),
                                             ("3000000", "out of range")])
def test_demo_bad_scale(scale, fragment, tmp_path, capsys, frozen_now):
    db = tmp_path / "demo.db"
    code, out, err = run(capsys, "--db", db, "demo", "--no-tui", "--scale", scale)
    assert code == 2
    assert_one_line(err, "--scale", fragment)
    assert not db.exists()


def test_demo_never_overwrites_a_real_database(loaded, capsys, frozen_now):
    before = digest(loaded)
    code, _, err = run(capsys, "--db", loaded, "demo", "--no-tui")
    assert code == 2
    assert_one_line(err, "is not a demo database")
    assert digest(loaded) == before


@pytest.mark.parametrize("case", ["newer opsweek", "corrupt", "not SQLite"])
def test_demo_refuses_an_unusable_file(case, loaded, capsys, frozen_now):
    UNUSABLE[case][0](loaded)
    before = digest(loaded)
    code, _, err = run(capsys, "--db", loaded, "demo", "--no-tui")
    assert code in (2, 3)
    assert_one_line(err)
    assert digest(loaded) == before


def test_demo_rebuilds_an_earlier_demo(tmp_path, capsys, frozen_now):
    db = tmp_path / "demo.db"
    code, out, err = run(capsys, "--db", db, "demo", "--no-tui")
    assert code == 0, err
    assert "needs attention" in out
    code, out, err = run(capsys, "--db", db, "demo", "--no-tui")
    assert code == 0, err
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_an_interrupted_demo_build_leaves_nothing_that_blocks_the_next(tmp_path, capsys, frozen_now,
                                                                       monkeypatch):
    from opsweek import demo

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    db = tmp_path / "demo.db"
    original = demo._last_meeting
    monkeypatch.setattr(demo, "_last_meeting", interrupted)
    assert run(capsys, "--db", db, "demo", "--no-tui")[0] == 130
    assert not db.exists()
    monkeypatch.setattr(demo, "_last_meeting", original)
    code, _, err = run(capsys, "--db", db, "demo", "--no-tui")
    assert code == 0, err


def test_demo_scale_builds_the_synthetic_team(tmp_path, capsys, frozen_now):
    db = tmp_path / "scaled.db"
    code, out, err = run(capsys, "--db", db, "demo", "--no-tui", "--scale", "500")
    assert code == 0, err
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == 500
    assert conn.execute("SELECT count(*) FROM handoffs WHERE accepted_at IS NULL").fetchone()[0] > 0
    assert conn.execute("SELECT count(*) FROM meetings").fetchone()[0] == 8
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_demo_scale_is_deterministic(tmp_path, capsys, frozen_now):
    tables = []
    for name in ("a.db", "b.db"):
        db = tmp_path / name
        assert run(capsys, "--db", db, "demo", "--no-tui", "--scale", "300")[0] == 0
        conn = sqlite3.connect(db)
        tables.append((conn.execute("SELECT * FROM items ORDER BY id").fetchall(),
                       conn.execute("SELECT * FROM handoffs ORDER BY id").fetchall()))
    assert tables[0] == tables[1]


# --- the real process: no traceback ever ----------------------------------------------------------


def _opsweek(*args, env_extra=None, cwd=None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("OPSWEEK_DEBUG",)}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "opsweek", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=60)


def test_subprocess_bad_inputs_are_one_line_without_traceback(loaded, tmp_path, files):
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text(f"{HEADER}\n{row(status='closed')}\n", encoding="utf-8")
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(loaded.read_bytes())
    _corrupt(corrupt)
    before = digest(loaded)
    cases = [
        (["--db", loaded, "import", bad_csv], 2),
        (["--db", loaded, "import", tmp_path / "missing.toml"], 2),
        (["--db", corrupt, "import", *files], 3),
        (["--db", tmp_path / "x.db", "demo", "--no-tui", "--scale", "0"], 2),
        (["--db", loaded, "init", "--bogus"], 2),
    ]
    for argv, expected in cases:
        result = _opsweek(*argv, env_extra={"OPSWEEK_NOW": "2026-11-24T10:00:00Z"})
        assert result.returncode == expected, (argv, result.stderr)
        assert result.stdout == ""
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    result = _opsweek("--db", tmp_path / "y.db", "init", env_extra={"OPSWEEK_NOW": "garbage"})
    assert result.returncode in (0, 2)
    assert "Traceback" not in result.stderr
    assert digest(loaded) == before


def test_subprocess_init_and_import_spec_examples(tmp_path, files):
    db = tmp_path / "proc" / "opsweek.db"
    env = {"OPSWEEK_NOW": "2026-11-24T10:00:00Z"}
    assert _opsweek("--db", db, "init", env_extra=env).returncode == 0
    result = _opsweek("import", *files, "--db", db, env_extra=env)  # global option after the command
    assert result.returncode == 0, result.stderr
    assert "3 items" in result.stdout
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    due = conn.execute("SELECT due_at FROM handoffs").fetchone()[0]
    assert due == "2026-11-25T04:00:00Z"


# --- the quick row check agrees with the model -----------------------------------------------

TRICKY = {
    "workflow": ["complaints", "Complaints", "nope", "", "com plaints", "ｃomplaints"],
    "stage": ["triage", "resolve", "Triage", "", "nope"],
    "title": ["Refund", "  spaced  ", "\x1b[31m", "\x07", "[bold]x[/]", "tab\there", "", "日本語"],
    "owner": ["ben", "ana", "", "zed", "Ben", "b en"],
    "status": ["open", "blocked", "done", "dropped", "", "Open", "closed"],
    "due": ["", "2026-12-01", "2026-02-30", "1 Dec", "+3d", "fri", "2026-1-5", "２０２６-１２-０１", "soon"],
    "ref": ["", "ZD-1", "\x1b", " \x07 "],
    "blocked_reason": ["", "vendor", "\x1b[0m", "\x00"],
    "opened": ["-3d", "", "2026-11-20T09:00:00Z", "+1d", "garbage", "2026-11-23", "-3d "],
    "stage_entered": ["-2d", "", "-5d", "+1d", "-1h", "never"],
    "last_activity": ["-1d", "", "-10d", "+2h", "2026-11-24T09:00:00"],
    "handoff_to": ["", "resolve", "triage", "nope", "Resolve"],
    "handoff_owner": ["", "ana", "zed", "ben"],
    "handoff_sent": ["", "-1h", "+1h", "-30d", "soon"],
}

# Structurally odd lines among the rows: blank ones, a row of blank cells, a short row, a
# title over two lines.
ODD_LINES = ["", ",,,,,,,,,,,,,", "complaints,triage",
             ",".join(f'"{values[0]}"' if name != "title" else '"two\nlines"' for name, values in TRICKY.items())]

NO_QUICK_CHECK = staticmethod(lambda block, rows, **_: ([None] * len(block), {}, set(range(len(block)))))


def _parse_both(tmp_path, catalog, now, text, monkeypatch):
    from opsweek import importing
    from opsweek.errors import InputError

    path = tmp_path / "rows.csv"
    path.write_text(text, encoding="utf-8")
    results = []
    for quick in (True, False):
        if not quick:
            monkeypatch.setattr(importing, "_plain_items", NO_QUICK_CHECK)
        try:
            results.append(importing.parse_items(path, catalog, now))
        except InputError as error:
            results.append(str(error))
    return results


def test_the_quick_row_check_gives_the_same_rows_and_messages_as_the_model(tmp_path, files, frozen_now,
                                                                            monkeypatch):
    """Every combination that matters, through the quick path and through pydantic."""
    import random

    from opsweek import importing
    from opsweek.store import Store

    team, _ = files
    store = Store.memory()
    catalog = importing._Catalog(store, [importing.parse_team(team)])
    original = importing._plain_items
    rng = random.Random(7)
    columns = list(TRICKY)
    # mostly valid cells, so that both whole rows and single problems are compared
    rows = [{c: TRICKY[c][0] if rng.random() < 0.8 else rng.choice(TRICKY[c]) for c in columns}
            for _ in range(300)]
    checked = 0
    for cells in rows:
        line = ",".join(f'"{cells[c]}"' for c in columns)
        monkeypatch.setattr(importing, "_plain_items", original)
        quick, model = _parse_both(tmp_path, catalog, frozen_now, f"{','.join(columns)}\n{line}\n", monkeypatch)
        assert quick == model, cells
        checked += isinstance(quick, tuple)
    assert checked > 50  # many rows were valid, so the rows themselves were compared
    store.close()


def test_the_quick_check_of_a_whole_file_gives_the_same_rows_and_first_problem_as_the_model(
        tmp_path, files, frozen_now, monkeypatch):
    """Many rows in one file, checked a block at a time: the valid ones with odd lines among
    them give the same rows; cut after each of several wrong rows, the file is refused
    with the same message (its line) both ways."""
    import random

    from opsweek import importing
    from opsweek.store import Store

    team, _ = files
    store = Store.memory()
    catalog = importing._Catalog(store, [importing.parse_team(team)])
    original = importing._plain_items
    rng = random.Random(11)
    columns = list(TRICKY)
    header = ",".join(columns)

    def line_of(cells):
        return ",".join(f'"{cells[c]}"' for c in columns)

    def both(lines):
        monkeypatch.setattr(importing, "_plain_items", original)
        return _parse_both(tmp_path, catalog, frozen_now, "\n".join([header, *lines]) + "\n", monkeypatch)

    rows = [{c: TRICKY[c][0] if rng.random() < 0.9 else rng.choice(TRICKY[c]) for c in columns}
            for _ in range(400)]
    valid, wrong = [], []
    for cells in rows:
        (valid if isinstance(both([line_of(cells)])[1], tuple) else wrong).append(line_of(cells))
    assert len(valid) > 150 and len(wrong) > 20
    lines = list(valid)
    for k, odd in enumerate(ODD_LINES[:2] + ODD_LINES[3:]):  # the short row is refused: below
        lines.insert(37 * (k + 1), odd)
    monkeypatch.setattr(importing, "CHUNK", 64)  # several blocks, some with odd lines in them
    quick, model = both(lines)
    assert quick == model and isinstance(quick, tuple)
    assert len(quick[0]) == len(valid) + 1 and quick[1]  # the two-line title; handoffs were compared
    for cut in (5, 63, 64, 65, 130, len(lines)):
        for bad in wrong[:8] + [ODD_LINES[2]]:
            quick, model = both(lines[:cut] + [bad] + lines[cut:cut + 10])
            assert quick == model and isinstance(quick, str), (cut, bad)
    store.close()


def test_the_sample_items_parse_the_same_through_either_path(frozen_now, monkeypatch):
    from opsweek import demo, importing
    from opsweek.store import Store

    data = demo.sample_dir()
    store = Store.memory()
    catalog = importing._Catalog(store, [importing.parse_team(data / "team.toml")])
    quick = importing.parse_items(data / "items.csv", catalog, frozen_now)
    monkeypatch.setattr(importing, "_plain_items", NO_QUICK_CHECK)
    assert importing.parse_items(data / "items.csv", catalog, frozen_now) == quick
    assert len(quick[0]) >= 40
    store.close()


def test_a_large_import_keeps_every_index_records_every_row_and_undoes_whole(tmp_path, files, frozen_now, capsys):
    """12,000 rows take the bulk path (indexes rebuilt once, events written by SQLite):
    the schema, the audit trail and undo come out as for a small file."""
    import json

    team, _ = files
    db = tmp_path / "big.db"
    assert run(capsys, "--db", db, "import", team)[0] == 0
    schema_before = sqlite3.connect(db).execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name").fetchall()
    big = tmp_path / "big.csv"
    rows = [ROW_OK.replace("Refund not received", f"Refund {n} «ünïcode»") if n % 3 == 0 else
            ROW_BLOCKED if n % 3 == 1 else ROW_DONE for n in range(12_000)]
    big.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "--db", db, "--me", "ana", "import", big)
    assert code == 0, err
    assert "12000 items, 4000 handoffs" in out

    conn = sqlite3.connect(db)
    assert conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
                        ).fetchall() == schema_before
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.row_factory = sqlite3.Row
    item = dict(conn.execute("SELECT * FROM items WHERE id = 1").fetchone())
    event = conn.execute("SELECT * FROM events WHERE entity = 'items' AND entity_id = '1'").fetchone()
    recorded = json.loads(event["after"])
    assert recorded == {k: v for k, v in item.items() if k != "fed_from"}
    assert recorded["title"] == "Refund 0 «ünïcode»"
    assert event["action"] == "import" and event["before"] is None
    assert conn.execute("SELECT count(*) FROM events WHERE change_id = ?", (event["change_id"],)
                        ).fetchone()[0] == 16_000
    conn.close()

    code, out, err = run(capsys, "--db", db, "--me", "ana", "undo")
    assert code == 0 and "12,000 items" in out, err
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM handoffs").fetchone()[0] == 0
    conn.close()


def test_demo_scale_rows_refer_only_to_what_exists(tmp_path, capsys, frozen_now):
    # the scale demo loads its rows without SQLite looking up each reference; every item
    # still names a real workflow and stage, every handoff a real item
    db = tmp_path / "scaled.db"
    assert run(capsys, "--db", db, "demo", "--no-tui", "--scale", "12000")[0] == 0
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("SELECT count(*) FROM events WHERE entity = 'items'").fetchone()[0] == 12000
    assert conn.execute("SELECT count(*) FROM handoffs").fetchone()[0] == \
        conn.execute("SELECT count(*) FROM events WHERE entity = 'handoffs'").fetchone()[0] > 0
    # the indexes dropped for the load are all built again, as the schema makes them
    fresh = sqlite3.connect(_fresh_schema(tmp_path / "fresh.db"))
    indexes = "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
    assert conn.execute(indexes).fetchall() == fresh.execute(indexes).fetchall()


def _fresh_schema(path):
    from opsweek.store import Store

    Store.open(path, create=True).close()
    return path
