"""A large CSV going into a database with no items is read and checked in a child
process while its rows are written (issue 16, goal 4: ``importing._Aside``). The
outcome is the import's when every file was checked before anything was written: the
same database, and for a bad file the same one line (a problem in a CSV named before
any found while writing), nothing kept; a child that fails leaves its file to be read
here, from the row it had reached."""

from __future__ import annotations

import os

import pytest
from test_import_fast_paths import NOW, _items_csv

from opsweek import demo, importing
from opsweek.cli.main import main
from opsweek.dump import dump
from opsweek.store import Store

TEAM = demo.sample_dir() / "team.toml"


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    monkeypatch.setenv("OPSWEEK_NOW", NOW.isoformat())


@pytest.fixture
def forks(monkeypatch, children):
    """Every CSV import goes through a child (whatever its size), in chunks of 97 rows;
    the children made are listed."""
    monkeypatch.setattr(importing, "_ASIDE_BYTES", 1)
    monkeypatch.setattr(importing, "CHUNK", 97)
    return children


def imported(tmp_path, name, *files, capsys) -> str:
    """The dump of a new database the files were imported into, or the one line the
    import was refused with (and then no database is left)."""
    db = tmp_path / name
    code = main(["--db", str(db), "--me", "ana", "import", *map(str, files)])
    err = capsys.readouterr().err
    if code:
        assert code == 2 and not db.exists()
        return "refused: " + err.strip().replace(str(tmp_path), "DIR")
    with Store.open(db) as store:
        return dump(store)


def here(tmp_path, name, *files, capsys, monkeypatch) -> str:
    with monkeypatch.context() as patch:
        patch.setattr(importing, "_ASIDE_BYTES", 10**12)
        return imported(tmp_path, name, *files, capsys=capsys)


@pytest.fixture(scope="module")
def items(tmp_path_factory):
    path = tmp_path_factory.mktemp("aside") / "items.csv"
    _items_csv(path, 1_000)
    return path


def _broken(tmp_path, items, line: int, name="broken.csv"):
    lines = items.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[line - 1] = "client-delivery,nowhere,A stage that is not there,,,,,,,,,,,\n"
    path = tmp_path / name
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_rows_checked_in_a_child_make_the_same_database(tmp_path, items, forks, capsys, monkeypatch):
    beside = imported(tmp_path, "aside.db", TEAM, items, capsys=capsys)
    assert forks and all(child is not None for child in forks)
    assert beside == here(tmp_path, "here.db", TEAM, items, capsys=capsys, monkeypatch=monkeypatch)
    assert '"title": "Item ' in beside  # the rows are there, not only the team


@pytest.mark.parametrize("line", [2, 500, 1_001])
def test_a_bad_row_is_named_as_here_and_nothing_is_kept(tmp_path, items, forks, capsys, monkeypatch, line):
    bad = _broken(tmp_path, items, line)
    beside = imported(tmp_path, "aside.db", TEAM, bad, capsys=capsys)
    assert beside == here(tmp_path, "here.db", TEAM, bad, capsys=capsys, monkeypatch=monkeypatch)
    assert beside.startswith("refused: ") and f"line {line}" in beside and "nowhere" in beside


def test_the_first_bad_file_is_named_of_several(tmp_path, items, forks, capsys, monkeypatch):
    first, second = _broken(tmp_path, items, 700, "first.csv"), _broken(tmp_path, items, 3, "second.csv")
    beside = imported(tmp_path, "aside.db", TEAM, items, first, second, capsys=capsys)
    assert beside == here(tmp_path, "here.db", TEAM, items, first, second, capsys=capsys, monkeypatch=monkeypatch)
    assert "first.csv: line 700" in beside


def test_a_bad_row_comes_before_a_problem_found_while_writing(tmp_path, items, forks, capsys, monkeypatch):
    def later(store):
        raise importing.InputError("found while writing")

    monkeypatch.setattr(importing, "_check_references", later)
    bad = _broken(tmp_path, items, 900)
    assert "line 900" in imported(tmp_path, "bad.db", TEAM, bad, capsys=capsys)
    assert "found while writing" in imported(tmp_path, "good.db", TEAM, items, capsys=capsys)


def test_a_child_that_fails_leaves_its_file_to_be_read_here(tmp_path, items, forks, capsys, monkeypatch):
    parent = os.getpid()
    parse = importing.parse_items

    def breaks_in_the_child(path, catalog, now, *, send=None):
        if os.getpid() == parent:
            return parse(path, catalog, now, send=send)
        sent = []

        def then_breaks(rows):
            if len(sent) == 3:
                raise RuntimeError("the child breaks")
            sent.append(rows)
            send(rows)

        return parse(path, catalog, now, send=then_breaks)

    monkeypatch.setattr(importing, "parse_items", breaks_in_the_child)
    beside = imported(tmp_path, "aside.db", TEAM, items, capsys=capsys)
    assert forks and all(child is not None for child in forks)
    assert beside == here(tmp_path, "here.db", TEAM, items, capsys=capsys, monkeypatch=monkeypatch)
    bad = _broken(tmp_path, items, 800)
    assert "line 800" in imported(tmp_path, "bad.db", TEAM, bad, capsys=capsys)


def test_a_database_that_holds_items_is_written_as_before(tmp_path, items, forks, capsys):
    db = tmp_path / "held.db"
    assert main(["--db", str(db), "--me", "ana", "import", str(TEAM), str(items)]) == 0
    forks.clear()
    assert main(["--db", str(db), "--me", "ana", "import", str(items)]) == 0
    capsys.readouterr()
    assert forks == []  # no child: the rows go in as they always did
    with Store.open(db) as store:
        assert store.scalar("SELECT count(*) FROM items") == 2_000


def test_a_connection_opened_during_a_load_through_the_journal_works(tmp_path):
    """A large load into a new file writes it through a rollback journal; a connection
    opened meanwhile (``opsweek mine`` in another terminal) cannot switch the file back to
    WAL and reads through the journal instead, seeing what was committed; the next
    connection opened after both sets WAL again."""
    path = tmp_path / "x.db"
    Store.open(path, create=True).close()
    with Store.open(path) as loader:
        with loader.bulk(references_at_commit=True, journal_once=True):
            assert loader.scalar("PRAGMA journal_mode") == "delete"
            with loader.change("setup", actor="ana") as change:
                change.insert("workflows", {"key": "flow", "name": "Flow", "status": "active"})
                with Store.open(path) as reader:  # refused the switch to WAL: no error
                    assert reader.scalar("SELECT count(*) FROM workflows") == 0
            with Store.open(path) as reader:
                assert reader.scalar("SELECT count(*) FROM workflows") == 1
    with Store.open(path) as store:
        assert store.scalar("PRAGMA journal_mode") == "wal"


def test_two_large_imports_at_once_both_land(tmp_path):
    """Two processes import a large CSV (each checked in a child) into one new database
    at the same moment: the second waits for the first's write, and both land, every item
    once with its event."""
    import subprocess
    import sys

    items = tmp_path / "items.csv"
    _items_csv(items, 25_000)
    assert items.stat().st_size >= importing._ASIDE_BYTES
    db = tmp_path / "shared.db"
    assert main(["--db", str(db), "--me", "ana", "import", str(TEAM)]) == 0
    command = [sys.executable, "-m", "opsweek", "--db", str(db), "--me", "ana", "import", str(items)]
    racers = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for _ in range(2)]
    outcomes = [racer.communicate(timeout=120) for racer in racers]
    assert [racer.returncode for racer in racers] == [0, 0], outcomes
    with Store.open(db) as store:
        assert store.scalar("SELECT count(*), count(DISTINCT id) FROM items") == 50_000
        assert store.scalar("SELECT count(DISTINCT id) FROM items") == 50_000
        assert store.scalar("SELECT count(*) FROM events WHERE entity = 'items'") == 50_000
        assert store.scalar("PRAGMA journal_mode") == "wal"
