"""Hostile files: what ``-o`` and ``--db`` point at is written only if it is a regular
file opsweek may replace; devices, FIFOs, sockets, directories, dangling links and
read-only files are refused and left exactly as they were. Copies of devices are made
under a temporary directory: no test points at the real /dev.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from opsweek.cli.main import main


def run(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> None:
    assert err.startswith("opsweek: ") and err.count("\n") == 1 and "Traceback" not in err, err


def char_device(directory: Path) -> Path:
    """A copy of /dev/null's node (major 1, minor 3) under ``directory``."""
    path = directory / "null"
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, OSError) as error:
        pytest.skip(f"mknod is not permitted here ({error.strerror})")
    return path


def snapshot(path: Path) -> tuple:
    """What a target is: its type, mode, and (for a regular file) its bytes."""
    st = os.lstat(path)
    content = path.read_bytes() if stat.S_ISREG(st.st_mode) else None
    return stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), content, os.readlink(path) if path.is_symlink() else None


# --- -o ------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["dump"], ["export"]])
def test_output_to_a_fifo_is_refused_untouched(capsys, demo_db, tmp_path, command):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo, 0o640)
    before = snapshot(fifo)
    code, out, err = run(capsys, "--db", demo_db, *command, "-o", fifo)  # would block for ever if opened
    assert code == 2 and out == ""
    one_line(err)
    assert "FIFO" in err and "-o -" in err
    assert snapshot(fifo) == before


@pytest.mark.parametrize("command", [["dump"], ["export"]])
def test_output_to_a_character_device_is_refused_untouched(capsys, demo_db, tmp_path, command):
    device = char_device(tmp_path)
    before = snapshot(device)
    code, _, err = run(capsys, "--db", demo_db, *command, "-o", device)
    assert code == 2
    one_line(err)
    assert "character device" in err and "-o -" in err
    assert snapshot(device) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "demo.db" and not p.name.startswith("demo.db-")) \
        == ["null"]  # no temporary file left beside it


def test_output_to_a_socket_is_refused_untouched(capsys, demo_db, tmp_path):
    path = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    try:
        before = snapshot(path)
        code, _, err = run(capsys, "--db", demo_db, "dump", "-o", path)
        assert code == 2 and "socket" in err
        assert snapshot(path) == before
    finally:
        server.close()


def test_output_through_a_symlink_replaces_its_target_and_keeps_the_link(capsys, demo_db, tmp_path):
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    target = real_dir / "notes.md"
    target.write_text("old notes\n", encoding="utf-8")
    target.chmod(0o640)
    link = tmp_path / "latest.md"
    link.symlink_to(target)
    code, out, err = run(capsys, "--db", demo_db, "export", "-o", link)
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text(encoding="utf-8").startswith("# Weekly session")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the replaced file's mode is kept
    assert sorted(p.name for p in real_dir.iterdir()) == ["notes.md"]  # written in the target's directory


def test_output_through_a_link_to_a_device_is_refused(capsys, demo_db, tmp_path):
    device = char_device(tmp_path)
    link = tmp_path / "stdout"
    link.symlink_to(device)  # what /dev/stdout is, when stdout goes to /dev/null
    code, _, err = run(capsys, "--db", demo_db, "dump", "-o", link)
    assert code == 2 and "character device" in err
    assert link.is_symlink() and os.readlink(link) == str(device)
    assert stat.S_ISCHR(os.stat(device).st_mode)


def test_output_to_a_read_only_file_is_refused_not_overwritten(capsys, demo_db, tmp_path):
    target = tmp_path / "keep.json"
    target.write_text("mine\n", encoding="utf-8")
    target.chmod(0o444)
    before = snapshot(target)
    code, _, err = run(capsys, "--db", demo_db, "dump", "-o", target)
    assert code == 2 and "read-only" in err  # even for root, who could write it
    assert snapshot(target) == before


def test_output_to_a_directory_or_a_missing_one_is_refused(capsys, demo_db, tmp_path):
    code, _, err = run(capsys, "--db", demo_db, "dump", "-o", tmp_path)
    assert code == 2 and "is a directory" in err
    code, _, err = run(capsys, "--db", demo_db, "dump", "-o", tmp_path / "no" / "such.json")
    assert code == 2 and "no such directory" in err


def test_dash_writes_standard_output(capsys, demo_db):
    code, out, err = run(capsys, "--db", demo_db, "dump", "-o", "-")
    assert code == 0 and out.startswith("{") and err == ""


def test_a_new_output_file_is_whole_and_nothing_is_left_beside_it(capsys, demo_db, tmp_path):
    target = tmp_path / "out" / "dump.json"
    target.parent.mkdir()
    code, out, _ = run(capsys, "--db", demo_db, "dump", "-o", target)
    assert code == 0 and f"wrote the dump to {target}" in out
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["dump.json"]


def test_every_writer_is_the_one_helper():
    """notes.write_atomic (the TUI's export) and the CLI's -o both go through files.py."""
    import inspect

    from opsweek import notes
    from opsweek.cli import notes as cli_notes

    assert "write_output" in inspect.getsource(notes.write_atomic)
    assert "write_output" in inspect.getsource(cli_notes._emit)
    assert "os.replace" not in inspect.getsource(notes) and "mkstemp" not in inspect.getsource(notes)


# --- --db ----------------------------------------------------------------------------------


def test_db_naming_a_fifo_is_exit_3_and_untouched(capsys, tmp_path):
    fifo = tmp_path / "db"
    os.mkfifo(fifo, 0o644)
    before = snapshot(fifo)
    for argv in (["--me", "ben", "mine"], ["init"], ["log"]):
        code, _, err = run(capsys, "--db", fifo, *argv)
        assert code == 3, (argv, err)
        one_line(err)
        assert "FIFO" in err
    assert snapshot(fifo) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db"]  # no -journal, -wal or -shm beside it


def test_db_naming_a_character_device_is_exit_3_and_untouched(capsys, tmp_path):
    device = char_device(tmp_path)
    before = snapshot(device)
    for argv in (["--me", "ben", "mine"], ["init"], ["import", tmp_path / "x.json"]):
        code, _, err = run(capsys, "--db", device, *argv)
        assert code in (2, 3), (argv, err)  # import names its missing file first
        one_line(err)
    code, _, err = run(capsys, "--db", device, "--me", "ben", "mine")
    assert code == 3 and "character device" in err
    assert snapshot(device) == before  # still 0666: its mode is not ours to change
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null"]


def test_db_naming_a_directory_or_a_dangling_link_is_exit_3(capsys, tmp_path):
    link = tmp_path / "gone.db"
    link.symlink_to(tmp_path / "nowhere.db")
    for path, words in ((tmp_path, "is a directory"), (link, "does not exist")):
        code, _, err = run(capsys, "--db", path, "init")
        assert code == 3 and words in err, err
        one_line(err)
    assert link.is_symlink() and not (tmp_path / "nowhere.db").exists()


def test_db_through_a_link_to_a_database_works(capsys, demo_db, tmp_path):
    link = tmp_path / "link.db"
    link.symlink_to(demo_db)
    code, out, err = run(capsys, "--db", link, "--me", "ben", "mine")
    assert code == 0, err
    assert link.is_symlink()


def test_a_read_only_command_never_initialises_an_empty_file(capsys, tmp_path):
    empty = tmp_path / "e.db"
    empty.write_bytes(b"")
    empty.chmod(0o644)
    for argv in (["--me", "ben", "mine"], ["log"], ["audit"], ["export"], ["dump"], ["whatif", "--away", "ana"]):
        code, _, err = run(capsys, "--db", empty, *argv)
        assert code in (2, 3), (argv, err)
        one_line(err)
        assert empty.stat().st_size == 0
    assert stat.S_IMODE(empty.stat().st_mode) == 0o644  # not ours: its mode is left alone
    code, _, err = run(capsys, "--db", empty, "init")  # a command that creates does make it a database
    assert code == 0, err
    assert empty.stat().st_size > 0 and stat.S_IMODE(empty.stat().st_mode) == 0o644


def test_opsweek_sets_the_mode_only_of_a_file_it_created(capsys, tmp_path, frozen_now):
    mine = tmp_path / "new.db"
    assert run(capsys, "--db", mine, "init")[0] == 0
    assert stat.S_IMODE(mine.stat().st_mode) == 0o600


@pytest.mark.parametrize("alteration,words", [
    ("ALTER TABLE items DROP COLUMN ref", "lacks the column 'ref'"),
    ("DROP TABLE reviews", "lacks the table 'reviews'"),
    ("ALTER TABLE people RENAME COLUMN cover TO covered_by", "lacks the column 'cover'"),
    ("ALTER TABLE events RENAME TO old_events", "lacks the table 'events'"),
])
def test_a_hand_altered_database_is_exit_3_naming_what_is_wrong(capsys, demo_db, alteration, words):
    conn = sqlite3.connect(demo_db)
    conn.execute(alteration)
    conn.commit()
    conn.close()
    before = demo_db.read_bytes()
    for argv in (["--me", "ben", "mine"], ["log"], ["audit"], ["--me", "ben", "done", "31"], ["dump"]):
        code, _, err = run(capsys, "--db", demo_db, *argv)
        assert code == 3, (argv, err)
        one_line(err)
        assert words in err, err
    assert demo_db.read_bytes() == before


# --- the demo ------------------------------------------------------------------------------


def test_the_demo_is_not_rebuilt_under_another_process(capsys, demo_db, frozen_now):
    other = sqlite3.connect(demo_db)  # another opsweek with the demo open
    other.execute("SELECT count(*) FROM items").fetchone()
    try:
        before = demo_db.read_bytes()
        code, _, err = run(capsys, "--db", demo_db, "demo", "--no-tui")
        assert code == 3 and "in use" in err, err
        one_line(err)
        assert demo_db.read_bytes() == before
        assert other.execute("SELECT count(*) FROM items").fetchone()[0] == 44  # still readable
    finally:
        other.close()
    code, _, err = run(capsys, "--db", demo_db, "demo", "--no-tui")
    assert code == 0, err


def _opsweek(*args, env=None, **kwargs):
    full = {k: v for k, v in os.environ.items() if k != "OPSWEEK_DEBUG"}
    full.update(env or {})
    return subprocess.Popen([sys.executable, "-m", "opsweek", *map(str, args)], env=full,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def test_a_demo_build_killed_mid_way_leaves_nothing_demo_refuses(tmp_path):
    db = tmp_path / "demo.db"
    env = {"OPSWEEK_NOW": "2026-11-24T10:00:00Z"}
    process = _opsweek("--db", db, "demo", "--no-tui", "--scale", "20000", env=env)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not list(tmp_path.glob(".demo.db.building-*")):
        time.sleep(0.02)
    assert list(tmp_path.glob(".demo.db.building-*")), "the build never started"
    time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert not db.exists()  # half a demo is never at the demo's path
    finished = _opsweek("--db", db, "demo", "--no-tui", env=env)
    out, err = finished.communicate(timeout=60)
    assert finished.returncode == 0, err
    assert "built the demo database" in out
    assert not list(tmp_path.glob(".demo.db.building-*"))  # the killed build's file is gone too


# --- the real process ----------------------------------------------------------------------


def test_subprocess_hostile_paths_are_one_line(tmp_path, demo_db):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    env = {"OPSWEEK_NOW": "2026-11-24T10:00:00Z"}
    cases = [
        (["--db", fifo, "--me", "ben", "mine"], 3),
        (["--db", demo_db, "dump", "-o", fifo], 2),
        (["--db", demo_db, "--me", "ben", "add", "complaints", "x", "--due", "+9999999d"], 2),
        (["--db", demo_db, "--me", "ben", "mine"], 2, {"OPSWEEK_NOW": "0001-01-01"}),
    ]
    for argv, expected, *extra in cases:
        process = _opsweek(*argv, env={**env, **(extra[0] if extra else {})})
        out, err = process.communicate(timeout=30)
        assert process.returncode == expected, (argv, err)
        assert out == "" and err.count("\n") == 1 and "Traceback" not in err, err
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_the_shape_check_knows_every_table_and_column_of_the_schema():
    from opsweek.store.db import COLUMNS, PRIMARY_KEYS, Store

    with Store.memory() as store:
        for table in [*PRIMARY_KEYS, "events"]:
            actual = [row["name"] for row in store.query(f"PRAGMA table_info({table})")]
            # a later schema step may add columns (list them in COLUMNS to have them checked too)
            assert set(COLUMNS[table]) <= set(actual), table
