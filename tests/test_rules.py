"""The rules of SPEC.md, with their edges: overdue and escalation, stuck items, ownership
gaps, the five-layer audit and the what-if pressure test."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from opsweek import clock, rules
from opsweek.model import Away, Handoff, Item, Person, Stage, Workflow

UTC = timezone.utc
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # Tuesday of 2026-W48
TODAY = NOW.date()
WEEK = clock.week_bounds("2026-W48")  # Monday 23 Nov .. Sunday 29 Nov


def person(handle, cover=None, away=(), active=True):
    return Person(handle=handle, name=handle.title(), cover=cover, active=active,
                  away=[Away(start=a, end=b) for a, b in away])


def stage(key, owner="ana", workflow="flow", max_days=None, sla=None, sop="https://sop", name=None):
    return Stage(workflow=workflow, key=key, name=name or key.title(), owner=owner, max_days=max_days,
                 handoff_sla=sla, sop=sop)


def item(id=1, stage="work", owner="ana", status="open", entered=None, activity=None, due=None,
         blocked_reason=None, workflow="flow", title="Do the thing"):
    entered = entered or NOW - timedelta(days=1)
    return Item(id=id, workflow=workflow, stage=stage, title=title, owner=owner, status=status,
                opened_at=entered - timedelta(days=1), stage_entered_at=entered,
                last_activity_at=activity or entered, due=due, blocked_reason=blocked_reason)


def handoff(id=1, sent=None, due=None, accepted=None, escalated=None, to_owner="ben", to_stage="work"):
    sent = sent or NOW - timedelta(days=3)
    return Handoff(id=id, item_id=id, from_stage="intake", to_stage=to_stage, to_owner=to_owner,
                   sent_at=sent, due_at=due or sent + timedelta(hours=48), accepted_at=accepted,
                   escalated_at=escalated, workflow="flow")


def people_of(*people):
    return {p.handle: p for p in people}


# --- overdue handoffs and escalation ---------------------------------------------------


def test_handoff_due_at_uses_the_receiving_stage_sla_then_settings_then_48h():
    sent = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # a Friday
    assert rules.handoff_due_at(sent, "24h") == sent + timedelta(hours=24)
    assert rules.handoff_due_at(sent, None) == sent + timedelta(hours=48)
    assert rules.handoff_due_at(sent, None, {"handoff_sla": "3d"}) == sent + timedelta(days=3)
    # a business-day SLA across the weekend: Friday 15:00 + 1bd is Monday 15:00, not Saturday
    assert rules.handoff_due_at(sent, "1bd") == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


def test_business_day_handoff_sent_friday_is_not_overdue_over_the_weekend():
    sent = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    h = handoff(sent=sent, due=rules.handoff_due_at(sent, "1bd"))
    assert not rules.is_overdue(h, datetime(2026, 11, 29, 23, 59, tzinfo=UTC))  # Sunday night
    assert not rules.is_overdue(h, datetime(2026, 11, 30, 15, 0, tzinfo=UTC))  # exactly due
    assert rules.is_overdue(h, datetime(2026, 11, 30, 15, 0, 1, tzinfo=UTC))


def test_overdue_means_unaccepted_and_past_due():
    due = NOW - timedelta(hours=1)
    assert rules.is_overdue(handoff(due=due), NOW)
    assert not rules.is_overdue(handoff(due=NOW), NOW)  # at the due time: not yet
    assert not rules.is_overdue(handoff(due=NOW + timedelta(hours=1)), NOW)
    assert not rules.is_overdue(handoff(due=due, accepted=NOW - timedelta(minutes=5)), NOW)
    assert rules.lateness(handoff(due=due), NOW) == timedelta(hours=1)
    assert rules.lateness(handoff(due=NOW + timedelta(hours=1)), NOW) == timedelta(0)


def test_escalation_due_after_escalate_after_past_due():
    assert not rules.escalation_due(handoff(due=NOW - timedelta(hours=24)), NOW)  # exactly 24h: not yet
    assert rules.escalation_due(handoff(due=NOW - timedelta(hours=24, seconds=1)), NOW)
    assert not rules.escalation_due(handoff(due=NOW - timedelta(hours=5)), NOW)
    assert rules.escalation_due(handoff(due=NOW - timedelta(hours=5)), NOW, {"escalate_after": "4h"})
    # already escalated, or accepted: nothing more to flag
    late = NOW - timedelta(days=3)
    assert not rules.escalation_due(handoff(due=late, escalated=NOW - timedelta(hours=1)), NOW)
    assert not rules.escalation_due(handoff(due=late, accepted=NOW), NOW)


def test_overdue_handoffs_most_overdue_first():
    a = handoff(id=1, due=NOW - timedelta(hours=2))
    b = handoff(id=2, due=NOW - timedelta(days=2))
    c = handoff(id=3, due=NOW + timedelta(hours=2))
    assert [h.id for h in rules.overdue_handoffs([a, b, c], NOW)] == [2, 1]


# --- stuck items -----------------------------------------------------------------------


def kinds(reasons):
    return [r.kind for r in reasons]


def test_a_fresh_item_is_not_stuck():
    assert rules.stuck_reasons(item(), stage("work", max_days=5), NOW, TODAY) == []


def test_blocked_is_a_reason_with_its_text():
    reasons = rules.stuck_reasons(item(status="blocked", blocked_reason="waiting on legal"),
                                  stage("work"), NOW, TODAY)
    assert kinds(reasons) == ["blocked"]
    assert "waiting on legal" in str(reasons[0])


def test_in_stage_longer_than_max_days():
    st = stage("work", max_days=3, name="Work")
    # 3 days exactly: not yet stuck; a minute more: stuck
    assert rules.stuck_reasons(item(entered=NOW - timedelta(days=3), activity=NOW), st, NOW, TODAY) == []
    reasons = rules.stuck_reasons(item(entered=NOW - timedelta(days=3, minutes=1), activity=NOW), st, NOW, TODAY)
    assert kinds(reasons) == ["in_stage"]
    assert "in Work (max 3d)" in str(reasons[0])


def test_in_stage_counts_from_stage_entered_not_last_activity():
    st = stage("work", max_days=2)
    recently_edited = item(entered=NOW - timedelta(days=4), activity=NOW - timedelta(hours=1))
    assert kinds(rules.stuck_reasons(recently_edited, st, NOW, TODAY)) == ["in_stage"]


def test_stage_without_max_days_never_makes_an_item_stuck_by_time_in_stage():
    st = stage("work", max_days=None)
    assert rules.stuck_reasons(item(entered=NOW - timedelta(days=6), activity=NOW), st, NOW, TODAY) == []
    # and an item whose stage is unknown still gets the other reasons
    old = item(entered=NOW - timedelta(days=30))
    assert kinds(rules.stuck_reasons(old, None, NOW, TODAY)) == ["stale"]


def test_stale_after_no_activity_for_stale_after():
    st = stage("work")
    assert kinds(rules.stuck_reasons(item(entered=NOW - timedelta(days=7, seconds=1)), st, NOW, TODAY)) == ["stale"]
    assert rules.stuck_reasons(item(entered=NOW - timedelta(days=7)), st, NOW, TODAY) == []
    # the team file can change it
    two = {"stale_after": "2d"}
    assert kinds(rules.stuck_reasons(item(entered=NOW - timedelta(days=3)), st, NOW, TODAY, two)) == ["stale"]


def test_past_due_after_the_due_day():
    st = stage("work")
    assert rules.stuck_reasons(item(due=TODAY), st, NOW, TODAY) == []  # due today: not yet
    reasons = rules.stuck_reasons(item(due=TODAY - timedelta(days=1)), st, NOW, TODAY)
    assert kinds(reasons) == ["past_due"]
    assert "2026-11-23" in str(reasons[0])


def test_every_reason_that_applies_is_reported():
    st = stage("work", max_days=1)
    it = item(status="blocked", blocked_reason="vendor", entered=NOW - timedelta(days=20),
              due=TODAY - timedelta(days=2))
    assert kinds(rules.stuck_reasons(it, st, NOW, TODAY)) == ["blocked", "in_stage", "stale", "past_due"]


@pytest.mark.parametrize("status", ["done", "dropped"])
def test_closed_items_are_never_stuck(status):
    it = item(status=status, entered=NOW - timedelta(days=20), due=TODAY - timedelta(days=2))
    assert rules.stuck_reasons(it, stage("work", max_days=1), NOW, TODAY) == []


def test_stuck_items_longest_in_stage_first():
    stages = {("flow", "work"): stage("work", max_days=1)}
    items = [item(id=1, entered=NOW - timedelta(days=2)), item(id=2, entered=NOW - timedelta(days=9)),
             item(id=3, entered=NOW - timedelta(hours=1))]
    assert [it.id for it, _ in rules.stuck_items(items, stages, NOW, TODAY)] == [2, 1]


# --- stage time through real changes: an edit does not reset it, a stage move does -----------

TEAM_TOML = """
[[people]]
handle = "ana"
name = "Ana Ruiz"
cover = "ben"

[[people]]
handle = "ben"
name = "Ben Okafor"

[[workflows]]
key = "flow"
name = "Flow"
owner = "ana"
trigger = "A request"

[[workflows.stages]]
key = "intake"
name = "Intake"
owner = "ana"
max_days = 2

[[workflows.stages]]
key = "work"
name = "Work"
owner = "ben"
max_days = 5
handoff_sla = "24h"
"""


@pytest.fixture
def small_store(tmp_path, frozen_now):
    from opsweek.importing import import_files
    from opsweek.store import Store

    team = tmp_path / "team.toml"
    team.write_text(TEAM_TOML, encoding="utf-8")
    store = Store.open(tmp_path / "small.db", create=True)
    import_files(store, [team], actor="test")
    yield store
    store.close()


def _reasons(store, item_id, now):
    from opsweek.store import read

    team = read.team(store)
    it = read.item(store, item_id)
    return kinds(rules.stuck_reasons(it, team.stage_map[(it.workflow, it.stage)], now,
                                     now.date(), team.settings))


def test_stage_time_survives_an_edit_but_not_a_stage_move(small_store):
    from opsweek.store import changes, read

    store = small_store
    start = NOW - timedelta(days=10)
    item_id = changes.add_item(store, read.team(store), "flow", "Quote for ACME", actor="ana", now=start)
    edited = start + timedelta(days=3)
    changes.reassign_item(store, read.team(store), item_id, "ben", actor="ana", now=edited)
    after_edit = read.item(store, item_id)
    assert after_edit.stage_entered_at == start  # the edit did not reset the stage clock
    assert after_edit.last_activity_at == edited
    assert _reasons(store, item_id, edited) == ["in_stage"]  # 3 days in intake (max 2)

    handoff_id = changes.hand_off(store, read.team(store), item_id, actor="ben", now=edited)
    assert read.item(store, item_id).stage_entered_at == start  # sending is not moving yet
    moved = edited + timedelta(hours=2)
    changes.accept_handoff(store, handoff_id, actor="ben", now=moved)
    after_move = read.item(store, item_id)
    assert after_move.stage == "work"
    assert after_move.stage_entered_at == moved  # the stage move restarted the clock
    assert _reasons(store, item_id, moved + timedelta(days=1)) == []
    assert _reasons(store, item_id, moved + timedelta(days=5, minutes=1)) == ["in_stage"]


def test_handoff_due_at_in_the_store_uses_the_stage_sla(small_store):
    from opsweek.store import changes, read

    store = small_store
    item_id = changes.add_item(store, read.team(store), "flow", "Thing", actor="ana", now=NOW)
    handoff_id = changes.hand_off(store, read.team(store), item_id, actor="ana", now=NOW)
    h = read.handoff(store, handoff_id)
    assert h.due_at == NOW + timedelta(hours=24)
    assert h.to_owner == "ben"
    assert not rules.is_overdue(h, NOW + timedelta(hours=24))
    assert rules.is_overdue(h, NOW + timedelta(hours=25))


def test_sql_stuck_and_overdue_counts_match_the_rules(demo_db, frozen_now):
    from opsweek.store import Store, read

    with Store.open(demo_db) as store:
        team = read.team(store)
        today = frozen_now.date()
        by_rules = rules.stuck_items(read.items(store), team.stage_map, frozen_now, today, team.settings)
        assert read.stuck_count(store, team, frozen_now, today) == len(by_rules) > 0
        page = read.stuck_page(store, team, frozen_now, today, limit=1000)
        assert [it.id for it, _ in page] == [it.id for it, _ in by_rules]
        assert all(reasons for _, reasons in page)
        late = rules.overdue_handoffs(read.handoffs(store), frozen_now)
        assert read.overdue_count(store, frozen_now) == len(late) >= 5
        # the sample data has stuck items for every reason
        found = {r.kind for _, reasons in by_rules for r in reasons}
        assert found == {"blocked", "in_stage", "stale", "past_due"}


# --- ownership gaps ----------------------------------------------------------------------

MON, SUN = WEEK


def test_away_periods_that_start_or_end_inside_the_week():
    before = person("a", away=[(MON - timedelta(days=9), MON - timedelta(days=1))])  # ends the Sunday before
    ends_monday = person("b", away=[(MON - timedelta(days=5), MON)])
    starts_sunday = person("c", away=[(SUN, SUN + timedelta(days=5))])
    after = person("d", away=[(SUN + timedelta(days=1), SUN + timedelta(days=4))])
    spans = person("e", away=[(MON - timedelta(days=3), SUN + timedelta(days=3))])
    assert not rules.is_away(before, MON, SUN)
    assert rules.is_away(ends_monday, MON, SUN)
    assert rules.is_away(starts_sunday, MON, SUN)
    assert not rules.is_away(after, MON, SUN)
    assert rules.is_away(spans, MON, SUN)


def _gaps(people, stages=(), workflows=(), items=()):
    workflows = list(workflows) or [Workflow(key="flow", name="Flow", owner="boss", trigger="x")]
    people = people_of(person("boss"), *people)
    return rules.ownership_gaps(people, workflows, list(stages), list(items), MON, SUN)


def test_owner_away_inside_the_week_with_available_cover_is_not_a_stage_gap():
    ana = person("ana", cover="ben", away=[(SUN, SUN + timedelta(days=2))])
    gaps = _gaps([ana, person("ben")], stages=[stage("work", owner="ana")])
    assert [g.subject for g in gaps] == []
    problem, cover = rules.owner_problem("ana", people_of(ana, person("ben")), MON, SUN)
    assert (problem, cover) == ("ana is away", "ben")


def test_owner_away_with_no_cover_is_a_gap():
    ana = person("ana", away=[(MON - timedelta(days=3), MON)])  # back on Tuesday, still away this week
    gaps = _gaps([ana], stages=[stage("work", owner="ana")])
    assert [(g.label, g.problem) for g in gaps] == [("flow/work", "ana is away, no cover")]


def test_a_cover_who_is_away_too_is_no_cover():
    ana = person("ana", cover="ben", away=[(MON, MON + timedelta(days=1))])
    ben = person("ben", away=[(SUN, SUN)])
    gaps = _gaps([ana, ben], stages=[stage("work", owner="ana")])
    assert [(g.label, g.problem, g.suggestion) for g in gaps] == [
        ("flow/work", "ana is away, and cover ben is unavailable", None)]
    assert rules.cover_for("ana", people_of(ana, ben), MON, SUN) is None


def test_an_inactive_cover_is_no_cover():
    ana = person("ana", cover="ben", away=[(MON, SUN)])
    ben = person("ben", active=False)
    assert rules.cover_for("ana", people_of(ana, ben), MON, SUN) is None


def test_a_stage_with_no_owner_and_an_inactive_owner_are_gaps():
    gaps = _gaps([person("ana"), person("jo", active=False)],
                 stages=[stage("intake", owner=None), stage("qa", owner="jo"), stage("work", owner="ana")])
    assert [(g.label, g.problem) for g in gaps] == [("flow/intake", "no owner"), ("flow/qa", "jo is inactive")]


def test_an_owner_not_on_the_team_is_a_gap():
    gaps = _gaps([], stages=[stage("work", owner="ghost")])
    assert [(g.label, g.problem) for g in gaps] == [("flow/work", "unknown owner ghost")]


def test_workflow_owner_gaps_and_paused_workflows_are_skipped():
    workflows = [Workflow(key="flow", name="Flow", owner=None, trigger="x"),
                 Workflow(key="old", name="Old", owner=None, status="paused")]
    stages = [stage("work", owner=None, workflow="old")]
    gaps = _gaps([], stages=stages, workflows=workflows)
    assert [(g.subject, g.label, g.problem) for g in gaps] == [("workflow", "flow", "no owner")]


def test_open_item_of_an_away_owner_suggests_the_cover():
    ana = person("ana", cover="ben", away=[(MON, SUN)])
    items = [item(id=7, owner="ana"), item(id=8, owner="ana", status="done"), item(id=9, owner="ben")]
    gaps = _gaps([ana, person("ben")], stages=[stage("work", owner="ben")], items=items)
    assert [(g.label, g.problem, g.suggestion) for g in gaps] == [("#7", "ana is away", "ben")]


def test_open_item_of_an_away_owner_without_cover_has_no_suggestion():
    eve = person("eve", away=[(MON, SUN)])
    gaps = _gaps([eve], stages=[stage("work", owner="boss")], items=[item(id=3, owner="eve")])
    assert [(g.label, g.problem, g.suggestion) for g in gaps] == [("#3", "eve is away, no cover", None)]


def test_the_sample_team_has_the_gaps_the_demo_promises(demo_db, frozen_now):
    from opsweek.store import Store, read

    with Store.open(demo_db) as store:
        team = read.team(store)
        first, last = clock.week_bounds(clock.iso_week(frozen_now))
        gaps = rules.ownership_gaps(team.people, team.workflows, team.stages,
                                    read.items(store, "status IN ('open','blocked')"), first, last)
    problems = {(g.subject, g.problem) for g in gaps}
    assert ("stage", "no owner") in problems
    assert any(subject == "item" for subject, _ in problems)


# --- the five-layer system audit ------------------------------------------------------------


def _audit(stages, trigger="A request", people=None, last_review=NOW - timedelta(days=3)):
    wf = Workflow(key="flow", name="Flow", owner="ana", trigger=trigger)
    people = people or people_of(person("ana"), person("ben"))
    return rules.audit_workflow(wf, stages, people, last_review, NOW)


def test_a_complete_system_scores_five():
    result = _audit([stage("intake", sla="24h"), stage("work", owner="ben", sla="48h")])
    assert result.score == 5 and str(result) == "5/5"
    assert all(result.passed(layer) for layer in rules.LAYERS)


def test_ownership_layer():
    people = people_of(person("ana"), person("jo", active=False))
    result = _audit([stage("a", owner=None), stage("b", owner="jo", sla="1d"), stage("c", owner="ghost", sla="1d")],
                    people=people)
    assert result.missing["ownership"] == ["stage a has no owner", "stage b owner jo is inactive",
                                           "stage c owner ghost is not on the team"]
    assert result.score == 4
    assert _audit([]).missing["ownership"] == ["the workflow has no stages"]


def test_triggers_layer():
    assert _audit([stage("a")], trigger="  ").missing["triggers"] == ["no trigger"]
    assert _audit([stage("a")], trigger="A complaint arrives").passed("triggers")


def test_connections_layer_needs_an_sla_into_every_later_stage():
    result = _audit([stage("a"), stage("b", sla="24h"), stage("c")])
    assert result.missing["connections"] == ["b → c has no handoff SLA"]
    assert _audit([stage("only")]).passed("connections")  # a one-stage workflow hands off nowhere


def test_visibility_layer():
    result = _audit([stage("a", sop=None), stage("b", sla="1d")])
    assert result.missing["visibility"] == ["stage a has no SOP"]


def test_rhythm_layer():
    assert _audit([stage("a")], last_review=None).missing["rhythm"] == ["never reviewed in a meeting"]
    assert _audit([stage("a")], last_review=NOW - timedelta(days=14)).passed("rhythm")
    assert _audit([stage("a")], last_review=NOW - timedelta(days=15)).missing["rhythm"] == [
        "last reviewed 15 days ago"]


def test_every_layer_missing_scores_zero():
    people = people_of(person("ana"))
    result = _audit([stage("a", owner=None, sop=None), stage("b", sop=None)], trigger="", people=people,
                    last_review=None)
    assert result.score == 0 and str(result) == "0/5"


def test_audit_leaves_out_retired_workflows():
    workflows = [Workflow(key="flow", name="Flow", trigger="x"),
                 Workflow(key="gone", name="Gone", status="retired")]
    results = rules.audit(workflows, {"flow": [stage("a")]}, people_of(person("ana")), {}, NOW)
    assert [r.workflow for r in results] == ["flow"]


# --- the what-if pressure test -----------------------------------------------------------


def _what_if(away, volume=1.0, people=None, stages=None, items=(), handoffs=()):
    people = people or people_of(person("ana", cover="ben"), person("ben"), person("carla"))
    workflows = [Workflow(key="flow", name="Flow", owner="carla", trigger="x")]
    stages = stages or [stage("intake", owner="ana", max_days=5), stage("work", owner="ben", max_days=5)]
    return rules.what_if(away, volume, people, workflows, stages, list(items), list(handoffs), NOW, MON, SUN)


def test_what_if_nobody_away_loses_nothing():
    result = _what_if([], items=[item(id=1, stage="intake", owner="ana")])
    assert (result.stages, result.items, result.handoffs, result.breaches) == ([], [], [], [])


def test_what_if_work_of_an_away_person_goes_to_their_cover():
    items = [item(id=1, stage="intake", owner="ana"), item(id=2, stage="work", owner="ben")]
    result = _what_if(["ana"], items=items, handoffs=[handoff(id=1, to_owner="ana", to_stage="intake")])
    assert [(s.label, s.owner, s.cover) for s in result.stages] == [("flow/intake", "ana", "ben")]
    assert [(i.label, i.cover) for i in result.items] == [("#1 Do the thing", "ben")]
    assert [(h.owner, h.cover) for h in result.handoffs] == [("ana", "ben")]
    assert result.to_nobody == []
    assert result.load["ben"] == (1.0, 2.0)  # ben takes ana's item on top of his own


def test_what_if_without_cover_work_reaches_nobody_and_stages_breach():
    items = [item(id=1, stage="work", owner="ben")]
    pending = [handoff(id=2, to_owner="ben", to_stage="work")]
    result = _what_if(["ana", "ben"], items=items, handoffs=pending)
    assert result.away == ["ana", "ben"]
    assert {(s.label, s.cover) for s in result.stages} == {("flow/intake", None), ("flow/work", None)}
    assert [h.cover for h in result.to_nobody] == [None]
    assert [(b.stage, b.why) for b in result.breaches] == [
        ("work", "no owner, with 1 item waiting and 1 handoff pending")]


def test_what_if_a_cover_who_is_away_does_not_cover():
    people = people_of(person("ana", cover="ben"), person("ben", away=[(MON, SUN)]), person("carla"))
    result = _what_if(["ana"], people=people, items=[item(id=1, stage="intake", owner="ana")])
    assert [(s.label, s.cover) for s in result.stages] == [("flow/intake", None)]
    assert [b.stage for b in result.breaches] == ["intake"]


def test_what_if_volume_projects_time_in_stage_past_max_days():
    items = [item(id=n, stage="work", owner="ben", entered=NOW - timedelta(days=3)) for n in range(1, 4)]
    calm = _what_if([], volume=1.0, items=items)
    assert calm.breaches == []
    pressed = _what_if([], volume=2.0, items=items)
    assert [b.stage for b in pressed.breaches] == ["work"]
    assert "projected 6.0d in stage vs max 5d" in pressed.breaches[0].why


def test_what_if_extra_load_from_an_absent_colleague_breaches():
    # ben covers ana: his load doubles, so his 3-day average projects past 5 days
    items = [item(id=1, stage="work", owner="ben", entered=NOW - timedelta(days=3)),
             item(id=2, stage="intake", owner="ana", entered=NOW - timedelta(days=1))]
    result = _what_if(["ana"], items=items)
    assert "work" in [b.stage for b in result.breaches]
