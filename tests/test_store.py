"""The store: a safe file, WAL and foreign keys, changes that land with their events or
not at all, clean text, migrations with a backup first, and undo."""

from __future__ import annotations

import hashlib
import sqlite3
import stat
from datetime import timedelta

import pytest

from opsweek.errors import DatabaseUnusable, InputError
from opsweek.store import Store, changes, read
from opsweek.store.db import BUSY_TIMEOUT_MS, MIGRATIONS
from opsweek.text import clean_text


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def count(store: Store, table: str) -> int:
    return store.scalar(f"SELECT count(*) FROM {table}")


@pytest.fixture
def store(demo_db):
    with Store.open(demo_db) as opened:
        yield opened


def open_item(store: Store, owner: str) -> int:
    return store.scalar("SELECT min(id) FROM items WHERE status = 'open' AND owner = ?", (owner,))


# --- the file ----------------------------------------------------------------------------


def test_new_database_is_0600_in_a_new_0700_directory(tmp_path):
    path = tmp_path / "a" / "b" / "opsweek.db"
    with Store.open(path, create=True) as store:
        assert store.applied_migrations() == list(MIGRATIONS)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_the_umask_does_not_loosen_the_file(tmp_path):
    import os

    old = os.umask(0)
    try:
        path = tmp_path / "open" / "opsweek.db"
        Store.open(path, create=True).close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_wal_integrity_foreign_keys_and_busy_timeout(store):
    assert store.scalar("PRAGMA journal_mode") == "wal"
    assert store.scalar("PRAGMA integrity_check") == "ok"
    assert store.scalar("PRAGMA foreign_keys") == 1
    assert store.scalar("PRAGMA busy_timeout") == BUSY_TIMEOUT_MS


def test_foreign_keys_are_enforced(store):
    before = count(store, "events")
    with pytest.raises(sqlite3.IntegrityError):
        with store.change("test", actor="ana") as change:
            change.insert("handoffs", {"item_id": 999_999, "from_stage": "a", "to_stage": "b",
                                       "sent_at": "2026-11-24T10:00:00Z", "due_at": "2026-11-25T10:00:00Z"})
    assert count(store, "events") == before


def test_missing_database_without_create_is_exit_3_and_not_created(tmp_path):
    path = tmp_path / "nope.db"
    with pytest.raises(DatabaseUnusable, match="opsweek init"):
        Store.open(path)
    assert not path.exists()


def test_resolve_db_path_precedence(monkeypatch, tmp_path):
    from opsweek.store.db import default_db_path, resolve_db_path

    monkeypatch.setenv("OPSWEEK_DB", str(tmp_path / "env.db"))
    assert resolve_db_path(str(tmp_path / "opt.db")) == tmp_path / "opt.db"
    assert resolve_db_path(None) == tmp_path / "env.db"
    monkeypatch.delenv("OPSWEEK_DB")
    assert resolve_db_path(None) == default_db_path()
    assert default_db_path().name == "opsweek.db"


# --- every change with its events, in one transaction -------------------------------------


def test_a_change_writes_its_row_edits_and_events_together(store, frozen_now):
    team = read.team(store)
    item_id = open_item(store, "ben")
    before_events = count(store, "events")
    changes.reassign_item(store, team, item_id, "ana", reason="Ben is swamped", actor="carla")
    events = store.query("SELECT * FROM events WHERE id > (SELECT max(id) - 1 FROM events)")
    assert count(store, "events") == before_events + 1
    event = events[0]
    assert (event["actor"], event["action"], event["entity"], event["entity_id"], event["reason"]) == (
        "carla", "item.reassign", "items", str(item_id), "Ben is swamped")
    assert event["at"] == "2026-11-24T10:00:00Z"
    assert '"owner": "ben"' in event["before"] and '"owner": "ana"' in event["after"]


def test_an_edit_that_changes_nothing_records_nothing(store):
    item_id = open_item(store, "ben")
    before = count(store, "events")
    with store.change("noop", actor="ana") as change:
        assert change.update("items", item_id, {"owner": "ben"}) == {}
    assert count(store, "events") == before


def test_a_change_that_raises_midway_leaves_neither_rows_nor_events(store):
    item_id = open_item(store, "ben")
    before_events = count(store, "events")
    before_items = count(store, "items")
    with pytest.raises(RuntimeError):
        with store.change("test", actor="ana") as change:
            change.update("items", item_id, {"owner": "ana"})
            change.insert("items", {"workflow": "hiring", "stage": "sourcing", "title": "half", "status": "open",
                                    "opened_at": "x", "stage_entered_at": "x", "last_activity_at": "x"})
            raise RuntimeError("power cut")
    assert read.item(store, item_id).owner == "ben"
    assert count(store, "items") == before_items
    assert count(store, "events") == before_events
    assert not store.conn.in_transaction


def test_a_failing_event_write_takes_the_row_edit_back_with_it(store, monkeypatch):
    from opsweek.store.db import Change

    team = read.team(store)
    item_id = open_item(store, "ben")
    before = count(store, "events")

    def broken(self, *args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    original = Change._event
    monkeypatch.setattr(Change, "_event", broken)
    with pytest.raises(sqlite3.OperationalError):
        changes.reassign_item(store, team, item_id, "ana", actor="carla")
    monkeypatch.setattr(Change, "_event", original)
    assert read.item(store, item_id).owner == "ben"
    assert count(store, "events") == before


def test_a_refused_change_writes_nothing(store):
    team = read.team(store)
    item_id = open_item(store, "ben")
    before = digest_rows(store)
    with pytest.raises(InputError, match="unknown person 'zed'"):
        changes.reassign_item(store, team, item_id, "zed", actor="ana")
    with pytest.raises(InputError, match="inactive"):
        changes.reassign_item(store, team, item_id, "jo", actor="ana")
    with pytest.raises(InputError, match="reason is empty"):
        changes.block_item(store, item_id, "   ", actor="ana")
    assert digest_rows(store) == before


def digest_rows(store: Store) -> tuple:
    return tuple(tuple(map(tuple, store.query(f"SELECT * FROM {t} ORDER BY 1")))
                 for t in ("items", "handoffs", "events"))


def test_each_change_gets_its_own_change_id(store, frozen_now):
    team = read.team(store)
    item_id = open_item(store, "ben")
    first = store.scalar("SELECT max(change_id) FROM events")
    handoff_id = changes.hand_off(store, team, item_id, actor="ben")
    changes.accept_handoff(store, handoff_id, actor="ana")
    rows = store.query("SELECT change_id, action, entity FROM events WHERE change_id > ? ORDER BY id", (first,))
    assert [(r["change_id"] - first, r["action"], r["entity"]) for r in rows] == [
        (1, "handoff.send", "handoffs"), (1, "handoff.send", "items"),
        (2, "handoff.accept", "handoffs"), (2, "handoff.accept", "items")]


# --- clean text --------------------------------------------------------------------------------


def test_clean_text_removes_terminal_controls_but_keeps_newline_and_tab():
    assert clean_text("a\x1b[2Jb\x07c\x7fd\x85e\x9bf\x00g") == "a[2Jbcdefg"
    assert clean_text("line one\nline\ttwo\r\nthree\rfour") == "line one\nline\ttwo\nthreefour"
    assert clean_text("[bold]not markup[/]") == "[bold]not markup[/]"
    assert clean_text("café – 日本") == "café – 日本"
    assert clean_text(None) is None


def test_control_characters_are_removed_from_stored_text(store, frozen_now):
    team = read.team(store)
    item_id = changes.add_item(store, team, "complaints", "\x1b]0;pwned\x07Refund\tfor\r\nACME\x9b31m",
                               ref="ZD-\x1b[1m9", actor="ana")
    stored = store.one("SELECT title, ref FROM items WHERE id = ?", (item_id,))
    assert stored["title"] == "]0;pwnedRefund\tfor\nACME31m"
    assert stored["ref"] == "ZD-[1m9"
    changes.block_item(store, item_id, "waiting\x1b[5m on\nlegal", actor="ana")
    assert read.item(store, item_id).blocked_reason == "waiting[5m on\nlegal"
    assert "\x1b" not in store.scalar("SELECT after FROM events WHERE id = (SELECT max(id) FROM events)")


# --- migrations ----------------------------------------------------------------------------------


def test_backup_is_a_0600_copy(store, tmp_path):
    target = tmp_path / "copy.db"
    target.write_text("old", encoding="utf-8")  # an earlier backup is replaced
    store.backup(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("SELECT count(*) FROM items").fetchone()[0] == count(store, "items")


def test_a_newer_database_is_refused_and_left_untouched(demo_db):
    conn = sqlite3.connect(demo_db)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
                 " VALUES ('opsweek', 'm042_shiny', '2031-01-01')")
    conn.commit()
    conn.close()
    before = digest(demo_db)
    with pytest.raises(DatabaseUnusable, match="newer opsweek .*m042_shiny"):
        Store.open(demo_db)
    assert digest(demo_db) == before
    assert not list(demo_db.parent.glob("*.bak"))


def test_a_migration_runs_after_a_backup_of_the_existing_database(demo_db, monkeypatch):
    from opsweek.store import db as db_module
    from opsweek.store import schema

    with Store.open(demo_db) as store:
        items = count(store, "items")

    def m002_labels(db):
        db.execute("CREATE TABLE labels (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")

    monkeypatch.setattr(db_module, "MIGRATIONS", (*MIGRATIONS, "m002_labels"))
    monkeypatch.setattr(schema.migrations, "_migrations",
                        [*schema.migrations._migrations, schema.migrations._Migration("m002_labels", m002_labels)])
    with Store.open(demo_db) as store:
        assert store.applied_migrations() == [*MIGRATIONS, "m002_labels"]
        assert store.scalar("SELECT count(*) FROM labels") == 0
        assert store.scalar("PRAGMA journal_mode") == "wal"
    backup = demo_db.with_name("demo.db.before-m002_labels.bak")
    assert backup.exists()
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    old = sqlite3.connect(backup)
    assert old.execute("SELECT count(*) FROM items").fetchone()[0] == items
    assert old.execute("SELECT count(*) FROM sqlite_master WHERE name = 'labels'").fetchone()[0] == 0
    assert [r[0] for r in old.execute("SELECT name FROM _sqlite_migrations")] == list(MIGRATIONS)
    old.close()


def test_migrate_false_refuses_a_database_that_needs_an_upgrade(demo_db, monkeypatch):
    from opsweek.store import db as db_module

    monkeypatch.setattr(db_module, "MIGRATIONS", (*MIGRATIONS, "m002_labels"))
    before = digest(demo_db)
    with pytest.raises(DatabaseUnusable, match="schema upgrade"):
        Store.open(demo_db, migrate=False)
    assert digest(demo_db) == before


def test_a_fresh_database_needs_no_backup(tmp_path):
    path = tmp_path / "fresh.db"
    Store.open(path, create=True).close()
    assert not list(tmp_path.glob("*.bak"))


# --- undo ---------------------------------------------------------------------------------------


def test_undo_reverts_and_records_itself(store, frozen_now):
    team = read.team(store)
    item_id = open_item(store, "ben")
    before = dict(store.one("SELECT * FROM items WHERE id = ?", (item_id,)))
    changes.reassign_item(store, team, item_id, "ana", actor="carla")
    change_id = store.scalar("SELECT max(change_id) FROM events")
    message = changes.undo(store, actor="carla")
    assert message == f"undid: reassigned #{item_id} from ben to ana (change {change_id})"
    assert dict(store.one("SELECT * FROM items WHERE id = ?", (item_id,))) == before
    undo_event = store.one("SELECT * FROM events WHERE id = (SELECT max(id) FROM events)")
    assert (undo_event["action"], undo_event["actor"], undo_event["undoes"]) == ("undo", "carla", change_id)
    assert undo_event["change_id"] == change_id + 1


def test_undo_of_an_insert_removes_the_row(store, frozen_now):
    team = read.team(store)
    item_id = open_item(store, "ben")
    handoffs = count(store, "handoffs")
    changes.hand_off(store, team, item_id, actor="ben")
    assert count(store, "handoffs") == handoffs + 1
    changes.undo(store, actor="ben")
    assert count(store, "handoffs") == handoffs
    assert read.pending_handoff_for(store, item_id) is None


def test_repeated_undo_walks_back_then_stops(tmp_path, frozen_now):
    from opsweek.importing import import_files

    team_file = tmp_path / "team.toml"
    team_file.write_text('[[people]]\nhandle = "ana"\nname = "Ana"\n[[people]]\nhandle = "ben"\nname = "Ben"\n'
                         '[[workflows]]\nkey = "w"\nname = "W"\n[[workflows.stages]]\nkey = "s"\nname = "S"\n',
                         encoding="utf-8")
    with Store.open(tmp_path / "u.db", create=True) as store:
        import_files(store, [team_file], actor="admin")
        team = read.team(store)
        first = changes.add_item(store, team, "w", "First", owner="ana", actor="ana")
        changes.reassign_item(store, team, first, "ben", actor="ana")
        changes.block_item(store, first, "waiting", actor="ana")
        changes.undo(store, actor="ana")
        assert read.item(store, first).status == "open"
        changes.undo(store, actor="ana")
        assert read.item(store, first).owner == "ana"
        changes.undo(store, actor="ana")
        assert count(store, "items") == 0
        with pytest.raises(InputError, match="nothing of ana's to undo"):
            changes.undo(store, actor="ana")
        assert count(store, "people") == 2  # admin's import is not ana's to undo
        undos = store.query("SELECT DISTINCT change_id, undoes FROM events WHERE action = 'undo' ORDER BY change_id")
        assert [r["undoes"] for r in undos] == sorted((r["undoes"] for r in undos), reverse=True)


def test_undo_refuses_to_clobber_a_later_change_by_someone_else(store, frozen_now):
    team = read.team(store)
    item_id = open_item(store, "ben")
    changes.reassign_item(store, team, item_id, "carla", actor="ana")
    changes.reassign_item(store, team, item_id, "dev", actor="ben")
    before = digest_rows(store)
    with pytest.raises(InputError) as refused:
        changes.undo(store, actor="ana")
    message = str(refused.value)
    assert f"item #{item_id}" in message and "by ben" in message and "nothing undone" in message
    assert digest_rows(store) == before
    assert read.item(store, item_id).owner == "dev"
    # once ben undoes his change, ana's undo can go ahead
    changes.undo(store, actor="ben")
    changes.undo(store, actor="ana")
    assert read.item(store, item_id).owner == "ben"


def test_undo_through_the_cli(demo_db, capsys, frozen_now):
    import importlib.util

    from opsweek.cli.main import main

    if importlib.util.find_spec("opsweek.cli.work") is None:  # the work commands are another issue's
        pytest.skip("opsweek undo is not wired yet")

    with Store.open(demo_db) as store:
        team = read.team(store)
        item_id = open_item(store, "ben")
        changes.reassign_item(store, team, item_id, "ana", actor="carla", now=frozen_now - timedelta(minutes=1))
    code = main(["--db", str(demo_db), "--me", "carla", "undo"])
    out, err = capsys.readouterr()
    assert code == 0, err
    with Store.open(demo_db) as store:
        assert read.item(store, item_id).owner == "ben"


def test_the_known_columns_are_the_schemas_columns():
    """``COLUMNS`` (what opening checks and dumps are held to) is the migrated schema, table
    by table, so a schema step that adds a column cannot leave it behind."""
    from opsweek.store.db import COLUMNS

    store = Store.memory()
    tables = [r[0] for r in store.query("SELECT name FROM sqlite_master WHERE type = 'table'"
                                        " AND name NOT LIKE 'sqlite_%' AND name != '_sqlite_migrations'")]
    assert {t: tuple(r[1] for r in store.query(f"PRAGMA table_info({t})")) for t in tables} == COLUMNS
