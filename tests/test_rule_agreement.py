"""Each rule's SQL condition gives exactly the rows its Python predicate gives (issue 9).

Hypothesis builds random teams — people with covers and away periods, workflows with
stages, items, handoffs and actions at random times — and puts them in a database; then
every named query of the read layer that uses a rule's SQL is compared with the rule run
in Python over all the rows. The times are drawn to hit the edges: exactly at a handoff's
``due_at``, exactly ``max_days`` in a stage, exactly at the stale and escalation
thresholds (business days included, from weekday and weekend moments), and a second
either side.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsweek import clock, rules
from opsweek.rules import actions as action_rule
from opsweek.rules import gaps, receivers, stuck, waiting
from opsweek.store import read
from opsweek.store.db import Store
from opsweek.trends import weekly_trends

HANDLES = ["ana", "ben", "cy", "di"]
WORKFLOWS = ["wa", "wb"]
STAGES = ["s1", "s2", "s3"]
DURATIONS = ["48h", "7d", "2bd", "1bd", "3d", "36h", "1w", "0.5d"]
MOMENTS = [
    datetime(2026, 12, 2, 10, 0, 0, tzinfo=timezone.utc),   # a Wednesday
    datetime(2026, 12, 5, 13, 30, 0, tzinfo=timezone.utc),  # a Saturday
    datetime(2026, 12, 7, 0, 0, 0, tzinfo=timezone.utc),    # Monday 00:00
    datetime(2026, 12, 6, 23, 59, 59, tzinfo=timezone.utc),  # Sunday night
]
MAX_DAYS = [None, 1, 2, 0.5, 1.5, 3, 0.3333]

AGREEMENT = settings(max_examples=70, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def store():
    s = Store.memory()
    yield s
    s.close()


@st.composite
def worlds(draw):
    """A random team and its work, with ``now`` and the edge times it implies."""
    now = draw(st.sampled_from(MOMENTS))
    values = {"stale_after": draw(st.sampled_from(DURATIONS)),
              "escalate_after": draw(st.sampled_from(DURATIONS)),
              "handoff_sla": draw(st.sampled_from(DURATIONS))}
    today = now.date()  # TZ=UTC in the tests
    max_days = {(w, s): draw(st.sampled_from(MAX_DAYS)) for w in WORKFLOWS for s in STAGES}
    edges = [0, 1, -1]
    for key in ("stale_after", "escalate_after"):
        threshold = clock.parse_duration(values[key]).before(now)
        edges += [int((threshold - now).total_seconds()) + d for d in (-1, 0, 1)]
    for days in {d for d in max_days.values() if d}:
        edges += [-int(days * 86400) + d for d in (-1, 0, 1)]

    def moment(allow_future: bool = False) -> datetime:
        offset = draw(st.one_of(st.integers(-20 * 86400, 86400 if allow_future else 0), st.sampled_from(edges)))
        return now + timedelta(seconds=offset)

    def day() -> date | None:
        return draw(st.one_of(st.none(), st.builds(lambda d: today + timedelta(days=d), st.integers(-5, 5))))

    people = []
    for handle in HANDLES:
        cover = draw(st.one_of(st.none(), st.sampled_from([h for h in HANDLES if h != handle])))
        away = []
        if draw(st.booleans()):
            start = today + timedelta(days=draw(st.integers(-6, 6)))
            away.append((start, start + timedelta(days=draw(st.integers(0, 5)))))
        people.append((handle, draw(st.booleans()) or handle == "ana", cover, away))
    owner = st.one_of(st.none(), st.sampled_from(HANDLES + ["zed"]))
    stage_rows = []
    for w in WORKFLOWS:
        for position, s in enumerate(STAGES):
            stage_rows.append((w, s, position, draw(owner), max_days[(w, s)],
                               draw(st.one_of(st.none(), st.sampled_from(DURATIONS)))))
    items = []
    for n in range(draw(st.integers(0, 14))):
        w, s_ = draw(st.sampled_from(WORKFLOWS)), draw(st.sampled_from(STAGES))
        opened = moment()
        entered = max(opened, moment())
        activity = max(entered, moment())
        if max_days[(w, s_)] and draw(st.booleans()):  # right at its own stage's max_days
            entered = now - timedelta(seconds=int(max_days[(w, s_)] * 86400) + draw(st.sampled_from([-1, 0, 1])))
            opened, activity = min(opened, entered), now
        status = draw(st.sampled_from(["open", "open", "blocked", "done", "dropped"]))
        items.append((n + 1, w, s_, draw(owner), status,
                      opened, entered, activity, day(), "why" if status == "blocked" else None))
    handoffs = []
    for n in range(draw(st.integers(0, 10)) if items else 0):
        item = draw(st.sampled_from(items))
        sent = moment()
        due = draw(st.one_of(st.just(now), st.builds(lambda s: now + timedelta(seconds=s),
                                                            st.sampled_from(edges)),
                             st.builds(lambda h: sent + timedelta(hours=h), st.integers(1, 200))))
        accepted = draw(st.one_of(st.none(), st.just(now - timedelta(hours=1))))
        escalated = draw(st.one_of(st.none(), st.just(now - timedelta(hours=2))))
        handoffs.append((n + 1, item[0], draw(st.sampled_from(STAGES)), draw(owner), draw(st.sampled_from(STAGES)),
                         draw(owner), sent, due, accepted, escalated))
    actions = []
    for n in range(draw(st.integers(0, 6))):
        actions.append((n + 1, draw(st.sampled_from(HANDLES)), draw(st.sampled_from(["open", "done", "dropped"])),
                        day()))
    return dict(now=now, today=today, settings=values, people=people, stages=stage_rows, items=items,
                handoffs=handoffs, actions=actions)


def load(store: Store, world: dict) -> read.Team:
    """Replace everything in ``store`` with ``world``; returns the team as read back."""
    s = clock.stamp
    with store.transaction():
        for table in ("events", "entries", "handoffs", "items", "stages", "workflows", "away", "people", "settings"):
            store.conn.execute(f"DELETE FROM {table}")
        store.conn.executemany("INSERT INTO settings (key, value) VALUES (?, ?)", world["settings"].items())
        for handle, active, cover, away in world["people"]:
            store.conn.execute("INSERT INTO people (handle, name, role, cover, active) VALUES (?, ?, '', ?, ?)",
                               (handle, handle.title(), cover, int(active)))
            for start, end in away:
                store.conn.execute("INSERT INTO away (handle, start, end) VALUES (?, ?, ?)",
                                   (handle, start.isoformat(), end.isoformat()))
        for w in WORKFLOWS:
            store.conn.execute("INSERT INTO workflows (key, name, owner, trigger) VALUES (?, ?, ?, 'x')",
                               (w, w, HANDLES[WORKFLOWS.index(w)]))
        store.conn.executemany(
            "INSERT INTO stages (workflow, key, name, position, owner, max_days, handoff_sla)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(w, k, k.upper(), p, o, m, sla) for w, k, p, o, m, sla in world["stages"]])
        store.conn.executemany(
            "INSERT INTO items (id, workflow, stage, title, owner, status, opened_at, stage_entered_at,"
            " last_activity_at, due, blocked_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(i, w, st_, f"item {i}", o, status, s(op), s(en), s(ac), d.isoformat() if d else None, why)
             for i, w, st_, o, status, op, en, ac, d, why in world["items"]])
        store.conn.executemany(
            "INSERT INTO handoffs (id, item_id, from_stage, from_owner, to_stage, to_owner, sent_at, due_at,"
            " accepted_at, escalated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(n, i, fs, fo, ts, to, s(se), s(du), s(ac) if ac else None, s(es) if es else None)
             for n, i, fs, fo, ts, to, se, du, ac, es in world["handoffs"]])
        store.conn.executemany(
            "INSERT INTO entries (id, kind, text, owner, due, status, created_at) VALUES (?, 'action', ?, ?, ?, ?, ?)",
            [(n, f"action {n}", o, d.isoformat() if d else None, status, s(world["now"]))
             for n, o, status, d in world["actions"]])
    return read.team(store)


def _all(store):
    return read.items(store), read.handoffs(store)


@AGREEMENT
@given(world=worlds())
def test_stuck_sql_is_the_stuck_rule(store, world):
    team = load(store, world)
    now, today = world["now"], world["today"]
    everything, _ = _all(store)
    expected = rules.stuck_items(everything, team.stage_map, now, today, team.settings)
    page = read.stuck_page(store, team, now, today, limit=1000)
    assert [(it.id, reasons) for it, reasons in page] == [(it.id, reasons) for it, reasons in expected]
    assert read.stuck_count(store, team, now, today) == len(expected)
    by_workflow: dict[str, int] = {}
    for it, _ in expected:
        by_workflow[it.workflow] = by_workflow.get(it.workflow, 0) + 1
    assert read.stuck_counts(store, team, now, today) == by_workflow


@AGREEMENT
@given(world=worlds())
def test_overdue_and_escalation_sql_are_their_rules(store, world):
    team = load(store, world)
    now = world["now"]
    _, all_handoffs = _all(store)
    expected = rules.overdue_handoffs(all_handoffs, now)
    assert [h.id for h in read.overdue_page(store, now, limit=1000)] == [h.id for h in expected]
    assert read.overdue_count(store, now) == len(expected)
    assert all(h.due_at != now for h in expected)  # exactly at due_at is not yet overdue
    due = [h for h in all_handoffs if rules.escalation_due(h, now, team.settings)]
    assert read.escalation_due_count(store, team, now) == len(due)


@AGREEMENT
@given(world=worlds())
def test_gap_sql_is_the_gap_rule(store, world):
    team = load(store, world)
    week = clock.week_bounds(clock.iso_week(world["now"]))
    everything, all_handoffs = _all(store)
    expected = rules.ownership_gaps(team.people, team.workflows, team.stages, everything, *week,
                                    handoffs=all_handoffs)
    assert read.gaps_count(store, team, week) == len(expected)
    page = [gap for gap, _ in read.gaps_page(store, team, week, 0, 1000)]
    assert sorted(page, key=repr) == sorted(expected, key=repr)
    where, params = gaps.item_sql(team.people, *week)
    assert sorted(it.id for it in read.items(store, where, params)) == sorted(
        it.id for it in everything if gaps.item_has_gap(it, team.people, *week))
    where, params = receivers.stranded_sql(team.people, *week)
    assert [h.id for h in read.handoffs(store, where, params)] == [
        h.id for h in all_handoffs if receivers.waits_on_nobody(h, team.people, *week)]
    # paging through the gaps a few rows at a time gives the same rows as one page
    paged = [gap for start in range(0, len(expected) + 3, 3) for gap, _ in read.gaps_page(store, team, week, start, 3)]
    assert paged == page


@AGREEMENT
@given(world=worlds(), me=st.sampled_from(HANDLES))
def test_what_waits_on_a_person_is_the_waiting_rule(store, world, me):
    team = load(store, world)
    now, today = world["now"], world["today"]
    everything, all_handoffs = _all(store)
    work = read.my_work(store, me, now, today)
    pending = sorted((h for h in all_handoffs if h.accepted_at is None), key=lambda h: (h.due_at, h.id))
    assert [h.id for h in work.incoming] == [h.id for h in pending if h.to_owner == me]
    assert [h.id for h in work.sent] == [h.id for h in pending if h.from_owner == me and h.to_owner != me]
    mine = [it for it in everything if it.owner == me]
    assert [(it.id, r) for it, r in work.stuck] == [
        (it.id, r) for it, r in rules.stuck_items(mine, team.stage_map, now, today, team.settings)]
    covered = waiting.covered_people(me, team.people, today)
    assert [c.person.handle for c in work.covering] == [p.handle for p, _ in covered]
    for c in work.covering:
        assert [h.id for h in c.incoming] == [h.id for h in pending if h.to_owner == c.person.handle]
    actions = read.entries(store, "kind = 'action'")
    assert sorted(a.id for a in work.actions) == sorted(
        a.id for a in actions if action_rule.is_open(a) and a.owner == me)
    late_sql, late_params = action_rule.overdue_sql(today)
    assert store.scalar(f"SELECT count(*) FROM entries e WHERE {late_sql}", late_params) == sum(
        action_rule.is_overdue(a, today) for a in actions)


@AGREEMENT
@given(world=worlds(), workflow=st.sampled_from(WORKFLOWS))
def test_stage_loads_are_the_rules_per_stage(store, world, workflow):
    team = load(store, world)
    now, today = world["now"], world["today"]
    everything, all_handoffs = _all(store)
    loads = {load_.stage.key: load_ for load_ in read.stage_loads(store, team, workflow, now).stages}
    titles = {it.id: it for it in everything}
    for key, load_ in loads.items():
        here = [it for it in everything if it.workflow == workflow and it.stage == key
                and it.status in rules.OPEN_STATUSES]
        assert load_.waiting == len(here)
        assert load_.stuck == len(rules.stuck_items(here, team.stage_map, now, today, team.settings))
        into = [h for h in all_handoffs if h.accepted_at is None and h.to_stage == key
                and titles[h.item_id].workflow == workflow]
        assert load_.incoming == len(into)
        assert load_.incoming_late == sum(rules.is_overdue(h, now) for h in into)


@AGREEMENT
@given(world=worlds())
def test_this_weeks_trend_is_the_live_rule(store, world):
    team = load(store, world)
    now, today = world["now"], world["today"]
    trend = weekly_trends(store, now, weeks=2, settings=team.settings)
    assert trend.latest("stuck") == read.stuck_count(store, team, now, today)
    assert trend.latest("overdue") == read.overdue_count(store, now)


# --- the session's lists filtered, sorted and grouped (issue 14): the rule's rows, narrowed ---

FILTERS = ["", "item 1", "ana", "Ben", "wa", "s2", "#3", "2", "WB", "nothing", "cy s1", "%", "_", "item\\"]
SORTS = {"stuck": [None, "item", "title", "owner", "in stage", "workflow"],
         "handoffs": [None, "handoff", "item", "from → to", "late by", "stages"],
         "gaps": [None, "what", "owner", "workflow"]}


def _matches(text: str, fields, ids=()) -> bool:
    """The filter as a user reads it: every word is in one of the fields (any case), or is an id."""
    shown = [str(f).lower() for f in fields if f is not None]
    return all(any(word in f for f in shown) or (word.lstrip("#").isdigit() and int(word.lstrip("#")) in ids)
               for word in text.lower().split())


def _names(team):
    people = {h: p.name for h, p in team.people.items()}
    stage_names = {key: s.name for key, s in team.stage_map.items()}
    workflows = {w.key: w.name for w in team.workflows}
    return people, stage_names, workflows


@AGREEMENT
@given(world=worlds(), text=st.sampled_from(FILTERS), sort=st.sampled_from(SORTS["stuck"]),
       descending=st.booleans(), group=st.booleans())
def test_a_filtered_stuck_list_is_the_stuck_rule_narrowed(store, world, text, sort, descending, group):
    team = load(store, world)
    now, today = world["now"], world["today"]
    people, stage_names, workflows = _names(team)
    everything, _ = _all(store)
    expected = [it for it, _ in rules.stuck_items(everything, team.stage_map, now, today, team.settings)
                if _matches(text, (it.title, it.owner, it.workflow, it.stage, stage_names.get((it.workflow, it.stage)),
                                   workflows.get(it.workflow), people.get(it.owner)), (it.id,))]
    view = read.ListView(text, sort, descending, group)
    page = [it for it, _ in read.stuck_page(store, team, now, today, limit=1000, view=view)]
    assert sorted(it.id for it in page) == sorted(it.id for it in expected)
    assert read.stuck_count(store, team, now, today, view=view) == len(expected)
    if group:
        assert [it.workflow for it in page] == sorted(it.workflow for it in page)
    if sort == "item" and not group:
        assert [it.id for it in page] == sorted((it.id for it in page), reverse=descending)
    paged = [it.id for start in range(0, len(expected) + 2, 2)
             for it, _ in read.stuck_page(store, team, now, today, limit=2, offset=start, view=view)]
    assert paged == [it.id for it in page]


@AGREEMENT
@given(world=worlds(), text=st.sampled_from(FILTERS), sort=st.sampled_from(SORTS["handoffs"]),
       descending=st.booleans(), group=st.booleans())
def test_a_filtered_overdue_list_is_the_overdue_rule_narrowed(store, world, text, sort, descending, group):
    team = load(store, world)
    now = world["now"]
    people, stage_names, workflows = _names(team)
    _, all_handoffs = _all(store)
    titles = {it.id: it.title for it in read.items(store)}
    expected = [h for h in rules.overdue_handoffs(all_handoffs, now)
                if _matches(text, (titles[h.item_id], h.to_owner, h.from_owner, h.workflow, h.to_stage, h.from_stage,
                                   stage_names.get((h.workflow, h.to_stage)),
                                   stage_names.get((h.workflow, h.from_stage)), workflows.get(h.workflow),
                                   people.get(h.to_owner), people.get(h.from_owner)), (h.id, h.item_id))]
    view = read.ListView(text, sort, descending, group)
    page = read.overdue_page(store, now, limit=1000, view=view)
    assert sorted(h.id for h in page) == sorted(h.id for h in expected)
    assert read.overdue_count(store, now, view=view) == len(expected)
    if sort == "late by" and not group:
        assert [h.due_at for h in page] == sorted((h.due_at for h in page), reverse=descending)


@AGREEMENT
@given(world=worlds(), text=st.sampled_from(FILTERS), sort=st.sampled_from(SORTS["gaps"]),
       descending=st.booleans(), group=st.booleans())
def test_a_filtered_gap_list_is_the_gap_rule_narrowed(store, world, text, sort, descending, group):
    team = load(store, world)
    week = clock.week_bounds(clock.iso_week(world["now"]))
    people, stage_names, workflows = _names(team)
    everything, all_handoffs = _all(store)
    titles = {it.id: it.title for it in everything}
    expected = [g for g in rules.ownership_gaps(team.people, team.workflows, team.stages, everything, *week,
                                                handoffs=all_handoffs)
                if _matches(text, (titles.get(g.item_id) if g.subject in ("item", "handoff") else None, g.owner,
                                   g.workflow, g.stage, stage_names.get((g.workflow, g.stage)),
                                   workflows.get(g.workflow), people.get(g.owner)), (g.item_id,) if g.item_id else ())]
    view = read.ListView(text, sort, descending, group)
    page = [gap for gap, _ in read.gaps_page(store, team, week, 0, 1000, view=view)]
    assert sorted(page, key=repr) == sorted(expected, key=repr)
    assert read.gaps_count(store, team, week, view=view) == len(expected)
    if sort == "owner" and not group:
        owners = [g.owner or "" for g in page]
        assert owners == sorted(owners, reverse=descending)
    paged = [gap for start in range(0, len(expected) + 3, 3)
             for gap, _ in read.gaps_page(store, team, week, start, 3, view=view)]
    assert paged == page


# --- the other lists (issue 14 part 5): last week's actions, the team, my handoffs ------

SORTS.update({"carried": [None, "due", "owner", "action", "from", "about"],
              "team": [None, "handle", "name", "active", "cover", "workflows", "stages", "items", "handoffs", "role"],
              "my handoffs": [None, "handoff", "item", "from", "to", "into", "due"],
              "my actions": [None, "action", "due", "from"]})


def _actions_on_items(store, world) -> None:
    """Give the world's actions what the session's actions carry: some are on an item
    (whose title, workflow and stage a filter finds), some on a workflow, some on neither."""
    item_ids = [it[0] for it in world["items"]]
    with store.transaction():
        for n, *_ in world["actions"]:
            if n % 3 == 1 and item_ids:
                store.conn.execute("UPDATE entries SET item_id = ? WHERE id = ?", (item_ids[n % len(item_ids)], n))
            elif n % 3 == 2:
                store.conn.execute("UPDATE entries SET workflow = ? WHERE id = ?", (WORKFLOWS[n % 2], n))


def _action_fields(entry, items, names):
    people, stage_names, workflows = names
    item = items.get(entry.item_id)
    workflow = entry.workflow or (item.workflow if item else None)
    return (entry.text, entry.owner, people.get(entry.owner), workflow, workflows.get(workflow),
            item.title if item else None, item.stage if item else None,
            stage_names.get((item.workflow, item.stage)) if item else None)


@AGREEMENT
@given(world=worlds(), text=st.sampled_from(FILTERS), sort=st.sampled_from(SORTS["carried"]),
       descending=st.booleans(), group=st.booleans(), meeting_id=st.sampled_from([None, 999]))
def test_a_filtered_list_of_last_weeks_actions_is_the_carried_actions_narrowed(store, world, text, sort, descending,
                                                                               group, meeting_id):
    team = load(store, world)
    _actions_on_items(store, world)
    items = {it.id: it for it in read.items(store)}
    names = _names(team)
    expected = [e for e in read.carried_actions(store, meeting_id)
                if _matches(text, _action_fields(e, items, names), (e.id, e.item_id))]
    view = read.ListView(text, sort, descending, group)
    page = read.carried_actions_page(store, meeting_id, limit=1000, view=view)
    assert sorted(a.entry.id for a in page) == sorted(e.id for e in expected)
    assert read.carried_actions_count(store, meeting_id, view=view) == len(expected)
    for action in page:  # its item's title, and the workflow it belongs to
        item = items.get(action.entry.item_id)
        assert action.title == (item.title if item else None)
        assert action.workflow == (action.entry.workflow or (item.workflow if item else None))
    if (sort, descending, group) == (None, False, False):  # the step's own order, as before
        assert [a.entry for a in page] == [e._replace(week=None) for e in expected]
    if group:
        assert [a.workflow or "" for a in page] == sorted(a.workflow or "" for a in page)
    paged = [a.entry.id for start in range(0, len(expected) + 2, 2)
             for a in read.carried_actions_page(store, meeting_id, limit=2, offset=start, view=view)]
    assert paged == [a.entry.id for a in page]


@AGREEMENT
@given(world=worlds(), text=st.sampled_from(FILTERS + ["Ana", "s3", "wa/s2"]), sort=st.sampled_from(SORTS["team"]),
       descending=st.booleans())
def test_a_filtered_team_is_the_people_narrowed_with_what_each_owns(store, world, text, sort, descending):
    team = load(store, world)
    owns = read.ownership(store)
    stages = read.all_stages(store)

    def fields(person):
        cover = team.people.get(person.cover)
        return (person.handle, person.name, person.role, person.cover, cover.name if cover else None,
                *(f"{w.key} {w.name}" for w in team.workflows if w.owner == person.handle and w.status != "retired"),
                *(f"{s.workflow}/{s.key} {s.name}" for s in stages if s.owner == person.handle and not s.retired))

    expected = [p for p in team.people.values() if _matches(text, fields(p))]
    view = read.ListView(text, sort, descending)
    page = read.team_page(store, limit=1000, view=view)
    assert sorted(m.person.handle for m in page) == sorted(p.handle for p in expected)
    assert read.team_count(store, view=view) == len(expected)
    for member in page:  # the person as read.people reads them, owning what read.ownership counts
        assert member.person == team.people[member.person.handle]
        assert member.owns == owns.get(member.person.handle, read.Owns())
    if sort is None and not descending:
        assert [m.person.handle for m in page] == sorted(p.handle for p in expected)
    if sort == "items":
        counts = [m.owns.items for m in page]
        assert counts == sorted(counts, reverse=descending)
    paged = [m.person.handle for start in range(0, len(expected) + 3, 3)
             for m in read.team_page(store, limit=3, offset=start, view=view)]
    assert paged == [m.person.handle for m in page]


@AGREEMENT
@given(world=worlds(), me=st.sampled_from(HANDLES), text=st.sampled_from(FILTERS),
       sort=st.sampled_from(SORTS["my handoffs"]), descending=st.booleans(), group=st.booleans())
def test_my_handoffs_filtered_are_what_waits_on_me_narrowed(store, world, me, text, sort, descending, group):
    team = load(store, world)
    _actions_on_items(store, world)
    now, today = world["now"], world["today"]
    names = _names(team)
    people, stage_names, workflows = names
    items = {it.id: it for it in read.items(store)}
    work = read.my_work(store, me, now, today)

    def handoff_fields(h):
        return (items[h.item_id].title, h.to_owner, h.from_owner, h.workflow, h.to_stage, h.from_stage,
                stage_names.get((h.workflow, h.to_stage)), stage_names.get((h.workflow, h.from_stage)),
                workflows.get(h.workflow), people.get(h.to_owner), people.get(h.from_owner))

    view = read.ListView(text, sort, descending, group)
    own_order = (sort, descending, group) == (None, False, False)
    # waiting for me to accept: mine and those of the people I cover for, overdue first
    incoming = sorted([*work.incoming, *(h for c in work.covering for h in c.incoming)],
                      key=lambda h: (not rules.is_overdue(h, now), h.due_at, h.id))
    expected = [h for h in incoming if _matches(text, handoff_fields(h), (h.id, h.item_id))]
    page = read.my_incoming_page(store, me, today, limit=1000, view=view)
    assert sorted(h.id for h in page) == sorted(h.id for h in expected)
    assert read.my_incoming_count(store, me, today, view=view) == len(expected)
    if own_order:
        assert [h.id for h in page] == [h.id for h in expected]
    # sent and waiting
    expected = [h for h in work.sent if _matches(text, handoff_fields(h), (h.id, h.item_id))]
    page = read.my_sent_page(store, me, limit=1000, view=view)
    assert sorted(h.id for h in page) == sorted(h.id for h in expected)
    assert read.my_sent_count(store, me, view=view) == len(expected)
    if own_order:
        assert [h.id for h in page] == [h.id for h in expected]
    if sort == "due" and not group:
        assert [h.due_at for h in page] == sorted((h.due_at for h in page), reverse=descending)
    # my stuck items, with the reasons the rule gives
    expected = [(it, r) for it, r in work.stuck if _matches(
        text, (it.title, it.owner, it.workflow, it.stage, stage_names.get((it.workflow, it.stage)),
               workflows.get(it.workflow), people.get(it.owner)), (it.id,))]
    page = read.my_stuck_page(store, team, me, now, today, limit=1000, view=view)
    assert sorted(it.id for it, _ in page) == sorted(it.id for it, _ in expected)
    assert dict((it.id, r) for it, r in page) == dict((it.id, r) for it, r in expected)
    assert read.my_stuck_count(store, team, me, now, today, view=view) == len(expected)


@AGREEMENT
@given(world=worlds(), me=st.sampled_from(HANDLES), text=st.sampled_from(FILTERS),
       sort=st.sampled_from(SORTS["my actions"]), descending=st.booleans(), group=st.booleans())
def test_my_open_actions_filtered_are_the_action_rule_narrowed(store, world, me, text, sort, descending, group):
    team = load(store, world)
    _actions_on_items(store, world)
    items = {it.id: it for it in read.items(store)}
    work = read.my_work(store, me, world["now"], world["today"])
    expected = [e for e in work.actions if _matches(text, _action_fields(e, items, _names(team)), (e.id, e.item_id))]
    view = read.ListView(text, sort, descending, group)
    page = read.my_actions_page(store, me, limit=1000, view=view)
    assert sorted(a.entry.id for a in page) == sorted(e.id for e in expected)
    assert read.my_actions_count(store, me, view=view) == len(expected)
    if (sort, descending, group) == (None, False, False):
        assert [a.entry for a in page] == expected
    if group:
        assert [a.workflow or "" for a in page] == sorted(a.workflow or "" for a in page)


def test_the_edges_by_hand(store):
    """Exactly at ``due_at`` a handoff is not overdue, a second later it is; exactly
    ``max_days`` in a stage is not stuck, a second more is."""
    now = MOMENTS[0]
    world = dict(now=now, today=now.date(), settings={"stale_after": "30d", "escalate_after": "24h",
                                                        "handoff_sla": "48h"},
                 people=[(h, True, None, []) for h in HANDLES],
                 stages=[(w, s, p, "ana", 2, None) for w in WORKFLOWS for p, s in enumerate(STAGES)],
                 items=[(1, "wa", "s1", "ana", "open", now - timedelta(days=5), now - timedelta(days=2), now, None, None),
                        (2, "wa", "s1", "ana", "open", now - timedelta(days=5),
                         now - timedelta(days=2, seconds=1), now, None, None)],
                 handoffs=[(1, 1, "s1", "ana", "s2", "ben", now - timedelta(days=2), now, None, None),
                           (2, 1, "s1", "ana", "s2", "ben", now - timedelta(days=2), now - timedelta(seconds=1),
                            None, None)],
                 actions=[])
    team = load(store, world)
    assert [it.id for it, _ in read.stuck_page(store, team, now, now.date())] == [2]
    assert [h.id for h in read.overdue_page(store, now)] == [2]
    assert json.dumps([r.kind for _, r in [(0, x) for x in rules.stuck_reasons(
        read.item(store, 2), team.stage_map[("wa", "s1")], now, now.date(), team.settings)]]) == '["in_stage"]'


# --- the escalation path (issue 13): whom, at which tier, and when it is due again -----


@st.composite
def escalation_worlds(draw):
    """A world whose late handoffs and items carry past escalations, at the edges of
    ``escalate_after`` (and, for items, before and after their entry into the stage)."""
    world = draw(worlds())
    now = world["now"]
    threshold = clock.parse_duration(world["settings"]["escalate_after"]).before(now)
    times = st.one_of(st.sampled_from([threshold + timedelta(seconds=d) for d in (-1, 0, 1)]),
                      st.builds(lambda s: now - timedelta(seconds=s), st.integers(0, 10 * 86400)))
    # mostly active people, and late work around the thresholds, so that paths have someone
    people = [(h, draw(st.sampled_from([True, True, True, False])), cover, away)
              for h, _, cover, away in world["people"]]
    late = st.one_of(st.sampled_from([threshold + timedelta(seconds=d) for d in (-1, 0, 1)]),
                     st.builds(lambda s: threshold - timedelta(seconds=s), st.integers(0, 5 * 86400)))
    max_days = {(w, k): m for w, k, _, _, m, _ in world["stages"]}
    items = []
    for row in world["items"]:
        days_ = max_days[(row[1], row[2])]
        if days_ and draw(st.booleans()):
            entered = draw(late) - timedelta(seconds=int(days_ * 86400))
            row = row[:5] + (min(row[5], entered), entered, max(row[7], entered)) + row[8:]
        items.append(row)
    records, handoffs = [], []
    for row in world["handoffs"]:
        if draw(st.booleans()):
            row = row[:7] + (draw(late), None, row[9])
        past = sorted(draw(st.lists(times, max_size=2)))
        tiers = sorted(draw(st.lists(st.sampled_from([1, 2, 3]), min_size=len(past), max_size=len(past),
                                     unique=True)))
        for at, tier in zip(past, tiers):
            records.append((row[0], None, tier, draw(st.sampled_from(HANDLES)), at))
        # no record but a time: escalated before escalations were records (tier 2)
        legacy = draw(st.sampled_from([None, None, row[9], threshold - timedelta(seconds=1)]))
        handoffs.append(row[:9] + (past[-1] if past else legacy,))
    for row in items:
        past = sorted(draw(st.lists(st.one_of(times, st.just(row[6]), st.just(row[6] - timedelta(seconds=1))),
                                    max_size=2)))
        tiers = sorted(draw(st.lists(st.sampled_from([1, 2, 3]), min_size=len(past), max_size=len(past),
                                     unique=True)))
        for at, tier in zip(past, tiers):
            records.append((None, row[0], tier, draw(st.sampled_from(HANDLES)), at))
    return {**world, "people": people, "items": items, "handoffs": handoffs, "escalations": records}


def load_escalations(store: Store, world: dict) -> read.Team:
    store.conn.execute("DELETE FROM escalations")
    team = load(store, world)
    with store.transaction():
        store.conn.executemany(
            "INSERT INTO escalations (handoff_id, item_id, tier, to_handle, to_name, at, by)"
            " VALUES (?, ?, ?, ?, ?, ?, 'test')",
            [(h, i, tier, to, to.title(), clock.stamp(at)) for h, i, tier, to, at in world["escalations"]])
    return team


@AGREEMENT
@given(world=escalation_worlds())
def test_escalation_path_sql_is_the_escalation_rule(store, world):
    team = load_escalations(store, world)
    now, today = world["now"], world["today"]
    everything, all_handoffs = _all(store)
    past = read.escalations_of(store, handoff_ids=[h.id for h in all_handoffs], item_ids=[it.id for it in everything])
    workflows = {w.key: w for w in team.workflows}
    expected_handoffs, expected_items = [], []
    for h in all_handoffs:
        step = rules.handoff_escalation(h, workflows.get(h.workflow), team.people, past, now, today, team.settings)
        if step is not None:
            expected_handoffs.append((h.id, step.tier, step.to))
    for it in everything:
        step = rules.item_escalation(it, team.stage_map.get((it.workflow, it.stage)), workflows.get(it.workflow),
                                     team.people, past, now, today, team.settings)
        if step is not None:
            expected_items.append((it.id, step.tier, step.to))
    due = read.escalations_due(store, team, now)
    assert due.handoffs == expected_handoffs
    assert due.items == expected_items
    # the time half alone (what the home screen counts) agrees too
    assert read.escalation_due_count(store, team, now) == sum(
        rules.escalation_due(h, now, team.settings) for h in all_handoffs)
    store.conn.execute("DELETE FROM escalations")


@AGREEMENT
@given(world=worlds())
def test_the_home_screens_counts_per_workflow_are_the_stuck_rule(store, world):
    """read.health counts stage by stage without joining the stages (stuck.sql_in_stage):
    per workflow, the same open and stuck items as the rule."""
    team = load(store, world)
    now, today = world["now"], world["today"]
    everything, _ = _all(store)
    open_items = [it for it in everything if it.status in rules.OPEN_STATUSES]
    stuck = rules.stuck_items(open_items, team.stage_map, now, today, team.settings)
    for health in read.health(store, team, now, today):
        key = health.workflow.key
        assert health.open == sum(1 for it in open_items if it.workflow == key)
        assert health.stuck == sum(1 for it, _ in stuck if it.workflow == key)
