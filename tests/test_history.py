"""The audit log read one way (opsweek.store.history): what is live after undos, the rows
as they were at any past moment, and every kind of change said in words."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsweek import clock, demo
from opsweek.errors import InputError
from opsweek.store import Store, changes, history, read, recurring
from opsweek.store.records import Outcome
from opsweek.tui.screens.steps.actions import carried_here

FROZEN = "2026-11-24T10:00:00Z"
TABLES = ("items", "handoffs", "entries", "people", "workflows", "stages", "meetings", "attendance")


def last_change(store: Store) -> int:
    return store.scalar("SELECT max(change_id) FROM events")


def rows(store: Store, table: str) -> dict:
    pk = {"people": "handle", "workflows": "key"}.get(table, "id")
    return {r[pk]: dict(r) for r in store.query(f"SELECT * FROM {table}")}


# --- live and undone ---------------------------------------------------------------------


def test_an_undone_change_is_not_live_and_undo_walks_past_it(demo_db):
    with Store.open(demo_db) as store:
        team = read.team(store)
        changes.reassign_item(store, team, 13, "carla", actor="ivan")
        reassigned = last_change(store)
        changes.block_item(store, 13, "waiting for legal", actor="ivan")
        blocked = last_change(store)
        assert history.latest_undoable(store, actor="ivan").id == blocked

        assert changes.undo(store, actor="ivan") == f"undid: blocked #13 — waiting for legal (change {blocked})"
        assert not history.is_live(store, blocked) and history.is_live(store, reassigned)
        # the undo itself is never what the next undo reverts: it walks further back
        assert history.latest_undoable(store, actor="ivan").id == reassigned


def test_undoing_an_undo_brings_the_change_back_to_life(demo_db):
    with Store.open(demo_db) as store:
        team = read.team(store)
        meeting = changes.start_meeting(store, team, facilitator="ivan", actor="ivan")
        changes.reassign_item(store, team, 13, "carla", actor="ivan", meeting_id=meeting)
        reassigned = last_change(store)
        changes.undo(store, actor="ivan", meeting_id=meeting)
        first_undo = last_change(store)
        assert read.item(store, 13).owner == "dev"
        assert [e.change_id for e in history.meeting_edits(store, meeting, ("item.reassign",))] == []

        # someone reverts the undo: the row is as the reassignment left it, recorded as an undo of the undo
        with store.change("undo", actor="ana", meeting_id=meeting, undoes=first_undo) as c:
            for edit in history.change(store, reassigned).edits:
                c.update(edit.entity, edit.key, edit.after)
        redo = last_change(store)

        assert history.undone_changes(store) == {first_undo}
        assert history.is_live(store, reassigned) and history.is_live(store, redo)
        assert not history.is_live(store, first_undo)
        # the session reports the reassignment again, and ctrl+z would revert it again
        assert [e.change_id for e in history.meeting_edits(store, meeting, ("item.reassign",))] == [reassigned]
        assert history.latest_undoable(store, actor="ivan").id == reassigned
        assert "reassigned #13 from dev to carla" in changes.undo(store, actor="ivan")
        assert read.item(store, 13).owner == "dev"
        assert history.describe(store, redo) == "undid: undid: reassigned #13 from dev to carla"


def test_undone_changes_follow_a_chain_of_undos_newest_first():
    # 1 a change; 2 undoes 1; 3 undoes 2; 4 undoes 3: 4 stands, so 3 is undone and 2 stands, so 1 is undone
    assert history._undone([(4, 3), (3, 2), (2, 1)]) == {3, 1}
    assert history._undone([(3, 2), (2, 1)]) == {2}
    assert history._undone([(5, 1), (3, 2), (2, 1)]) == {2, 1}  # undone, brought back, undone again


def test_a_carry_that_was_undone_still_needs_deciding(demo_db):
    with Store.open(demo_db) as store:
        team = read.team(store)
        meeting = changes.start_meeting(store, team, facilitator="ivan", actor="ivan")
        action = next(e for e in read.carried_actions(store, meeting) if e.status == "open")
        changes.carry_action(store, action.id, meeting_id=meeting, actor="ivan")
        assert carried_here(store, meeting) == {action.id}
        changes.undo(store, actor="ivan", meeting_id=meeting)
        assert carried_here(store, meeting) == set()


def test_undo_names_in_words_who_changed_the_row_since(demo_db):
    with Store.open(demo_db) as store:
        team = read.team(store)
        changes.reassign_item(store, team, 13, "carla", actor="ana")
        changes.reassign_item(store, team, 13, "eve", actor="ben")
        with pytest.raises(InputError) as refused:
            changes.undo(store, actor="ana")
    message = str(refused.value)
    assert "item #13 was changed since by ben (reassigned #13 from carla to eve, Tue 24 Nov 10:00)" in message
    assert "item.reassign" not in message and "2026-11-24T" not in message


def test_the_undo_records_in_words_what_it_reverted(demo_db):
    with Store.open(demo_db) as store:
        team = read.team(store)
        changes.reassign_item(store, team, 13, "carla", actor="ivan")
        changes.undo(store, actor="ivan")
        reason = store.scalar("SELECT reason FROM events WHERE action = 'undo'")
    assert reason == "undid: reassigned #13 from dev to carla (Tue 24 Nov 10:00)"


# --- rewinding ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """The demo database, built once at the frozen time; each example works on a copy."""
    saved = os.environ.get("OPSWEEK_NOW")
    os.environ["OPSWEEK_NOW"] = FROZEN
    try:
        path = tmp_path_factory.mktemp("history") / "demo.db"
        demo.build(path).close()
    finally:
        if saved is None:
            os.environ.pop("OPSWEEK_NOW", None)
        else:
            os.environ["OPSWEEK_NOW"] = saved
    return path


def copy_of(path: Path) -> Store:
    conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    source = sqlite3.connect(path)
    source.backup(conn)
    source.close()
    store = Store(conn, None)
    store._configure()
    return store


def step(store: Store, data) -> None:
    """One change a person could make, drawn at random from what the state allows."""
    team = read.team(store)
    people = sorted(h for h, p in team.people.items() if p.active)
    who = data.draw(st.sampled_from(people), label="actor")
    pick = lambda sql, label: data.draw(st.sampled_from([r[0] for r in store.query(sql)] or [None]), label=label)  # noqa: E731
    kind = data.draw(st.sampled_from([  # undo is the point: it comes often, and early (what shrinking prefers)
        "undo", "handoff", "block", "accept", "undo", "attend", "rate", "unblock", "undo", "reassign", "done",
        "drop", "handoff_to", "escalate", "undo", "cover", "stage_owner", "workflow_owner", "meeting", "action",
        "action_status", "carry", "close", "add",
    ]), label="change")
    item = pick("SELECT id FROM items WHERE status IN ('open', 'blocked')", "item")
    pending = pick("SELECT id FROM handoffs WHERE accepted_at IS NULL", "handoff")
    action = pick("SELECT id FROM entries WHERE kind = 'action'", "entry")
    m = store.scalar("SELECT max(id) FROM meetings")  # the latest session still there (an undo may remove one)
    try:
        if kind == "add":
            changes.add_item(store, team, data.draw(st.sampled_from([w.key for w in team.workflows])), "New work",
                             owner=data.draw(st.sampled_from([None, *people])), actor=who, meeting_id=m)
        elif kind == "reassign" and item:
            changes.reassign_item(store, team, item, data.draw(st.sampled_from(people)), actor=who, meeting_id=m)
        elif kind == "block" and item:
            changes.block_item(store, item, "waiting", actor=who, meeting_id=m)
        elif kind == "unblock" and item:
            changes.unblock_item(store, item, actor=who, meeting_id=m)
        elif kind == "done" and item:
            changes.finish_item(store, item, actor=who, meeting_id=m)
        elif kind == "drop" and item:
            changes.drop_item(store, item, "not needed", actor=who, meeting_id=m)
        elif kind == "handoff" and item:
            changes.hand_off(store, team, item, actor=who, meeting_id=m)
        elif kind == "accept" and pending:
            changes.accept_handoff(store, pending, actor=who, meeting_id=m)
        elif kind == "handoff_to" and pending:
            changes.reassign_handoff(store, team, pending, data.draw(st.sampled_from(people)), actor=who,
                                     meeting_id=m)
        elif kind == "escalate" and pending:
            changes.escalate_handoff(store, pending, actor=who, meeting_id=m)
        elif kind == "cover":
            changes.set_cover(store, team, data.draw(st.sampled_from(people)), data.draw(st.sampled_from(people)),
                              actor=who, meeting_id=m)
        elif kind == "stage_owner":
            stage = data.draw(st.sampled_from(team.stages))
            changes.set_stage_owner(store, team, stage.workflow, stage.key, data.draw(st.sampled_from(people)),
                                    actor=who, meeting_id=m)
        elif kind == "workflow_owner":
            changes.set_workflow_owner(store, team, data.draw(st.sampled_from([w.key for w in team.workflows])),
                                       data.draw(st.sampled_from(people)), actor=who, meeting_id=m)
        elif kind == "meeting":
            changes.start_meeting(store, team, facilitator=who, actor=who)
        elif kind == "attend" and m:
            changes.set_attendance(store, m, data.draw(st.sampled_from(people)), data.draw(st.booleans()), actor=who)
        elif kind == "action":
            changes.record_entry(store, team, "action", "Call back", owner=data.draw(st.sampled_from(people)),
                                 item_id=item, meeting_id=m, actor=who)
        elif kind == "action_status" and action:
            changes.set_action_status(store, action, data.draw(st.sampled_from(["open", "done", "dropped"])),
                                      meeting_id=m, actor=who)
        elif kind == "carry" and action:
            changes.carry_action(store, action, meeting_id=m, actor=who)
        elif kind == "rate" and m:
            changes.rate_meeting(store, m, data.draw(st.integers(1, 10)), actor=who)
        elif kind == "close" and m:
            changes.close_meeting(store, m, actor=who)
        elif kind == "undo":
            changes.undo(store, actor=who, meeting_id=m, mine_only=data.draw(st.booleans(), label="mine only"))
    except InputError:
        pass  # refused, as a person would be: nothing written


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_rewinding_to_any_past_moment_gives_the_rows_as_they_were(template, monkeypatch, data):
    store = copy_of(template)
    moment = clock.parse_stamp(FROZEN)
    snapshots = []
    try:
        for _ in range(data.draw(st.integers(1, 12), label="steps")):
            moment += timedelta(minutes=data.draw(st.integers(1, 60 * 30), label="minutes later"))
            monkeypatch.setenv("OPSWEEK_NOW", clock.stamp(moment))
            step(store, data)
            snapshots.append((clock.stamp(moment), {t: rows(store, t) for t in TABLES}))
        for at, then in snapshots:
            for table in TABLES:
                assert history.table_as_of(store, table, at=at) == then[table], (at, table)
            # a few rows at a time, the way a big table is rewound
            touched = history.touched_as_of(store, "items", at=at)
            assert all(then["items"].get(key) == row for key, row in touched.items())
            keys = sorted(then["handoffs"])[:5] + [10_000]
            assert history.rows_as_of(store, "handoffs", keys, at) == {k: then["handoffs"].get(k) for k in keys}
    finally:
        store.close()


def test_rewinding_by_event_id_is_the_state_a_session_found(demo_db):
    with Store.open(demo_db) as store:
        team = read.team(store)
        before = rows(store, "items")
        meeting = changes.start_meeting(store, team, facilitator="ivan", actor="ivan")
        changes.finish_item(store, 33, actor="ivan", meeting_id=meeting)  # also withdraws handoff 9
        changes.add_item(store, team, "hiring", "Data engineer", actor="ivan", meeting_id=meeting)
        since = history.meeting_start_event(store, meeting)
        assert history.table_as_of(store, "items", since_id=since) == before
        assert history.touched_as_of(store, "handoffs", since_id=since)[9]["item_id"] == 33
        assert history.last_known(store, "handoffs", 9)["item_id"] == 33  # deleted, known from the log


# --- in words ----------------------------------------------------------------------------

DOTTED = re.compile(r"\b[a-z_]+\.[a-z_]+\b")
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


def recorded_actions() -> set[str]:
    """Every action name the code passes to ``store.change(...)``, f-strings spelled out."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in Path(demo.__file__).parent.rglob("*.py"))
    found = set(re.findall(r'\.change\("([a-z_.]+)"', source))
    templates = set(re.findall(r'\.change\((f"[^"]*")', source))
    assert templates == {'f"item.{\'done\' if status == \'done\' else \'drop\'}"', 'f"entry.{kind}"',
                         'f"action.{status}"'}, "a new action template: spell out its values below"
    return found | {"item.done", "item.drop", "entry.decision", "entry.action", "entry.note",
                    "action.open", "action.done", "action.dropped"}


def every_kind_of_change(store: Store) -> None:
    team = read.team(store)
    meeting = changes.start_meeting(store, team, facilitator="ivan", actor="ivan")
    changes.set_attendance(store, meeting, "hana", False, actor="ivan")
    changes.set_step(store, meeting, "stuck", actor="ivan")
    changes.add_step_time(store, meeting, "stuck", 300, actor="ivan")
    changes.mark_reviewed(store, meeting, ["hiring"], actor="ivan")
    item = changes.add_item(store, team, "hiring", "Data engineer", owner="eve", actor="ivan", meeting_id=meeting)
    changes.reassign_item(store, team, item, "ben", actor="ivan", meeting_id=meeting)
    changes.block_item(store, item, "budget", actor="ivan", meeting_id=meeting)
    changes.unblock_item(store, item, actor="ivan", meeting_id=meeting)
    handoff = changes.hand_off(store, team, item, actor="ivan", meeting_id=meeting)
    changes.reassign_handoff(store, team, handoff, "hana", actor="ivan", meeting_id=meeting)
    changes.accept_handoff(store, handoff, actor="ivan", meeting_id=meeting)
    changes.escalate_handoff(store, 5, actor="ivan", meeting_id=meeting)
    stuck_long = read.escalations_due(store, read.team(store), clock.now()).items
    changes.escalate_item(store, stuck_long[0][0], actor="ivan", meeting_id=meeting)
    changes.finish_item(store, 33, actor="ivan", meeting_id=meeting)
    changes.drop_item(store, 32, "duplicate", actor="ivan", meeting_id=meeting)
    changes.set_stage_owner(store, team, "hiring", "sourcing", "hana", actor="ivan", meeting_id=meeting)
    changes.set_workflow_owner(store, team, "content", "gus", actor="ivan", meeting_id=meeting)
    changes.set_cover(store, team, "eve", "hana", actor="ivan", meeting_id=meeting)
    changes.set_item_due(store, 31, date(2026, 12, 9), actor="ivan", meeting_id=meeting)
    changes.keep_as_is(store, Outcome(meeting, "stuck", "item", "30", "kept as is"), actor="ivan")
    for kind in ("decision", "note"):
        changes.record_entry(store, team, kind, f"A {kind} for hiring", meeting_id=meeting, actor="ivan")
    action = changes.record_entry(store, team, "action", "Call the candidate", owner="ana", meeting_id=meeting,
                                  actor="ivan")
    changes.set_action_due(store, action, clock.today() + timedelta(days=3), actor="ivan", meeting_id=meeting)
    for status in ("done", "open", "dropped"):
        changes.set_action_status(store, action, status, meeting_id=meeting, actor="ivan")
    other = changes.record_entry(store, team, "action", "Post the ad", owner="fay", meeting_id=meeting, actor="ivan")
    changes.carry_action(store, other, meeting_id=meeting, actor="ivan", due=date(2026, 12, 8))
    between = changes.raise_issue(store, team, "Interviews clash with the release", item_id=item, actor="ben")
    during = changes.raise_issue(store, team, "Hiring needs a second interviewer", workflow="hiring", actor="ivan",
                                 meeting_id=meeting)
    changes.rank_issue(store, meeting, between, actor="ivan")
    changes.rank_issue(store, meeting, during, actor="ivan")
    changes.unrank_issue(store, meeting, during, actor="ivan")
    changes.solve_issue(store, team, between, "action", "Move the interviews", owner="eve", meeting_id=meeting,
                        actor="ivan")
    changes.drop_issue(store, during, "the new hire starts in January", meeting_id=meeting, actor="ivan")
    changes.rate_as_attendee(store, meeting, "ana", 7, actor="ivan")
    changes.rate_meeting(store, meeting, 8, actor="ivan")
    changes.undo(store, actor="ivan", meeting_id=meeting)
    changes.close_meeting(store, meeting, actor="ivan")
    recurring.add_schedule(store, team, "complaints", "review", title="Review {week}", schedule_text="every friday",
                           actor="ivan")
    recurring.set_schedule_owner(store, team, "complaints", "review", "ben", actor="ivan")
    recurring.tick(store, clock.now() + timedelta(days=8))
    recurring.drop_schedule(store, "complaints", "review", actor="ivan")
    changes.set_setting(store, "stale_after", "8d", actor="ivan")
    changes.add_person(store, "kai", "Kai Lee", role="Support", actor="ivan")
    changes.update_person(store, "kai", role="Support lead", actor="ivan")
    changes.add_away(store, "kai", clock.today(), clock.today() + timedelta(days=2), actor="ivan")
    changes.end_away(store, "kai", today=clock.today() + timedelta(days=1), actor="ivan")
    changes.add_workflow(store, "billing", "Billing", owner="kai", actor="ivan")
    changes.update_workflow(store, "billing", trigger="An invoice is due", actor="ivan")
    changes.add_stage(store, "billing", "invoice", "Invoice", owner="kai", actor="ivan")
    changes.update_stage(store, "billing", "invoice", max_days=2, actor="ivan")


def test_every_kind_of_change_is_said_in_words(demo_db, tmp_path, frozen_now):
    said = []
    with Store.open(demo_db) as store:
        every_kind_of_change(store)
        said += [(r[1], history.describe(store, r[0])) for r in
                 store.query("SELECT change_id, action FROM events GROUP BY change_id ORDER BY change_id")]
    with demo.build(tmp_path / "generated.db", scale=50, now=frozen_now) as generated:
        said += [(r[1], history.describe(generated, r[0])) for r in
                 generated.query("SELECT change_id, action FROM events GROUP BY change_id ORDER BY change_id")]
    assert {action for action, _ in said} >= recorded_actions()
    for action, words in said:
        assert words and not DOTTED.search(words) and not STAMP.search(words), (action, words)
    shown = dict(said)
    assert shown["undo"] == "undid: rated the 2026-W48 session 8/10"
    assert shown["import"].startswith("imported: added 4 settings, 10 people")
    assert shown["handoff.reassign"] == "sent handoff 11 of #45 to hana instead of eve"


def test_the_words_name_the_item_and_the_people(demo_db):
    with Store.open(demo_db) as store:
        team = read.team(store)
        changes.finish_item(store, 12, actor="dev")
        assert history.describe(store, last_change(store)) == "marked #12 done, withdrawing handoff 4"
        changes.reassign_item(store, team, 13, "ben", actor="ivan")
        assert history.describe(store, last_change(store)) == "reassigned #13 from dev to ben"
        changes.accept_handoff(store, 3, actor="ivan")
        assert history.describe(store, last_change(store)) == "accepted handoff 3 for eve: #8 into references"
        changes.carry_action(store, 3, meeting_id=None, actor="ivan")
        assert history.describe(store, last_change(store)) == "carried action 3 over to Tue 01 Dec"


def test_history_is_standard_library_only():
    code = ("import sys, opsweek.store.history\n"
            "print(sorted(m for m in ('pydantic', 'textual', 'sqlite_utils', 'rich') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout.strip()) == (0, "[]"), result.stderr
