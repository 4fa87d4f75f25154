"""Lossless dumps: dump → restore into an empty database → dump gives the same bytes; a
database that holds data is refused unless replaced; a bad dump changes nothing."""

from __future__ import annotations

import copy
import json
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsweek import demo
from opsweek.dump import KEYS, TABLES, dump, restore, restore_file
from opsweek.errors import InputError
from opsweek.store import Store, changes, read
from opsweek.store.db import INDEX_STEPS, MIGRATIONS

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def demo_store(tmp_path, monkeypatch):
    monkeypatch.setenv("OPSWEEK_NOW", NOW.isoformat())
    store = demo.build(tmp_path / "demo.db", now=NOW)
    yield store
    store.close()


def busy_week(store: Store) -> None:
    """A session with reassignments, an escalation, an undo and a closed item: varied events."""
    team = read.team(store)
    meeting = changes.start_meeting(store, team, facilitator="ana", actor="ana", now=NOW)
    stuck = read.stuck_page(store, team, NOW, NOW.date(), limit=3)
    changes.reassign_item(store, team, stuck[0][0].id, "ben", reason="Ünïcødé ✓ | <b>", actor="ana",
                          meeting_id=meeting, now=NOW)
    changes.finish_item(store, stuck[1][0].id, actor="ana", meeting_id=meeting, now=NOW)
    changes.escalate_handoff(store, read.overdue_page(store, NOW, limit=1)[0].id, actor="ana", meeting_id=meeting,
                             now=NOW)
    changes.record_entry(store, team, "action", "Line one\nline two 🚀", owner="fay", meeting_id=meeting,
                         actor="ana", now=NOW)
    changes.undo(store, actor="ana", meeting_id=meeting)
    changes.rate_meeting(store, meeting, 9, actor="ana")
    changes.close_meeting(store, meeting, actor="ana", now=NOW + timedelta(minutes=45))


def test_demo_round_trip_is_byte_identical(demo_store, tmp_path):
    busy_week(demo_store)
    text = dump(demo_store)
    path = tmp_path / "dump.json"
    path.write_text(text, encoding="utf-8")
    with Store.open(tmp_path / "restored.db", create=True) as fresh:
        counts = restore_file(fresh, path)
        assert dump(fresh) == text
        assert counts["items"] == 44 and counts["events"] == demo_store.scalar("SELECT count(*) FROM events")
        # the restored database works: the same reads give the same answers
        assert [i.id for i, _ in read.stuck_page(fresh, read.team(fresh), NOW, NOW.date())] == [
            i.id for i, _ in read.stuck_page(demo_store, read.team(demo_store), NOW, NOW.date())]


def test_the_dump_holds_everything_in_a_stable_shape(demo_store):
    data = json.loads(dump(demo_store))
    assert data["format"] == "opsweek-dump"
    assert data["schema_version"] == 1
    assert data["migrations"] == list(MIGRATIONS)
    assert sorted(data["tables"]) == sorted(TABLES)
    for table, rows in data["tables"].items():
        assert rows == sorted(rows, key=lambda r: r["handle" if table == "people" else
                                                   "key" if table in ("settings", "workflows") else "id"])
        assert all(list(row) == sorted(row) for row in rows)
    assert len(data["tables"]["items"]) == 44
    assert data["tables"]["events"]  # the audit log travels with the data
    assert dump(demo_store) == dump(demo_store)


def test_a_restore_records_no_event(demo_store):
    before = dump(demo_store)
    with Store.memory() as fresh:
        restore(fresh, json.loads(before))
        assert fresh.scalar("SELECT count(*) FROM events") == demo_store.scalar("SELECT count(*) FROM events")


def test_a_database_with_data_is_refused_unless_replaced(demo_store, tmp_path):
    source = dump(demo_store)
    other = demo.build(tmp_path / "other.db", now=NOW - timedelta(days=3))
    busy_week(other)
    held = dump(other)
    with pytest.raises(InputError, match="already holds data .*--replace"):
        restore(other, json.loads(source))
    assert dump(other) == held
    counts = restore(other, json.loads(source), replace=True)
    assert counts["people"] == 10
    assert dump(other) == source
    other.close()


def test_the_steps_named_index_only_change_indexes_only(tmp_path):
    """Each step of INDEX_STEPS, applied on its own, leaves every table, view and trigger
    as it was (only indexes come and go); the others are the ones that change tables."""
    from sqlite_utils import Database

    from opsweek.store.schema import migrations

    db = Database(tmp_path / "steps.db")

    def shape():
        return sorted(tuple(row) for row in db.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE type != 'index' AND name != '_sqlite_migrations'"
            " AND name NOT LIKE 'sqlite_%'").fetchall())

    for k, name in enumerate(MIGRATIONS):
        before = shape()
        migrations.apply(db, stop_before=list(MIGRATIONS[k + 1:]))
        assert (shape() == before) == (name in INDEX_STEPS), name
    assert INDEX_STEPS <= set(MIGRATIONS)
    db.close()


def test_a_dump_written_before_an_index_step_restores(demo_store, tmp_path):
    busy_week(demo_store)
    text = dump(demo_store)
    data = json.loads(text)
    data["migrations"] = [m for m in MIGRATIONS if m not in ("m015_items_status_stage", "m012_stuck_order")]
    path = tmp_path / "older.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with Store.open(tmp_path / "restored.db", create=True) as fresh:
        restore_file(fresh, path)
        assert dump(fresh) == text  # with every step of this opsweek, its indexes too
        assert fresh.applied_migrations() == list(MIGRATIONS)
    for steps, words in [([m for m in MIGRATIONS if m != "m009_issues"], "lacks step m009_issues"),
                         ([m for m in MIGRATIONS if m != "m012_stuck_order"] + ["m012_stuck_order"], "out of order"),
                         ([*MIGRATIONS, "m001_initial"], "out of order")]:
        path.write_text(json.dumps({**data, "migrations": steps}), encoding="utf-8")
        with Store.open(tmp_path / "refused.db", create=True) as other, pytest.raises(InputError, match=words):
            restore_file(other, path)


def _mutations():
    """(name, change to a parsed dump, words the error must contain)."""
    def set_in(table, index, column, value):
        def apply(data):
            data["tables"][table][index][column] = value
        return apply

    def drop_column(data):
        del data["tables"]["items"][0]["title"]

    def duplicate(data):
        data["tables"]["people"].append(dict(data["tables"]["people"][0]))

    return [
        ("wrong format", lambda d: d.update(format="something-else"), "format"),
        ("newer format", lambda d: d.update(schema_version=2), "newer opsweek"),
        ("newer schema", lambda d: d["migrations"].append("m999_future"), "newer opsweek"),
        ("unknown table", lambda d: d["tables"].update(widgets=[]), "unknown table 'widgets'"),
        ("missing table", lambda d: d["tables"].pop("events"), "table 'events' is missing"),
        ("rows not a list", lambda d: d["tables"].update(items={}), "items must be a list"),
        ("extra column", set_in("items", 0, "colour", "red"), "unknown column 'colour'"),
        ("missing column", drop_column, "column 'title' is missing"),
        ("wrong type", set_in("items", 2, "title", 42), "items[3], column title"),
        ("float id", set_in("items", 0, "id", 1.5), "not a whole number"),
        ("boolean", set_in("people", 0, "active", True), "not a text, number or null"),
        ("huge number", set_in("items", 0, "id", 2**70), "too large"),
        ("duplicate key", duplicate, "appears twice"),
        ("dangling reference", set_in("handoffs", 0, "item_id", 9999), "item_id 9999 is not in items"),
        ("unknown stage", set_in("items", 0, "stage", "nowhere"), "is not in stages"),
        ("check constraint", set_in("items", 0, "status", "lost"), "CHECK constraint failed"),
        ("null in a required column", set_in("people", 1, "name", None), "NOT NULL"),
    ]


@pytest.mark.parametrize("name,mutate,words", _mutations(), ids=[m[0] for m in _mutations()])
def test_a_bad_dump_is_one_line_and_changes_nothing(demo_store, tmp_path, name, mutate, words):
    good = json.loads(dump(demo_store))
    bad = copy.deepcopy(good)
    mutate(bad)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    target = demo.build(tmp_path / "target.db", now=NOW - timedelta(days=1))
    held = dump(target)
    with pytest.raises(InputError) as error:
        restore_file(target, path, replace=True)  # even when told to replace
    assert words in str(error.value)
    assert "\n" not in str(error.value) and str(path) in str(error.value)
    assert dump(target) == held
    target.close()


@pytest.mark.parametrize("content,words", [
    ("{not json", "not valid JSON (line 1"),
    ("[1, 2]", "top level must be a JSON object"),
    ('{"format": "opsweek-dump", "schema_version": NaN}', "NaN is not a value"),
    (b"\xff\xfe", "not UTF-8"),
])
def test_a_file_that_is_not_a_dump_is_refused(tmp_path, content, words):
    path = tmp_path / "x.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with Store.memory() as store:
        with pytest.raises(InputError, match=re.escape(words)):
            restore_file(store, path)
        assert store.scalar("SELECT count(*) FROM events") == 0


# --- generated databases ------------------------------------------------------------

# What opsweek can hold: every way in (the team file, CSV, the commands, the TUI, a dump)
# cleans text of terminal controls and bidi overrides, and checks keys, owners, stages,
# dates and durations; so the generated rows are free text, slugs and references.
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"),
                                      blacklist_characters="\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"),
               max_size=12)
MAYBE = st.none() | TEXT
SLUG = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,11}", fullmatch=True)
STAMP = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).map(
    lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))
DAY = st.dates(min_value=date(1000, 1, 1)).map(str)
SLA = st.none() | st.sampled_from(["30m", "24h", "2d", "2bd", "1w", "1.5d"])


@st.composite
def databases(draw):
    """Rows for a small database: unicode everywhere opsweek allows free text."""
    handles = draw(st.lists(SLUG, min_size=1, max_size=4, unique=True))
    someone = st.none() | st.sampled_from(handles)
    people = [{"handle": h, "name": draw(TEXT), "role": draw(TEXT), "cover": draw(someone),
               "active": draw(st.integers(0, 1))} for h in handles]
    keys = draw(st.lists(SLUG, min_size=1, max_size=3, unique=True))
    workflows = [{"key": k, "name": draw(TEXT), "outcome": draw(TEXT), "owner": draw(someone), "trigger": draw(TEXT),
                  "status": draw(st.sampled_from(["active", "paused", "retired"]))} for k in keys]
    stages = []
    for workflow in keys:
        for position, key in enumerate(draw(st.lists(SLUG, min_size=1, max_size=3, unique=True))):
            stages.append({"workflow": workflow, "key": key, "name": draw(TEXT), "position": position + 1,
                           "owner": draw(someone), "sop": draw(MAYBE),
                           "max_days": draw(st.none() | st.floats(min_value=0, max_value=36525, exclude_min=True)),
                           "handoff_sla": draw(SLA)})
    items = []
    for _ in range(draw(st.integers(0, 5))):
        stage = draw(st.sampled_from(stages))
        items.append({"workflow": stage["workflow"], "stage": stage["key"], "title": draw(TEXT),
                      "owner": draw(someone), "status": draw(st.sampled_from(["open", "blocked", "done", "dropped"])),
                      "opened_at": draw(STAMP), "stage_entered_at": draw(STAMP), "last_activity_at": draw(STAMP),
                      "due": draw(st.none() | DAY), "ref": draw(MAYBE),
                      "blocked_reason": draw(MAYBE), "closed_at": draw(st.none() | STAMP)})
    handoffs = []
    for index in range(draw(st.integers(0, 3)) if items else 0):
        # fill() gives handoff n the item n modulo the item count: its stages are that item's workflow's
        in_workflow = st.sampled_from([s["key"] for s in stages if s["workflow"] == items[index % len(items)]["workflow"]])
        handoffs.append({"from_stage": draw(in_workflow), "from_owner": draw(someone), "to_stage": draw(in_workflow),
                         "to_owner": draw(someone), "sent_at": draw(STAMP), "due_at": draw(STAMP),
                         "accepted_at": draw(st.none() | STAMP), "accepted_by": draw(someone), "note": draw(MAYBE),
                         "escalated_at": draw(st.none() | STAMP)})
    entries = [{"kind": draw(st.sampled_from(["decision", "action", "note"])), "text": draw(TEXT),
                "owner": draw(someone), "due": draw(st.none() | DAY),
                "status": draw(st.none() | st.sampled_from(["open", "done", "dropped"])), "created_at": draw(STAMP)}
               for _ in range(draw(st.integers(0, 3)))]
    setting_keys = draw(st.lists(TEXT.filter(bool), max_size=2, unique=True))
    settings_rows = [{"key": k, "value": draw(TEXT)} for k in setting_keys]
    return {"people": people, "workflows": workflows, "stages": stages, "items": items, "handoffs": handoffs,
            "entries": entries, "settings": settings_rows, "actor": draw(st.sampled_from(handles)),
            "reason": draw(MAYBE)}


def fill(store: Store, rows: dict) -> None:
    """Write generated rows through Store.change, so the audit events hold them too."""
    with store.change("test.fill", actor=rows["actor"], reason=rows["reason"]) as change:
        for table in ("settings", "people", "workflows", "stages", "items"):
            for row in rows[table]:
                change.insert(table, row)
        item_ids = [r[0] for r in store.query("SELECT id FROM items ORDER BY id")]
        for index, row in enumerate(rows["handoffs"]):
            change.insert("handoffs", {**row, "item_id": item_ids[index % len(item_ids)]})
        meeting = change.insert("meetings", {"week": "2026-W48", "facilitator": rows["actor"],
                                             "started_at": "2026-11-24T10:00:00Z"})
        for index, row in enumerate(rows["entries"]):
            change.insert("entries", {**row, "meeting_id": meeting,
                                      "item_id": item_ids[index % len(item_ids)] if item_ids else None})
    if rows["items"]:  # an edit: an event with both before and after
        with store.change("test.edit", actor=rows["actor"]) as change:
            change.update("items", 1, {"title": rows["reason"] or "x", "owner": rows["actor"]})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(databases())
def test_generated_databases_round_trip(rows):
    with Store.memory() as source, Store.memory() as target:
        fill(source, rows)
        text = dump(source)
        restore(target, json.loads(text))
        assert dump(target) == text
        for table in TABLES:  # and the rows themselves, value for value and type for type
            assert _rows(target, table) == _rows(source, table)


def _rows(store: Store, table: str) -> list[tuple]:
    key = KEYS[table]
    return [tuple((type(v).__name__, v) for v in row) for row in store.query(f"SELECT * FROM {table} ORDER BY {key}")]
