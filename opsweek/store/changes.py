"""Every change a person can make, each one transaction with its audit events.

The CLI and the TUI both call these; each checks that the change makes sense first
(raising :class:`InputError` with one clear line, before anything is written), then
writes through :meth:`Store.change` so the rows and their events land together.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timedelta

from opsweek import clock, rules
from opsweek.agenda import STEP_KEYS
from opsweek.errors import InputError, NotFound
from opsweek.store import read
from opsweek.store.db import PRIMARY_KEYS, Store
from opsweek.text import clean_text, is_slug, unknown

# Bookkeeping of a running session: recorded, but not what ctrl+z / undo should revert.
# A tick's openings are not undone either: undoing one would let the next tick open that
# occurrence again (drop the item instead).
BOOKKEEPING = ("meeting.time", "meeting.step", "meeting.review", "recur.open")


def _now(now: datetime | None) -> datetime:
    return now or clock.now()


def _text(value: str | None, field: str, required: bool = False) -> str | None:
    value = clean_text(value)
    if value is not None:
        value = value.strip()
    if required and not value:
        raise InputError(f"{field} is empty (accepted: any text)")
    return value or None


def _person(team: read.Team, handle: str, field: str = "owner") -> str:
    if handle not in team.people:
        raise NotFound(unknown("person", handle, team.people) + f" for {field}")
    if not team.people[handle].active:
        raise InputError(f"{handle} is inactive and cannot be {field}")
    return handle


def _open_item(store: Store, item_id: int, done_to_it: str):
    """The item, if it is still open or blocked; ``done_to_it`` reads "handed off", "blocked"..."""
    it = read.item(store, item_id)
    if it.status in ("done", "dropped"):
        raise InputError(f"item #{item_id} is {it.status}; it cannot be {done_to_it}")
    return it


def _available_owner(team: read.Team, handle: str | None, on: date) -> str | None:
    """``handle``, or their cover when they are away on ``on``."""
    if not handle or handle not in team.people:
        return handle
    if rules.available(handle, team.people, on, on):
        return handle
    return rules.cover_for(handle, team.people, on, on) or handle


# --- items ---------------------------------------------------------------------------


def add_item(store: Store, team: read.Team, workflow: str, title: str, *, owner: str | None = None,
             due: date | None = None, ref: str | None = None, actor: str,
             meeting_id: int | None = None, now: datetime | None = None) -> int:
    """A new open item in the workflow's first stage; owner defaults to that stage's owner."""
    now = _now(now)
    wf = team.workflow(workflow)
    if wf.status != "active":
        raise InputError(f"workflow {workflow} is {wf.status}; new items go to active workflows")
    ordered = team.stages_by_workflow.get(workflow) or []
    if not ordered:
        raise InputError(f"workflow {workflow} has no stages yet; add stages in the team file")
    title = _text(title, "title", required=True)
    first = ordered[0]
    owner = _person(team, owner) if owner else _available_owner(team, first.owner, now.date())
    stamp = clock.stamp(now)
    with store.change("item.add", actor=actor, meeting_id=meeting_id, at=now) as change:
        return change.insert("items", {
            "workflow": workflow, "stage": first.key, "title": title, "owner": owner, "status": "open",
            "opened_at": stamp, "stage_entered_at": stamp, "last_activity_at": stamp,
            "due": due.isoformat() if due else None, "ref": _text(ref, "ref"),
        })


def reassign_item(store: Store, team: read.Team, item_id: int, to: str, *, reason: str | None = None,
                  actor: str, meeting_id: int | None = None, now: datetime | None = None) -> None:
    """A new owner for an item (an edit: time in stage keeps counting)."""
    it = _open_item(store, item_id, "reassigned")
    _person(team, to)
    if it.owner == to:
        raise InputError(f"item #{item_id} is already owned by {to}")
    with store.change("item.reassign", actor=actor, meeting_id=meeting_id, reason=_text(reason, "reason"), at=now) as c:
        c.update("items", item_id, {"owner": to, "last_activity_at": clock.stamp(_now(now))})


def block_item(store: Store, item_id: int, reason: str, *, actor: str, meeting_id: int | None = None,
               now: datetime | None = None) -> None:
    it = _open_item(store, item_id, "blocked")
    reason = _text(reason, "reason", required=True)
    if it.status == "blocked":
        raise InputError(f"item #{item_id} is already blocked ({it.blocked_reason})")
    with store.change("item.block", actor=actor, meeting_id=meeting_id, reason=reason, at=now) as c:
        c.update("items", item_id, {"status": "blocked", "blocked_reason": reason,
                                    "last_activity_at": clock.stamp(_now(now))})


def unblock_item(store: Store, item_id: int, *, reason: str | None = None, actor: str,
                 meeting_id: int | None = None, now: datetime | None = None) -> None:
    it = read.item(store, item_id)
    if it.status != "blocked":
        raise InputError(f"item #{item_id} is not blocked (it is {it.status})")
    with store.change("item.unblock", actor=actor, meeting_id=meeting_id, reason=_text(reason, "reason"), at=now) as c:
        c.update("items", item_id, {"status": "open", "blocked_reason": None,
                                    "last_activity_at": clock.stamp(_now(now))})


def _close_item(store: Store, item_id: int, status: str, reason: str | None, actor: str,
                meeting_id: int | None, now: datetime | None) -> None:
    _open_item(store, item_id, "marked done" if status == "done" else "dropped")
    stamp = clock.stamp(_now(now))
    with store.change(f"item.{'done' if status == 'done' else 'drop'}", actor=actor,
                      meeting_id=meeting_id, reason=reason, at=now) as c:
        # a handoff still waiting for a closed item would stay overdue forever
        for row in store.query("SELECT id FROM handoffs WHERE item_id = ? AND accepted_at IS NULL", (item_id,)):
            c.delete("handoffs", row["id"])
        c.update("items", item_id, {"status": status, "closed_at": stamp, "last_activity_at": stamp,
                                    "blocked_reason": None})
        if status == "done":  # finished work flows into the workflows this one feeds, in the same change
            from opsweek.store import recurring

            recurring.feed(c, store, item_id, _now(now))


def finish_item(store: Store, item_id: int, *, actor: str, meeting_id: int | None = None,
                now: datetime | None = None) -> None:
    """Mark an item done (a pending handoff of it is withdrawn)."""
    _close_item(store, item_id, "done", None, actor, meeting_id, now)


def drop_item(store: Store, item_id: int, reason: str, *, actor: str, meeting_id: int | None = None,
              now: datetime | None = None) -> None:
    """Drop an item, saying why."""
    _close_item(store, item_id, "dropped", _text(reason, "reason", required=True), actor, meeting_id, now)


# --- handoffs ------------------------------------------------------------------------


def hand_off(store: Store, team: read.Team, item_id: int, *, to_stage: str | None = None,
             owner: str | None = None, note: str | None = None, actor: str,
             meeting_id: int | None = None, now: datetime | None = None) -> int:
    """Hand an item to the next (or named) stage; the SLA clock starts now.

    The receiver defaults to the stage owner, or their cover when the owner is away today.
    """
    now = _now(now)
    it = _open_item(store, item_id, "handed off")
    if it.status == "blocked":
        raise InputError(f"item #{item_id} is blocked ({it.blocked_reason}); unblock it before handing it off")
    pending = read.pending_handoff_for(store, item_id)
    if pending:
        raise InputError(f"item #{item_id} already has handoff {pending.id} to {pending.to_stage} waiting"
                         f" for {pending.to_owner or 'nobody'}; accept it first")
    if to_stage:
        stage = team.stage(it.workflow, to_stage)
    else:
        stage = team.next_stage(it.workflow, it.stage)
        if stage is None:
            raise InputError(f"item #{item_id} is in the last stage ({it.stage}) of {it.workflow};"
                             " mark it done, or name a stage with --to")
    if stage.key == it.stage:
        raise InputError(f"item #{item_id} is already in {stage.key}; hand it to another stage")
    receiver = _person(team, owner) if owner else _available_owner(team, stage.owner, now.date())
    if not receiver:
        # sent to nobody, it would wait with no one to accept it
        raise InputError(f"stage {it.workflow}/{stage.key} has no owner; name who receives it (--owner HANDLE)")
    due_at = rules.handoff_due_at(now, stage.handoff_sla, team.settings)
    stamp = clock.stamp(now)
    with store.change("handoff.send", actor=actor, meeting_id=meeting_id, at=now) as c:
        handoff_id = c.insert("handoffs", {
            "item_id": item_id, "from_stage": it.stage, "from_owner": it.owner,
            "to_stage": stage.key, "to_owner": receiver, "sent_at": stamp,
            "due_at": clock.stamp(due_at), "note": _text(note, "note"),
        })
        c.update("items", item_id, {"last_activity_at": stamp})
        return handoff_id


def accept_handoff(store: Store, handoff_id: int, *, actor: str, meeting_id: int | None = None,
                   now: datetime | None = None) -> None:
    """The receiver (or the facilitator on their behalf) accepts: the item enters the stage."""
    h = read.handoff(store, handoff_id)
    if h.accepted_at is not None:
        raise InputError(f"handoff {handoff_id} was already accepted by {h.accepted_by}"
                         f" on {clock.show(h.accepted_at)}")
    it = read.item(store, h.item_id)
    if it.status in ("done", "dropped"):
        raise InputError(f"item #{it.id} is {it.status}; its handoff cannot be accepted")
    stamp = clock.stamp(_now(now))
    with store.change("handoff.accept", actor=actor, meeting_id=meeting_id, at=now) as c:
        c.update("handoffs", handoff_id, {"accepted_at": stamp, "accepted_by": actor})
        c.update("items", it.id, {"stage": h.to_stage, "stage_entered_at": stamp, "last_activity_at": stamp,
                                  "owner": h.to_owner or it.owner})


def reassign_handoff(store: Store, team: read.Team, handoff_id: int, to: str, *, reason: str | None = None,
                     actor: str, meeting_id: int | None = None) -> None:
    """A new receiver for a pending handoff (the SLA clock keeps running)."""
    h = read.handoff(store, handoff_id)
    if h.accepted_at is not None:
        raise InputError(f"handoff {handoff_id} was already accepted; reassign the item instead")
    _person(team, to)
    if h.to_owner == to:
        raise InputError(f"handoff {handoff_id} already goes to {to}")
    with store.change("handoff.reassign", actor=actor, meeting_id=meeting_id, reason=_text(reason, "reason")) as c:
        c.update("handoffs", handoff_id, {"to_owner": to})


def escalate_handoff(store: Store, handoff_id: int, *, reason: str | None = None, actor: str,
                     meeting_id: int | None = None, now: datetime | None = None) -> None:
    """Record that an overdue handoff was escalated to the workflow owner."""
    now = _now(now)
    h = read.handoff(store, handoff_id)
    if h.accepted_at is not None:
        raise InputError(f"handoff {handoff_id} was already accepted; nothing to escalate")
    if not rules.is_overdue(h, now):
        raise InputError(f"handoff {handoff_id} is not overdue (due {clock.show(h.due_at)})")
    if h.escalated_at is not None:
        raise InputError(f"handoff {handoff_id} was already escalated on {clock.show(h.escalated_at)}")
    with store.change("handoff.escalate", actor=actor, meeting_id=meeting_id, reason=_text(reason, "reason"), at=now) as c:
        c.update("handoffs", handoff_id, {"escalated_at": clock.stamp(now)})


# --- ownership -----------------------------------------------------------------------


def set_stage_owner(store: Store, team: read.Team, workflow: str, stage: str, owner: str, *,
                    reason: str | None = None, actor: str, meeting_id: int | None = None) -> None:
    st = team.stage(workflow, stage)
    _person(team, owner)
    if st.owner == owner:
        raise InputError(f"stage {workflow}/{stage} is already owned by {owner}")
    row_id = store.scalar("SELECT id FROM stages WHERE workflow = ? AND key = ?", (workflow, stage))
    with store.change("stage.owner", actor=actor, meeting_id=meeting_id, reason=_text(reason, "reason")) as c:
        c.update("stages", row_id, {"owner": owner})


def set_workflow_owner(store: Store, team: read.Team, workflow: str, owner: str, *, reason: str | None = None,
                       actor: str, meeting_id: int | None = None) -> None:
    wf = team.workflow(workflow)
    _person(team, owner)
    if wf.owner == owner:
        raise InputError(f"workflow {workflow} is already owned by {owner}")
    with store.change("workflow.owner", actor=actor, meeting_id=meeting_id, reason=_text(reason, "reason")) as c:
        c.update("workflows", workflow, {"owner": owner})


def set_cover(store: Store, team: read.Team, handle: str, cover: str, *, reason: str | None = None,
              actor: str, meeting_id: int | None = None) -> None:
    team.person(handle)
    _person(team, cover, "cover")
    if handle == cover:
        raise InputError(f"{handle} cannot cover for themselves")
    if team.people[handle].cover == cover:
        raise InputError(f"{cover} already covers for {handle}")
    with store.change("person.cover", actor=actor, meeting_id=meeting_id, reason=_text(reason, "reason")) as c:
        c.update("people", handle, {"cover": cover})


# --- meetings ------------------------------------------------------------------------


def start_meeting(store: Store, team: read.Team, *, week: str | None = None, facilitator: str | None,
                  actor: str, now: datetime | None = None) -> int:
    """Open this week's session with attendance pre-filled: people away are absent."""
    now = _now(now)
    week = week or clock.iso_week(now)
    first, last = clock.week_bounds(week)
    if facilitator:
        _person(team, facilitator, "facilitator")
    with store.change("meeting.start", actor=actor, at=now) as c:
        meeting_id = c.insert("meetings", {"week": week, "facilitator": facilitator,
                                           "started_at": clock.stamp(now), "step": "attendance"})
        c.meeting_id = meeting_id
        today = now.astimezone(clock.local_tz()).date()
        for handle, person in team.people.items():
            if not person.active:
                continue
            present = not rules.is_away(person, today, today) and not rules.is_away(person, first, last)
            c.insert("attendance", {"meeting_id": meeting_id, "handle": handle, "present": int(present)})
    return meeting_id


def _meeting_open(store: Store, meeting_id: int):
    m = read.meeting(store, meeting_id)
    if m.closed_at is not None:
        raise InputError(f"meeting {meeting_id} ({m.week}) is closed")
    return m


def set_attendance(store: Store, meeting_id: int, handle: str, present: bool, *, actor: str) -> None:
    _meeting_open(store, meeting_id)
    row_id = store.scalar("SELECT id FROM attendance WHERE meeting_id = ? AND handle = ?", (meeting_id, handle))
    with store.change("meeting.attendance", actor=actor, meeting_id=meeting_id) as c:
        if row_id is None:
            c.insert("attendance", {"meeting_id": meeting_id, "handle": handle, "present": int(present)})
        else:
            c.update("attendance", row_id, {"present": int(present)})


def set_step(store: Store, meeting_id: int, step: str, *, actor: str) -> None:
    if step not in STEP_KEYS:
        raise InputError(f"{step!r} is not a step (accepted: {', '.join(STEP_KEYS)})")
    _meeting_open(store, meeting_id)
    with store.change("meeting.step", actor=actor, meeting_id=meeting_id) as c:
        c.update("meetings", meeting_id, {"step": step})


def add_step_time(store: Store, meeting_id: int, step: str, seconds: int, *, actor: str) -> None:
    """Add time spent on a step (written when leaving the step, and on quit)."""
    if seconds <= 0:
        return
    row = store.one("SELECT id, seconds FROM step_times WHERE meeting_id = ? AND step = ?", (meeting_id, step))
    with store.change("meeting.time", actor=actor, meeting_id=meeting_id) as c:
        if row is None:
            c.insert("step_times", {"meeting_id": meeting_id, "step": step, "seconds": int(seconds)})
        else:
            c.update("step_times", row["id"], {"seconds": row["seconds"] + int(seconds)})


def mark_reviewed(store: Store, meeting_id: int, workflows: list[str], *, actor: str,
                  now: datetime | None = None) -> None:
    """Record that the session looked at these workflows (the audit's rhythm layer)."""
    done = {r[0] for r in store.query("SELECT workflow FROM reviews WHERE meeting_id = ?", (meeting_id,))}
    todo = [w for w in workflows if w not in done]
    if not todo:
        return
    stamp = clock.stamp(_now(now))
    with store.change("meeting.review", actor=actor, meeting_id=meeting_id, at=now) as c:
        for workflow in todo:
            c.insert("reviews", {"meeting_id": meeting_id, "workflow": workflow, "at": stamp})


def rate_meeting(store: Store, meeting_id: int, rating: int, *, actor: str) -> None:
    if not isinstance(rating, int) or not 1 <= rating <= 10:
        raise InputError(f"rating {rating!r} is out of range (accepted: a whole number 1–10)")
    _meeting_open(store, meeting_id)
    with store.change("meeting.rate", actor=actor, meeting_id=meeting_id) as c:
        c.update("meetings", meeting_id, {"rating": rating})


def close_meeting(store: Store, meeting_id: int, *, actor: str, now: datetime | None = None) -> None:
    _meeting_open(store, meeting_id)
    with store.change("meeting.close", actor=actor, meeting_id=meeting_id, at=now) as c:
        c.update("meetings", meeting_id, {"closed_at": clock.stamp(_now(now)), "step": "wrapup"})


# --- decisions, actions, notes -------------------------------------------------------


def record_entry(store: Store, team: read.Team, kind: str, text: str, *, meeting_id: int | None,
                 owner: str | None = None, due: date | None = None, item_id: int | None = None,
                 workflow: str | None = None, actor: str, now: datetime | None = None) -> int:
    """Record a decision, action or note; an action needs an owner and is due in 7 days by default."""
    now = _now(now)
    if kind not in ("decision", "action", "note"):
        raise InputError(f"{kind!r} is not an entry kind (accepted: decision, action, note)")
    text = _text(text, "text", required=True)
    if owner:
        _person(team, owner)
    if kind == "action":
        if not owner:
            raise InputError("an action needs an owner (accepted: a person's handle)")
        due = due or (now.astimezone(clock.local_tz()).date() + timedelta(days=7))
    if item_id is not None:
        it = read.item(store, item_id)
        workflow = workflow or it.workflow
    if workflow:
        team.workflow(workflow)
    with store.change(f"entry.{kind}", actor=actor, meeting_id=meeting_id, at=now) as c:
        return c.insert("entries", {
            "meeting_id": meeting_id, "kind": kind, "text": text, "owner": owner,
            "due": due.isoformat() if due else None, "item_id": item_id, "workflow": workflow,
            "status": "open" if kind == "action" else None, "created_at": clock.stamp(now),
        })


def set_action_status(store: Store, entry_id: int, status: str, *, meeting_id: int | None, actor: str,
                      reason: str | None = None, now: datetime | None = None) -> None:
    """Close (done / dropped) or reopen an action."""
    e = read.entry(store, entry_id)
    if e.kind != "action":
        raise InputError(f"entry {entry_id} is a {e.kind}, not an action")
    if status not in ("open", "done", "dropped"):
        raise InputError(f"{status!r} is not an action status (accepted: open, done, dropped)")
    if e.status == status:
        raise InputError(f"action {entry_id} is already {status}")
    closed = None if status == "open" else meeting_id
    with store.change(f"action.{status}", actor=actor, meeting_id=meeting_id, reason=_text(reason, "reason"),
                      at=now) as c:
        c.update("entries", entry_id, {"status": status, "closed_meeting_id": closed})


def carry_action(store: Store, entry_id: int, *, meeting_id: int | None, actor: str,
                 due: date | None = None, now: datetime | None = None) -> None:
    """Carry an open action over to next week (new due date, default 7 days out)."""
    e = read.entry(store, entry_id)
    if e.kind != "action" or e.status != "open":
        raise InputError(f"entry {entry_id} is not an open action")
    due = due or (_now(now).astimezone(clock.local_tz()).date() + timedelta(days=7))
    with store.change("action.carry", actor=actor, meeting_id=meeting_id, at=now) as c:
        c.update("entries", entry_id, {"due": due.isoformat(), "closed_meeting_id": None})


# --- undo ----------------------------------------------------------------------------


def undo(store: Store, *, actor: str, meeting_id: int | None = None, mine_only: bool = True) -> str:
    """Revert the latest change (``actor``'s own with ``mine_only``, else anyone's) that is
    not bookkeeping and not already undone, recording the undo as a change of its own.
    Repeated calls walk further back. Refuses, changing nothing, when a row it would
    restore was changed since by a later change.

    Returns a one-line description of what was undone.
    """
    skip = ",".join("?" * len(BOOKKEEPING))
    who = "actor = ? AND " if mine_only else ""
    row = store.one(
        f"SELECT change_id, action, at, actor FROM events WHERE {who}undoes IS NULL AND action NOT IN ({skip})"
        " AND action != 'undo' AND change_id NOT IN (SELECT undoes FROM events WHERE undoes IS NOT NULL)"
        " ORDER BY change_id DESC LIMIT 1",
        ((actor,) if mine_only else ()) + BOOKKEEPING,
    )
    if row is None:
        raise InputError(f"nothing of {actor}'s to undo" if mine_only else "nothing to undo")
    change_id = row["change_id"]
    events = [read.event_from(r) for r in
              store.query("SELECT * FROM events WHERE change_id = ? ORDER BY id", (change_id,))]
    try:
        with store.change("undo", actor=actor, meeting_id=meeting_id, undoes=change_id,
                          reason=f"undo {row['action']} of {row['at']}") as c:
            for event in reversed(events):
                _check_unchanged(store, event, change_id)
                key = _key(event.entity, event.entity_id)
                if event.before is None:      # it was an insert: remove the row
                    c.delete(event.entity, key)
                elif event.after is None:     # it was a delete: put the row back
                    c.insert(event.entity, event.before)
                else:
                    c.update(event.entity, key, event.before)
    except sqlite3.IntegrityError:
        # e.g. undoing "add item" after the item was handed off: later rows depend on it
        raise InputError(f"cannot undo {row['action']} (change {change_id}): later changes depend on it;"
                         " nothing undone") from None
    by = "" if row["actor"] == actor else f" by {row['actor']}"
    return f"undid {row['action']}{by} (change {change_id})"


def _key(entity: str, entity_id: str):
    return entity_id if PRIMARY_KEYS[entity] in ("handle", "key") else int(entity_id)


def _check_unchanged(store: Store, event, change_id: int) -> None:
    """The row must still be as ``event`` left it; otherwise name who changed it since."""
    pk = PRIMARY_KEYS[event.entity]
    key = _key(event.entity, event.entity_id)
    current = store.one(f"SELECT * FROM {event.entity} WHERE {pk} = ?", (key,))
    if event.after is None:
        ok = current is None
    elif current is None:
        ok = False
    else:
        ok = all(_same(current[f], v) for f, v in event.after.items())
    if ok:
        return
    later = store.one("SELECT actor, action, at FROM events WHERE entity = ? AND entity_id = ? AND change_id > ?"
                      " ORDER BY id DESC LIMIT 1", (event.entity, event.entity_id, change_id))
    who = f" by {later['actor']} ({later['action']} at {clock.show(later['at'])})" if later else ""
    raise InputError(f"cannot undo: {_label(event)} was changed since{who}; nothing undone")


def _same(stored, recorded) -> bool:
    if stored == recorded:
        return True
    return json.dumps(stored, default=str) == json.dumps(recorded, default=str)


def _label(event) -> str:
    names = {"items": "item #", "handoffs": "handoff ", "entries": "entry ", "meetings": "meeting ",
             "people": "person ", "workflows": "workflow ", "stages": "stage "}
    return f"{names.get(event.entity, event.entity + ' ')}{event.entity_id}"
