"""Receivers can accept: a handoff always waits on someone who can accept it (issue 10).

The sample team at Tuesday 2026-11-24 10:00 UTC: client-delivery/qa is jo's, and jo is
inactive with no cover; content/draft is gus's, away this week, fay covers; dev owns
client-delivery/build and carla its kickoff.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from opsweek import clock
from opsweek.cli.main import main
from opsweek.rules import gaps, receivers
from opsweek.store import Store, changes, read


def run(db: Path, capsys, *argv: str, me: str = "dev") -> tuple[int, str, str]:
    code = main(["--db", str(db), "--me", me, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def item_id(db: Path, title: str) -> int:
    with Store.open(db) as store:
        return next(it.id for it in read.items(store) if it.title == title)


def test_a_handoff_into_an_inactive_owners_stage_with_no_cover_is_refused(demo_db, capsys):
    initech = item_id(demo_db, "Initech — billing portal")
    before = demo_db.read_bytes()
    code, out, err = run(demo_db, capsys, "handoff", str(initech))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "the owner of stage client-delivery/qa, jo, is inactive and has no cover" in err
    assert "opsweek stage set client-delivery/qa --owner HANDLE" in err and "active: ana, ben" in err
    assert demo_db.read_bytes() == before


def test_with_a_cover_it_goes_to_the_cover_and_the_note_says_so(demo_db, capsys):
    with Store.open(demo_db) as store:
        team = read.team(store)
        changes.set_cover(store, team, "jo", "hana", actor="ivan")
    initech = item_id(demo_db, "Initech — billing portal")
    code, out, _ = run(demo_db, capsys, "handoff", str(initech), "--note", "ready for QA")
    assert code == 0 and "(hana)" in out and "jo is inactive, hana covers" in out
    with Store.open(demo_db) as store:
        h = read.pending_handoff_for(store, initech)
    assert h.to_owner == "hana" and h.note == "ready for QA (jo is inactive, hana covers)"


def test_an_away_owner_with_no_cover_gets_it_with_a_warning_and_a_gap(demo_db, capsys):
    with Store.open(demo_db) as store:
        team = read.team(store)
        changes.set_stage_owner(store, team, "client-delivery", "qa", "eve", actor="ivan")
        store.conn.execute("INSERT INTO away (handle, start, end) VALUES ('eve', '2026-11-23', '2026-11-27')")
    initech = item_id(demo_db, "Initech — billing portal")
    code, out, _ = run(demo_db, capsys, "handoff", str(initech))
    assert code == 0 and "warning: eve is away with no cover" in out and "ownership gap" in out
    with Store.open(demo_db) as store:
        team = read.team(store)
        week = clock.week_bounds("2026-W48")
        listed = [gap for gap, _ in read.gaps_page(store, team, week, 0, 500) if gap.subject == "handoff"]
        h = read.pending_handoff_for(store, initech)
        assert any(g.handoff_id == h.id and g.owner == "eve" and "away" in g.problem for g in listed)
        assert read.gaps_count(store, team, week) == len(read.gaps_page(store, team, week, 0, 500))


def test_a_new_stage_owner_takes_over_its_pending_handoffs_as_recorded_changes(demo_db):
    with Store.open(demo_db) as store:
        team = read.team(store)
        waiting = read.pending_into_stage(store, "client-delivery", "qa")
        assert waiting, "the sample has a handoff into qa"
        changes.set_stage_owner(store, team, "client-delivery", "qa", "hana", reason="jo left", actor="ivan")
        assert {h.to_owner for h in read.pending_into_stage(store, "client-delivery", "qa")} == {"hana"}
        moved = store.query("SELECT entity, after FROM events WHERE action = 'stage.owner' AND entity = 'handoffs'")
        assert len(moved) == sum(1 for h in waiting if h.to_owner != "hana")
        work = read.my_work(store, "hana", clock.now(), clock.today())
        assert {h.id for h in work.incoming} >= {h.id for h in waiting}


def test_pending_handoffs_of_someone_made_inactive_are_ownership_gaps(demo_db):
    with Store.open(demo_db) as store:
        pending = [h for h in read.pending_handoffs(store) if h.to_owner == "ana"]
        assert pending
        store.conn.execute("UPDATE people SET active = 0 WHERE handle = 'ana'")
        team = read.team(store)
        week = clock.week_bounds("2026-W48")
        listed = {g.handoff_id for g, _ in read.gaps_page(store, team, week, 0, 1000) if g.subject == "handoff"}
        assert {h.id for h in pending} <= listed
        everything = read.items(store)
        expected = gaps.ownership_gaps(team.people, team.workflows, team.stages, everything, *week,
                                       handoffs=read.pending_handoffs(store))
        assert read.gaps_count(store, team, week) == len(expected)


def test_who_may_accept_is_the_receiver_their_cover_while_away_and_the_workflow_owner(demo_db):
    with Store.open(demo_db) as store:
        team = read.team(store)
        today = clock.today()
        h = read.handoff(store, 9)  # to ana, in complaints (ana's workflow)
        assert receivers.who_may_accept(h, team.people, "ana", today) == ["ana"]
        store.conn.execute("INSERT INTO away (handle, start, end) VALUES (?, ?, ?)",
                           ("ana", today.isoformat(), (today + timedelta(days=2)).isoformat()))
        team = read.team(store)
        assert receivers.who_may_accept(h, team.people, "ivan", today) == ["ana", "ben", "ivan"]
        changes.accept_handoff(store, 9, actor="ben")  # her cover, while she is away
        assert read.handoff(store, 9).accepted_by == "ben"
