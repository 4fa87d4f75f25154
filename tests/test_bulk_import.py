"""Large imports take faster paths (issue 16): references checked once before the commit,
events checked as plainly valid without their slow check. Each story here shows the
faster path refuses and accepts exactly what the row-by-row path did."""

from __future__ import annotations

import copy
import json
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from opsweek import demo
from opsweek.dump import _EventCheck, _check_event, dump, restore_file
from opsweek.errors import InputError
from opsweek.store import Store

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setenv("OPSWEEK_NOW", NOW.isoformat())


@pytest.mark.parametrize("scale", [None, 12_000], ids=["small dump", "dump of 12,000 items"])
def test_an_item_fed_from_a_later_item_is_refused_at_the_same_row(tmp_path, frozen, scale):
    """SQLite looks a reference up as it inserts the row; a dump restored with its
    references checked at the commit (a large one) still refuses the item whose source
    comes later in the file, naming the same row, and writes nothing."""
    source = demo.build(tmp_path / "source.db", scale=scale, now=NOW)
    data = json.loads(dump(source))
    source.close()
    items = data["tables"]["items"]
    bad = copy.deepcopy(data)
    bad["tables"]["items"][5]["fed_from"] = items[9]["id"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    with Store.open(tmp_path / "target.db", create=True) as target:
        with pytest.raises(InputError) as error:
            restore_file(target, path)
        assert str(error.value).endswith("items[6]: FOREIGN KEY constraint failed")
        assert target.scalar("SELECT count(*) FROM items") == 0
        assert target.scalar("SELECT count(*) FROM events") == 0
        # fed from an earlier item (or itself): restored, as always
        good = copy.deepcopy(data)
        good["tables"]["items"][9]["fed_from"] = items[5]["id"]
        good["tables"]["items"][3]["fed_from"] = items[3]["id"]
        path.write_text(json.dumps(good), encoding="utf-8")
        assert restore_file(target, path)["items"] == len(items)
        assert target.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_a_bulk_load_with_references_at_commit_refuses_a_broken_reference(tmp_path):
    """Inside ``Store.bulk(references_at_commit=True)`` a row naming a workflow that
    does not exist fails its change before the commit, with SQLite's own error, and
    nothing of the change is kept; afterwards references are looked up row by row again."""
    with Store.open(tmp_path / "x.db", create=True) as store:
        with store.change("setup", actor="ana") as change:
            change.insert("workflows", {"key": "flow", "name": "Flow", "status": "active"})
            change.insert("stages", {"workflow": "flow", "key": "one", "name": "One", "position": 1})
        item = {"workflow": "flow", "stage": "one", "title": "Fine", "status": "open",
                "opened_at": "2026-11-20T09:00:00Z", "stage_entered_at": "2026-11-20T09:00:00Z",
                "last_activity_at": "2026-11-20T09:00:00Z"}
        with store.bulk(references_at_commit=True):
            with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY constraint failed"):
                with store.change("import", actor="ana") as change:
                    change.insert_many("items", [item, {**item, "workflow": "nowhere", "title": "Lost"}])
            assert store.scalar("SELECT count(*) FROM items") == 0
            assert store.scalar("SELECT count(*) FROM events WHERE action = 'import'") == 0
            with store.change("import", actor="ana") as change:  # every reference holds: written
                change.insert_many("items", [item])
        assert store.scalar("SELECT count(*) FROM items") == 1
        assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        with pytest.raises(sqlite3.IntegrityError):  # looked up row by row again
            with store.change("import", actor="ana") as change:
                change.insert("items", {**item, "workflow": "nowhere"})


PLAIN = ['{"max_days": 3.0, "key": "qa"}', '{"max_days": 2.5}', '{"max_days": 1.5e308}', '{"id": 1.0}',
         '{"id": 9223372036854775807}', '{"id": -9223372036854775808}', '{"name": null}', '{}',
         '{"name": "a \\"quoted\\" word \\/ \\\\ x"}']
NOT_PLAIN = ['{"max_days": 1e999}', '{"max_days": -1e999}', '{"id": 9223372036854775808}',
             '{"id": -9223372036854775809}', '{"active": true}', '{"name": ["a"]}', '{"name": {"a": 1}}',
             '{"name": "tab\\there"}', '{"name": "\\u001b[31m"}', '{"colour": "red"}', '[1]',
             '{"name": "x"} ', ' {"name": "x"}', '{"name": "x"}{', '{"name": NaN}', '{"name": "\x07"}']


@pytest.mark.parametrize("text", PLAIN + NOT_PLAIN)
def test_an_event_taken_as_plain_is_one_the_full_check_accepts_as_it_is(text):
    """The quick check of a dump's events says "plain" (a finite number such as a stage's
    max_days 3.0 included) only for an event that the full check accepts without
    cleaning it; anything else goes through the full check, which refuses or cleans it."""
    row = {"entity": "stages", "action": "stage.set", "before": None, "after": text}
    plain = _EventCheck().plain(dict(row))
    assert plain == (text in PLAIN)
    if plain:
        checked = dict(row)
        _check_event(checked, 0, lambda index, column, problem: InputError(problem))
        assert checked == row


def test_a_large_import_of_a_team_and_items_leaves_no_broken_reference(tmp_path, frozen):
    """A demo of 12,000 items dumped and imported into a new database (references
    checked at the commit): byte for byte the same dump, every reference holding."""
    source = demo.build(tmp_path / "source.db", scale=12_000, now=NOW - timedelta(days=1))
    text = dump(source)
    source.close()
    path = tmp_path / "dump.json"
    path.write_text(text, encoding="utf-8")
    with Store.open(tmp_path / "restored.db", create=True) as fresh:
        restore_file(fresh, path)
        assert dump(fresh) == text
        assert fresh.conn.execute("PRAGMA foreign_key_check").fetchall() == []
