"""Large imports write through faster paths (issue 16): rows go in 500 to a statement,
and a new file is written through a rollback journal while it loads. Each story shows
that the faster path leaves exactly what the former one did: the same rows, the same
failure at the same row, the same dump byte for byte, the journal back in WAL."""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime, timezone

import pytest

from opsweek import demo
from opsweek.cli.main import main
from opsweek.dump import dump
from opsweek.store import Store
from opsweek.store import db as store_db

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
HEADER = ("workflow,stage,title,owner,status,opened,stage_entered,last_activity,due,ref,"
          "blocked_reason,handoff_to,handoff_owner,handoff_sent")


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setenv("OPSWEEK_NOW", NOW.isoformat())


def _one_by_one(conn, table, columns, values):
    """The former way in: executemany of the one-row statement."""
    columns = list(columns)
    conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                     values)


def _items_csv(path, rows: int) -> None:
    """A file of the sample team's workflows with what a real file holds: handoffs named
    or to the stage's owner, blank cells left to their defaults, blocked, done and dropped
    items, dates, text with terminal controls to clean, quotes, commas and non-ASCII."""
    import csv
    import tomllib

    team = tomllib.loads((demo.sample_dir() / "team.toml").read_text(encoding="utf-8"))
    people = [p["handle"] for p in team["people"] if p.get("active", True)]
    flows = [(w["key"], [s for s in w.get("stages", [])]) for w in team["workflows"]]
    rng = random.Random(16)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER.split(","))
        for n in range(rows):
            workflow, stages = flows[n % len(flows)]
            position = rng.randrange(len(stages))
            status = rng.choice(["open", "open", "", "blocked", "done", "dropped"])
            opened = rng.randint(3, 60)
            title = rng.choice([f"Item {n}", f"  Spaced {n}  ", f"Quote \"{n}\", comma", f"Ünïcode «{n}» 日本",
                                f"\x1b[31mRed {n}\x1b[0m", f"[bold]{n}[/]"])
            # opened a while ago (or now, when blank: then the rest of its times are now too)
            opened_cell = rng.choice([f"-{opened}d", "", "2026-11-01T09:00:00Z"])
            entered = rng.choice(["", f"-{rng.randint(1, min(opened - 1, 20))}d"]) if opened_cell else ""
            activity = rng.choice(["", "-2h", "-1d"]) if opened_cell else ""
            handoff = ["", "", ""]
            if status in ("open", "") and position + 1 < len(stages) and rng.random() < 0.3:
                nxt = stages[position + 1]
                owner = "" if nxt.get("owner") and rng.random() < 0.5 else rng.choice(people)
                handoff = [nxt["key"], owner, rng.choice(["", f"-{rng.randint(1, 48)}h"]) if opened_cell else ""]
            out.writerow([
                workflow, stages[position]["key"], title, rng.choice([*people, ""]), status, opened_cell, entered,
                activity, rng.choice(["", "2026-12-01", "2027-01-15"]), rng.choice(["", f"T-{n}", " \x07 "]),
                "Waiting on a vendor" if status == "blocked" else "", *handoff])


def test_rows_put_in_500_to_a_statement_are_the_rows_put_in_one_by_one(tmp_path):
    """Items (whose CHECK made the one-by-one way slow), with NULLs, non-ASCII text and
    1,234 rows (two full statements and a part): the same rows either way."""
    values = [(n, "flow", "one", f"Title {n} «ü» 日本" if n % 7 else "", None if n % 3 else "ana",
               ["open", "blocked", "done", "dropped"][n % 4], "2026-11-20T09:00:00Z", "2026-11-20T09:00:00Z",
               "2026-11-21T09:00:00Z", None if n % 5 else "2026-12-01", f"R-{n}", None, None, None)
              for n in range(1, 1235)]
    tables = []
    for way in (store_db.insert_rows, _one_by_one):
        conn = sqlite3.connect(":memory:", isolation_level=None)
        conn.execute(_items_schema())
        way(conn, "items", store_db.COLUMNS["items"], iter(values))
        tables.append(conn.execute("SELECT * FROM items ORDER BY id").fetchall())
    assert tables[0] == tables[1] and len(tables[0]) == 1234


@pytest.mark.parametrize("broken", ["check", "unique", "surrogate", "fed from a later item"])
def test_a_row_that_fails_fails_at_the_same_row_leaving_the_rows_before_it(broken):
    """A row that SQLite refuses (or Python cannot send) in the middle of the third
    statement: the same error as one by one, and the same rows are in before it; an
    item fed from a later one fails at its row while references are looked up."""
    values = [[n, "flow", "one", f"Title {n}", None, "open", "2026-11-20T09:00:00Z", "2026-11-20T09:00:00Z",
               "2026-11-21T09:00:00Z", None, None, None, None, None] for n in range(1, 1301)]
    row = values[1176]
    if broken == "check":
        row[5] = "closed"
    elif broken == "unique":
        row[0] = 12
    elif broken == "surrogate":
        row[3] = "half \ud800 a pair"
    else:
        row[13] = 1250
    outcomes = []
    for way in (store_db.insert_rows, _one_by_one):
        conn = sqlite3.connect(":memory:", isolation_level=None)
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("CREATE TABLE workflows (key TEXT PRIMARY KEY)")
        conn.execute("CREATE TABLE stages (workflow TEXT, key TEXT, PRIMARY KEY (workflow, key))")
        conn.execute("INSERT INTO workflows VALUES ('flow')")
        conn.execute("INSERT INTO stages VALUES ('flow', 'one')")
        conn.execute(_items_schema())
        conn.execute("BEGIN")
        with pytest.raises((sqlite3.Error, UnicodeEncodeError)) as error:
            way(conn, "items", store_db.COLUMNS["items"], map(tuple, values))
        outcomes.append((type(error.value), str(error.value),
                         conn.execute("SELECT count(*), max(id) FROM items").fetchone()))
        conn.execute("ROLLBACK")
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][2] == (1176, 1176)


def _items_schema() -> str:
    with Store.memory() as store:
        return store.scalar("SELECT sql FROM sqlite_master WHERE name = 'items'")


def _import(tmp_path, name, *files) -> tuple[str, str]:
    db = tmp_path / name
    code = main(["--db", str(db), "--me", "ana", "import", *map(str, files)])
    assert code == 0
    with Store.open(db) as store:
        return dump(store), store.scalar("PRAGMA journal_mode")


def test_a_large_csv_import_makes_the_same_database_as_the_former_way(tmp_path, frozen, monkeypatch, capsys):
    """12,000 rows of every kind into a new file: the dump of the database (every row,
    every event) is the same byte for byte as when the rows went in one by one through
    WAL, and the file is in WAL afterwards; its dump restored both ways is the same too."""
    items = tmp_path / "items.csv"
    _items_csv(items, 12_000)
    team = demo.sample_dir() / "team.toml"
    left = []
    leave_wal = Store._leave_wal
    monkeypatch.setattr(Store, "_leave_wal", lambda self: left.append(leave_wal(self)) or left[-1])
    fast, mode = _import(tmp_path, "fast.db", team, items)
    assert left == [True] and mode == "wal"  # loaded through the journal, in WAL again
    restored_fast, mode = _import(tmp_path, "restored-fast.db", _write(tmp_path / "fast.json", fast))
    assert left == [True, True] and mode == "wal"
    with monkeypatch.context() as former:
        former.setattr(store_db, "insert_rows", _one_by_one)
        former.setattr("opsweek.dump.insert_rows", _one_by_one)
        former.setattr(Store, "_leave_wal", lambda self: False)
        slow, _ = _import(tmp_path, "slow.db", team, items)
        restored_slow, _ = _import(tmp_path, "restored-slow.db", _write(tmp_path / "slow.json", slow))
    capsys.readouterr()
    assert fast == slow
    assert restored_fast == restored_slow == fast
    assert "[31mRed " in fast and "\\u001b" not in fast  # the controls were cleaned, both ways


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_a_load_into_a_file_someone_has_open_stays_in_wal(tmp_path):
    """Leaving WAL needs every other connection closed: with a reader open, the load
    goes in through WAL as before, and the reader sees it once it is committed."""
    path = tmp_path / "x.db"
    Store.open(path, create=True).close()
    reader = Store.open(path)
    reader.scalar("SELECT count(*) FROM items")
    with Store.open(path) as store:
        with store.bulk(references_at_commit=True, journal_once=True):
            assert store.scalar("PRAGMA journal_mode") == "wal"
            with store.change("setup", actor="ana") as change:
                change.insert("workflows", {"key": "flow", "name": "Flow", "status": "active"})
        assert store.scalar("PRAGMA journal_mode") == "wal"
    assert reader.scalar("SELECT count(*) FROM workflows") == 1
    reader.close()


def test_a_failed_load_through_the_journal_leaves_the_file_as_it_was(tmp_path):
    """A load that fails its references at the commit, written through the rollback
    journal: nothing of it is kept, the file is whole and in WAL again."""
    path = tmp_path / "x.db"
    with Store.open(path, create=True) as store:
        with store.change("setup", actor="ana") as change:
            change.insert("workflows", {"key": "flow", "name": "Flow", "status": "active"})
            change.insert("stages", {"workflow": "flow", "key": "one", "name": "One", "position": 1})
        before = dump(store)
        item = {"workflow": "flow", "stage": "one", "title": "Fine", "status": "open",
                "opened_at": "2026-11-20T09:00:00Z", "stage_entered_at": "2026-11-20T09:00:00Z",
                "last_activity_at": "2026-11-20T09:00:00Z"}
        rows = [{**item, "title": f"Item {n}"} for n in range(12_000)]
        rows[7_000] = {**item, "workflow": "nowhere"}
        with store.bulk(references_at_commit=True, journal_once=True):
            assert store.scalar("PRAGMA journal_mode") == "delete"
            with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY constraint failed"):
                with store.change("import", actor="ana") as change:
                    change.insert_many("items", rows)
        assert store.scalar("PRAGMA journal_mode") == "wal"
        assert dump(store) == before
        assert store.scalar("PRAGMA integrity_check") == "ok"
