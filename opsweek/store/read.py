"""Reads: rows of the store as the models of ``opsweek.model``.

Big lists (items, handoffs, events) are read a page at a time with the rules' conditions
pushed into SQL, so screens stay quick at 100,000 items; the rules in ``opsweek.rules``
then give the reasons for the rows on the page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime

from opsweek import clock, rules
from opsweek.errors import NotFound
from opsweek.model import Away, Entry, Event, Handoff, Item, Meeting, Person, Stage, Workflow
from opsweek.store.db import Store
from opsweek.text import unknown

_ts = clock.parse_stamp


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


# --- rows to models (no validation: the store only holds validated data) -------------


def person_from(row, away: list[Away]) -> Person:
    return Person.model_construct(
        handle=row["handle"], name=row["name"], role=row["role"], cover=row["cover"],
        away=away, active=bool(row["active"]),
    )


def workflow_from(row) -> Workflow:
    return Workflow.model_construct(**dict(row))


def stage_from(row) -> Stage:
    data = dict(row)
    data.pop("id", None)
    return Stage.model_construct(**data)


def item_from(row) -> Item:
    return Item.model_construct(
        id=row["id"], workflow=row["workflow"], stage=row["stage"], title=row["title"],
        owner=row["owner"], status=row["status"], opened_at=_ts(row["opened_at"]),
        stage_entered_at=_ts(row["stage_entered_at"]), last_activity_at=_ts(row["last_activity_at"]),
        due=_day(row["due"]), ref=row["ref"], blocked_reason=row["blocked_reason"],
        closed_at=_ts(row["closed_at"]),
    )


def handoff_from(row) -> Handoff:
    keys = row.keys()
    return Handoff.model_construct(
        id=row["id"], item_id=row["item_id"], from_stage=row["from_stage"], from_owner=row["from_owner"],
        to_stage=row["to_stage"], to_owner=row["to_owner"], sent_at=_ts(row["sent_at"]),
        due_at=_ts(row["due_at"]), accepted_at=_ts(row["accepted_at"]), accepted_by=row["accepted_by"],
        note=row["note"], escalated_at=_ts(row["escalated_at"]),
        workflow=row["workflow"] if "workflow" in keys else None,
    )


def meeting_from(row) -> Meeting:
    return Meeting.model_construct(
        id=row["id"], week=row["week"], facilitator=row["facilitator"], started_at=_ts(row["started_at"]),
        closed_at=_ts(row["closed_at"]), rating=row["rating"], step=row["step"],
    )


def entry_from(row) -> Entry:
    data = dict(row)
    data["due"] = _day(data["due"])
    data["created_at"] = _ts(data["created_at"])
    return Entry.model_construct(**data)


def event_from(row) -> Event:
    data = dict(row)
    data["at"] = _ts(data["at"])
    data["before"] = json.loads(data["before"]) if data["before"] else None
    data["after"] = json.loads(data["after"]) if data["after"] else None
    return Event.model_construct(**data)


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
        away.setdefault(row["handle"], []).append(
            Away.model_construct(start=_day(row["start"]), end=_day(row["end"]))
        )
    return {
        row["handle"]: person_from(row, away.get(row["handle"], []))
        for row in store.query("SELECT * FROM people ORDER BY handle")
    }


def workflows(store: Store) -> list[Workflow]:
    found = [workflow_from(r) for r in store.query("SELECT * FROM workflows ORDER BY key")]
    from opsweek.store import recurring  # what each feeds and its schedules (the audit, the map)

    recurring.attach(store, found)
    return found


def stages(store: Store, workflow: str | None = None) -> list[Stage]:
    if workflow:
        rows = store.query("SELECT * FROM stages WHERE workflow = ? ORDER BY position", (workflow,))
    else:
        rows = store.query("SELECT * FROM stages ORDER BY workflow, position")
    return [stage_from(r) for r in rows]


@dataclass
class Team:
    """Everything small about the system: settings, people, workflows and their stages."""

    settings: dict[str, str]
    people: dict[str, Person]
    workflows: list[Workflow]
    stages: list[Stage]
    stages_by_workflow: dict[str, list[Stage]] = field(default_factory=dict)
    stage_map: dict[tuple[str, str], Stage] = field(default_factory=dict)

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
    by_workflow: dict[str, list[Stage]] = {}
    for stage in all_stages:
        by_workflow.setdefault(stage.workflow, []).append(stage)
    return Team(
        settings=settings(store), people=everyone, workflows=workflows(store), stages=all_stages,
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
    sql = f"SELECT * FROM items i WHERE {where} ORDER BY {order}"
    if limit is not None:
        sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
    return [item_from(r) for r in store.query(sql, params)]


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


def pending_handoff_for(store: Store, item_id: int) -> Handoff | None:
    found = handoffs(store, "h.item_id = ? AND h.accepted_at IS NULL", (item_id,), "h.id DESC", 1)
    return found[0] if found else None


# --- the rules pushed into SQL, for counts and pages at scale ------------------------


# Stuck items are selected FROM this join, so that each item meets its own stage's max_days.
_STUCK_FROM = "items i LEFT JOIN stages s ON s.workflow = i.workflow AND s.key = i.stage"


def _stuck_filter(team: Team, now: datetime, today: date) -> tuple[str, list]:
    """SQL condition (on ``_STUCK_FROM``) matching exactly the items rules.stuck_reasons flags."""
    stale = rules.setting(team.settings, "stale_after")
    stale_before = clock.stamp(stale.before(now))
    condition = (
        "i.status IN ('open', 'blocked') AND (i.status = 'blocked' OR i.last_activity_at < ?"
        " OR (i.due IS NOT NULL AND i.due < ?)"
        " OR (s.max_days IS NOT NULL AND i.stage_entered_at < strftime('%Y-%m-%dT%H:%M:%SZ', ?,"
        " printf('-%d seconds', CAST(s.max_days * 86400 AS INTEGER)))))"
    )
    return condition, [stale_before, today.isoformat(), clock.stamp(now)]


def stuck_page(store: Store, team: Team, now: datetime, today: date, *, where: str = "1",
               params=(), limit: int = 200, offset: int = 0) -> list[tuple[Item, list[rules.Reason]]]:
    """Stuck items with their reasons, longest in stage first, one page at a time."""
    condition, stuck_params = _stuck_filter(team, now, today)
    sql = (f"SELECT i.* FROM {_STUCK_FROM} WHERE {condition} AND ({where}) "
           f"ORDER BY i.stage_entered_at, i.id LIMIT {int(limit)} OFFSET {int(offset)}")
    page = [item_from(r) for r in store.query(sql, [*stuck_params, *params])]
    return [(it, rules.stuck_reasons(it, team.stage_map.get((it.workflow, it.stage)), now, today,
                                     team.settings)) for it in page]


def stuck_count(store: Store, team: Team, now: datetime, today: date, *, where: str = "1", params=()) -> int:
    condition, stuck_params = _stuck_filter(team, now, today)
    return store.scalar(f"SELECT count(*) FROM {_STUCK_FROM} WHERE {condition} AND ({where})",
                        [*stuck_params, *params])


def stuck_counts(store: Store, team: Team, now: datetime, today: date, *, by: str = "workflow",
                 where: str = "1", params=()) -> dict[str, int]:
    """Stuck items counted per ``by`` (an items column: workflow, stage, owner)."""
    if by not in ("workflow", "stage", "owner"):
        raise ValueError(by)
    condition, stuck_params = _stuck_filter(team, now, today)
    return dict(store.query(f"SELECT i.{by}, count(*) FROM {_STUCK_FROM} WHERE {condition} AND ({where})"
                            f" GROUP BY i.{by}", [*stuck_params, *params]))


# rules.is_overdue in SQL: not accepted, and now is past due_at
_OVERDUE = "h.accepted_at IS NULL AND h.due_at < ?"


def overdue_page(store: Store, now: datetime, *, where: str = "1", params=(), limit: int = 200,
                 offset: int = 0) -> list[Handoff]:
    """Overdue handoffs, most overdue first, one page at a time."""
    return handoffs(store, f"{_OVERDUE} AND ({where})",
                    [clock.stamp(now), *params], order="h.due_at, h.id", limit=limit, offset=offset)


def overdue_count(store: Store, now: datetime, *, where: str = "1", params=()) -> int:
    return store.scalar(
        f"SELECT count(*) FROM handoffs h JOIN items i ON i.id = h.item_id"
        f" WHERE {_OVERDUE} AND ({where})", [clock.stamp(now), *params])


def escalation_due_count(store: Store, team: Team, now: datetime) -> int:
    """rules.escalation_due in SQL: not accepted nor escalated, and more than
    ``escalate_after`` past due."""
    before = rules.setting(team.settings, "escalate_after").before(now)
    return store.scalar("SELECT count(*) FROM handoffs WHERE accepted_at IS NULL AND escalated_at IS NULL"
                        " AND due_at < ?", (clock.stamp(before),))


def overdue_counts(store: Store, now: datetime, *, by: str = "workflow") -> dict[str, int]:
    """Overdue handoffs counted per item workflow, or per receiver (``to_owner``)."""
    column = {"workflow": "i.workflow", "to_owner": "h.to_owner"}[by]
    return dict(store.query(
        f"SELECT {column}, count(*) FROM handoffs h JOIN items i ON i.id = h.item_id"
        f" WHERE {_OVERDUE} GROUP BY {column}", (clock.stamp(now),)))


@dataclass
class WorkflowHealth:
    workflow: Workflow
    open: int
    stuck: int
    overdue: int
    audit: rules.AuditResult


def last_reviews(store: Store) -> dict[str, datetime]:
    return {r["workflow"]: _ts(r["at"]) for r in
            store.query("SELECT workflow, max(at) AS at FROM reviews GROUP BY workflow")}


def health(store: Store, team: Team, now: datetime, today: date) -> list[WorkflowHealth]:
    """Per workflow: open items, stuck items, overdue handoffs and the audit score."""
    opened = dict(store.query(
        "SELECT workflow, count(*) FROM items WHERE status IN ('open', 'blocked') GROUP BY workflow"))
    stuck = stuck_counts(store, team, now, today)
    overdue = overdue_counts(store, now)
    audits = {a.workflow: a for a in rules.audit(team.workflows, team.stages_by_workflow, team.people,
                                                 last_reviews(store), now)}
    return [
        WorkflowHealth(wf, opened.get(wf.key, 0), stuck.get(wf.key, 0), overdue.get(wf.key, 0),
                       audits.get(wf.key) or rules.audit_workflow(wf, team.stages_by_workflow.get(wf.key, []),
                                                                  team.people, None, now))
        for wf in team.workflows
    ]


# --- meetings and entries ------------------------------------------------------------


def meeting(store: Store, meeting_id: int) -> Meeting:
    row = store.one("SELECT * FROM meetings WHERE id = ?", (meeting_id,))
    if row is None:
        raise NotFound(f"unknown meeting {meeting_id}")
    return meeting_from(row)


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


def entry(store: Store, entry_id: int) -> Entry:
    row = store.one("SELECT * FROM entries WHERE id = ?", (entry_id,))
    if row is None:
        raise NotFound(f"unknown entry {entry_id}")
    return entry_from(row)


def carried_actions(store: Store, meeting_id: int | None) -> list[Entry]:
    """Open actions from earlier sessions (what "Last week's actions" reviews)."""
    if meeting_id is None:
        return entries(store, "kind = 'action' AND status = 'open'", (), "due, id")
    return entries(store,
                   "kind = 'action' AND (meeting_id IS NULL OR meeting_id != ?)"
                   " AND (status = 'open' OR closed_meeting_id = ?)",
                   (meeting_id, meeting_id), "due, id")


# --- the audit log -------------------------------------------------------------------


def item_events_filter(item_id: int) -> tuple[str, list]:
    """SQL condition on ``events`` for an item's trail: its row, its handoffs (also those
    since withdrawn) and the entries linked to it."""
    where = (
        "(entity = 'items' AND entity_id = ?)"
        " OR (entity = 'handoffs' AND (entity_id IN (SELECT CAST(id AS TEXT) FROM handoffs WHERE item_id = ?)"
        "     OR entity_id IN (SELECT entity_id FROM events WHERE entity = 'handoffs' AND after IS NULL"
        "                      AND json_extract(before, '$.item_id') = ?)))"
        " OR (entity = 'entries' AND entity_id IN (SELECT CAST(id AS TEXT) FROM entries WHERE item_id = ?))"
    )
    return where, [str(item_id), item_id, item_id, item_id]


def events(store: Store, *, item_id: int | None = None, meeting_id: int | None = None,
           limit: int = 50, offset: int = 0) -> list[Event]:
    """Audit events, newest first; by item (see :func:`item_events_filter`) or meeting."""
    where, params = "1", []
    if item_id is not None:
        where, params = item_events_filter(item_id)
    if meeting_id is not None:
        where = f"({where}) AND meeting_id = ?"
        params.append(meeting_id)
    rows = store.query(f"SELECT * FROM events WHERE {where} ORDER BY id DESC LIMIT ? OFFSET ?",
                       [*params, limit, offset])
    return [event_from(r) for r in rows]
