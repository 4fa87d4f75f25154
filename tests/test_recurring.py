"""Triggers that fire: each occurrence of a recurring schedule opens exactly one item,
whoever ticks and however often (also eight processes at once); missed occurrences open
all or only the latest; 09:00 stays 09:00 local across daylight-saving changes; finished
work flows into the workflow it feeds; the team file and dumps carry it all."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsweek import rules, schedule
from opsweek.dump import dump, restore
from opsweek.errors import InputError
from opsweek.importing import import_files
from opsweek.store import Store, changes, read, recurring

UTC = timezone.utc
CREATED = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday

TEAM = """
[settings]
meeting = "every monday 10:00"

[[people]]
handle = "ana"
name = "Ana Ruiz"
cover = "ben"

[[people]]
handle = "ben"
name = "Ben Okafor"

[[workflows]]
key = "complaints"
name = "Customer complaints"
owner = "ana"
feeds = ["refunds"]

[[workflows.recurring]]
key = "weekly-review"
title = "Review open complaints, {week}"
schedule = "every friday"
owner = "ana"
due = "+1d"

[[workflows.stages]]
key = "triage"
name = "Triage"
owner = "ben"
handoff_sla = "24h"

[[workflows.stages]]
key = "resolve"
name = "Resolve"
owner = "ana"
handoff_sla = "24h"

[[workflows]]
key = "refunds"
name = "Refunds"
owner = "ana"

[[workflows.stages]]
key = "pay"
name = "Pay out"
owner = "ben"
"""


def team_store(tmp_path: Path, text: str = TEAM, *, path: Path | None = None) -> Store:
    team = tmp_path / "team.toml"
    team.write_text(text, encoding="utf-8")
    store = Store.open(path or tmp_path / "team.db", create=True)
    import_files(store, [team], actor="ana", now=CREATED)
    return store


def opened(store: Store) -> list[dict]:
    return [dict(r) for r in store.query(
        "SELECT o.occurrence, o.item_id, o.skipped, i.title FROM occurrences o LEFT JOIN items i ON i.id = o.item_id"
        " ORDER BY o.occurrence")]


# --- schedules -------------------------------------------------------------------------


def test_the_words_of_spec_become_rrules():
    assert schedule.to_rrule("every monday") == "FREQ=WEEKLY;BYDAY=MO"
    assert schedule.to_rrule("every 2 weeks on fri") == "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"
    assert schedule.to_rrule("every month on the 25th") == "FREQ=MONTHLY;BYMONTHDAY=25"
    assert schedule.to_rrule("every weekday 09:00") == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9;BYMINUTE=0;BYSECOND=0"
    assert schedule.to_rrule("FREQ=WEEKLY;BYDAY=MO") == "FREQ=WEEKLY;BYDAY=MO"
    for bad in ("sometimes", "every blursday", "FREQ=HOURLY", "every monday 25:00", "FREQ=WEEKLY;BYDAY=XX", ""):
        with pytest.raises(InputError, match="accepted: every day"):
            schedule.to_rrule(bad)


def test_titles_take_the_four_placeholders_and_nothing_else():
    friday = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    assert schedule.title_for("Report {date} {week} {month} {year}", friday) == "Report 2026-12-04 2026-W49 December 2026"
    for bad in ("Review {day}", "Review {week:>10}", "Review {", "Review {0}"):
        with pytest.raises(InputError, match="title"):
            schedule.check_title(bad)


def test_a_new_schedule_does_not_open_its_past(tmp_path):
    store = team_store(tmp_path)
    assert recurring.tick(store, CREATED) == []
    s = recurring.schedules(store)[0]
    assert s.next_due == datetime(2026, 11, 27, 0, 0, tzinfo=UTC)  # the Friday after it was added
    assert store.scalar("SELECT count(*) FROM occurrences") == 0


def test_an_occurrence_opens_one_item_with_its_title_owner_and_due(tmp_path):
    store = team_store(tmp_path)
    friday = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    [item_id] = recurring.tick(store, friday)
    item = read.item(store, item_id)
    assert (item.workflow, item.stage, item.title, item.owner, str(item.due)) == (
        "complaints", "triage", "Review open complaints, 2026-W48", "ana", "2026-11-28")
    assert recurring.tick(store, friday) == [] and recurring.tick(store, friday + timedelta(hours=5)) == []
    event = store.one("SELECT actor, action FROM events WHERE entity = 'items' AND entity_id = ?", (str(item_id),))
    assert dict(event) == {"actor": "opsweek", "action": "recur.open"}  # a recorded change
    links = recurring.item_links(store, item_id)
    assert links.schedule[:2] == ("complaints", "weekly-review")


def test_missed_occurrences_open_the_latest_and_record_the_others_skipped(tmp_path):
    store = team_store(tmp_path)
    three_weeks_later = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)
    assert len(recurring.tick(store, three_weeks_later)) == 1
    rows = opened(store)
    assert [r["occurrence"] for r in rows] == ["2026-11-27T00:00:00Z", "2026-12-04T00:00:00Z", "2026-12-11T00:00:00Z"]
    assert [r["skipped"] for r in rows] == [1, 1, 0]
    assert rows[-1]["title"] == "Review open complaints, 2026-W50"


def test_catch_up_all_opens_each_missed_occurrence(tmp_path):
    store = team_store(tmp_path, TEAM.replace('due = "+1d"', 'due = "+1d"\ncatch_up = "all"'))
    assert len(recurring.tick(store, datetime(2026, 12, 14, 9, 0, tzinfo=UTC))) == 3
    assert [r["title"] for r in opened(store)] == [
        "Review open complaints, 2026-W48", "Review open complaints, 2026-W49", "Review open complaints, 2026-W50"]


def test_nothing_opens_in_a_paused_workflow_and_its_occurrences_are_skipped(tmp_path):
    store = team_store(tmp_path)
    with store.change("test", actor="ana") as c:
        c.update("workflows", "complaints", {"status": "paused"})
    assert recurring.tick(store, datetime(2026, 11, 28, tzinfo=UTC)) == []
    assert [r["skipped"] for r in opened(store)] == [1]


def test_a_tick_with_nothing_due_writes_nothing(tmp_path):
    store = team_store(tmp_path)
    before = dump(store)
    changes_before = store.conn.total_changes
    assert recurring.tick(store, CREATED + timedelta(hours=1)) == []
    assert store.conn.total_changes == changes_before and dump(store) == before


def test_undo_leaves_an_opened_occurrence_alone(tmp_path):
    store = team_store(tmp_path)
    friday = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    [opened_id] = recurring.tick(store, friday)
    changes.add_item(store, read.team(store), "complaints", "Typed by hand", actor="ana", now=friday)
    assert changes.undo(store, actor="ana", mine_only=False).startswith("undid: added #")
    with pytest.raises(InputError, match="cannot undo"):  # next is the import, which the tick built on
        changes.undo(store, actor="ana", mine_only=False)
    assert store.scalar("SELECT count(*) FROM occurrences") == 1 and read.item(store, opened_id).status == "open"


# --- the property: opened == occurrences under the catch-up rule, never a duplicate ----

SCHEDULES = ["every day", "every weekday 09:00", "every monday", "every 2 weeks on fri", "every month on the 25th",
             "every mon and thu at 17:30", "FREQ=WEEKLY;BYDAY=SA,SU", "every 3 days", "every month on the last day"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.sampled_from(SCHEDULES), catch_up=st.sampled_from(["latest", "all"]),
       hours=st.lists(st.integers(min_value=-48, max_value=24 * 80), min_size=1, max_size=12))
def test_opened_items_are_the_occurrences_under_the_catch_up_rule(text, catch_up, hours):
    store = Store.memory()
    store.conn.executescript(
        "INSERT INTO people (handle, name) VALUES ('ana', 'Ana');"
        "INSERT INTO workflows (key, name, owner) VALUES ('ops', 'Ops', 'ana');"
        "INSERT INTO stages (workflow, key, name, position, owner) VALUES ('ops', 'do', 'Do', 1, 'ana');")
    team = read.team(store)
    recurring.add_schedule(store, team, "ops", "r", title="Run {date}", schedule_text=text, catch_up=catch_up,
                           actor="ana", now=CREATED)
    rule = schedule.to_rrule(text)
    expected_open, seen = [], CREATED
    for h in hours:  # forward, backward and repeated tick times
        now = CREATED + timedelta(hours=h)
        recurring.tick(store, now)
        window = schedule.occurrences(rule, CREATED, seen, now)
        expected_open += window if catch_up == "all" else window[-1:]
        seen = max(seen, now)
    every = schedule.occurrences(rule, CREATED, CREATED, seen)
    rows = opened(store)
    assert [r["occurrence"] for r in rows] == [o.strftime("%Y-%m-%dT%H:%M:%SZ") for o in every]
    assert [r["occurrence"] for r in rows if r["item_id"]] == [o.strftime("%Y-%m-%dT%H:%M:%SZ") for o in expected_open]
    assert store.scalar("SELECT count(*) FROM items") == len(expected_open)
    assert [r["title"] for r in rows if r["item_id"]] == [f"Run {o.date().isoformat()}" for o in expected_open]
    store.close()


# --- eight processes across an occurrence boundary ------------------------------------

TICKER = r"""
import os, sys, time
from opsweek.cli.main import main
db, go = sys.argv[1:3]
while not os.path.exists(go):
    time.sleep(0.002)
sys.exit(main(["--db", db, "tick"]))
"""


def test_eight_processes_ticking_at_once_open_one_item(tmp_path):
    store = team_store(tmp_path)
    store.close()
    db, go = tmp_path / "team.db", tmp_path / "go"
    env = {k: v for k, v in os.environ.items() if k not in ("OPSWEEK_ME", "OPSWEEK_DEBUG")}
    env["OPSWEEK_NOW"] = "2026-11-27T00:00:01Z"  # one second past Friday's occurrence
    procs = [subprocess.Popen([sys.executable, "-c", TICKER, str(db), str(go)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(8)]
    time.sleep(1.0)
    go.touch()
    results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    assert [code for _, _, code in results] == [0] * 8, results
    assert sum(out.count("opened #") for out, _, _ in results) == 1
    with Store.open(db) as store:
        assert store.scalar("SELECT count(*) FROM items WHERE title LIKE 'Review open complaints%'") == 1
        assert store.scalar("SELECT count(*) FROM occurrences") == 1


# --- daylight saving -----------------------------------------------------------------


@pytest.fixture
def berlin(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


@pytest.mark.parametrize("start, change", [(datetime(2026, 3, 16, 12, tzinfo=UTC), "2026-03-29"),
                                           (datetime(2026, 10, 12, 12, tzinfo=UTC), "2026-10-25")])
def test_weekly_0900_stays_0900_local_across_a_dst_change(berlin, start, change):
    store = Store.memory()
    store.conn.executescript(
        "INSERT INTO people (handle, name) VALUES ('ana', 'Ana');"
        "INSERT INTO workflows (key, name, owner) VALUES ('ops', 'Ops', 'ana');"
        "INSERT INTO stages (workflow, key, name, position, owner) VALUES ('ops', 'do', 'Do', 1, 'ana');")
    recurring.add_schedule(store, read.team(store), "ops", "standup", title="Stand-up {date}",
                           schedule_text="every monday 09:00", catch_up="all", actor="ana", now=start)
    for day in range(0, 22):
        recurring.tick(store, start + timedelta(days=day))
    stamps = [r["occurrence"] for r in opened(store)]
    local = [datetime.fromisoformat(s).astimezone(schedule.zone()) for s in stamps]
    assert len(local) == 3 and all((t.hour, t.minute, t.weekday()) == (9, 0, 0) for t in local)
    utc_hours = [datetime.fromisoformat(s).hour for s in stamps]
    assert len(set(utc_hours)) == 2  # the UTC hour moves with the clocks, the local hour does not
    assert min(local).date().isoformat() < change < max(local).date().isoformat()
    store.close()


# --- feeds ---------------------------------------------------------------------------


def test_an_item_done_in_the_last_stage_starts_one_in_each_fed_workflow(tmp_path):
    store = team_store(tmp_path)
    team = read.team(store)
    item_id = changes.add_item(store, team, "complaints", "Refund for order 77", ref="TCK-77", actor="ana",
                               now=CREATED)
    handoff = changes.hand_off(store, team, item_id, actor="ana", now=CREATED)
    changes.accept_handoff(store, handoff, actor="ana", now=CREATED)
    changes.finish_item(store, item_id, actor="ana", now=CREATED + timedelta(hours=1))
    [fed] = store.query("SELECT * FROM items WHERE fed_from = ?", (item_id,))
    assert (fed["workflow"], fed["stage"], fed["title"], fed["ref"], fed["owner"], fed["status"]) == (
        "refunds", "pay", "Refund for order 77", "TCK-77", "ben", "open")
    # the done and the item it started are one change
    done_change = store.scalar("SELECT change_id FROM events WHERE action = 'item.done' LIMIT 1")
    assert store.scalar("SELECT change_id FROM events WHERE entity = 'items' AND entity_id = ? AND before IS NULL",
                        (str(fed["id"]),)) == done_change
    assert recurring.item_links(store, item_id).started == [(fed["id"], "refunds", "Refund for order 77")]
    assert recurring.item_links(store, fed["id"]).fed_from == (item_id, "complaints", "Refund for order 77")
    # and undoing the done takes both back
    changes.undo(store, actor="ana")
    assert store.scalar("SELECT count(*) FROM items WHERE fed_from = ?", (item_id,)) == 0


def test_done_before_the_last_stage_feeds_nothing(tmp_path):
    store = team_store(tmp_path)
    item_id = changes.add_item(store, read.team(store), "complaints", "Early close", actor="ana", now=CREATED)
    changes.finish_item(store, item_id, actor="ana", now=CREATED)
    assert store.scalar("SELECT count(*) FROM items WHERE fed_from IS NOT NULL") == 0


def test_the_audit_counts_schedules_and_feeders_as_triggers_and_flags_feeding_a_paused_workflow(tmp_path):
    store = team_store(tmp_path)
    team = read.team(store)
    results = {a.workflow: a for a in rules.audit(team.workflows, team.stages_by_workflow, team.people, {}, CREATED)}
    assert results["complaints"].passed("triggers")  # a schedule, no described trigger
    assert results["refunds"].passed("triggers")     # fed by complaints
    assert results["complaints"].passed("connections")
    with store.change("test", actor="ana") as c:
        c.update("workflows", "refunds", {"status": "paused"})
    team = read.team(store)
    results = {a.workflow: a for a in rules.audit(team.workflows, team.stages_by_workflow, team.people, {}, CREATED)}
    assert results["complaints"].missing["connections"] == ["feeds refunds, which is paused"]


# --- the team file and dumps ---------------------------------------------------------


def test_the_team_file_brings_schedules_feeds_and_the_meeting_and_a_reimport_changes_nothing(tmp_path):
    store = team_store(tmp_path)
    [s] = recurring.schedules(store)
    assert (s.workflow, s.key, s.schedule, s.owner, s.due, s.catch_up) == (
        "complaints", "weekly-review", "every friday", "ana", "1d", "latest")
    assert recurring.feeds(store) == {"complaints": ["refunds"]}
    assert store.setting("meeting") == "every monday 10:00"
    assert recurring.next_session(store, CREATED) == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    events = store.scalar("SELECT count(*) FROM events")
    import_files(store, [tmp_path / "team.toml"], actor="ana", now=CREATED + timedelta(days=1))
    assert store.scalar("SELECT count(*) FROM events") == events


@pytest.mark.parametrize("change, message", [
    ('schedule = "every friday"', 'schedule = "whenever"', ),
    ('title = "Review open complaints, {week}"', 'title = "Review {day}"'),
    ('feeds = ["refunds"]', 'feeds = ["nowhere"]'),
    ('owner = "ana"\ndue', 'owner = "zed"\ndue'),
])
def test_a_bad_team_file_schedule_is_refused_whole(tmp_path, change, message):
    with pytest.raises(InputError) as error:
        team_store(tmp_path, TEAM.replace(change, message))
    assert "\n" not in str(error.value)
    with Store.open(tmp_path / "team.db") as store:
        assert store.scalar("SELECT count(*) FROM workflows") == 0


def test_a_dump_carries_schedules_occurrences_and_feeds(tmp_path):
    import json

    store = team_store(tmp_path)
    recurring.tick(store, datetime(2026, 12, 14, tzinfo=UTC))
    text = dump(store)
    with Store.memory() as fresh:
        restore(fresh, json.loads(text))
        assert dump(fresh) == text
        assert len(recurring.schedules(fresh)) == 1 and fresh.scalar("SELECT count(*) FROM occurrences") == 3
        # the restored schedule carries on where it was: nothing opens twice
        assert recurring.tick(fresh, datetime(2026, 12, 14, 1, tzinfo=UTC)) == []


def test_a_schedule_whose_owner_left_is_an_ownership_gap_until_someone_takes_it(tmp_path):
    from opsweek.store.read import gaps_count, gaps_page

    store = team_store(tmp_path)
    week = (CREATED.date(), CREATED.date() + timedelta(days=6))
    before = gaps_count(store, read.team(store), week)
    with store.change("test", actor="ana") as c:
        c.update("people", "ana", {"active": 0})
    team = read.team(store)
    recurring_gaps = [g for g, _ in gaps_page(store, team, week, 0, 50) if g.subject == "recurring"]
    assert [(g.label, g.owner, g.problem) for g in recurring_gaps] == [("complaints/weekly-review", "ana", "ana is inactive")]
    recurring.set_schedule_owner(store, team, "complaints", "weekly-review", "ben", actor="ben")
    team = read.team(store)
    assert not [g for g, _ in gaps_page(store, team, week, 0, 50) if g.subject == "recurring"]
    assert gaps_count(store, team, week) > before  # ana's stage and workflow are gaps still, the schedule is not
