"""Triggers that fire: recurring schedules, the tick that opens their occurrences, and
workflows that feed each other; with the settings that give the session its rhythm.

Exactly once: every occurrence gets one row in ``occurrences`` (unique on schedule +
occurrence), written in the same ``BEGIN IMMEDIATE`` transaction as the item it opens,
after re-reading the schedule inside that transaction. Two processes ticking together
serialise on the write lock; the second finds the schedule already advanced and opens
nothing. When nothing is due a tick is one look at the ``recurring_next_due`` index and
one at the recorded weeks (every ended week recorded: ``opsweek.trends``), and writes
nothing.
"""

from __future__ import annotations

from datetime import datetime

from opsweek import clock
from opsweek.errors import InputError, NotFound
from collections import namedtuple
from opsweek.store import read
from opsweek.store.db import Store
from opsweek.text import clean_text, is_slug, unknown

TICK_ACTOR = "opsweek"
TICK_ACTION = "recur.open"
CATCH_UP = ("latest", "all")


# A recurring schedule as stored (times UTC)
Schedule = namedtuple("Schedule", "id workflow key title schedule rrule owner due catch_up status created_at"
                      " seen_until next_due")
# Where an item came from and what it started: fed_from (id, workflow, title) of the item
# that fed it; started [(id, workflow, title)] of items it opened; schedule (workflow, key,
# occurrence) that opened it
ItemLinks = namedtuple("ItemLinks", "fed_from started schedule", defaults=(None, (), None))
# Something that will happen: an occurrence that opens an item (kind "opens"), or a session
Upcoming = namedtuple("Upcoming", "at kind workflow title owner")


def _schedule_from(row) -> Schedule:
    return Schedule(
        id=row["id"], workflow=row["workflow"], key=row["key"], title=row["title"], schedule=row["schedule"],
        rrule=row["rrule"], owner=row["owner"], due=row["due"], catch_up=row["catch_up"], status=row["status"],
        created_at=clock.parse_stamp(row["created_at"]), seen_until=clock.parse_stamp(row["seen_until"]),
        next_due=clock.parse_stamp(row["next_due"]),
    )


def schedules(store: Store, workflow: str | None = None, *, active_only: bool = True) -> list[Schedule]:
    """Recurring schedules, by workflow and key."""
    where, params = ["1"], []
    if active_only:
        where.append("status = 'active'")
    if workflow:
        where.append("workflow = ?")
        params.append(workflow)
    return [_schedule_from(r) for r in store.query(
        f"SELECT * FROM recurring WHERE {' AND '.join(where)} ORDER BY workflow, key", params)]


def feeds(store: Store) -> dict[str, list[str]]:
    """workflow -> the workflows it feeds, in the team's order."""
    out: dict[str, list[str]] = {}
    for row in store.query("SELECT workflow, target FROM feeds ORDER BY workflow, position, id"):
        out.setdefault(row["workflow"], []).append(row["target"])
    return out


def fed_by(store: Store) -> dict[str, list[str]]:
    """workflow -> the workflows that feed it."""
    out: dict[str, list[str]] = {}
    for row in store.query("SELECT workflow, target FROM feeds ORDER BY target, workflow"):
        out.setdefault(row["target"], []).append(row["workflow"])
    return out


def attach(store: Store, workflows: list) -> list:
    """The workflows with their ``feeds`` and ``recurring`` (their active schedules) filled in."""
    targets = feeds(store)
    by_workflow: dict[str, list] = {}
    for s in schedules(store):
        by_workflow.setdefault(s.workflow, []).append(s)
    return [w._replace(feeds=tuple(targets.get(w.key, ())), recurring=tuple(by_workflow.get(w.key, ())))
            for w in workflows]


# --- checking what people write ------------------------------------------------------


def check_due(value: str | None, field_name: str = "due") -> str | None:
    """A due offset from the occurrence (``+1d``), stored as ``1d``; see :mod:`opsweek.schedule`."""
    from opsweek import schedule

    return schedule.check_due(value, field_name)


def check_catch_up(value: str | None) -> str:
    value = (value or "latest").strip().lower()
    if value not in CATCH_UP:
        raise InputError(f"catch-up {value!r} is not allowed (accepted: latest, all)")
    return value


def _person(team: read.Team, handle: str | None) -> str | None:
    if not handle:
        return None
    handle = handle.strip().lower()
    if handle not in team.people:
        raise NotFound(unknown("person", handle, team.people) + " for owner")
    return handle


def checked(team: read.Team, workflow: str, key: str, *, title: str, schedule_text: str,
            owner: str | None = None, due: str | None = None, catch_up: str | None = None) -> dict:
    """The columns of a schedule after every check (nothing written); raises InputError."""
    from opsweek import schedule

    team.workflow(workflow)
    if not is_slug(key or ""):
        raise InputError(f"recurring key {key!r} is not a slug (accepted: lowercase letters, digits, - and _,"
                         " like 'weekly-review')")
    title = (clean_text(title) or "").strip()
    if not title:
        raise InputError("title is empty (accepted: any text, with {date} {week} {month} {year})")
    schedule.check_title(title)
    schedule_text = " ".join((clean_text(schedule_text) or "").split())
    rrule = schedule.check(schedule_text)
    return {"workflow": workflow, "key": key, "title": title, "schedule": schedule_text, "rrule": rrule,
            "owner": _person(team, owner), "due": check_due(due), "catch_up": check_catch_up(catch_up)}


def _next_due(rrule: str, created: datetime, after: datetime) -> str | None:
    from opsweek import schedule

    following = schedule.next_after(rrule, created, after)
    return clock.stamp(following) if following else None


def write_schedule(change, store: Store, columns: dict, now: datetime) -> int:
    """Insert, or bring up to date, the schedule ``workflow/key`` inside ``change``.

    A new (or re-added, or rescheduled) schedule counts from ``now``: it never opens the
    occurrences before it. Returns the schedule's id.
    """
    stamp = clock.stamp(now)
    row = store.one("SELECT * FROM recurring WHERE workflow = ? AND key = ?", (columns["workflow"], columns["key"]))
    if row is None:
        return change.insert("recurring", {**columns, "status": "active", "created_at": stamp, "seen_until": stamp,
                                           "next_due": _next_due(columns["rrule"], now, now)})
    updates = {k: v for k, v in columns.items() if row[k] != v}
    if row["status"] != "active" or "rrule" in updates:
        updates.update({"status": "active", "created_at": stamp, "seen_until": stamp,
                        "next_due": _next_due(columns["rrule"], now, now)})
    if updates:
        change.update("recurring", row["id"], updates)
    return row["id"]


# --- recurring work from the command line and the TUI ---------------------------------


def add_schedule(store: Store, team: read.Team, workflow: str, key: str, *, title: str, schedule_text: str,
                 owner: str | None = None, due: str | None = None, catch_up: str | None = None, actor: str,
                 now: datetime | None = None) -> int:
    """A new recurring schedule under a workflow (refused if one of that key is active)."""
    now = now or clock.now()
    columns = checked(team, workflow, key, title=title, schedule_text=schedule_text, owner=owner, due=due,
                      catch_up=catch_up)
    existing = store.one("SELECT status FROM recurring WHERE workflow = ? AND key = ?", (workflow, key))
    if existing is not None and existing["status"] == "active":
        raise InputError(f"{workflow}/{key} already exists; drop it first (opsweek recur drop {workflow}/{key})")
    with store.change("recur.add", actor=actor, at=now) as change:
        return write_schedule(change, store, columns, now)


def drop_schedule(store: Store, workflow: str, key: str, *, actor: str, now: datetime | None = None) -> None:
    """Stop a schedule: nothing more opens; what it opened stays."""
    row = store.one("SELECT id, status FROM recurring WHERE workflow = ? AND key = ?", (workflow, key))
    if row is None or row["status"] != "active":
        known = [f"{s.workflow}/{s.key}" for s in schedules(store)]
        raise NotFound(unknown("recurring schedule", f"{workflow}/{key}", known))
    with store.change("recur.drop", actor=actor, at=now) as change:
        change.update("recurring", row["id"], {"status": "dropped", "next_due": None})


def set_schedule_owner(store: Store, team: read.Team, workflow: str, key: str, owner: str, *,
                       reason: str | None = None, actor: str, meeting_id: int | None = None) -> None:
    """A new owner for the items a schedule opens (an ownership gap fixed in the session)."""
    row = store.one("SELECT id, owner FROM recurring WHERE workflow = ? AND key = ? AND status = 'active'",
                    (workflow, key))
    if row is None:
        known = [f"{s.workflow}/{s.key}" for s in schedules(store)]
        raise NotFound(unknown("recurring schedule", f"{workflow}/{key}", known))
    owner = _person(team, owner)
    if not team.people[owner].active:
        raise InputError(f"{owner} is inactive and cannot be owner")
    if row["owner"] == owner:
        raise InputError(f"{workflow}/{key} already opens its items for {owner}")
    with store.change("recur.owner", actor=actor, meeting_id=meeting_id, reason=reason) as change:
        change.update("recurring", row["id"], {"owner": owner})


def set_feeds(change, store: Store, workflow: str, targets: list[str]) -> None:
    """Make ``workflow`` feed exactly ``targets`` (in that order), inside ``change``."""
    current = {r["target"]: r for r in store.query("SELECT * FROM feeds WHERE workflow = ?", (workflow,))}
    for target, row in current.items():
        if target not in targets:
            change.delete("feeds", row["id"])
    for position, target in enumerate(targets, start=1):
        row = current.get(target)
        if row is None:
            change.insert("feeds", {"workflow": workflow, "target": target, "position": position})
        elif row["position"] != position:
            change.update("feeds", row["id"], {"position": position})


# --- the tick ------------------------------------------------------------------------


def due_now(store: Store, now: datetime) -> bool:
    """Whether any schedule has an occurrence due (one indexed query)."""
    return store.scalar("SELECT 1 FROM recurring WHERE status = 'active' AND next_due <= ? LIMIT 1",
                        (clock.stamp(now),)) is not None


def tick(store: Store, now: datetime | None = None, *, actor: str = TICK_ACTOR) -> list[int]:
    """Open every occurrence that is due, exactly once; returns the ids of the items opened.

    For each schedule, the occurrences since the last tick: ``catch_up = "all"`` opens
    each, ``"latest"`` opens the latest and records the others as skipped. A schedule of
    a paused or retired workflow records its occurrences as skipped.

    The tick is also where ended weeks are noticed: the trend figures of each ended week
    not recorded yet are frozen (:func:`opsweek.trends.freeze_ended_weeks`, one indexed
    look when they all are).
    """
    from opsweek import trends

    now = now or clock.now()
    opened = _open_occurrences(store, now, actor)
    trends.freeze_ended_weeks(store, now)
    return opened


def _open_occurrences(store: Store, now: datetime, actor: str) -> list[int]:
    if not due_now(store, now):
        return []
    opened: list[int] = []
    with store.change(TICK_ACTION, actor=actor, at=now) as change:
        # read again under the write lock: another process may have ticked meanwhile
        rows = store.query("SELECT * FROM recurring WHERE status = 'active' AND next_due <= ? ORDER BY next_due, id",
                           (clock.stamp(now),))
        if rows:
            team = read.team(store)
            for row in rows:
                opened += _open_due(change, store, team, _schedule_from(row), now)
    return opened


def _open_due(change, store: Store, team: read.Team, s: Schedule, now: datetime) -> list[int]:
    from opsweek import schedule

    stamp = clock.stamp(now)
    found = schedule.occurrences(s.rrule, s.created_at, s.seen_until, now)
    to_open = found if s.catch_up == "all" else found[-1:]
    workflow = next((w for w in team.workflows if w.key == s.workflow), None)
    stages = team.stages_by_workflow.get(s.workflow) or []
    can_open = workflow is not None and workflow.status == "active" and bool(stages)
    opened = []
    for occurrence in found:
        at = clock.stamp(occurrence)
        if store.one("SELECT 1 FROM occurrences WHERE recurring_id = ? AND occurrence = ?", (s.id, at)):
            continue
        item_id = None
        if can_open and occurrence in to_open:
            item_id = _open_item(change, team, stages[0], s, occurrence, now)
            opened.append(item_id)
        change.insert("occurrences", {"recurring_id": s.id, "occurrence": at, "item_id": item_id,
                                      "skipped": int(item_id is None), "at": stamp})
    change.update("recurring", s.id, {"seen_until": max(stamp, clock.stamp(s.seen_until)),
                                      "next_due": _next_due(s.rrule, s.created_at, max(now, s.seen_until))})
    return opened


def _open_item(change, team: read.Team, first, s: Schedule, occurrence: datetime, now: datetime) -> int:
    from opsweek import schedule
    from opsweek.store.changes import _available_owner

    local = occurrence.astimezone(schedule.zone())
    owner = _available_owner(team, s.owner or first.owner, local.date())
    due = clock.parse_duration(s.due).after(local).date().isoformat() if s.due else None
    stamp = clock.stamp(now)
    return change.insert("items", {
        "workflow": s.workflow, "stage": first.key, "title": schedule.title_for(s.title, occurrence),
        "owner": owner, "status": "open", "opened_at": stamp, "stage_entered_at": stamp,
        "last_activity_at": stamp, "due": due, "ref": None,
    })


# --- feeds ---------------------------------------------------------------------------


def feed(change, store: Store, item_id: int, now: datetime) -> list[int]:
    """Inside the change that marks ``item_id`` done: if it was in the last stage of its
    workflow, open an item with its title and ref in the first stage of each workflow it
    feeds (active ones with stages), linked back to it. Returns the new items' ids."""
    row = store.one("SELECT id, workflow, stage, title, ref FROM items WHERE id = ?", (item_id,))
    targets = [r["target"] for r in store.query(
        "SELECT target FROM feeds WHERE workflow = ? ORDER BY position, id", (row["workflow"],))]
    if not targets:
        return []
    team = read.team(store)
    ordered = team.stages_by_workflow.get(row["workflow"]) or []
    if not ordered or ordered[-1].key != row["stage"]:
        return []
    from opsweek.store.changes import _available_owner

    stamp = clock.stamp(now)
    opened = []
    for target in targets:
        workflow = next((w for w in team.workflows if w.key == target), None)
        stages = team.stages_by_workflow.get(target) or []
        if workflow is None or workflow.status != "active" or not stages:
            continue  # the audit's connections layer reports it
        opened.append(change.insert("items", {
            "workflow": target, "stage": stages[0].key, "title": row["title"],
            "owner": _available_owner(team, stages[0].owner, now.astimezone(clock.local_tz()).date()),
            "status": "open", "opened_at": stamp, "stage_entered_at": stamp, "last_activity_at": stamp,
            "due": None, "ref": row["ref"], "fed_from": item_id,
        }))
    return opened


def item_links(store: Store, item_id: int) -> ItemLinks:
    """The item that fed this one, the items it started, and the schedule that opened it."""
    fed_from = schedule = None
    row = store.one("SELECT f.id, f.workflow, f.title FROM items i JOIN items f ON f.id = i.fed_from"
                    " WHERE i.id = ?", (item_id,))
    if row is not None:
        fed_from = (row["id"], row["workflow"], row["title"])
    started = [(r["id"], r["workflow"], r["title"]) for r in
               store.query("SELECT id, workflow, title FROM items WHERE fed_from = ? ORDER BY id", (item_id,))]
    row = store.one("SELECT r.workflow, r.key, o.occurrence FROM occurrences o JOIN recurring r"
                    " ON r.id = o.recurring_id WHERE o.item_id = ?", (item_id,))
    if row is not None:
        schedule = (row["workflow"], row["key"], clock.parse_stamp(row["occurrence"]))
    return ItemLinks(fed_from, started, schedule)


# --- the session's rhythm and what is to come -----------------------------------------


def _meeting_rule(store: Store) -> tuple[str, datetime] | None:
    text = store.setting("meeting")
    if not text:
        return None
    from opsweek import schedule

    try:
        rule = schedule.to_rrule(text)
    except InputError:
        return None
    # anchored when it was set, so "every 2 weeks" keeps its weeks
    since = store.scalar("SELECT min(at) FROM events WHERE entity = 'settings' AND entity_id = 'meeting'")
    return rule, clock.parse_stamp(since) if since else datetime(2000, 1, 3, tzinfo=clock.UTC)


def sessions(store: Store, after: datetime, days: int) -> list[datetime]:
    """The weekly sessions (from the ``meeting`` setting) in the ``days`` after ``after``."""
    from opsweek import schedule

    found = _meeting_rule(store)
    if found is None:
        return []
    return schedule.occurrences(found[0], found[1], after, after + _days(days))


def next_session(store: Store, after: datetime) -> datetime | None:
    """When the next session is, by the ``meeting`` setting (None when it is not set)."""
    from opsweek import schedule

    found = _meeting_rule(store)
    return None if found is None else schedule.next_after(found[0], found[1], after)


def _days(days: int):
    from datetime import timedelta

    return timedelta(days=days)


def upcoming(store: Store, now: datetime, days: int = 14) -> list[Upcoming]:
    """What will open, and the sessions to come, in the next ``days`` days, in time order."""
    from opsweek import schedule

    team = read.team(store)
    out = []
    for s in schedules(store):
        first = (team.stages_by_workflow.get(s.workflow) or [None])[0]
        owner = s.owner or (first.owner if first else None)
        found = schedule.occurrences(s.rrule, s.created_at, max(s.seen_until, now), now + _days(days))
        if s.next_due and s.next_due <= now:  # due, not ticked yet: what the next tick opens
            due = schedule.occurrences(s.rrule, s.created_at, s.seen_until, now)
            found = (due if s.catch_up == "all" else due[-1:]) + found
        for at in found:
            out.append(Upcoming(at, "opens", s.workflow, schedule.title_for(s.title, at), owner))
    for at in sessions(store, now, days):
        out.append(Upcoming(at, "session", None, f"weekly session {clock.iso_week(at)}", None))
    return sorted(out, key=lambda u: (u.at, u.kind, u.workflow or "", u.title))


def unclosed_earlier_session(store: Store, now: datetime):
    """An unfinished session of an earlier week than ``now``'s, if any (the newest)."""
    row = store.one("SELECT * FROM meetings WHERE closed_at IS NULL AND week < ? ORDER BY week DESC, id DESC LIMIT 1",
                    (clock.iso_week(now),))
    return read.meeting_from(row) if row else None


