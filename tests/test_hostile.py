"""Hostile input: whatever someone types, imports or points opsweek at, the answer is one
clear line (exit 2 or 3) with the database byte for byte as it was, or the input is
accepted and every later command still works. Nothing exits 70, nothing reaches the
terminal as a control sequence, and nothing is written where it should not be.
"""

from __future__ import annotations

import copy
import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from opsweek.cli.main import main
from opsweek.errors import InputError
from tests.conftest import FROZEN

NOW = FROZEN.strftime("%Y-%m-%dT%H:%M:%SZ")
FOLLOW_UPS = (["--me", "ben", "mine"], ["log"], ["export"], ["dump"], ["whatif", "--away", "ana"],
              ["audit"], ["--me", "ben", "mine", "--json"])


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> tuple[Path, str]:
    """The demo database built once at the frozen time, and its dump."""
    from opsweek import demo
    from opsweek.dump import dump

    path = tmp_path_factory.mktemp("template") / "demo.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPSWEEK_NOW", NOW)
        patch.setenv("TZ", "UTC")
        store = demo.build(path, now=FROZEN)
        text = dump(store)
        store.close()
    return path, text


@pytest.fixture
def db(template, tmp_path, frozen_now) -> Path:
    """A fresh copy of the demo database for one case."""
    copy_path = tmp_path / "team.db"
    copy_path.write_bytes(template[0].read_bytes())
    return copy_path


def run(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_refused_cleanly(code: int, out: str, err: str, db: Path, before: bytes) -> None:
    assert code in (2, 3), (code, err)
    assert err.startswith("opsweek: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and "\x1b" not in err, err
    assert db.read_bytes() == before, "a refused input changed the database"


def assert_house_still_stands(capsys, db: Path) -> None:
    """Every later command works, and prints no terminal control."""
    for argv in FOLLOW_UPS:
        code, out, err = run(capsys, "--db", db, *argv)
        assert code == 0, (argv, code, err)
        assert "\x1b" not in out and "\x9b" not in out and "\u202e" not in out, (argv, out[:200])


def outcome(capsys, db: Path, argv, expect: str | None) -> None:
    before = db.read_bytes()
    code, out, err = run(capsys, "--db", db, *argv)
    assert code != 70, err
    if expect == "refused" or (expect is None and code in (2, 3)):
        assert_refused_cleanly(code, out, err, db, before)
    else:
        assert code == 0, (code, err)
        assert "\x1b" not in out
        assert_house_still_stands(capsys, db)


# --- the command line ------------------------------------------------------------------

ADD = ["--me", "ben", "add", "complaints"]
CLI = [
    ("due a million years ahead", [*ADD, "x", "--due", "+9999999d"], "refused"),
    ("due a million years ago", [*ADD, "x", "--due", "-9999999d"], "refused"),
    ("due a century and a day", [*ADD, "x", "--due", "+36526d"], "refused"),
    ("due 100000 weeks", [*ADD, "x", "--due", "+100000w"], "refused"),
    ("due in business days past a century", [*ADD, "x", "--due", "+26090bd"], "refused"),
    ("due in year 999", [*ADD, "x", "--due", "0999-12-31"], "refused"),
    ("due in year 1", [*ADD, "x", "--due", "0001-01-01"], "refused"),
    ("due in year 10000", [*ADD, "x", "--due", "10000-01-01"], "refused"),
    ("due 10 KB long", [*ADD, "x", "--due", "1" * 10000], "refused"),
    ("due with a NUL", [*ADD, "x", "--due", "tomorrow\x00"], "refused"),
    ("due in exponent days", [*ADD, "x", "--due", "+1e9d"], "refused"),
    ("due on the last day of the calendar", [*ADD, "x", "--due", "9999-12-31"], "accepted"),
    ("due on the first day of the calendar", [*ADD, "x", "--due", "1000-01-01"], "accepted"),
    ("due a fraction of a minute ahead", [*ADD, "x", "--due", "+0.0000001m"], "accepted"),
    ("due 20000 business days ahead", [*ADD, "x", "--due", "+20000bd"], "accepted"),
    ("item in Arabic-Indic digits", ["--me", "ben", "done", "\u0663"], "refused"),
    ("item of 20 digits", ["--me", "ben", "done", "99999999999999999999"], "refused"),
    ("item of 2^63", ["--me", "ben", "done", str(2**63)], "refused"),
    ("item of 2^63 - 1", ["--me", "ben", "done", str(2**63 - 1)], "refused"),
    ("item in superscript", ["--me", "ben", "done", "\u00b2"], "refused"),
    ("handoff in Arabic-Indic digits", ["--me", "ana", "accept", "\u0661"], "refused"),
    ("handoff of 5000 digits", ["--me", "ana", "accept", "9" * 5000], "refused"),
    ("log limit of 20 digits", ["log", "--limit", "99999999999999999999"], "refused"),
    ("log limit zero", ["log", "--limit", "0"], "refused"),
    ("log of a negative item", ["log", "--item", "-1"], "refused"),
    ("log of a huge item", ["log", "--item", str(2**64)], "refused"),
    ("volume infinite", ["whatif", "--away", "ana", "--volume", "inf"], "refused"),
    ("volume not a number", ["whatif", "--away", "ana", "--volume", "nan"], "refused"),
    ("volume 1e308", ["whatif", "--away", "ana", "--volume", "1e308"], "refused"),
    ("volume negative", ["whatif", "--away", "ana", "--volume", "-1"], "refused"),
    ("away with an escape", ["whatif", "--away", "\x1b[31mana"], "refused"),
    ("me with a newline", ["--me", "ben\n", "done", "31"], "refused"),
    ("me as an OSC sequence", ["--me", "\x1b]0;owned\x07", "mine"], "refused"),
    ("title clearing the screen", [*ADD, "\x1b[2J\x1b]8;;http://x\x07click"], "accepted"),
    ("title with a bidi override", [*ADD, "\u202eevil\u202c txt"], "accepted"),
    ("title with C1 CSI", [*ADD, "\x9b31mred"], "accepted"),
    ("title of 100 KB", [*ADD, "t" * 100_000], "accepted"),
    ("title that is markup", [*ADD, "[bold]x[/] [@click=app.quit]q[/]"], "accepted"),
    ("title of only controls", [*ADD, "\x00\x1b\x07"], "refused"),
    ("title empty", [*ADD, ""], "refused"),
    ("ref as an escape", [*ADD, "x", "--ref", "\x1b[0m"], "accepted"),
    ("emoji with joiners kept", [*ADD, "team \U0001f469\u200d\U0001f4bb\ufe0f"], "accepted"),
    ("block reason of only controls", ["--me", "ben", "block", "31", "--reason", "\x00\x1b"], "refused"),
    ("block reason of only bidi isolates", ["--me", "ben", "block", "31", "--reason", "\u2066\u2069"], "refused"),
    ("block reason with an escape", ["--me", "ben", "block", "31", "--reason", "vendor \x1b[5mnow"], "accepted"),
    ("reassign to a handle with a newline", ["--me", "ben", "reassign", "31", "--to", "ana\n"], "refused"),
    ("reassign to a capitalised stranger", ["--me", "ben", "reassign", "31", "--to", "\u00c5NA"], "refused"),
    ("hand off to a path", ["--me", "ben", "handoff", "31", "--to", "../../etc"], "refused"),
    ("hand off with a C1 note", ["--me", "ben", "handoff", "31", "--note", "\x9b31m note"], "accepted"),
    ("workflow with an escape", ["--me", "ben", "add", "nope\x1b", "x"], "refused"),
    ("owner with an escape", [*ADD, "x", "--owner", "ben\x1b"], "refused"),
    ("export meeting of 25 digits", ["export", "9" * 25], "refused"),
    ("export week 99", ["export", "2026-W99"], "refused"),
    ("export as xml", ["export", "--format", "xml"], "refused"),
    ("unknown command with an escape", ["\x1b[31mmine"], "refused"),
    ("drop reason with surrogates", ["--me", "ben", "drop", "31", "--reason", "\udcff\udcfe"], "refused"),
]


@pytest.mark.parametrize("argv,expect", [c[1:] for c in CLI], ids=[c[0] for c in CLI])
def test_hostile_command_lines(capsys, db, argv, expect):
    outcome(capsys, db, argv, expect)


# --- OPSWEEK_NOW -------------------------------------------------------------------------

NOWS = [
    ("year 1", "0001-01-01", "refused"),
    ("year 999", "0999-12-31T23:59:59Z", "refused"),
    ("a century from the end", "9900-01-01", "refused"),
    ("year 10000", "10000-01-01", "refused"),
    ("garbage", "garbage", "refused"),
    ("an escape", "\x1b[31m", "refused"),
    ("month 13", "2026-13-01", "refused"),
    ("nan", "nan", "refused"),
    ("infinity", "inf", "refused"),
    ("a 25-hour offset", "2026-11-24T10:00:00+25:00", "refused"),
    ("relative", "+3d", "refused"),
    ("10 KB", "2" * 10000, "refused"),
    ("the earliest accepted", "1100-01-01T00:00:00Z", "accepted"),
    ("the latest accepted", "9899-12-31T00:00:00Z", "accepted"),
    ("microseconds and +14:00", "2026-11-24T10:00:00.999999+14:00", "accepted"),
    ("a date only", "2026-11-24", "accepted"),
]


@pytest.mark.parametrize("value,expect", [c[1:] for c in NOWS], ids=[c[0] for c in NOWS])
def test_hostile_frozen_clock(capsys, db, monkeypatch, value, expect):
    monkeypatch.setenv("OPSWEEK_NOW", value)
    outcome(capsys, db, ["--me", "ben", "mine"], expect)


# --- the team file -------------------------------------------------------------------------

PERSON = 'handle = "zed"\nname = "Zed"\n'
TEAM = [
    ("name as a list", '[[people]]\nhandle = "zed"\nname = ["Zed"]\n', "refused"),
    ("active as yes", f'[[people]]\n{PERSON}active = "yes"\n', "refused"),
    ("active as 1", f'[[people]]\n{PERSON}active = 1\n', "refused"),
    ("handle ending in a newline", '[[people]]\nhandle = "ben\\n"\nname = "Ben"\n', "refused"),
    ("handle in capitals", '[[people]]\nhandle = "Zed"\nname = "Zed"\n', "refused"),
    ("handle with a bidi override", '[[people]]\nhandle = "zed\\u202e"\nname = "Zed"\n', "refused"),
    ("handle with an escape", '[[people]]\nhandle = "zed\\u001b"\nname = "Zed"\n', "refused"),
    ("role as true", f'[[people]]\n{PERSON}role = true\n', "refused"),
    ("name empty", '[[people]]\nhandle = "zed"\nname = ""\n', "refused"),
    ("name of only controls", '[[people]]\nhandle = "zed"\nname = "\\u001b\\u0007"\n', "refused"),
    ("name with an OSC title", '[[people]]\nhandle = "zed"\nname = "\\u001b]0;owned\\u0007Zed"\n', "accepted"),
    ("name of 100 KB", f'[[people]]\nhandle = "zed"\nname = "{"z" * 100_000}"\n', "accepted"),
    ("away in year 999", f'[[people]]\n{PERSON}away = [{{ from = 0999-01-01, to = 2026-12-01 }}]\n', "refused"),
    ("away a million years ahead", f'[[people]]\n{PERSON}away = [{{ from = "+9999999d", to = "+9999999d" }}]\n',
     "refused"),
    ("away ending before it starts", f'[[people]]\n{PERSON}away = [{{ from = 2026-12-05, to = 2026-12-01 }}]\n',
     "refused"),
    ("away as a number", f'[[people]]\n{PERSON}away = [{{ from = 20261201, to = 20261205 }}]\n', "refused"),
    ("away as a datetime in year 1",
     f'[[people]]\n{PERSON}away = [{{ from = 0001-01-01T00:00:00Z, to = 2026-12-01 }}]\n', "refused"),
    ("own cover", f'[[people]]\n{PERSON}cover = "zed"\n', "refused"),
    ("unknown section", '[[robots]]\nname = "x"\n', "refused"),
    ("settings sla infinite", "[settings]\nhandoff_sla = inf\n", "refused"),
    ("settings sla 1e308", "[settings]\nhandoff_sla = 1e308\n", "refused"),
    ("settings sla nan", "[settings]\nhandoff_sla = nan\n", "refused"),
    ("settings sla a million hours", '[settings]\nhandoff_sla = "9999999h"\n', "refused"),
    ("settings stale after 5000 digits", f"[settings]\nstale_after = {'9' * 5000}\n", "refused"),
    ("settings step minutes as text", '[settings]\nstep_minutes = { attendance = "5" }\n', "refused"),
    ("settings step minutes as a float", "[settings]\nstep_minutes = { attendance = 1e3 }\n", "refused"),
    ("100k-deep nesting", "x = " + "[" * 100_000 + "]" * 100_000 + "\n", "refused"),
    ("not UTF-8", "[[people]]\nhandle = \"zed\"\nname = \"\udcff\"\n", "refused"),
]
WORKFLOW = '[[workflows]]\nkey = "zz"\nname = "Zz"\nowner = "ana"\n[[workflows.stages]]\nkey = "one"\nname = "One"\n'
TEAM += [
    ("max days infinite", WORKFLOW + "max_days = inf\n", "refused"),
    ("max days 1e308", WORKFLOW + "max_days = 1e308\n", "refused"),
    ("max days nan", WORKFLOW + "max_days = nan\n", "refused"),
    ("max days as text", WORKFLOW + 'max_days = "3"\n', "refused"),
    ("max days negative", WORKFLOW + "max_days = -1\n", "refused"),
    ("stage sla a century and a week", WORKFLOW + 'handoff_sla = "5226w"\n', "refused"),
    ("a script as the SOP", WORKFLOW + 'sop = "javascript:alert(1)"\n', "accepted"),
    ("an option as the SOP", WORKFLOW + 'sop = "--new-window=evil"\n', "accepted"),
    ("workflow key with a slash", WORKFLOW.replace('"zz"', '"a/b"'), "refused"),
    ("workflow name as a number", WORKFLOW.replace('name = "Zz"', "name = 5"), "refused"),
    ("stage key with a trailing newline", WORKFLOW.replace('"one"', '"one\\n"'), "refused"),
]


@pytest.mark.parametrize("text,expect", [c[1:] for c in TEAM], ids=[c[0] for c in TEAM])
def test_hostile_team_files(capsys, db, tmp_path, text, expect):
    path = tmp_path / "team.toml"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    outcome(capsys, db, ["import", path], expect)


# --- items CSV -----------------------------------------------------------------------------

HEADER = ("workflow,stage,title,owner,status,opened,stage_entered,last_activity,due,ref,blocked_reason,"
          "handoff_to,handoff_owner,handoff_sent")
COLUMNS = HEADER.split(",")


def row(**cells) -> str:
    values = {"workflow": "complaints", "stage": "triage", "title": "Parcel", "owner": "ben", "status": "open",
              "opened": "-3d", **cells}
    return ",".join(values.get(c, "") for c in COLUMNS)


CSV = [
    ("opened in year 999", row(opened="0999-01-01T00:00:00Z"), "refused"),
    ("opened a million years ago", row(opened="-9999999d"), "refused"),
    ("opened tomorrow", row(opened="+1d"), "refused"),
    ("opened with a 99-hour offset", row(opened="2026-11-24T10:00:00+99:00"), "refused"),
    ("last activity before it opened", row(opened="-3d", last_activity="-5d"), "refused"),
    ("last activity tomorrow", row(last_activity="+1d"), "refused"),
    ("stage entered as nonsense", row(stage_entered="nonsense"), "refused"),
    ("handoff sent before it opened", row(opened="-1d", handoff_to="investigate", handoff_sent="-3d"), "refused"),
    ("handoff sent tomorrow", row(handoff_to="investigate", handoff_sent="+1d"), "refused"),
    ("due a million years ahead", row(due="+9999999d"), "refused"),
    ("due in year 10000", row(due="10000-01-01"), "refused"),
    ("blocked without a reason", row(status="blocked"), "refused"),
    ("workflow with an escape", row(workflow="complaints\x1b"), "refused"),
    ("a NUL in a cell", row(ref="a\x00b"), "accepted"),  # controls are removed, as everywhere
    ("a 200 KB title", row(title="t" * 200_000), "refused"),
    ("a 100 KB ref", row(ref="r" * 100_000), "refused"),
    ("title clearing the screen", row(title="\x1b[2J\x1b[Hgone"), "accepted"),
    ("title with a bidi isolate", row(title="\u2067right\u2069 left"), "accepted"),
    ("100k cells in a row", ",".join(["x"] * 100_000), "refused"),
    ("a quote never closed", row(title='"never closed'), "refused"),
    ("a consistent pending handoff", row(opened="-3d", last_activity="-2d", handoff_to="investigate",
                                          handoff_sent="-1d"), "accepted"),
]


@pytest.mark.parametrize("line,expect", [c[1:] for c in CSV], ids=[c[0] for c in CSV])
def test_hostile_item_files(capsys, db, tmp_path, line, expect):
    path = tmp_path / "items.csv"
    path.write_text(f"{HEADER}\n{row()}\n{line}\n", encoding="utf-8")
    outcome(capsys, db, ["import", path], expect)


def test_a_long_field_is_reported_on_its_own_line(capsys, db, tmp_path):
    path = tmp_path / "items.csv"
    path.write_text(f"{HEADER}\n{row()}\n{row()}\n{row(title='t' * 200_000)}\n{row()}\n", encoding="utf-8")
    code, _, err = run(capsys, "--db", db, "import", path)
    assert code == 2 and "line 4" in err, err


# --- dumps ---------------------------------------------------------------------------------


def _set(table: str, column: str, value, index: int = 0):
    def mutate(data):
        data["tables"][table][index][column] = value
    return mutate


def _first_event_of(entity: str, column: str, value):
    def mutate(data):
        event = next(e for e in data["tables"]["events"] if e["entity"] == entity and e["after"])
        event[column] = value
    return mutate


DUMPS = [
    ("opened in year 999", _set("items", "opened_at", "0999-01-01T00:00:00Z"), "refused"),
    ("opened as a word", _set("items", "opened_at", "yesterday"), "refused"),
    ("opened without its zone", _set("items", "opened_at", "2026-11-24 10:00"), "refused"),
    ("due on 30 February", _set("items", "due", "2026-02-30"), "refused"),
    ("due in year 99999", _set("items", "due", "99999-01-01"), "refused"),
    ("due in year 0", _set("entries", "due", "0000-01-01"), "refused"),
    ("away as a time", _set("away", "start", "2026-12-01T00:00:00Z"), "refused"),
    ("owner nobody knows", _set("items", "owner", "nobody-here"), "refused"),
    ("owner with an escape", _set("items", "owner", "ben\x1b[31m"), "refused"),
    ("handle with a newline", _set("people", "handle", "ana\n"), "refused"),
    ("cover nobody knows", _set("people", "cover", "ghost"), "refused"),
    ("stage sla forever", _set("stages", "handoff_sla", "forever"), "refused"),
    ("stage sla a million days", _set("stages", "handoff_sla", "999999d"), "refused"),
    ("max days 1e308", _set("stages", "max_days", 1e308), "refused"),
    ("max days negative", _set("stages", "max_days", -1), "refused"),
    ("handoff to a stage elsewhere", _set("handoffs", "to_stage", "nowhere"), "refused"),
    ("week 99", _set("meetings", "week", "2026-W99"), "refused"),
    ("step party", _set("meetings", "step", "party"), "refused"),
    ("event of sqlite_master", _set("events", "entity", "sqlite_master"), "refused"),
    ("event of an unknown table", _set("events", "entity", "robots"), "refused"),
    ("event before not JSON", _first_event_of("items", "before", "{not json"), "refused"),
    ("event after of an unknown column", _first_event_of("items", "after", '{"bogus": 1}'), "refused"),
    ("event after a list", _first_event_of("items", "after", "[1, 2]"), "refused"),
    ("event after nested", _first_event_of("items", "after", '{"title": {"x": 1}}'), "refused"),
    ("event after with a huge number", _first_event_of("items", "after", '{"id": 1e400}'), "refused"),
    ("event action clearing the screen", _set("events", "action", "\x1b[2J"), "refused"),
    ("event at as a word", _set("events", "at", "now"), "refused"),
    ("id of 2^63", _set("items", "id", 2**63), "refused"),
    ("title with an OSC sequence", _set("items", "title", "\x1b]0;owned\x07title"), "accepted"),
    ("name with a bidi override", _set("people", "name", "\u202eevil"), "accepted"),
    ("actor with an escape", _set("events", "actor", "\x1b[31mroot"), "accepted"),
    ("event title with an escape", _first_event_of("items", "after", json.dumps({"title": "\x1b[2Jx"})),
     "accepted"),
]
RAW_DUMPS = [
    ("100k-deep nesting", "[" * 100_000 + "]" * 100_000),
    ("a 5000-digit integer", '{"format": "opsweek-dump", "schema_version": ' + "9" * 5000 + "}"),
    ("a 5000-digit integer in a row", None),  # built from the template below
    ("not UTF-8", b"\xff\xfe{}"),
    ("NaN", '{"format": "opsweek-dump", "schema_version": NaN}'),
    ("empty", ""),
]


@pytest.mark.parametrize("mutate,expect", [c[1:] for c in DUMPS], ids=[c[0] for c in DUMPS])
def test_hostile_dumps(capsys, db, template, tmp_path, mutate, expect):
    data = json.loads(template[1])
    mutate(data)
    path = tmp_path / "dump.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    outcome(capsys, db, ["import", "--replace", path], expect)


@pytest.mark.parametrize("content", [c[1] for c in RAW_DUMPS], ids=[c[0] for c in RAW_DUMPS])
def test_absurd_dumps(capsys, db, template, tmp_path, content):
    if content is None:
        content = template[1].replace('"id": 1,', '"id": ' + "7" * 5000 + ",", 1)
    path = tmp_path / "dump.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    outcome(capsys, db, ["import", "--replace", path], "refused")


def test_import_replace_keeps_a_backup_named_in_its_output(capsys, db, template, tmp_path):
    path = tmp_path / "dump.json"
    path.write_text(template[1], encoding="utf-8")
    assert run(capsys, "--db", db, "--me", "ben", "add", "complaints", "only in the old one")[0] == 0
    code, out, err = run(capsys, "--db", db, "import", "--replace", path)
    assert code == 0, err
    backup = Path(out.strip().splitlines()[-1].rsplit(" at ", 1)[1])
    assert backup.parent == db.parent and backup.exists()
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    conn = sqlite3.connect(backup)
    assert conn.execute("SELECT count(*) FROM items WHERE title = 'only in the old one'").fetchone()[0] == 1
    conn.close()


# --- no ESC reaches the terminal -----------------------------------------------------------

OSC = "\x1b]0;owned\x07"
CSI = "\x1b[2J\x1b[31m"


def test_a_dump_full_of_escapes_never_reaches_the_terminal(capsys, template, tmp_path, frozen_now):
    from opsweek.cli.main import COMMANDS, build_parser

    data = json.loads(template[1])
    tables = data["tables"]
    for person in tables["people"]:
        person["name"] = f"{OSC}{person['name']}{CSI}"
        person["role"] = CSI + "role"
    for workflow in tables["workflows"]:
        workflow["name"] = CSI + workflow["name"]
        workflow["outcome"] = OSC + "outcome"
    for stage in tables["stages"]:
        stage["name"] = OSC + stage["name"] + "\u202e"
    for item in tables["items"]:
        item["title"] = CSI + item["title"] + "\x9b1m"
        item["blocked_reason"] = item["blocked_reason"] and OSC + item["blocked_reason"]
    for event in tables["events"]:
        event["actor"] = CSI + event["actor"]
        event["reason"] = OSC + "why"
        if event["after"]:
            after = json.loads(event["after"])
            for key in ("title", "name", "reason", "note", "blocked_reason"):
                if isinstance(after.get(key), str):
                    after[key] = CSI + after[key]
            event["after"] = json.dumps(after, sort_keys=True)
    path = tmp_path / "escapes.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    db = tmp_path / "escapes.db"
    assert run(capsys, "--db", db, "import", path)[0] == 0
    build_parser()
    commands = [["--me", "ben", "mine"], ["--me", "ben", "mine", "--json"], ["log", "--limit", "50"], ["audit"],
                ["audit", "--json"], ["whatif", "--away", "ana,ben"], ["--me", "ben", "block", "31", "--reason", CSI]]
    if "people" in COMMANDS:
        commands.append(["people"])
    for argv in commands:
        code, out, err = run(capsys, "--db", db, *argv)
        assert code == 0, (argv, err)
        for control in ("\x1b", "\x9b", "\x07", "\u202e"):
            assert control not in out and control not in err, (argv, control)
    # a key carrying a sequence is refused whole, and the one line says so without it
    tables["people"][0]["handle"] = CSI + "ana"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    code, out, err = run(capsys, "--db", tmp_path / "other.db", "import", path)
    assert code == 2 and "\x1b" not in err and err.count("\n") == 1, err
    assert not (tmp_path / "other.db").exists()


# --- the TUI's fields ----------------------------------------------------------------------

TUI_DUES = ["+9999999d", "-9999999d", "10000-01-01", "0999-01-01", "x" * 100_000, "\x1b[31m", "+36526d",
            "+1e400d", "\u0663 Dec", "fri", "+3d", "9999-12-31"]
TUI_RATINGS = ["\u00b2", "\u0661\u0660", "0", "11", "10", "1e1", "", " 5", "5" * 100_000, "-1", "\uff15"]
TUI_VOLUMES = ["inf", "nan", "1e308", "-1", "\u00b2", "2x", "x" * 100_000]


@pytest.mark.parametrize("text", TUI_DUES, ids=[f"due {t[:12]!r}" for t in TUI_DUES])
def test_tui_due_fields_answer_inline(text, frozen_now):
    from datetime import date

    from opsweek.errors import OpsweekError
    from opsweek.tui.modal.entry_dialog import EntryDialog, EntryDraft
    from opsweek.tui.screens.steps.actions import _check_date

    try:
        assert _check_date(text) is None
    except OpsweekError as error:
        assert str(error) and "\n" not in str(error)
    dialog = EntryDialog(EntryDraft("action", text="Call the courier", owner="", due=text), {})
    entry, problem, field = dialog.check()
    assert entry is None and problem  # nobody to own it: the owner is named first
    try:
        due = dialog.parse_due()
        assert isinstance(due, date) and 1000 <= due.year <= 9999
    except OpsweekError:
        pass


@pytest.mark.parametrize("text", TUI_RATINGS, ids=[f"rating {t[:6]!r}" for t in TUI_RATINGS])
def test_tui_ratings_answer_inline(text):
    from opsweek.tui.screens.steps.wrapup import parse_rating

    problem = parse_rating(text)
    if problem is None:
        assert 1 <= int(text) <= 10 and text.isascii()
    else:
        assert "accepted" in problem


@pytest.mark.parametrize("text", TUI_VOLUMES, ids=[f"volume {t[:6]!r}" for t in TUI_VOLUMES])
def test_tui_volumes_answer_inline(text):
    import math

    from opsweek.tui.screens.whatif import parse_volume

    try:
        value = parse_volume(text)
    except InputError:  # the one volume rule (opsweek.inputs) says what is accepted
        return
    assert math.isfinite(value) and 0 < value <= 100


SOPS = [
    ("https://wiki.example.com/sop", "https://wiki.example.com/sop"),
    ("http://intranet/sop", "http://intranet/sop"),
    ("file:///srv/sop.md", "file:///srv/sop.md"),
    ("-new-window", None),
    ("--remote=evil", None),
    ("https://x\n--evil", None),
    ("https://x\r\n", "https://x"),  # stripped: the line ending is not part of it
    ("javascript:alert(1)", None),
    ("mailto:someone@example.com", None),
    ("ftp://example.com/x", None),
    ("http://", None),
    ("https://x\x1b[2J", None),
    ("", None),
]


@pytest.mark.parametrize("sop,target", SOPS, ids=[repr(s[0])[:20] for s in SOPS])
def test_only_web_and_file_links_go_to_the_browser(sop, target):
    from opsweek.tui.modal.item_details import sop_target

    assert sop_target(sop) == target


def test_a_path_sop_becomes_a_file_url(tmp_path):
    from opsweek.tui.modal.item_details import sop_target

    assert sop_target(str(tmp_path / "sop.md")) == (tmp_path / "sop.md").as_uri()
