"""The escalation path (SPEC.md): who a late handoff or a stuck item goes to, tier by
tier, when it is due again, and what the record keeps (issue 13, issue 10 item 7)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from opsweek import notes
from opsweek.cli.main import main
from tui_support import stark_waits_on_dev
from opsweek.rules import escalation
from opsweek.store import Store, changes, read
from opsweek.store.records import Away, Escalation, Handoff, Item, Person, Stage, Workflow

UTC = timezone.utc
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday
TODAY = NOW.date()
DAY = timedelta(days=1)
FLOW = Workflow("flow", "Flow", owner="ana")


def person(handle, cover=None, away=False, active=True):
    periods = [Away(TODAY - DAY, TODAY + DAY)] if away else []
    return Person(handle, handle.title(), "", cover, periods, active)


def team(*people):
    return {p.handle: p for p in people}


def late_handoff(to="ben", due=NOW - DAY - timedelta(seconds=1), escalated=None):
    return Handoff(1, 7, "intake", "cy", "work", to, due - 2 * DAY, due, None, None, None, escalated, "flow", "T")


def record(tier, to, at, handoff_id=1, item_id=None):
    return Escalation(tier, handoff_id, item_id, tier, to, to.title(), at, "fay", None, None)


EVERYONE = team(person("ana", cover="di"), person("ben", cover="cy"), person("cy"), person("di"))


# --- a late handoff, tier by tier ------------------------------------------------------


def test_a_late_handoff_skips_its_receiver_and_goes_to_the_workflow_owner():
    # tier 1 is the receiver, who already holds it: the first escalation is tier 2
    assert escalation.handoff_escalation(late_handoff(), FLOW, EVERYONE, [], NOW, TODAY) == (2, "ana")


def test_a_receiver_away_goes_to_their_cover_then_to_the_workflow_owner():
    people = {**EVERYONE, "ben": person("ben", cover="cy", away=True)}
    first = escalation.handoff_escalation(late_handoff(), FLOW, people, [], NOW, TODAY)
    assert first == (2, "cy")
    past = [record(2, "cy", NOW - DAY - timedelta(seconds=1))]
    h = late_handoff(escalated=past[0].at)
    assert escalation.handoff_escalation(h, FLOW, people, past, NOW, TODAY) == (3, "ana")


def test_a_receiver_away_without_a_cover_there_goes_to_the_workflow_owner():
    people = {**EVERYONE, "ben": person("ben", cover="cy", away=True), "cy": person("cy", away=True)}
    assert escalation.handoff_escalation(late_handoff(), FLOW, people, [], NOW, TODAY) == (2, "ana")


def test_when_the_workflow_owner_is_the_one_late_it_goes_to_the_owners_cover():
    assert escalation.handoff_escalation(late_handoff(to="ana"), FLOW, EVERYONE, [], NOW, TODAY) == (3, "di")
    # ... and with nobody to cover the owner there is no one left
    alone = {**EVERYONE, "ana": person("ana")}
    assert escalation.handoff_escalation(late_handoff(to="ana"), FLOW, alone, [], NOW, TODAY) is None


def test_after_the_owner_it_goes_to_the_owners_cover_and_then_nowhere():
    at = NOW - DAY - timedelta(seconds=1)
    past = [record(2, "ana", at)]
    assert escalation.handoff_escalation(late_handoff(escalated=at), FLOW, EVERYONE, past, NOW, TODAY) == (3, "di")
    past.append(record(3, "di", at))
    assert escalation.handoff_escalation(late_handoff(escalated=at), FLOW, EVERYONE, past, NOW, TODAY) is None


def test_re_escalation_comes_exactly_escalate_after_after_the_last_one():
    at = NOW - DAY  # exactly 24h ago: not yet
    past = [record(2, "ana", at)]
    assert escalation.handoff_escalation(late_handoff(escalated=at), FLOW, EVERYONE, past, NOW, TODAY) is None
    later = NOW + timedelta(seconds=1)
    assert escalation.handoff_escalation(late_handoff(escalated=at), FLOW, EVERYONE, past, later, TODAY) == (3, "di")
    # a shorter escalate_after brings it sooner
    assert escalation.handoff_escalation(late_handoff(escalated=NOW - timedelta(hours=5)), FLOW, EVERYONE,
                                         [record(2, "ana", NOW - timedelta(hours=5))], NOW, TODAY,
                                         {"escalate_after": "4h"}) == (3, "di")


def test_the_first_escalation_comes_exactly_escalate_after_past_the_due_time():
    assert escalation.handoff_escalation(late_handoff(due=NOW - DAY), FLOW, EVERYONE, [], NOW, TODAY) is None
    assert escalation.handoff_escalation(late_handoff(due=NOW - DAY - timedelta(seconds=1)), FLOW, EVERYONE, [],
                                         NOW, TODAY) == (2, "ana")


def test_nobody_inactive_or_already_reached_gets_it():
    people = {**EVERYONE, "ana": person("ana", cover="di", active=False)}
    # the owner is inactive: tier 2 is skipped, tier 3 (the owner's cover) gets it
    assert escalation.handoff_escalation(late_handoff(), FLOW, people, [], NOW, TODAY) == (3, "di")
    # di was already reached at tier 2 (as the owner's cover named twice): nobody new is left
    assert escalation.handoff_next(late_handoff(), Workflow("flow", "Flow", owner="di"), EVERYONE,
                                   [record(2, "di", NOW - 2 * DAY)], TODAY) is None


# --- a stuck item ------------------------------------------------------------------------

STAGE = Stage("flow", "work", "Work", 1, "ben", None, 2)


def stuck(owner="cy", entered=NOW - 3 * DAY - timedelta(seconds=1), status="open"):
    return Item(9, "flow", "work", "Stuck", owner, status, entered - DAY, entered, entered)


def test_a_stuck_item_goes_to_its_stage_owner_first_when_someone_else_holds_it():
    it = stuck()
    assert escalation.item_escalation(it, STAGE, FLOW, EVERYONE, [], NOW, TODAY) == (1, "ben")
    at = NOW - DAY - timedelta(seconds=1)
    past = [record(1, "ben", at, None, 9)]
    assert escalation.item_escalation(it, STAGE, FLOW, EVERYONE, past, NOW, TODAY) == (2, "ana")
    past.append(record(2, "ana", at, None, 9))
    assert escalation.item_escalation(it, STAGE, FLOW, EVERYONE, past, NOW, TODAY) == (3, "di")


def test_a_stuck_item_of_the_stage_owner_goes_to_the_workflow_owner():
    assert escalation.item_escalation(stuck(owner="ben"), STAGE, FLOW, EVERYONE, [], NOW, TODAY) == (2, "ana")


def test_an_item_escalates_escalate_after_past_its_max_days_exactly():
    exactly = stuck(entered=NOW - 3 * DAY)  # 2 days max + 24h: exactly at the threshold
    assert escalation.item_escalation(exactly, STAGE, FLOW, EVERYONE, [], NOW, TODAY) is None
    assert escalation.item_escalation(exactly, STAGE, FLOW, EVERYONE, [], NOW + timedelta(seconds=1),
                                      TODAY) == (1, "ben")
    no_limit = STAGE._replace(max_days=None)
    assert escalation.item_escalation(stuck(entered=NOW - 30 * DAY), no_limit, FLOW, EVERYONE, [], NOW,
                                      TODAY) is None
    assert escalation.item_escalation(stuck(status="done"), STAGE, FLOW, EVERYONE, [], NOW, TODAY) is None


def test_a_new_stage_starts_the_path_again():
    it = stuck()
    earlier = [record(1, "ben", it.stage_entered_at - DAY, None, 9)]  # from its previous stage
    assert escalation.item_escalation(it, STAGE, FLOW, EVERYONE, earlier, NOW, TODAY) == (1, "ben")


# --- the CLI, the records, the notes ---------------------------------------------------


@pytest.fixture
def demo_db(demo_db):
    return stark_waits_on_dev(demo_db)


def run(db: Path, capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["--db", str(db), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(db: Path) -> tuple:
    with Store.open(db) as store:
        return (store.scalar("SELECT count(*) FROM events"), store.scalar("SELECT count(*) FROM escalations"),
                [tuple(r) for r in store.query("SELECT id, escalated_at FROM handoffs ORDER BY id")])


def test_escalating_a_due_handoff_records_tier_target_who_and_why(demo_db, capsys):
    code, out, err = run(demo_db, capsys, "escalate", "--handoff", "5", "--me", "ivan", "--reason", "no reply")
    assert (code, err) == (0, "")
    assert out == "handoff 5 escalated to carla (Carla Jensen), tier 2: “no reply”\n"
    with Store.open(demo_db) as store:
        (e,) = read.escalations_of(store, handoff_ids=[5])
        assert (e.tier, e.to_handle, e.to_name, e.by, e.reason) == (2, "carla", "Carla Jensen", "ivan", "no reply")
        assert read.handoff(store, 5).escalated_at == e.at  # kept for what reads the old column


def test_escalating_what_is_not_due_says_so_and_records_nothing(demo_db, capsys):
    before = snapshot(demo_db)
    # handoff 1 is exactly 24h late: due for escalation only after that
    code, out, err = run(demo_db, capsys, "escalate", "--handoff", "1", "--me", "ivan")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "not due for escalation yet" in err and "ivan (tier 2)" in err
    code, _, err = run(demo_db, capsys, "escalate", "--handoff", "5", "--me", "ivan")
    assert code == 0
    middle = snapshot(demo_db)
    code, _, err = run(demo_db, capsys, "escalate", "--handoff", "5", "--me", "ivan")  # tier 2 was the last
    assert code == 2 and "no one left to escalate to" in err and len(err.strip().splitlines()) == 1
    assert snapshot(demo_db) == middle != before
    code, _, err = run(demo_db, capsys, "escalate", "--item", "41", "--me", "ivan")  # done
    assert code == 2 and "is done" in err
    code, _, err = run(demo_db, capsys, "escalate", "--me", "ivan")
    assert code == 2 and "--handoff" in err
    assert snapshot(demo_db) == middle


def test_escalating_a_stuck_item_goes_up_its_path(demo_db, capsys):
    code, out, _ = run(demo_db, capsys, "escalate", "--item", "13", "--me", "ivan", "--reason", "a week over")
    assert code == 0 and out.startswith("#13 escalated to carla (Carla Jensen), tier 2")
    code, out, _ = run(demo_db, capsys, "log", "--limit", "1")
    assert "item.escalate" in out and "escalation 1 created: #13 to carla (“Carla Jensen”), tier 2, by ivan" in out


def test_notes_show_the_person_escalated_to_as_they_were_then(demo_db, monkeypatch):
    monkeypatch.setenv("OPSWEEK_NOW", NOW.isoformat())
    with Store.open(demo_db) as store:
        team_now = read.team(store)
        meeting = changes.start_meeting(store, team_now, facilitator="ivan", actor="ivan", now=NOW)
        changes.escalate_handoff(store, 5, reason="three days", actor="ivan", meeting_id=meeting, now=NOW)
        changes.close_meeting(store, meeting, actor="ivan", now=NOW + timedelta(minutes=30))
        before = notes.render(store, meeting)
        # afterwards carla is renamed and client-delivery gets a new owner
        with store.change("person.name", actor="test") as c:
            c.update("people", "carla", {"name": "Carla Jensen-Moreau"})
        changes.set_workflow_owner(store, read.team(store), "client-delivery", "ivan", actor="ivan")
        after = notes.render(store, meeting)
        data = notes.meeting_notes(store, meeting)
    assert "| handoff 5 |" in after and "| 2 | Carla Jensen (carla) | ivan | three days |" in after
    assert "Jensen-Moreau" not in after
    assert before == after
    (e,) = data["escalations"]
    assert (e["handoff_id"], e["tier"], e["escalated_to"], e["escalated_to_name"]) == (5, 2, "carla", "Carla Jensen")


def test_an_undone_escalation_leaves_no_record(demo_db, capsys):
    run(demo_db, capsys, "escalate", "--handoff", "5", "--me", "ivan")
    code, out, _ = run(demo_db, capsys, "undo", "--me", "ivan")
    assert code == 0 and out.startswith("undid: escalated handoff 5 of #16 to carla (tier 2)")
    with Store.open(demo_db) as store:
        assert read.escalations_of(store, handoff_ids=[5]) == []
        assert read.handoff(store, 5).escalated_at is None


def test_the_dump_carries_the_escalations(demo_db, capsys):
    run(demo_db, capsys, "escalate", "--handoff", "5", "--me", "ivan")
    code, out, _ = run(demo_db, capsys, "dump")
    assert code == 0
    rows = json.loads(out)["tables"]["escalations"]
    assert [(r["handoff_id"], r["tier"], r["to_handle"]) for r in rows] == [(5, 2, "carla")]


def test_mine_shows_what_reached_me_and_my_work_that_was_escalated(demo_db, capsys):
    run(demo_db, capsys, "escalate", "--handoff", "5", "--me", "ivan", "--reason", "three days")
    code, out, _ = run(demo_db, capsys, "mine", "--me", "carla")
    reached = out[out.index("Escalated to you (1)"):]
    assert "handoff 5" in reached.splitlines()[2] and "dev" in reached.splitlines()[2]
    assert out.index("Handoffs waiting for you to accept") < out.index("Escalated to you") < out.index(
        "Handoffs you sent")
    _, out, _ = run(demo_db, capsys, "mine", "--me", "dev", "--json")
    data = json.loads(out)
    (mine,) = data["escalated_work"]
    assert (mine["handoff_id"], mine["to"], mine["to_name"], mine["tier"], mine["by"]) == (
        5, "carla", "Carla Jensen", 2, "ivan")
    assert mine["late_seconds"] == 3 * 86400
    _, out, _ = run(demo_db, capsys, "mine", "--me", "carla", "--json")
    data = json.loads(out)
    assert [e["handoff_id"] for e in data["escalated_to_me"]] == [5] and data["overdue"]["escalated"] == 1
    code, out, _ = run(demo_db, capsys, "mine", "--me", "carla", "--check")
    assert code == 1 and "1 escalated to you" in out


# --- the session's e key ---------------------------------------------------------------


async def test_the_session_says_what_is_not_due_before_asking_for_a_note(demo_db):
    from tui_support import cursor_to, press, settle, type_text

    from opsweek.tui.app import make_app
    from opsweek.tui.modal.text_prompt import TextPrompt

    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=(130, 40)) as pilot:
        await settle(pilot)
        session = app.screen
        while session.step != "handoffs":
            await press(pilot, "n")
        table = session.query_one("#handoffs-table")
        await cursor_to(pilot, table, "1")  # exactly 24h late: not due yet
        await press(pilot, "e")
        assert not isinstance(app.screen, TextPrompt)
        assert any("not due for escalation yet" in str(n.message) for n in app._notifications)
        await cursor_to(pilot, table, "5")  # three days late: due, to carla at tier 2
        await press(pilot, "e")
        assert isinstance(app.screen, TextPrompt)
        await type_text(pilot, "no answer")
        await press(pilot, "enter")
        meeting_id = session.meeting_id
    with Store.open(demo_db) as store:
        (e,) = read.meeting_escalations(store, meeting_id)
        assert (e.handoff_id, e.tier, e.to_handle, e.by, e.reason) == (5, 2, "carla", "ivan", "no answer")
        assert read.escalations_of(store, handoff_ids=[1]) == []
