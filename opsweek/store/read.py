"""The read layer: named queries over the store, returning the light records of
``opsweek.store.records``.

Every rule's SQL condition comes from its module in ``opsweek.rules`` (``stuck.sql``,
``overdue.sql``, ...), so a count, a page, the workflow map and ``opsweek mine`` all ask
the same question the Python predicate answers. Big lists (items, handoffs, events) are
read a page at a time with the rules' conditions pushed into SQL, so screens stay quick
at 100,000 items. Screens and commands call these functions and never write SQL.

Standard library only: this is also the quick path of ``opsweek mine``.
"""

from __future__ import annotations

import json
from collections import namedtuple
from datetime import date, datetime, timedelta

from opsweek import clock, rules
from opsweek.errors import NotFound
from opsweek.rules import actions as action_rule
from opsweek.rules import escalation, gaps, overdue, stuck, waiting
from opsweek.store.db import Store
from opsweek.store.records import (Away, CarriedAction, Entry, EscalatedWork, Escalation, Event, Handoff, Issue,
                                    Item, ListView, Meeting, Member, Owns, Person, Stage, Workflow)
from opsweek.text import unknown

_ts = clock.parse_stamp


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


# --- rows to records (no validation: the store only holds validated data) ------------


def person_from(row, away: list[Away]) -> Person:
    return Person(row["handle"], row["name"], row["role"], row["cover"], away, bool(row["active"]))


def workflow_from(row) -> Workflow:
    return Workflow(row["key"], row["name"], row["outcome"], row["owner"], row["trigger"], row["status"])


def stage_from(row) -> Stage:
    return Stage(row["workflow"], row["key"], row["name"], row["position"], row["owner"], row["sop"],
                 row["max_days"], row["handoff_sla"], bool(row["retired"]) if "retired" in row.keys() else False)


def item_from(row) -> Item:
    return Item(
        row["id"], row["workflow"], row["stage"], row["title"], row["owner"], row["status"],
        _ts(row["opened_at"]), _ts(row["stage_entered_at"]), _ts(row["last_activity_at"]),
        _day(row["due"]), row["ref"], row["blocked_reason"], _ts(row["closed_at"]),
    )


def handoff_from(row) -> Handoff:
    keys = row.keys()
    return Handoff(
        row["id"], row["item_id"], row["from_stage"], row["from_owner"], row["to_stage"], row["to_owner"],
        _ts(row["sent_at"]), _ts(row["due_at"]), _ts(row["accepted_at"]), row["accepted_by"], row["note"],
        _ts(row["escalated_at"]),
        row["workflow"] if "workflow" in keys else None, row["title"] if "title" in keys else None,
    )


def meeting_from(row) -> Meeting:
    return Meeting(row["id"], row["week"], row["facilitator"], _ts(row["started_at"]), _ts(row["closed_at"]),
                   row["rating"], row["step"])


def entry_from(row) -> Entry:
    keys = row.keys()
    return Entry(
        row["id"], row["meeting_id"], row["kind"], row["text"], row["owner"], _day(row["due"]), row["item_id"],
        row["workflow"], row["status"], row["closed_meeting_id"], _ts(row["created_at"]),
        row["week"] if "week" in keys else None,
    )


def event_from(row) -> Event:
    return Event(
        row["id"], row["change_id"], _ts(row["at"]), row["actor"], row["meeting_id"], row["action"],
        row["entity"], row["entity_id"], json.loads(row["before"]) if row["before"] else None,
        json.loads(row["after"]) if row["after"] else None, row["reason"], row["undoes"],
    )


# --- the team: people, workflows, stages, settings -----------------------------------


def settings(store: Store) -> dict[str, str]:
    """Stored settings over SPEC.md's defaults (durations as text; ``step_minutes`` JSON)."""
    values = dict(rules.DEFAULT_SETTINGS)
    values.update({row["key"]: row["value"] for row in store.query("SELECT key, value FROM settings")})
    return values


def step_minutes(values: dict[str, str]) -> dict[str, int]:
    from opsweek.agenda import step_targets

    return step_targets(json.loads(values.get("step_minutes") or "{}"))


def people(store: Store) -> dict[str, Person]:
    away: dict[str, list[Away]] = {}
    for row in store.query("SELECT handle, start, end FROM away ORDER BY handle, start"):
        away.setdefault(row["handle"], []).append(Away(_day(row["start"]), _day(row["end"])))
    return {
        row["handle"]: person_from(row, away.get(row["handle"], []))
        for row in store.query("SELECT * FROM people ORDER BY handle")
    }


def workflows(store: Store) -> list[Workflow]:
    found = [workflow_from(r) for r in store.query("SELECT * FROM workflows ORDER BY key")]
    from opsweek.store import recurring  # what each feeds and its schedules (the audit, the map)

    return recurring.attach(store, found)


def stages(store: Store, workflow: str | None = None) -> list[Stage]:
    if workflow:
        rows = store.query("SELECT * FROM stages WHERE workflow = ? ORDER BY position", (workflow,))
    else:
        rows = store.query("SELECT * FROM stages ORDER BY workflow, position")
    return [stage_from(r) for r in rows]


class Team(namedtuple("Team", "settings people workflows stages stages_by_workflow stage_map")):
    """Everything small about the system: settings, people, workflows and their stages
    (``stages_by_workflow``: in order; ``stage_map``: by (workflow, key))."""

    __slots__ = ()

    def workflow(self, key: str) -> Workflow:
        for wf in self.workflows:
            if wf.key == key:
                return wf
        raise NotFound(unknown("workflow", key, [w.key for w in self.workflows]))

    def stage(self, workflow: str, key: str) -> Stage:
        stage = self.stage_map.get((workflow, key))
        if stage is None:
            raise NotFound(unknown(f"stage of {workflow}", key,
                                   [s.key for s in self.stages_by_workflow.get(workflow, [])]))
        return stage

    def person(self, handle: str) -> Person:
        if handle not in self.people:
            raise NotFound(unknown("person", handle, self.people))
        return self.people[handle]

    def next_stage(self, workflow: str, key: str) -> Stage | None:
        ordered = self.stages_by_workflow.get(workflow, [])
        for index, stage in enumerate(ordered):
            if stage.key == key:
                return ordered[index + 1] if index + 1 < len(ordered) else None
        return None


def team(store: Store) -> Team:
    everyone = people(store)
    all_stages = stages(store)
    # a retired stage (import --prune) takes no new work and needs no owner; items still
    # in it find it through ``stage_map``
    live = [s for s in all_stages if not s.retired]
    by_workflow: dict[str, list[Stage]] = {}
    for stage in live:
        by_workflow.setdefault(stage.workflow, []).append(stage)
    return Team(
        settings=settings(store), people=everyone, workflows=workflows(store), stages=live,
        stages_by_workflow=by_workflow,
        stage_map={(s.workflow, s.key): s for s in all_stages},
    )


# --- items and handoffs --------------------------------------------------------------


def item(store: Store, item_id: int) -> Item:
    row = store.one("SELECT * FROM items WHERE id = ?", (item_id,))
    if row is None:
        raise NotFound(f"unknown item #{item_id} (see 'opsweek mine' or the TUI for item numbers)")
    return item_from(row)


def items(store: Store, where: str = "1", params=(), order: str = "id", limit: int | None = None,
          offset: int = 0) -> list[Item]:
    """Items matching an SQL condition on ``items i`` (for the core; screens call the named
    queries below)."""
    sql = f"SELECT * FROM items i WHERE {where} ORDER BY {order}"
    if limit is not None:
        sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
    return [item_from(r) for r in store.query(sql, params)]


def items_by_id(store: Store, item_ids) -> list[Item]:
    """The given items, in id order."""
    return items(store, "i.id IN (SELECT value FROM json_each(?))", (json.dumps(sorted(set(item_ids))),))


def open_items(store: Store) -> list[Item]:
    """Every open or blocked item (the what-if works on all of them)."""
    return items(store, rules.common.OPEN_SQL.format(i="i"))


def item_titles(store: Store, item_ids) -> dict[int, str]:
    """Titles of the given items, by id."""
    ids = sorted({int(i) for i in item_ids if i is not None})
    if not ids:
        return {}
    return {r["id"]: r["title"] for r in store.query(
        "SELECT id, title FROM items WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(ids),))}


def stage_items_page(store: Store, workflow: str, stage: str, *, limit: int, offset: int = 0,
                     view: ListView | None = None) -> list[Item]:
    """The open or blocked items waiting in one stage, longest there first (``view``: those
    matching its filter, in its order)."""
    match, params = _stage_items_match(view)
    return items(store, f"i.workflow = ? AND i.stage = ? AND i.status IN ('open', 'blocked') AND {match}",
                 (workflow, stage, *params), order=order_sql(STAGE_ITEM_SORTS, view, None), limit=limit,
                 offset=offset)


def stage_items_count(store: Store, workflow: str, stage: str, *, view: ListView | None = None) -> int:
    match, params = _stage_items_match(view)
    return store.scalar("SELECT count(*) FROM items i WHERE i.workflow = ? AND i.stage = ?"
                        f" AND i.status IN ('open', 'blocked') AND {match}", (workflow, stage, *params))


def _stage_items_match(view: ListView | None) -> tuple[str, list]:
    return match_sql(view.text if view else "", ("i.title", "i.owner"), ids=("i.id",), owners=("i.owner",))


_HANDOFF_SELECT = "SELECT h.*, i.workflow AS workflow, i.title AS title FROM handoffs h JOIN items i ON i.id = h.item_id"


def handoff(store: Store, handoff_id: int) -> Handoff:
    row = store.one(f"{_HANDOFF_SELECT} WHERE h.id = ?", (handoff_id,))
    if row is None:
        raise NotFound(f"unknown handoff {handoff_id} (see 'opsweek mine' for handoff numbers)")
    return handoff_from(row)


def handoffs(store: Store, where: str = "1", params=(), order: str = "h.id", limit: int | None = None,
             offset: int = 0) -> list[Handoff]:
    sql = f"{_HANDOFF_SELECT} WHERE {where} ORDER BY {order}"
    if limit is not None:
        sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
    return [handoff_from(r) for r in store.query(sql, params)]


def pending_handoffs(store: Store) -> list[Handoff]:
    """Every handoff not yet accepted."""
    return handoffs(store, "h.accepted_at IS NULL")


def pending_into_stage(store: Store, workflow: str, stage: str) -> list[Handoff]:
    """Handoffs into one stage that are not yet accepted."""
    return handoffs(store, "h.accepted_at IS NULL AND i.workflow = ? AND h.to_stage = ?", (workflow, stage))


def pending_handoff_for(store: Store, item_id: int) -> Handoff | None:
    found = handoffs(store, "h.item_id = ? AND h.accepted_at IS NULL", (item_id,), "h.id DESC", 1)
    return found[0] if found else None


# --- lists that scale: filtered, sorted and grouped in SQL (issue 14) ------------------
#
# A screen passes a ``records.ListView``; each list below turns it into an SQL condition
# ANDed with its rule's condition (so the filtered rows are the rule's rows that match)
# and an ORDER BY from the list's own sort columns. Nothing is loaded to be filtered.

FILTER_WORDS = 8  # words of a filter that count (a pasted paragraph cannot build a huge query)


def filter_words(text: str | None) -> list[str]:
    """The words of a filter, lower-cased, each once, at most ``FILTER_WORDS``."""
    return list(dict.fromkeys(word.lower()[:100] for word in (text or "").split()))[:FILTER_WORDS]


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def match_sql(text: str | None, columns, *, ids=(), workflow: str | None = None, owners=(),
              stages=()) -> tuple[str, list]:
    """Every word of ``text`` found (case-insensitively) in one of ``columns``, or naming a
    workflow (``workflow``: its key column; the workflow's name counts), a person (``owners``:
    handle columns; their name counts), a stage (``stages``: (workflow, stage key) column
    pairs; the stage's name counts), or an id (``#42`` or ``42`` equal to one of ``ids``)."""
    clauses, params = [], []
    for word in filter_words(text):
        pattern = _like(word)
        found = [f"{column} LIKE ? ESCAPE '\\'" for column in columns]
        found_params: list = [pattern] * len(columns)
        if workflow:
            found.append(f"{workflow} IN (SELECT key FROM workflows WHERE name LIKE ? ESCAPE '\\')")
            found_params.append(pattern)
        for column in owners:
            found.append(f"{column} IN (SELECT handle FROM people WHERE name LIKE ? ESCAPE '\\')")
            found_params.append(pattern)
        for wf_column, stage_column in stages:
            found.append(f"({wf_column}, {stage_column}) IN (SELECT workflow, key FROM stages"
                         f" WHERE name LIKE ? ESCAPE '\\')")
            found_params.append(pattern)
        number = word.lstrip("#")
        if ids and number.isdigit() and len(number) < 18:
            found.extend(f"{column} = ?" for column in ids)
            found_params.extend([int(number)] * len(ids))
        clauses.append("(" + " OR ".join(found) + ")")
        params.extend(found_params)
    return (" AND ".join(clauses) or "1"), params


def order_sql(sorts: dict[str | None, tuple[str, ...]], view: ListView | None, group: str | None) -> str:
    """The ORDER BY of a list for ``view``: its sort column's terms (the list's own order
    when it names none), each reversed when descending, after ``group`` when grouping."""
    terms = sorts.get(view.sort if view else None) or sorts[None]
    if view is not None and view.descending:
        terms = tuple(f"{term} DESC" for term in terms)
    if view is not None and view.group and group:
        terms = (group, *terms)
    return ", ".join(terms)


# the sort columns of each list: column key -> ORDER BY terms (None: the rule's own order)
STUCK_SORTS = {
    None: tuple(stuck.ORDER.split(", ")),
    "item": ("i.id",),
    "title": ("i.title COLLATE NOCASE", "i.id"),
    "owner": ("i.owner", *stuck.ORDER.split(", ")),
    "in stage": tuple(stuck.ORDER.split(", ")),
    "workflow": ("i.workflow", "i.stage", *stuck.ORDER.split(", ")),
}
OVERDUE_SORTS = {
    None: ("h.due_at", "h.id"),
    "handoff": ("h.id",),
    "item": ("i.title COLLATE NOCASE", "h.id"),
    "from → to": ("h.to_owner", "h.due_at", "h.id"),
    "late by": ("h.due_at", "h.id"),
    "stages": ("i.workflow", "h.to_stage", "h.due_at", "h.id"),
}
GAP_SORTS = {
    None: ("g.part", "g.k1", "g.k2"),
    "what": ("g.part", "g.k1", "g.k2"),
    "owner": ("g.owner", "g.part", "g.k1", "g.k2"),
    "workflow": ("g.workflow", "g.stage", "g.part", "g.k1", "g.k2"),
}
# a stage's items: the stuck list's sorts, less the workflow (they share one stage)
STAGE_ITEM_SORTS = {key: terms for key, terms in STUCK_SORTS.items() if key != "workflow"}


def _stuck_match(view: ListView | None) -> tuple[str, list]:
    return match_sql(view.text if view else "", ("i.title", "i.owner", "i.workflow", "i.stage", "s.name"),
                     ids=("i.id",), workflow="i.workflow", owners=("i.owner",))


# --- stuck items (rules.stuck) -------------------------------------------------------


def _max_days(stages) -> set:
    """The stages' ``max_days`` values, for ``stuck.sql`` to work out each threshold once."""
    return {s.max_days for s in stages}


# stuck.FROM read through the index of open items by age (schema m012_stuck_order); its
# partial condition (status open or blocked) is the first term of stuck.sql
_STUCK_BY_AGE = stuck.FROM.replace("items i", "items i INDEXED BY items_open_age", 1)
_AGE_ORDERS = (stuck.ORDER, ", ".join(f"{term} DESC" for term in stuck.ORDER.split(", ")))
assert _STUCK_BY_AGE != stuck.FROM and stuck.ORDER == "i.stage_entered_at, i.id"


def stuck_page(store: Store, team: Team, now: datetime, today: date, *, where: str = "1",
               params=(), limit: int = 200, offset: int = 0,
               view: ListView | None = None) -> list[tuple[Item, list[rules.Reason]]]:
    """Stuck items with their reasons, longest in stage first, one page at a time
    (``view``: only those matching its filter, in its order)."""
    condition, stuck_params = stuck.sql(team.settings, now, today, _max_days(team.stages))
    match, match_params = _stuck_match(view)
    order = order_sql(STUCK_SORTS, view, 'i.workflow')
    # in the rule's order (or its reverse) the page walks the open items by age and stops at
    # its last row; SQLite, without statistics, would sort every open item first
    # (the whole list only: one owner's rows, say, are found faster by their own index)
    source = _STUCK_BY_AGE if order in _AGE_ORDERS and where == "1" else stuck.FROM
    sql = (f"SELECT i.* FROM {source} WHERE {condition} AND ({where}) AND {match} "
           f"ORDER BY {order} LIMIT {int(limit)} OFFSET {int(offset)}")
    page = [item_from(r) for r in store.query(sql, [*stuck_params, *params, *match_params])]
    return [(it, rules.stuck_reasons(it, team.stage_map.get((it.workflow, it.stage)), now, today,
                                     team.settings)) for it in page]


def stuck_count(store: Store, team: Team, now: datetime, today: date, *, where: str = "1", params=(),
                view: ListView | None = None) -> int:
    condition, stuck_params = stuck.sql(team.settings, now, today, _max_days(team.stages))
    match, match_params = _stuck_match(view)
    return store.scalar(f"SELECT count(*) FROM {stuck.FROM} WHERE {condition} AND ({where}) AND {match}",
                        [*stuck_params, *params, *match_params])


def stuck_counts(store: Store, team: Team, now: datetime, today: date, *, by: str = "workflow",
                 where: str = "1", params=()) -> dict[str, int]:
    """Stuck items counted per ``by`` (an items column: workflow, stage, owner)."""
    if by not in ("workflow", "stage", "owner"):
        raise ValueError(by)
    condition, stuck_params = stuck.sql(team.settings, now, today, _max_days(team.stages))
    return dict(store.query(f"SELECT i.{by}, count(*) FROM {stuck.FROM} WHERE {condition} AND ({where})"
                            f" GROUP BY i.{by}", [*stuck_params, *params]))


# --- overdue handoffs and escalation (rules.overdue, rules.escalation) ---------------


def _overdue_match(view: ListView | None) -> tuple[str, list]:
    return match_sql(view.text if view else "", ("i.title", "h.to_owner", "h.from_owner", "i.workflow",
                                                 "h.to_stage", "h.from_stage"),
                     ids=("h.id", "h.item_id"), workflow="i.workflow", owners=("h.to_owner", "h.from_owner"),
                     stages=(("i.workflow", "h.to_stage"), ("i.workflow", "h.from_stage")))


def overdue_page(store: Store, now: datetime, *, where: str = "1", params=(), limit: int = 200,
                 offset: int = 0, view: ListView | None = None) -> list[Handoff]:
    """Overdue handoffs, most overdue first, one page at a time (``view``: only those
    matching its filter, in its order)."""
    condition, late = overdue.sql(now)
    match, match_params = _overdue_match(view)
    return handoffs(store, f"{condition} AND ({where}) AND {match}", [*late, *params, *match_params],
                    order=order_sql(OVERDUE_SORTS, view, "i.workflow"), limit=limit, offset=offset)


def overdue_count(store: Store, now: datetime, *, where: str = "1", params=(), view: ListView | None = None) -> int:
    condition, late = overdue.sql(now)
    match, match_params = _overdue_match(view)
    return store.scalar(f"SELECT count(*) FROM handoffs h JOIN items i ON i.id = h.item_id"
                        f" WHERE {condition} AND ({where}) AND {match}", [*late, *params, *match_params])


def overdue_counts(store: Store, now: datetime, *, by: str = "workflow") -> dict[str, int]:
    """Overdue handoffs counted per item workflow, or per receiver (``to_owner``)."""
    column = {"workflow": "i.workflow", "to_owner": "h.to_owner"}[by]
    condition, late = overdue.sql(now)
    return dict(store.query(f"SELECT {column}, count(*) FROM handoffs h JOIN items i ON i.id = h.item_id"
                            f" WHERE {condition} GROUP BY {column}", late))


def escalation_due_count(store: Store, team: Team, now: datetime) -> int:
    """Handoffs due for escalation (rules.escalation)."""
    condition, params = escalation.sql(now, team.settings)
    return store.scalar(f"SELECT count(*) FROM handoffs h WHERE {condition}", params)


# --- workflow health, the attention summary, the audit -------------------------------


def last_reviews(store: Store) -> dict[str, datetime]:
    return {r["workflow"]: _ts(r["at"]) for r in
            store.query("SELECT workflow, max(at) AS at FROM reviews GROUP BY workflow")}


# The results below are dataclasses (rules.attention, rules.bottleneck), imported where
# used so that the quick path (``my_work``) does not pay for ``dataclasses``.


def health(store: Store, team: Team, now: datetime, today: date) -> list:
    """Per workflow (``rules.attention.WorkflowHealth``): open items, stuck items, overdue
    handoffs and the audit score.

    Open and stuck counted together in one statement, stage by stage over the open items
    of the covering index alone (``stuck.sql_in_stage``: each stage's cutoff a column of
    the stages passed in as JSON, no join with ``stages`` per item; every item is in a
    stage of ``stages``, a foreign key), then the overdue handoffs over the pending index.
    (One statement, not one per stage: read in a thread beside Textual's import at launch,
    each statement waits for the interpreter's lock when it returns.)"""
    from opsweek.rules.attention import WorkflowHealth

    stages = json.dumps([[s.workflow, s.key, stuck.stage_cutoff(now, s)] for s in team.stage_map.values()])
    condition, params = stuck.sql_in_stage(team.settings, now, today, "s.cutoff")
    # (each stage's two counts a correlated subquery over its range of the index, kept
    # as rows before they are summed per workflow: GROUP BY over the items themselves
    # would sort every open item first, twice the time)
    rows = store.query(
        "WITH s(workflow, stage, cutoff) AS MATERIALIZED (SELECT json_extract(value, '$[0]'),"
        " json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(?)), per(workflow, n) AS MATERIALIZED (SELECT s.workflow,"
        f" (SELECT json_array(count(*), coalesce(sum({condition}), 0)) FROM items i"
        f" WHERE i.workflow = s.workflow AND i.stage = s.stage AND {rules.common.OPEN_SQL.format(i='i')}) FROM s)"
        " SELECT workflow, sum(json_extract(n, '$[0]')), sum(json_extract(n, '$[1]')) FROM per GROUP BY workflow", [stages, *params])
    opened = {row[0]: row[1] for row in rows}
    stuck_by = {row[0]: row[2] for row in rows}
    overdue_by = overdue_counts(store, now)
    audits = {a.workflow: a for a in rules.audit(team.workflows, team.stages_by_workflow, team.people,
                                                 last_reviews(store), now)}
    return [
        WorkflowHealth(wf, opened.get(wf.key, 0), stuck_by.get(wf.key, 0), overdue_by.get(wf.key, 0),
                       audits.get(wf.key) or rules.audit_workflow(wf, team.stages_by_workflow.get(wf.key, []),
                                                                  team.people, None, now))
        for wf in team.workflows
    ]


def audit_findings(store: Store, team: Team, now: datetime) -> tuple[list[rules.AuditResult], list[rules.Finding]]:
    """The audit of every workflow and, workflow by workflow, each finding: the scored
    ones, then this week's ownership gaps the score does not name (``scored=False``)."""
    results = rules.audit(team.workflows, team.stages_by_workflow, team.people, last_reviews(store), now)
    first, last = clock.week_bounds(clock.iso_week(now))
    stranded_sql, params = rules.receivers.stranded_sql(team.people, first, last)
    extra = rules.audit_layers.this_week_findings(results, team.people, team.workflows, team.stages, first, last,
                                                  handoffs(store, stranded_sql, params))
    findings = []
    for result in results:
        findings.extend(result.findings)
        findings.extend(f for f in extra if f.workflow == result.workflow)
    return results, findings


def attention(store: Store, team: Team, now: datetime, today: date, *, with_health: bool = True):
    """Everything the home screen's "needs attention" shows, as ``rules.attention.Attention``
    (``with_health=False``: all but the per-workflow health, which the caller may read at
    the same time on another connection, see ``health``)."""
    from opsweek.rules.attention import Attention, away_today
    from opsweek.store import recurring

    week = clock.iso_week(now)
    closed = store.one("SELECT * FROM meetings WHERE week = ? AND closed_at IS NOT NULL ORDER BY id DESC LIMIT 1",
                       (week,))
    late_sql, late_params = action_rule.overdue_sql(today)
    return Attention(
        health=health(store, team, now, today) if with_health else [],
        reviews=last_reviews(store),
        gaps=gaps_count(store, team, clock.week_bounds(week)),
        escalate=escalation_due_count(store, team, now),
        actions_open=store.scalar(f"SELECT count(*) FROM entries e WHERE {action_rule.open_sql()}"),
        actions_late=store.scalar(f"SELECT count(*) FROM entries e WHERE {late_sql}", late_params),
        away=away_today(team.people, today),
        meeting=open_meeting(store, week),
        closed_this_week=meeting_from(closed) if closed else None,
        next_session=recurring.next_session(store, now),
        unclosed=recurring.unclosed_earlier_session(store, now),
    )


# --- ownership gaps (rules.gaps) -----------------------------------------------------


def gaps_count(store: Store, team: Team, week: tuple[date, date], *, view: ListView | None = None) -> int:
    """Ownership gaps in ``week``: the structural ones, the pending handoffs nobody can
    accept, and the open items of unusable owners (``view``: those matching its filter)."""
    if view is not None and filter_words(view.text):
        sql, params, _ = _gaps_union(team, week)
        match, match_params = _gaps_match(view)
        return store.scalar(f"SELECT count(*) FROM ({sql}) g WHERE {match}", [*params, *match_params])
    # open items per owner (a scan of the owner/status index), then the owners with a problem
    bad = set(rules.availability.unavailable(team.people, *week))
    # (the owners' index of open items, m013, walked in owner order: no sort; the pending
    # handoffs' index by receiver holds all a stranded handoff's condition reads)
    per_owner = store.query("SELECT owner, count(*) AS n FROM items INDEXED BY items_owner_open"
                            " WHERE status IN ('open', 'blocked') AND owner IS NOT NULL GROUP BY owner")
    count = sum(row["n"] for row in per_owner if row["owner"] in bad or row["owner"] not in team.people)
    where, params = rules.receivers.stranded_sql(team.people, *week)
    count += store.scalar(f"SELECT count(*) FROM handoffs h INDEXED BY handoffs_pending_to WHERE {where}", params)
    return len(gaps.structural_gaps(team.people, team.workflows, team.stages, *week)) + count


def _gaps_union(team: Team, week: tuple[date, date]) -> tuple[str, list, list]:
    """Every gap of ``week`` as one SQL row source ``g``: ``part`` 0 the structural gaps
    (worked out by the rule in Python, a few dozen at most, passed in as JSON), 1 the
    pending handoffs nobody can accept, 2 the items of unusable owners; ``k1``, ``k2`` the
    rule's order within a part; ``ref`` the index, handoff id or item id); its
    parameters; and the structural gaps."""
    structural = gaps.structural_gaps(team.people, team.workflows, team.stages, *week)
    rows = json.dumps([[g.workflow, g.stage, g.owner] for g in structural])
    stranded, stranded_params = rules.receivers.stranded_sql(team.people, *week)
    items_where, items_params = gaps.item_sql(team.people, *week)
    # each part in the rule's own order (gaps.HANDOFF_ORDER, gaps.ITEM_ORDER) as k1, k2
    h1, h2 = (*gaps.HANDOFF_ORDER.split(", "), "0")[:2]
    i1, i2 = (*gaps.ITEM_ORDER.split(", "), "0")[:2]
    sql = ("SELECT 0 AS part, CAST(j.key AS INTEGER) AS ref, CAST(j.key AS INTEGER) AS k1, 0 AS k2,"
           " json_extract(j.value, '$[0]') AS workflow, json_extract(j.value, '$[1]') AS stage,"
           " json_extract(j.value, '$[2]') AS owner, '' AS title, NULL AS id"
           " FROM json_each(?) j"
           f" UNION ALL SELECT 1, h.id, {h1}, {h2}, i.workflow, h.to_stage, h.to_owner, i.title, h.item_id"
           f" FROM handoffs h JOIN items i ON i.id = h.item_id WHERE {stranded}"
           f" UNION ALL SELECT 2, i.id, {i1}, {i2}, i.workflow, i.stage, i.owner, i.title, i.id"
           f" FROM items i WHERE {items_where}")
    return sql, [rows, *stranded_params, *items_params], structural


def _gaps_match(view: ListView | None) -> tuple[str, list]:
    return match_sql(view.text if view else "", ("g.title", "g.owner", "g.workflow", "g.stage"),
                     ids=("g.id",), workflow="g.workflow", owners=("g.owner",), stages=(("g.workflow", "g.stage"),))


def gaps_page(store: Store, team: Team, week: tuple[date, date], offset: int, limit: int, *,
              view: ListView | None = None) -> list[tuple]:
    """``(gap, title)`` rows: workflows and stages first, then the pending handoffs nobody
    can accept, then items by owner (``view``: only the gaps matching its filter, in its
    order), one page read in SQL."""
    sql, params, structural = _gaps_union(team, week)
    match, match_params = _gaps_match(view)
    page = store.query(f"SELECT g.part, g.ref, g.title FROM ({sql}) g WHERE {match}"
                       f" ORDER BY {order_sql(GAP_SORTS, view, 'g.workflow')} LIMIT ? OFFSET ?",
                       [*params, *match_params, int(limit), int(offset)])
    by_handoff = {h.id: h for h in handoffs(store, "h.id IN (SELECT value FROM json_each(?))",
                                            (json.dumps([r["ref"] for r in page if r["part"] == 1]),))}
    by_item = {it.id: it for it in items_by_id(store, [r["ref"] for r in page if r["part"] == 2])}
    found = []
    for row in page:
        if row["part"] == 0:
            found.append((structural[row["ref"]], None))
        elif row["part"] == 1:
            found.append((gaps.handoff_gap(by_handoff[row["ref"]], team.people, *week), row["title"]))
        else:
            found.append((gaps.item_gap(by_item[row["ref"]], team.people, *week), row["title"]))
    return found


# --- the workflow map (rules.bottleneck) ---------------------------------------------


def stage_loads(store: Store, team: Team, workflow: str, now: datetime):
    """Per stage of ``workflow`` (a ``rules.bottleneck.WorkflowLoad``): items waiting,
    stuck, oldest wait, handoffs coming in, owner."""
    from opsweek.rules.bottleneck import StageLoad, WorkflowLoad

    today = now.astimezone(clock.local_tz()).date()
    first, last = clock.week_bounds(clock.iso_week(now))
    ordered = team.stages_by_workflow.get(workflow, [])
    loads = {s.key: StageLoad(s) for s in ordered}
    for row in store.query(
            "SELECT stage, count(*) AS n, min(stage_entered_at) AS oldest FROM items"
            " WHERE status IN ('open', 'blocked') AND workflow = ? GROUP BY stage", (workflow,)):
        if row["stage"] in loads:
            loads[row["stage"]].waiting = row["n"]
            loads[row["stage"]].oldest = _ts(row["oldest"])
    for stage_key, count in stuck_counts(store, team, now, today, by="stage", where="i.workflow = ?",
                                         params=(workflow,)).items():
        if stage_key in loads:
            loads[stage_key].stuck = count
    late_sql, late_params = overdue.sql(now)
    for row in store.query(
            f"SELECT h.to_stage, count(*), sum({late_sql}) FROM handoffs h JOIN items i ON i.id = h.item_id"
            " WHERE h.accepted_at IS NULL AND i.workflow = ? GROUP BY h.to_stage", (*late_params, workflow)):
        if row[0] in loads:
            loads[row[0]].incoming, loads[row[0]].incoming_late = row[1], row[2] or 0
    for load in loads.values():
        owner = load.stage.owner
        load.owner_problem, load.cover = rules.owner_problem(owner, team.people, today, today)
        person = team.people.get(owner) if owner else None
        if person is not None and not load.owner_problem:
            load.away = rules.availability.away_periods(person, first, last)
    return WorkflowLoad(workflow, [loads[s.key] for s in ordered])


# --- what is waiting on a person (rules.waiting) --------------------------------------


def _first(rows: list, limit: int | None) -> tuple[list, bool]:
    """The first ``limit`` rows (all when ``limit`` is None), and whether any were left out;
    the queries read ``limit + 1`` rows to know."""
    if limit is None or len(rows) <= limit:
        return rows, False
    return rows[:limit], True


def _plus_one(limit: int | None) -> int | None:
    return None if limit is None else limit + 1


def _waiting_handoffs(store: Store, condition: str, handle: str, now: datetime | None = None,
                      limit: int | None = None, counts: dict | None = None, section: str = "") -> list[Handoff]:
    # the pending conditions are spelled out so SQLite uses the partial pending indexes
    found, cut = _first(handoffs(store, condition, (handle,), order="h.due_at, h.id", limit=_plus_one(limit)),
                        limit)
    if cut:
        late, params = overdue.sql(now)
        row = store.one(f"SELECT count(*), coalesce(sum({late}), 0) FROM handoffs h WHERE {condition}",
                        (*params, handle))
        counts[section] = (row[0], row[1])
    return found


def _waiting_stuck(store: Store, handle: str, stage_map: dict, now: datetime, today: date, settings: dict,
                   limit: int | None, counts: dict) -> list:
    """The person's stuck items, longest in stage first: the stuck condition in SQL on their
    open items (an index holds every column it needs), reasons for the rows shown only.
    With ``limit``, one pass reads the ids and due days of all their stuck items (the
    total and the overdue), then the rows of the first ``limit``."""
    condition, params = stuck.sql(settings, now, today, _max_days(stage_map.values()))
    where = f"{waiting.owned_open_sql('i')} AND {condition}"
    if limit is None:
        page = [item_from(r) for r in store.query(f"SELECT i.* FROM {stuck.FROM} WHERE {where}"
                                                  f" ORDER BY {stuck.ORDER}", (handle, *params))]
    else:
        found = store.query(f"SELECT i.id, i.due FROM {stuck.FROM} WHERE {where} ORDER BY {stuck.ORDER}",
                            (handle, *params))
        if len(found) > limit:
            day = today.isoformat()
            counts["stuck"] = (len(found), sum(1 for r in found if r[1] is not None and r[1] < day))
        order = {r[0]: n for n, r in enumerate(found[:limit])}
        page = sorted(items_by_id(store, order), key=lambda it: order[it.id])
    return [(it, stuck.stuck_reasons(it, stage_map.get((it.workflow, it.stage)), now, today, settings))
            for it in page]


def _waiting_actions(store: Store, me: str, today: date, limit: int | None, counts: dict) -> list[Entry]:
    sql = ("SELECT e.*, m.week AS week FROM entries e LEFT JOIN meetings m ON m.id = e.meeting_id"
           f" WHERE e.owner = ? AND {action_rule.open_sql()} ORDER BY {action_rule.ORDER}")
    if limit is not None:
        sql += f" LIMIT {int(limit) + 1}"
    found, cut = _first([entry_from(r) for r in store.query(sql, (me,))], limit)
    if cut:
        row = store.one("SELECT count(*), coalesce(sum(e.due IS NOT NULL AND e.due < ?), 0) FROM entries e"
                        f" WHERE e.owner = ? AND {action_rule.open_sql()}", (today.isoformat(), me))
        counts["actions"] = (row[0], row[1])
    return found


def _waiting_opened(store: Store, me: str, since: datetime, today: date, limit: int | None, counts: dict) -> list:
    """Items opened for ``me`` after ``since`` (rules.waiting.opened_sql), newest first,
    each with what opened it."""
    params = (me, clock.stamp(since), me)
    rows = store.query(
        "SELECT i.*, (SELECT r.key FROM occurrences o JOIN recurring r ON r.id = o.recurring_id"
        "  WHERE o.item_id = i.id LIMIT 1) AS _schedule,"
        " (SELECT f.workflow FROM items f WHERE f.id = i.fed_from) AS _fed_workflow,"
        " (SELECT e.actor FROM events e WHERE e.entity = 'items' AND e.entity_id = CAST(i.id AS TEXT)"
        "  AND e.before IS NULL ORDER BY e.id LIMIT 1) AS _by"
        f" FROM items i WHERE {waiting.opened_sql('i')} ORDER BY i.opened_at DESC, i.id DESC"
        + (f" LIMIT {int(limit) + 1}" if limit is not None else ""), params)
    found, cut = _first([waiting.Opened(item_from(r), r["_schedule"], r["fed_from"], r["_fed_workflow"], r["_by"])
                         for r in rows], limit)
    if cut:
        row = store.one(f"SELECT count(*), coalesce(sum(i.due IS NOT NULL AND i.due < ?), 0) FROM items i"
                        f" WHERE {waiting.opened_sql('i')}", (today.isoformat(), *params))
        counts["opened"] = (row[0], row[1])
    return found


# --- My handoffs, one list at a time (issue 14): what my_work holds, paged and filtered ---
#
# The TUI's My handoffs shows my_work's four lists as paged lists that a filter narrows;
# each is the rule's condition (rules.waiting) ANDed with the view's filter, in SQL.

# the sort columns of the handoff lists (None: earliest due first, which puts the overdue,
# most overdue first, at the top)
MY_HANDOFF_SORTS = {
    None: ("h.due_at", "h.id"),
    "handoff": ("h.id",),
    "item": ("i.title COLLATE NOCASE", "h.id"),
    "from": ("h.from_owner", "h.due_at", "h.id"),
    "to": ("h.to_owner", "h.due_at", "h.id"),
    "into": ("i.workflow", "h.to_stage", "h.due_at", "h.id"),
    "due": ("h.due_at", "h.id"),
}
MY_ACTION_SORTS = {
    None: tuple(action_rule.ORDER.split(", ")),
    "action": ("e.text COLLATE NOCASE", "e.id"),
    "due": tuple(action_rule.ORDER.split(", ")),
    "from": ("m.week", *action_rule.ORDER.split(", ")),
}


def _incoming_where(store: Store, me: str, today: date) -> tuple[str, list]:
    """Handoffs waiting for ``me`` to accept, and for the people ``me`` covers for."""
    handles = [me, *(person.handle for person, _ in waiting.covered_people(me, people(store), today))]
    return ("h.accepted_at IS NULL AND h.to_owner IN (SELECT value FROM json_each(?))", [json.dumps(handles)])


def my_incoming_page(store: Store, me: str, today: date, *, limit: int, offset: int = 0,
                     view: ListView | None = None) -> list[Handoff]:
    """What My handoffs lists as waiting for ``me`` to accept (``to_owner`` is someone else
    for a person I cover for), overdue first, one page at a time (``view``: only those
    matching its filter, in its order)."""
    where, params = _incoming_where(store, me, today)
    match, match_params = _overdue_match(view)
    return handoffs(store, f"{where} AND {match}", [*params, *match_params],
                    order=order_sql(MY_HANDOFF_SORTS, view, "i.workflow"), limit=limit, offset=offset)


def my_incoming_count(store: Store, me: str, today: date, *, view: ListView | None = None) -> int:
    where, params = _incoming_where(store, me, today)
    match, match_params = _overdue_match(view)
    return store.scalar(f"SELECT count(*) FROM handoffs h JOIN items i ON i.id = h.item_id WHERE {where}"
                        f" AND {match}", [*params, *match_params])


def my_sent_page(store: Store, me: str, *, limit: int, offset: int = 0, view: ListView | None = None) -> list[Handoff]:
    """Handoffs ``me`` sent that still wait on someone else (rules.waiting.sent_sql), earliest
    due first, one page at a time (``view``: only those matching its filter, in its order)."""
    match, match_params = _overdue_match(view)
    return handoffs(store, f"{waiting.sent_sql()} AND {match}", [me, *match_params],
                    order=order_sql(MY_HANDOFF_SORTS, view, "i.workflow"), limit=limit, offset=offset)


def my_sent_count(store: Store, me: str, *, view: ListView | None = None) -> int:
    match, match_params = _overdue_match(view)
    return store.scalar(f"SELECT count(*) FROM handoffs h JOIN items i ON i.id = h.item_id"
                        f" WHERE {waiting.sent_sql()} AND {match}", [me, *match_params])


def my_stuck_page(store: Store, team: Team, me: str, now: datetime, today: date, *, limit: int, offset: int = 0,
                  view: ListView | None = None) -> list[tuple[Item, list[rules.Reason]]]:
    """``me``'s stuck items with their reasons (the stuck list narrowed to their open items)."""
    return stuck_page(store, team, now, today, where=waiting.owned_open_sql("i"), params=(me,), limit=limit,
                      offset=offset, view=view)


def my_stuck_count(store: Store, team: Team, me: str, now: datetime, today: date, *,
                   view: ListView | None = None) -> int:
    return stuck_count(store, team, now, today, where=waiting.owned_open_sql("i"), params=(me,), view=view)


def my_actions_page(store: Store, me: str, *, limit: int, offset: int = 0,
                    view: ListView | None = None) -> list[CarriedAction]:
    """``me``'s open actions (rules.actions), earliest due first, each with its item's title
    and workflow, one page at a time (``view``: those matching its filter, in its order)."""
    match, match_params = _carried_match(view)
    rows = store.query(
        f"SELECT e.*, m.week AS week, i.title AS _title, {_CARRIED_WORKFLOW} AS _workflow FROM {_CARRIED_FROM}"
        f" WHERE e.owner = ? AND {action_rule.open_sql()} AND {match}"
        f" ORDER BY {order_sql(MY_ACTION_SORTS, view, _CARRIED_WORKFLOW)} LIMIT {int(limit)} OFFSET {int(offset)}",
        [me, *match_params])
    return [CarriedAction(entry_from(r), r["_title"], r["_workflow"]) for r in rows]


def my_actions_count(store: Store, me: str, *, view: ListView | None = None) -> int:
    match, match_params = _carried_match(view)
    return store.scalar(f"SELECT count(*) FROM {_CARRIED_FROM} WHERE e.owner = ? AND {action_rule.open_sql()}"
                        f" AND {match}", [me, *match_params])


def my_work(store: Store, me: str, now: datetime, today: date, *, limit: int | None = None,
            looked: datetime | None = None) -> waiting.MyWork:
    """Everything waiting on ``me``: the sections of ``opsweek mine`` (rules.waiting).

    With ``limit``, each section holds only its ``limit`` most urgent rows (in the
    section's order) and ``counts`` has the total and overdue of every section that was
    cut, so a person with thousands of items costs a few small queries.

    ``looked`` is when ``me`` last looked (``opsweek mine``): the items opened for them
    since then are listed; without it, those of the last ``waiting.OPENED_DAYS`` days.

    Raises :class:`NotFound` (naming near matches) when ``me`` is not on the team.
    """
    everyone = people(store)
    if me not in everyone:
        hint = "" if everyone else " (the team has no people yet: opsweek import team.toml)"
        raise NotFound("--me: " + unknown("person", me, everyone) + hint)
    values = settings(store)
    stage_map = {(s.workflow, s.key): s for s in stages(store)}
    counts: dict = {}
    covering = []
    since = looked if looked is not None else now - timedelta(days=waiting.OPENED_DAYS)
    opened = _waiting_opened(store, me, since, today, limit, counts)
    for person, away in waiting.covered_people(me, everyone, today):
        theirs: dict = {}
        covering.append(waiting.Covering(
            person, away,
            _waiting_handoffs(store, waiting.incoming_sql(), person.handle, now, limit, theirs, "incoming"),
            _waiting_stuck(store, person.handle, stage_map, now, today, values, limit, theirs),
            theirs or None))
    return waiting.MyWork(
        me, now, today, values, everyone, stage_map,
        incoming=_waiting_handoffs(store, waiting.incoming_sql(), me, now, limit, counts, "incoming"),
        sent=_waiting_handoffs(store, waiting.sent_sql(), me, now, limit, counts, "sent"),
        stuck=_waiting_stuck(store, me, stage_map, now, today, values, limit, counts),
        actions=_waiting_actions(store, me, today, limit, counts), covering=covering,
        escalated_to_me=escalated_to(store, me), escalated_work=escalated_work_of(store, me),
        counts=counts or None, opened=opened, opened_since=since, looked=looked is not None,
    )


# --- meetings and entries ------------------------------------------------------------


def meeting(store: Store, meeting_id: int) -> Meeting:
    row = store.one("SELECT * FROM meetings WHERE id = ?", (meeting_id,))
    if row is None:
        known = store.query("SELECT id, week FROM meetings ORDER BY id DESC LIMIT 8")
        listed = ", ".join(f"{r['id']} ({r['week']})" for r in reversed(known))
        raise NotFound(f"unknown meeting {meeting_id} ("
                       + (f"meetings: {listed}; see 'opsweek meetings')" if known else "there are no meetings yet)"))
    return meeting_from(row)


def week_meetings(store: Store, week: str) -> list[Meeting]:
    """The sessions of one ISO week, in the order they started."""
    return [meeting_from(r) for r in
            store.query("SELECT * FROM meetings WHERE week = ? ORDER BY started_at, id", (week,))]


def attendee_ratings(store: Store, meeting_id: int) -> dict[str, int]:
    """Each present attendee's own 1–10 rating of the session, by handle (absent people's
    ratings, had they been given before being marked absent, do not count)."""
    return dict(store.query("SELECT r.handle, r.rating FROM ratings r JOIN attendance a ON a.meeting_id ="
                            " r.meeting_id AND a.handle = r.handle AND a.present = 1 WHERE r.meeting_id = ?"
                            " ORDER BY r.handle", (meeting_id,)))


def meeting_rating(store: Store, meeting) -> float | None:
    """The session's rating (1–10): the average of its present attendees' ratings, to one
    decimal; a session rated only as a whole keeps that number; None when nobody rated it."""
    ratings = attendee_ratings(store, meeting.id)
    if ratings:
        return round(sum(ratings.values()) / len(ratings), 1)
    return meeting.rating


def session_number(store: Store, meeting) -> int:
    """Which session of its week ``meeting`` is (1 for the first)."""
    return store.scalar("SELECT count(*) FROM meetings WHERE week = ? AND (started_at < ? OR"
                        " (started_at = ? AND id <= ?))",
                        (meeting.week, clock.stamp(meeting.started_at), clock.stamp(meeting.started_at), meeting.id))


def meetings(store: Store) -> list[Meeting]:
    return [meeting_from(r) for r in store.query("SELECT * FROM meetings ORDER BY started_at, id")]


def open_meeting(store: Store, week: str) -> Meeting | None:
    """The unfinished session of ``week``, if there is one (to resume)."""
    row = store.one("SELECT * FROM meetings WHERE week = ? AND closed_at IS NULL ORDER BY id DESC LIMIT 1",
                    (week,))
    return meeting_from(row) if row else None


def latest_meeting(store: Store) -> Meeting | None:
    row = store.one("SELECT * FROM meetings ORDER BY started_at DESC, id DESC LIMIT 1")
    return meeting_from(row) if row else None


def attendance(store: Store, meeting_id: int) -> dict[str, bool]:
    return {r["handle"]: bool(r["present"]) for r in
            store.query("SELECT handle, present FROM attendance WHERE meeting_id = ? ORDER BY handle",
                        (meeting_id,))}


def step_seconds(store: Store, meeting_id: int) -> dict[str, int]:
    return {r["step"]: r["seconds"] for r in
            store.query("SELECT step, seconds FROM step_times WHERE meeting_id = ?", (meeting_id,))}


def entries(store: Store, where: str = "1", params=(), order: str = "id") -> list[Entry]:
    return [entry_from(r) for r in store.query(f"SELECT * FROM entries WHERE {where} ORDER BY {order}", params)]


def outcomes(store: Store, meeting_id: int, step: str | None = None) -> dict[tuple[str, str, str], list[str]]:
    """What the session did about each row it reviewed: ``(step, subject, subject_id)`` ->
    its outcomes in the order recorded."""
    where, params = ("meeting_id = ?", [meeting_id]) if step is None else \
        ("meeting_id = ? AND step = ?", [meeting_id, step])
    where, params = _live_outcomes(store, where, params)
    found: dict[tuple[str, str, str], list[str]] = {}
    for row in store.query(f"SELECT step, subject, subject_id, outcome FROM outcomes WHERE {where} ORDER BY id",
                           params):
        found.setdefault((row["step"], row["subject"], row["subject_id"]), []).append(row["outcome"])
    return found


def _live_outcomes(store: Store, where: str, params: list) -> tuple[str, list]:
    """``where`` and the outcomes whose change is live (an undone change's outcome is gone)."""
    from opsweek.store import history

    live, live_params = history.live_sql(store)
    return f"{where} AND {live}", [*params, *live_params]


# outcomes after which an ownership gap is no longer a gap
GAP_FIXES = ("reassigned", "done", "dropped", "handed off")


def reviewed_counts(store: Store, team: Team, now: datetime, today: date, meeting_id: int,
                    week: tuple[date, date]) -> dict[str, tuple[int, int]]:
    """Per step with outcomes: ``(reviewed, of)`` — the rows this session gave an outcome,
    of those plus the rows still listed that it has not reviewed yet (a row finished in the
    session has left the list but still counts as reviewed)."""
    found: dict[str, tuple[int, int]] = {}
    for step, count in (("stuck", lambda where, params: stuck_count(store, team, now, today, where=where,
                                                                     params=params)),
                        ("handoffs", lambda where, params: overdue_count(store, now, where=where, params=params))):
        where, params = _live_outcomes(store, "meeting_id = ? AND step = ?", [meeting_id, step])
        ids = [r[0] for r in store.query(f"SELECT DISTINCT subject_id FROM outcomes WHERE {where}", params)]
        alias = "i" if step == "stuck" else "h"
        # the rows still listed and not reviewed: all listed rows less the reviewed ones still
        # listed (those few looked up by key; a NOT IN tested every row, 400 ms at 100,000 items)
        still_listed = count(f"{alias}.id IN (SELECT CAST(value AS INTEGER) FROM json_each(?))",
                             (json.dumps(ids),)) if ids else 0
        left = count("1", ()) - still_listed
        found[step] = (len(ids), len(ids) + left)
    where, params = _live_outcomes(store, "meeting_id = ? AND step = 'gaps'", [meeting_id])
    rows = store.query("SELECT subject, subject_id, max(outcome IN (%s)) AS fixed FROM outcomes"
                       " WHERE %s GROUP BY subject, subject_id" % (", ".join("?" * len(GAP_FIXES)), where),
                       (*GAP_FIXES, *params))
    fixed = sum(1 for r in rows if r["fixed"])
    found["gaps"] = (len(rows), gaps_count(store, team, week) + fixed)
    return found


def meeting_entries(store: Store, meeting_id: int, kind: str | None = None) -> list[Entry]:
    """What a session recorded (decisions, actions, notes), in the order recorded."""
    if kind is None:
        return entries(store, "meeting_id = ?", (meeting_id,))
    return entries(store, "meeting_id = ? AND kind = ?", (meeting_id, kind))


def entries_by_id(store: Store, entry_ids) -> list[Entry]:
    """The given decisions, actions and notes, in id order."""
    ids = sorted({int(i) for i in entry_ids if i is not None})
    if not ids:
        return []
    return entries(store, "id IN (SELECT value FROM json_each(?))", (json.dumps(ids),))


def item_entries(store: Store, item_id: int, limit: int = 8) -> list[Entry]:
    """The decisions and actions linked to an item, newest first."""
    return entries(store, "item_id = ?", (item_id,), "id DESC")[:limit]


def entry(store: Store, entry_id: int) -> Entry:
    row = store.one("SELECT * FROM entries WHERE id = ?", (entry_id,))
    if row is None:
        raise NotFound(f"unknown action {entry_id} (see 'opsweek mine' for the ids of your actions)")
    return entry_from(row)


def carried_actions(store: Store, meeting_id: int | None) -> list[Entry]:
    """Open actions from earlier sessions (what "Last week's actions" reviews)."""
    if meeting_id is None:
        return entries(store, "kind = 'action' AND status = 'open'", (), "due, id")
    return entries(store,
                   "kind = 'action' AND (meeting_id IS NULL OR meeting_id != ?)"
                   " AND (status = 'open' OR closed_meeting_id = ?)",
                   (meeting_id, meeting_id), "due, id")


def _carried_where(meeting_id: int | None) -> tuple[str, list]:
    """:func:`carried_actions`' condition, on ``entries e``."""
    if meeting_id is None:
        return "e.kind = 'action' AND e.status = 'open'", []
    return ("e.kind = 'action' AND (e.meeting_id IS NULL OR e.meeting_id != ?)"
            " AND (e.status = 'open' OR e.closed_meeting_id = ?)", [meeting_id, meeting_id])


_CARRIED_FROM = ("entries e LEFT JOIN items i ON i.id = e.item_id LEFT JOIN meetings m ON m.id = e.meeting_id")
_CARRIED_WORKFLOW = "coalesce(e.workflow, i.workflow)"
# the sort columns of "Last week's actions" (None: carried_actions' own order, due then id)
CARRIED_SORTS = {
    None: ("e.due", "e.id"),
    "due": ("e.due", "e.id"),
    "owner": ("e.owner", "e.due", "e.id"),
    "action": ("e.text COLLATE NOCASE", "e.id"),
    "from": ("m.week", "e.due", "e.id"),
    "about": (_CARRIED_WORKFLOW, "i.title COLLATE NOCASE", "e.id"),
}


def _carried_match(view: ListView | None) -> tuple[str, list]:
    return match_sql(view.text if view else "", ("e.text", "e.owner", _CARRIED_WORKFLOW, "i.title", "i.stage"),
                     ids=("e.id", "e.item_id"), workflow=_CARRIED_WORKFLOW, owners=("e.owner",),
                     stages=(("i.workflow", "i.stage"),))


def carried_actions_page(store: Store, meeting_id: int | None, *, limit: int, offset: int = 0,
                         view: ListView | None = None) -> list[CarriedAction]:
    """:func:`carried_actions` one page at a time, each with its item's title and its
    workflow (``view``: only those whose text, owner, item, workflow or stage match its
    filter, in its order)."""
    where, params = _carried_where(meeting_id)
    match, match_params = _carried_match(view)
    rows = store.query(
        f"SELECT e.*, m.week AS week, i.title AS _title, {_CARRIED_WORKFLOW} AS _workflow FROM {_CARRIED_FROM}"
        f" WHERE {where} AND {match} ORDER BY {order_sql(CARRIED_SORTS, view, _CARRIED_WORKFLOW)}"
        f" LIMIT {int(limit)} OFFSET {int(offset)}", [*params, *match_params])
    return [CarriedAction(entry_from(r), r["_title"], r["_workflow"]) for r in rows]


def carried_actions_count(store: Store, meeting_id: int | None, *, view: ListView | None = None) -> int:
    where, params = _carried_where(meeting_id)
    match, match_params = _carried_match(view)
    return store.scalar(f"SELECT count(*) FROM {_CARRIED_FROM} WHERE {where} AND {match}", [*params, *match_params])


# --- raised issues (SPEC "Issue") -----------------------------------------------------

# the first session an issue was on the list of: the one it was raised in, else the
# first to start after it was raised (None: no session since)
_FIRST_MEETING = ("coalesce(s.meeting_id, (SELECT m.id FROM meetings m WHERE m.started_at >= s.raised_at"
                  " ORDER BY m.started_at, m.id LIMIT 1))")
_ISSUE_SELECT = (f"SELECT s.*, r.rank AS rank, f.id AS first_meeting, f.week AS first_week FROM issues s"
                 f" LEFT JOIN issue_ranks r ON r.issue_id = s.id AND r.meeting_id = ?"
                 f" LEFT JOIN meetings f ON f.id = {_FIRST_MEETING}")
# ranked ones first (1, 2, 3), then the oldest first
ISSUE_ORDER = "r.rank IS NULL, r.rank, s.raised_at, s.id"


def issue_from(row) -> Issue:
    keys = row.keys()
    return Issue(row["id"], row["text"], row["raised_by"], _ts(row["raised_at"]), row["meeting_id"], row["item_id"],
                 row["workflow"], row["status"], row["entry_id"], row["reason"], row["closed_meeting_id"],
                 _ts(row["closed_at"]), row["rank"] if "rank" in keys else None,
                 row["first_meeting"] if "first_meeting" in keys else None,
                 row["first_week"] if "first_week" in keys else None)


def issue(store: Store, issue_id: int, meeting_id: int | None = None) -> Issue:
    """One issue (with its rank in ``meeting_id``, if given)."""
    row = store.one(f"{_ISSUE_SELECT} WHERE s.id = ?", (meeting_id, issue_id))
    if row is None:
        raise NotFound(f"unknown issue {issue_id} (the session's Issues step lists them)")
    return issue_from(row)


def session_issues(store: Store, meeting_id: int) -> list[Issue]:
    """What the session's Issues step lists: every open issue (raised since the last
    session, or carried from earlier ones) and those this session solved or dropped,
    with their rank in this session: the top 3 first, then the oldest first."""
    return [issue_from(r) for r in store.query(
        f"{_ISSUE_SELECT} WHERE s.status = 'open' OR s.closed_meeting_id = ? ORDER BY {ISSUE_ORDER}",
        (meeting_id, meeting_id))]


def open_issues(store: Store) -> list[Issue]:
    """Every open issue, oldest first (what the next session lists)."""
    return [issue_from(r) for r in store.query(
        f"{_ISSUE_SELECT} WHERE s.status = 'open' ORDER BY s.raised_at, s.id", (None,))]


def open_issues_raised_by(store: Store, handle: str) -> list[Issue]:
    """The open issues ``handle`` raised, oldest first (``opsweek mine``)."""
    return [issue_from(r) for r in store.query(
        f"{_ISSUE_SELECT} WHERE s.status = 'open' AND s.raised_by = ? ORDER BY s.raised_at, s.id", (None, handle))]


def issue_counts(store: Store, meeting_id: int) -> tuple[int, int]:
    """``(dealt with, listed)`` for the session's Issues step: the issues it solved or
    dropped, of those plus the ones still open."""
    row = store.one("SELECT coalesce(sum(closed_meeting_id = ?), 0), count(*) FROM issues"
                    " WHERE status = 'open' OR closed_meeting_id = ?", (meeting_id, meeting_id))
    return row[0], row[1]


def issue_ranks(store: Store, meeting_id: int) -> dict[int, int]:
    """The session's top 3: rank -> issue id."""
    return dict(store.query("SELECT rank, issue_id FROM issue_ranks WHERE meeting_id = ? ORDER BY rank",
                            (meeting_id,)))


# --- the audit log -------------------------------------------------------------------


def events(store: Store, *, item_id: int | None = None, meeting_id: int | None = None,
           limit: int = 50, offset: int = 0) -> list[Event]:
    """Audit events, newest first; by item (its trail: ``history.item_trail_sql``) or meeting."""
    where, params = "1", []
    if item_id is not None:
        from opsweek.store import history  # not on mine's quick path

        where, params = history.item_trail_sql(item_id)
    if meeting_id is not None:
        where = f"({where}) AND meeting_id = ?"
        params.append(meeting_id)
    rows = store.query(f"SELECT * FROM events WHERE {where} ORDER BY id DESC LIMIT ? OFFSET ?",
                       [*params, limit, offset])
    return [event_from(r) for r in rows]


# --- the team: who owns what (issue 11) -----------------------------------------------


def ownership(store: Store) -> dict[str, "Owns"]:
    """Per person: workflows and (live) stages they own, their open or blocked items and the
    pending handoffs waiting for them (``records.Owns``); people who own nothing are absent."""
    from opsweek.store.records import Owns

    counts: dict[str, list[int]] = {}
    queries = (
        "SELECT owner, count(*) FROM workflows WHERE owner IS NOT NULL AND status != 'retired' GROUP BY owner",
        "SELECT owner, count(*) FROM stages WHERE owner IS NOT NULL AND NOT retired GROUP BY owner",
        "SELECT owner, count(*) FROM items WHERE owner IS NOT NULL AND status IN ('open', 'blocked') GROUP BY owner",
        "SELECT to_owner, count(*) FROM handoffs WHERE to_owner IS NOT NULL AND accepted_at IS NULL GROUP BY to_owner",
    )
    for column, sql in enumerate(queries):
        for handle, n in store.query(sql):
            counts.setdefault(handle, [0, 0, 0, 0])[column] = n
    return {handle: Owns(*values) for handle, values in counts.items()}


# what each person owns, as columns of ``people p`` (read.ownership counts the same rows)
_OWNS_COLUMNS = (
    "(SELECT count(*) FROM workflows w WHERE w.owner = p.handle AND w.status != 'retired') AS _workflows,"
    " (SELECT count(*) FROM stages s WHERE s.owner = p.handle AND NOT s.retired) AS _stages,"
    " (SELECT count(*) FROM items i WHERE i.owner = p.handle AND i.status IN ('open', 'blocked')) AS _items,"
    " (SELECT count(*) FROM handoffs h WHERE h.to_owner = p.handle AND h.accepted_at IS NULL) AS _handoffs")
# the workflows and stages a person owns, as text a filter word can be found in
_OWNED_WORDS = (
    "(SELECT group_concat(w.key || ' ' || w.name, ' ') FROM workflows w"
    " WHERE w.owner = p.handle AND w.status != 'retired')",
    "(SELECT group_concat(s.workflow || '/' || s.key || ' ' || s.name, ' ') FROM stages s"
    " WHERE s.owner = p.handle AND NOT s.retired)",
)
# the sort columns of the Team screen (None: by handle, as read.people)
TEAM_SORTS = {
    None: ("p.handle",),
    "handle": ("p.handle",),
    "name": ("p.name COLLATE NOCASE", "p.handle"),
    "active": ("p.active", "p.handle"),
    "cover": ("p.cover", "p.handle"),
    "workflows": ("_workflows", "p.handle"),
    "stages": ("_stages", "p.handle"),
    "items": ("_items", "p.handle"),
    "handoffs": ("_handoffs", "p.handle"),
    "role": ("p.role COLLATE NOCASE", "p.handle"),
}


def _team_match(view: ListView | None) -> tuple[str, list]:
    return match_sql(view.text if view else "", ("p.handle", "p.name", "p.role", "p.cover", *_OWNED_WORDS),
                     owners=("p.cover",))


def team_page(store: Store, *, limit: int, offset: int = 0, view: ListView | None = None) -> list[Member]:
    """People with what each owns (``records.Member``), by handle, one page at a time
    (``view``: those whose handle, name, role, cover or owned workflows and stages match
    its filter, in its order)."""
    match, params = _team_match(view)
    rows = store.query(f"SELECT p.*, {_OWNS_COLUMNS} FROM people p WHERE {match}"
                       f" ORDER BY {order_sql(TEAM_SORTS, view, None)} LIMIT {int(limit)} OFFSET {int(offset)}",
                       params)
    away: dict[str, list[Away]] = {}
    for row in store.query("SELECT handle, start, end FROM away WHERE handle IN (SELECT value FROM json_each(?))"
                           " ORDER BY handle, start", (json.dumps([r["handle"] for r in rows]),)):
        away.setdefault(row["handle"], []).append(Away(_day(row["start"]), _day(row["end"])))
    return [Member(person_from(r, away.get(r["handle"], [])),
                   Owns(r["_workflows"], r["_stages"], r["_items"], r["_handoffs"])) for r in rows]


def team_count(store: Store, *, view: ListView | None = None) -> int:
    match, params = _team_match(view)
    return store.scalar(f"SELECT count(*) FROM people p WHERE {match}", params)


def all_stages(store: Store) -> list[Stage]:
    """Every stage, retired ones too, by workflow and position (the team file writes them all)."""
    return stages(store)


def stored_settings(store: Store) -> dict[str, str]:
    """Only the settings rows the database holds (no defaults filled in)."""
    return {row["key"]: row["value"] for row in store.query("SELECT key, value FROM settings ORDER BY key")}


# --- escalations (rules.escalation): the records, and the path of what is late ---------


def escalation_from(row) -> Escalation:
    return Escalation(row["id"], row["handoff_id"], row["item_id"], row["tier"], row["to_handle"],
                      row["to_name"], _ts(row["at"]), row["by"], row["reason"], row["meeting_id"])


def escalations_of(store: Store, *, handoff_ids=(), item_ids=()) -> list[Escalation]:
    """Every escalation recorded for these handoffs and items, oldest first."""
    handoff_ids = sorted({int(i) for i in handoff_ids})
    item_ids = sorted({int(i) for i in item_ids})
    if not handoff_ids and not item_ids:
        return []
    rows = store.query(
        "SELECT * FROM escalations WHERE handoff_id IN (SELECT value FROM json_each(?))"
        " OR item_id IN (SELECT value FROM json_each(?)) ORDER BY at, id",
        (json.dumps(handoff_ids), json.dumps(item_ids)))
    return [escalation_from(r) for r in rows]


def meeting_escalations(store: Store, meeting_id: int) -> list[Escalation]:
    """The escalations recorded during a session, in the order made (an undone one is
    gone: undo removes its record)."""
    return [escalation_from(r) for r in
            store.query("SELECT * FROM escalations WHERE meeting_id = ? ORDER BY at, id", (meeting_id,))]


# where a late thing stands on its path: the latest escalation that counts (or None),
# whom it would go to next (a rules.escalation.Step, or None), and whether that is due now
EscalationState = namedtuple("EscalationState", "last next due")


def _local_today(now: datetime) -> date:
    return now.astimezone(clock.local_tz()).date()


def handoff_escalation_states(store: Store, team: Team, handoffs, now: datetime) -> dict[int, EscalationState]:
    """For each handoff of a page, where it stands on its escalation path."""
    today = _local_today(now)
    past = escalations_of(store, handoff_ids=[h.id for h in handoffs])
    workflows = {w.key: w for w in team.workflows}
    states = {}
    for h in handoffs:
        mine = escalation.handoff_past(h, past)
        wf = workflows.get(h.workflow)
        nxt = escalation.handoff_next(h, wf, team.people, mine, today)
        due = nxt if nxt and escalation.escalation_due(h, now, team.settings) else None
        states[h.id] = EscalationState(mine[-1] if mine else None, nxt, due)
    return states


def item_escalation_states(store: Store, team: Team, items_, now: datetime) -> dict[int, EscalationState]:
    """For each item of a page, where it stands on its escalation path."""
    today = _local_today(now)
    past = escalations_of(store, item_ids=[it.id for it in items_])
    workflows = {w.key: w for w in team.workflows}
    states = {}
    for it in items_:
        stage = team.stage_map.get((it.workflow, it.stage))
        episode = escalation.item_episode(it, past)
        wf = workflows.get(it.workflow)
        nxt = escalation.item_next(it, stage, wf, team.people, episode, today)
        due = nxt if nxt and escalation.item_escalation_due(it, stage, now, team.settings, episode) else None
        states[it.id] = EscalationState(episode[-1] if episode else None, nxt, due)
    return states


EscalationsDue = namedtuple("EscalationsDue", "handoffs items")  # lists of (id, tier, to)


def escalations_due(store: Store, team: Team, now: datetime) -> EscalationsDue:
    """Every handoff and item due for escalation now, with its tier and person, from the
    rule's SQL (rules.escalation.handoffs_due_sql / items_due_sql)."""
    today = _local_today(now)
    found = []
    for make in (escalation.handoffs_due_sql, escalation.items_due_sql):
        sql, params = make(team.people, now, today, team.settings)
        found.append([(r["id"], r["tier"], r["target"]) for r in store.query(f"{sql} ORDER BY id", params)])
    return EscalationsDue(*found)


_REACHED_HANDOFFS = (
    "SELECT e.*, i.id AS item, i.title AS title, i.workflow AS workflow, h.to_stage AS stage,"
    " h.to_owner AS holder, h.due_at AS late_since FROM escalations e JOIN handoffs h ON h.id = e.handoff_id"
    " JOIN items i ON i.id = h.item_id WHERE h.accepted_at IS NULL AND {who}")
_REACHED_ITEMS = (
    "SELECT e.*, i.id AS item, i.title AS title, i.workflow AS workflow, i.stage AS stage, i.owner AS holder,"
    " strftime('%Y-%m-%dT%H:%M:%SZ', i.stage_entered_at, printf('+%d seconds', CAST(s.max_days * 86400 AS INTEGER)))"
    " AS late_since FROM escalations e JOIN items i ON i.id = e.item_id"
    " LEFT JOIN stages s ON s.workflow = i.workflow AND s.key = i.stage"
    " WHERE i.status IN ('open', 'blocked') AND e.at >= i.stage_entered_at AND {who}")


def _escalated(store: Store, sql: str, params) -> list[EscalatedWork]:
    found = []
    for r in store.query(sql, params):
        kind = "handoff" if r["handoff_id"] is not None else "item"
        found.append(EscalatedWork(escalation_from(r), kind, r["item"], r["title"], r["workflow"], r["stage"],
                                   r["holder"], _ts(r["late_since"])))
    return found


def escalated_to(store: Store, handle: str) -> list[EscalatedWork]:
    """Escalations that reached ``handle`` and still stand: the handoff still waits, the
    item is still open in the stage it was late in. Latest first."""
    who = "e.to_handle = ?"
    return _escalated(store, f"{_REACHED_HANDOFFS.format(who=who)} UNION ALL {_REACHED_ITEMS.format(who=who)}"
                             " ORDER BY at DESC, id DESC", (handle, handle))


def escalated_work_of(store: Store, handle: str) -> list[EscalatedWork]:
    """``handle``'s own late work that was escalated (its latest escalation each), latest first."""
    latest_h = ("h.to_owner = ? AND e.id = (SELECT x.id FROM escalations x WHERE x.handoff_id = h.id"
                " ORDER BY x.at DESC, x.id DESC LIMIT 1)")
    latest_i = ("i.owner = ? AND e.id = (SELECT x.id FROM escalations x WHERE x.item_id = i.id"
                " ORDER BY x.at DESC, x.id DESC LIMIT 1)")
    return _escalated(store, f"{_REACHED_HANDOFFS.format(who=latest_h)} UNION ALL"
                             f" {_REACHED_ITEMS.format(who=latest_i)} ORDER BY at DESC, id DESC", (handle, handle))


# --- the calendar (opsweek ics) ---------------------------------------------------------


def open_actions(store: Store, owner: str | None = None) -> list[Entry]:
    """Open actions (of ``owner``, or everyone's), earliest due first."""
    where = f"e.owner = ? AND {action_rule.open_sql()}" if owner else action_rule.open_sql()
    return [entry_from(r) for r in store.query(
        "SELECT e.*, m.week AS week FROM entries e LEFT JOIN meetings m ON m.id = e.meeting_id"
        f" WHERE {where} ORDER BY {action_rule.ORDER}", (owner,) if owner else ())]


def pending_handoffs_to(store: Store, handle: str) -> list[Handoff]:
    """Handoffs waiting for ``handle`` to accept, earliest due first."""
    return _waiting_handoffs(store, waiting.incoming_sql(), handle)


def row_versions(store: Store, entity: str, ids) -> dict[str, tuple[int, datetime]]:
    """Per row of ``entity`` (by id as text): how many times it changed after it was
    created, and when it last changed, from the audit log."""
    keys = sorted({str(i) for i in ids})
    if not keys:
        return {}
    return {r["entity_id"]: (r["n"] - 1, _ts(r["at"])) for r in store.query(
        "SELECT entity_id, count(*) AS n, max(at) AS at FROM events WHERE entity = ?"
        " AND entity_id IN (SELECT value FROM json_each(?)) GROUP BY entity_id", (entity, json.dumps(keys)))}


def database_identity(store: Store) -> str | None:
    """Something that names this database and no other, stable while it lives (a dump
    restored elsewhere keeps it): its first audit event. None while it has no history."""
    row = store.one("SELECT at, actor, action, entity, entity_id FROM events ORDER BY id LIMIT 1")
    return "|".join(str(v) for v in tuple(row)) if row else None


# --- work that opened by itself (rules.triggers): the digest ---------------------------


def opened_for(store: Store, handle: str, since: datetime) -> list[Item]:
    """Open items of ``handle`` that a schedule opened after ``since``, newest first."""
    return [item_from(r) for r in store.query(
        "SELECT i.* FROM occurrences o JOIN items i ON i.id = o.item_id WHERE i.owner = ?"
        " AND i.status IN ('open', 'blocked') AND o.at > ? ORDER BY o.at DESC, i.id DESC",
        (handle, clock.stamp(since)))]
