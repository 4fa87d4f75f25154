"""``opsweek export`` and ``opsweek dump`` / ``import``, run as a user runs them."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import datetime, timezone

import pytest
from markdown_it import MarkdownIt

from opsweek import demo
from opsweek.cli.main import main
from opsweek.store import Store, changes, read

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def db(tmp_path, monkeypatch):
    """The demo database at a frozen time, named by OPSWEEK_DB."""
    monkeypatch.setenv("OPSWEEK_NOW", NOW.isoformat())
    path = tmp_path / "demo.db"
    demo.build(path, now=NOW).close()
    monkeypatch.setenv("OPSWEEK_DB", str(path))
    return path


def run(capsysbinary, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsysbinary.readouterr()
    return code, out.decode("utf-8"), err.decode("utf-8")


def test_export_latest_prints_markdown(db, capsysbinary):
    code, out, err = run(capsysbinary, "export", "latest")
    assert code == 0 and err == ""
    assert out.startswith("# Weekly session 2026-W47\n")
    headings = [t.tag for t in MarkdownIt("commonmark").enable("table").parse(out) if t.type == "heading_open"]
    assert headings.count("h2") == 11  # with Issues (SPEC "Meeting notes")
    # latest is the default, and a meeting can be named by number or ISO week
    assert run(capsysbinary, "export")[1] == out
    assert run(capsysbinary, "export", "1")[1] == out
    assert run(capsysbinary, "export", "2026-W47")[1] == out


def test_export_json(db, capsysbinary):
    code, out, _ = run(capsysbinary, "export", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["schema_version"] == 1 and data["meeting"]["week"] == "2026-W47"


def test_export_to_a_file_is_written_whole(db, tmp_path, capsysbinary):
    target = tmp_path / "notes" / "week.md"
    target.parent.mkdir()
    code, out, _ = run(capsysbinary, "export", "-o", str(target))
    assert code == 0 and f"to {target}" in out
    printed = run(capsysbinary, "export")[1]
    assert target.read_text(encoding="utf-8") == printed
    assert os.listdir(target.parent) == ["week.md"]  # no temp file left behind
    target.write_text("old notes", encoding="utf-8")
    target.chmod(0o640)
    assert run(capsysbinary, "export", "-o", str(target))[0] == 0
    assert target.read_text(encoding="utf-8") == printed
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # replacing keeps the file's mode


def test_a_failed_write_leaves_the_old_file(db, tmp_path, capsysbinary, monkeypatch):
    target = tmp_path / "week.md"
    target.write_text("old notes", encoding="utf-8")

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    code, _, err = run(capsysbinary, "export", "-o", str(target))
    assert code == 2 and err.strip() == f"opsweek: cannot write {target}: No space left on device"
    assert target.read_text(encoding="utf-8") == "old notes"
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]


@pytest.mark.parametrize("argv,words", [
    (["export", "2026-W40"], "no meeting in 2026-W40 (meetings exist for: 2026-W47)"),
    (["export", "someday"], "'someday' is not a meeting (accepted: latest, a meeting number"),
    (["export", "12"], "unknown meeting 12"),
    (["export", "--format", "pdf"], "invalid choice: 'pdf'"),
])
def test_export_refuses_bad_input_in_one_line(db, tmp_path, capsysbinary, argv, words):
    code, out, err = run(capsysbinary, *argv, "-o", str(tmp_path / "n.md"))
    assert code == 2 and out == ""
    assert words in err and err.count("\n") == 1
    assert not (tmp_path / "n.md").exists()


def test_export_without_meetings(tmp_path, capsysbinary, monkeypatch):
    monkeypatch.setenv("OPSWEEK_DB", str(tmp_path / "empty.db"))
    assert main(["init"]) == 0
    capsysbinary.readouterr()
    code, _, err = run(capsysbinary, "export")
    assert code == 2 and "no meetings yet" in err


def test_export_to_a_missing_directory(db, tmp_path, capsysbinary):
    code, _, err = run(capsysbinary, "export", "-o", str(tmp_path / "nowhere" / "n.md"))
    assert code == 2 and "no such directory" in err


def test_dump_import_dump_is_identical(db, tmp_path, capsysbinary):
    first = tmp_path / "one.json"
    assert run(capsysbinary, "dump", "-o", str(first))[0] == 0
    assert stat.S_IMODE(first.stat().st_mode) == 0o600  # a dump is the whole database: owner only
    fresh = tmp_path / "fresh.db"
    code, out, _ = run(capsysbinary, "--db", str(fresh), "import", str(first))
    assert code == 0 and "44 items" in out
    code, out, _ = run(capsysbinary, "--db", str(fresh), "dump")
    assert code == 0 and out.encode("utf-8") == first.read_bytes()


def test_import_refuses_a_database_with_data_unless_replace(db, tmp_path, capsysbinary):
    dumped = tmp_path / "d.json"
    run(capsysbinary, "dump", "-o", str(dumped))
    with Store.open(db) as store:
        changes.add_item(store, read.team(store), "hiring", "Added after the dump", actor="ana")
    changed = run(capsysbinary, "dump")[1]
    code, out, err = run(capsysbinary, "import", str(dumped))
    assert code == 2 and out == ""
    assert "already holds data" in err and "--replace" in err and err.count("\n") == 1
    assert run(capsysbinary, "dump")[1] == changed  # refused: nothing written
    assert run(capsysbinary, "import", "--replace", str(dumped))[0] == 0
    assert run(capsysbinary, "dump")[1].encode("utf-8") == dumped.read_bytes()


def test_a_bad_dump_creates_no_database(tmp_path, capsysbinary):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "opsweek-dump", "schema_version": 1, "migrations": [], "tables": {}}')
    target = tmp_path / "new.db"
    code, _, err = run(capsysbinary, "--db", str(target), "import", str(bad))
    assert code == 2 and "not a usable opsweek dump" in err
    assert not target.exists()


def test_the_real_commands_in_a_process(db, tmp_path):
    """The installed entry point, end to end: export to stdout, dump, import, dump, compare."""
    env = {**os.environ, "OPSWEEK_DB": str(db), "OPSWEEK_NOW": NOW.isoformat()}
    command = [sys.executable, "-m", "opsweek"]
    notes = subprocess.run([*command, "export", "latest"], capture_output=True, env=env, check=True)
    assert notes.stdout.startswith(b"# Weekly session 2026-W47") and notes.stderr == b""
    one = subprocess.run([*command, "dump"], capture_output=True, env=env, check=True).stdout
    (tmp_path / "one.json").write_bytes(one)
    env2 = {**env, "OPSWEEK_DB": str(tmp_path / "two.db")}
    subprocess.run([*command, "import", str(tmp_path / "one.json")], capture_output=True, env=env2, check=True)
    two = subprocess.run([*command, "dump"], capture_output=True, env=env2, check=True).stdout
    assert one == two
