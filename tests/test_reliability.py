"""Reliability: a writer killed (SIGKILL) at random moments never leaves a change without
its event or an event without its change, and the file stays intact; a writer waits for
another process's write lock and then succeeds."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from opsweek.errors import DatabaseUnusable
from opsweek.store import Store, changes, read

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and fork semantics")

TRACKED = ("items", "handoffs", "entries", "people", "workflows", "stages", "meetings", "attendance")
ROUNDS = 21

# The child: open the store, say "ready", then make changes as fast as it can until killed.
WRITER = textwrap.dedent("""
    import random, sys
    from opsweek.errors import InputError
    from opsweek.store import Store, changes, read

    store = Store.open(sys.argv[1])
    rng = random.Random(int(sys.argv[2]))
    team = read.team(store)
    people = sorted(h for h, p in team.people.items() if p.active)
    items = [r[0] for r in store.query("SELECT id FROM items WHERE status IN ('open', 'blocked') ORDER BY id")]
    print("ready", flush=True)
    done = 0
    while True:
        item_id = rng.choice(items)
        op = rng.randrange(5)
        try:
            if op == 0:
                it = read.item(store, item_id)
                changes.reassign_item(store, team, item_id, rng.choice([p for p in people if p != it.owner]),
                                      reason="crash test", actor=rng.choice(people))
            elif op == 1:
                if read.item(store, item_id).status == "blocked":
                    changes.unblock_item(store, item_id, actor="crash")
                else:
                    changes.block_item(store, item_id, "crash test", actor="crash")
            elif op == 2:
                pending = read.pending_handoff_for(store, item_id)
                if pending:
                    changes.accept_handoff(store, pending.id, actor="crash")
                else:
                    changes.hand_off(store, team, item_id, to_stage=rng.choice(
                        [s.key for s in team.stages_by_workflow[read.item(store, item_id).workflow]]),
                        actor="crash", note="crash test")
            elif op == 3:
                changes.record_entry(store, team, "note", f"note {done}", meeting_id=None, item_id=item_id,
                                     actor="crash")
            else:
                changes.undo(store, actor=rng.choice(people + ["crash"]))
        except InputError:
            continue
        done += 1
""")


# --- the check: replay the audit log and compare it with the rows ------------------------------


def _normal(value):
    return json.loads(json.dumps(value, default=str))


def replay_mismatches(db: Path) -> list[str]:
    """Rebuild every tracked row from the events alone and compare it with the table.

    A row edit that landed without its event, or an event whose edit did not land,
    makes the two disagree; so does a row with no event at all.
    """
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        replayed: dict[tuple[str, str], dict | None] = {}
        for event in conn.execute("SELECT entity, entity_id, before, after FROM events ORDER BY id"):
            key = (event["entity"], event["entity_id"])
            after = json.loads(event["after"]) if event["after"] else None
            if event["before"] is None:  # insert
                replayed[key] = after
            elif after is None:  # delete
                replayed[key] = None
            else:
                if replayed.get(key) is None:
                    return [f"{key}: update event for a row never inserted"]
                replayed[key] = {**replayed[key], **after}
        problems = []
        pks = {"people": "handle", "workflows": "key"}
        for table in TRACKED:
            pk = pks.get(table, "id")
            rows = {str(r[pk]): dict(r) for r in conn.execute(f"SELECT * FROM {table}")}
            from_events = {eid: state for (entity, eid), state in replayed.items()
                           if entity == table and state is not None}
            for missing in sorted(set(rows) - set(from_events)):
                problems.append(f"{table} {missing}: row without events")
            for extra in sorted(set(from_events) - set(rows)):
                problems.append(f"{table} {extra}: events for a row that is not there")
            for key in sorted(set(rows) & set(from_events)):
                row, state = rows[key], from_events[key]
                for field, value in state.items():
                    if _normal(row.get(field)) != _normal(value):
                        problems.append(f"{table} {key}.{field}: table has {row.get(field)!r},"
                                        f" events say {value!r}")
        return problems
    finally:
        conn.close()


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def test_the_check_detects_a_change_without_its_event_and_an_event_without_its_change(demo_db):
    assert replay_mismatches(demo_db) == []
    conn = sqlite3.connect(demo_db)
    item_id, owner = conn.execute("SELECT id, owner FROM items WHERE status = 'open' LIMIT 1").fetchone()
    conn.execute("UPDATE items SET owner = 'carla' WHERE id = ?", (item_id,))  # no event
    conn.commit()
    assert any(f"items {item_id}.owner" in p for p in replay_mismatches(demo_db))
    conn.execute("UPDATE items SET owner = ? WHERE id = ?", (owner, item_id))
    conn.execute("INSERT INTO events (change_id, at, actor, action, entity, entity_id, before, after)"
                 " VALUES (9999, 'x', 'x', 'x', 'items', ?, ?, ?)",
                 (str(item_id), json.dumps({"title": "old"}), json.dumps({"title": "never written"})))
    conn.commit()
    assert any(f"items {item_id}.title" in p for p in replay_mismatches(demo_db))
    conn.execute("DELETE FROM events WHERE change_id = 9999")
    conn.execute("INSERT INTO entries (kind, text, created_at) VALUES ('note', 'sneaky', 'x')")  # no event
    conn.commit()
    conn.close()
    assert any("row without events" in p for p in replay_mismatches(demo_db))


# --- (a) the crash test -------------------------------------------------------------------------


def test_sigkill_at_random_moments_never_splits_a_change_from_its_event(demo_db, tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    rng = random.Random(20261124)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    events_before = sqlite3.connect(demo_db).execute("SELECT count(*) FROM events").fetchone()[0]
    started = time.monotonic()
    for round_number in range(ROUNDS):
        child = subprocess.Popen([sys.executable, str(script), str(demo_db), str(round_number)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        try:
            ready = child.stdout.readline()
            assert ready.strip() == "ready", child.stderr.read()
            time.sleep(rng.uniform(0.005, 0.150))
            assert child.poll() is None, f"the writer died on its own: {child.stderr.read()}"
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            child.stdout.close()
            child.stderr.close()
        assert child.returncode == -signal.SIGKILL
        assert integrity(demo_db) == "ok", f"round {round_number}"
        problems = replay_mismatches(demo_db)
        assert problems == [], f"round {round_number}: {problems[:5]}"
    events_after = sqlite3.connect(demo_db).execute("SELECT count(*) FROM events").fetchone()[0]
    # the writers really wrote (so the kills really landed among writes)
    assert events_after - events_before > ROUNDS * 5
    with Store.open(demo_db) as store:  # and the database is still usable for the next change
        team = read.team(store)
        item_id = store.scalar("SELECT min(id) FROM items WHERE status = 'open'")
        changes.record_entry(store, team, "note", "after the storm", meeting_id=None, item_id=item_id, actor="ana")
    assert replay_mismatches(demo_db) == []
    assert time.monotonic() - started < 60


# --- (b) two processes and the write lock ----------------------------------------------------------

HOLDER = textwrap.dedent("""
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO settings (key, value) VALUES ('holder', 'was here')")
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    conn.execute("COMMIT")
    print("released", flush=True)
""")


def _hold_lock(db: Path, tmp_path: Path, seconds: float) -> subprocess.Popen:
    script = tmp_path / "holder.py"
    script.write_text(HOLDER, encoding="utf-8")
    holder = subprocess.Popen([sys.executable, str(script), str(db), str(seconds)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked", holder.stderr.read()
    return holder


def test_a_write_waits_for_another_process_and_then_succeeds(demo_db, tmp_path, frozen_now):
    with Store.open(demo_db) as store:
        team = read.team(store)
        item_id = store.scalar("SELECT min(id) FROM items WHERE status = 'open' AND owner = 'ben'")
        holder = _hold_lock(demo_db, tmp_path, 1.0)
        try:
            started = time.monotonic()
            changes.reassign_item(store, team, item_id, "ana", actor="carla")
            waited = time.monotonic() - started
        finally:
            holder.wait(timeout=10)
            holder.stdout.close()
            holder.stderr.close()
        assert holder.returncode == 0
        assert waited >= 0.7  # it waited for the lock ...
        assert read.item(store, item_id).owner == "ana"  # ... and then its change landed
        assert store.setting("holder") == "was here"  # and so did the other process's
    assert replay_mismatches(demo_db) == []


def test_a_lock_held_past_the_busy_timeout_is_exit_3_and_writes_nothing(demo_db, tmp_path, monkeypatch,
                                                                         frozen_now):
    from opsweek.store import db as db_module

    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 200)
    with Store.open(demo_db) as store:
        team = read.team(store)
        item_id = store.scalar("SELECT min(id) FROM items WHERE status = 'open' AND owner = 'ben'")
        events = store.scalar("SELECT count(*) FROM events")
        holder = _hold_lock(demo_db, tmp_path, 1.0)
        try:
            with pytest.raises(DatabaseUnusable, match="locked"):
                changes.reassign_item(store, team, item_id, "ana", actor="carla")
        finally:
            holder.wait(timeout=10)
            holder.stdout.close()
            holder.stderr.close()
        assert read.item(store, item_id).owner == "ben"
        assert store.scalar("SELECT count(*) FROM events") == events
        assert not store.conn.in_transaction
