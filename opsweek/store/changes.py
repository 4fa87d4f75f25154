"""Every change a person can make, each one transaction with its audit events.

The CLI and the TUI both call these. A change is decided inside its own write: every
check that reads the database (is the handoff still pending, is the item still open, is
the session still open, ...) runs inside the ``BEGIN IMMEDIATE`` transaction of
:meth:`Store.change`, so two people making the same change at the same moment cannot
both pass it. Checks of the input alone (a rating, a reason, an owner: the rules of
:mod:`opsweek.inputs`) come first. A refused change raises :class:`InputError` with one
clear line; its transaction rolls back, so nothing is written, not even a change number.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime

from opsweek import clock, inputs, rules
from opsweek.agenda import STEP_KEYS
from opsweek.errors import InputError, NotFound
from opsweek.store import history, read
from opsweek.store.db import Store
from opsweek.store.records import Outcome
from opsweek.text import clean_text, is_slug, one_line, unknown

# Bookkeeping of a running session: recorded, but not what ctrl+z / undo should revert.
# A tick's openings are not undone either: undoing one would let the next tick open that
# occurrence again (drop the item instead).
BOOKKEEPING = ("meeting.time", "meeting.step", "meeting.review", "recur.open")


def _now(now: datetime | None) -> datetime:
    return now or clock.now()


def _local_day(now: datetime) -> date:
    return now.astimezone(clock.local_tz()).date()


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
    """The item, if it is still open or blocked; ``done_to_it`` reads "handed off", "blocked"...

    Call it inside the change's transaction: what it finds decides the write.
    """
    it = read.item(store, item_id)
    if it.status in ("done", "dropped"):
        raise InputError(f"item #{item_id} is {it.status}; it cannot be {done_to_it}")
    return it


def _pending_handoff(store: Store, handoff_id: int, refused: str):
    """The handoff, if nobody has accepted it yet; ``refused`` ends the message otherwise.

    Call it inside the change's transaction: of two people accepting at once, the second
    finds the first one's acceptance here.
    """
    h = read.handoff(store, handoff_id)
    if h.accepted_at is not None:
        raise InputError(f"handoff {handoff_id} was already accepted by {h.accepted_by}"
                         f" on {clock.show(h.accepted_at)}{refused}")
    return h


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
    with store.change("item.reassign", actor=actor, meeting_id=meeting_id, reason=_text(reason, "reason"), at=now) as c:
        it = _open_item(store, item_id, "reassigned")
        _person(team, to)
        if it.owner == to:
            raise InputError(f"item #{item_id} is already owned by {to}")
        c.update("items", item_id, {"owner": to, "last_activity_at": clock.stamp(_now(now))})


def block_item(store: Store, item_id: int, reason: str, *, actor: str, meeting_id: int | None = None,
               now: datetime | None = None) -> None:
    """Mark an item blocked; a block needs a reason (what it is waiting on)."""
    reason = inputs.check_block_reason(reason)
    with store.change("item.block", actor=actor, meeting_id=meeting_id, reason=reason, at=now) as c:
        it = _open_item(store, item_id, "blocked")
        if it.status == "blocked":
            raise InputError(f"item #{item_id} is already blocked ({it.blocked_reason})")
        c.update("items", item_id, {"status": "blocked", "blocked_reason": reason,
                                    "last_activity_at": clock.stamp(_now(now))})


def unblock_item(store: Store, item_id: int, *, reason: str | None = None, actor: str,
                 meeting_id: int | None = None, now: datetime | None = None) -> None:
    with store.change("item.unblock", actor=actor, meeting_id=meeting_id, reason=_text(reason, "reason"), at=now) as c:
        it = read.item(store, item_id)
        if it.status != "blocked":
            raise InputError(f"item #{item_id} is not blocked (it is {it.status})")
        c.update("items", item_id, {"status": "open", "blocked_reason": None,
                                    "last_activity_at": clock.stamp(_now(now))})


def _close_item(store: Store, item_id: int, status: str, reason: str | None, actor: str,
                meeting_id: int | None, now: datetime | None) -> None:
    stamp = clock.stamp(_now(now))
    with store.change(f"item.{'done' if status == 'done' else 'drop'}", actor=actor,
                      meeting_id=meeting_id, reason=reason, at=now) as c:
        _open_item(store, item_id, "marked done" if status == "done" else "dropped")
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
    _close_item(store, item_id, "dropped", inputs.check_drop_reason(reason), actor, meeting_id, now)


def set_item_due(store: Store, item_id: int, due: date | None, *, actor: str, meeting_id: int | None = None,
                 now: datetime | None = None) -> None:
    """A new due date for an open or blocked item (``None`` clears it)."""
    value = due.isoformat() if due else None
    with store.change("item.due", actor=actor, meeting_id=meeting_id, at=now) as c:
        it = _open_item(store, item_id, "given a due date")
        if (it.due.isoformat() if it.due else None) == value:
            raise InputError(f"item #{item_id} is already due {value}" if value
                             else f"item #{item_id} has no due date")
        c.update("items", item_id, {"due": value, "last_activity_at": clock.stamp(_now(now))})


# --- handoffs ------------------------------------------------------------------------


def hand_off(store: Store, team: read.Team, item_id: int, *, to_stage: str | None = None,
             owner: str | None = None, note: str | None = None, actor: str,
             meeting_id: int | None = None, now: datetime | None = None) -> int:
    """Hand an item to the next (or named) stage; the SLA clock starts now.

    The receiver defaults to the stage owner, or their cover when the owner is away today.
    An item has at most one pending handoff: of two sent at once, the second is refused.
    """
    now = _now(now)
    stamp = clock.stamp(now)
    with store.change("handoff.send", actor=actor, meeting_id=meeting_id, at=now) as c:
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
        note = _text(note, "note")
        if owner:
            receiver = _person(team, owner)
        else:
            chosen = rules.receivers.receiver(stage, team.people, _local_day(now), it.workflow)
            if chosen.refused and not stage.owner:
                # sent to nobody, it would wait with no one to accept it
                raise InputError(f"{chosen.refused}; name who receives it (--owner HANDLE)")
            if chosen.refused:
                raise InputError(f"{chosen.refused}; make someone its owner (opsweek stage set"
                                 f" {it.workflow}/{stage.key} --owner HANDLE; active: "
                                 f"{', '.join(h for h, p in team.people.items() if p.active) or 'nobody'})"
                                 " or name who receives it (--owner HANDLE)")
            receiver = chosen.handle
            if chosen.note:
                note = f"{note} ({chosen.note})" if note else chosen.note
        due_at = rules.handoff_due_at(now, stage.handoff_sla, team.settings)
        handoff_id = c.insert("handoffs", {
            "item_id": item_id, "from_stage": it.stage, "from_owner": it.owner,
            "to_stage": stage.key, "to_owner": receiver, "sent_at": stamp,
            "due_at": clock.stamp(due_at), "note": note,
        })
        c.update("items", item_id, {"last_activity_at": stamp})
        return handoff_id


def accept_handoff(store: Store, handoff_id: int, *, actor: str, on_behalf: str | None = None,
                   meeting_id: int | None = None, now: datetime | None = None) -> None:
    """The receiver, their cover while they are away, or the workflow owner accepts: the
    item enters the stage. Anyone else accepts only ``on_behalf`` of the receiver, and the
    change records it (rules.receivers).

    Of two people accepting at once, exactly one does; the other is told who was first.
    """
    now = _now(now)
    stamp = clock.stamp(now)
    reason = f"on behalf of {on_behalf}" if on_behalf else None
    with store.change("handoff.accept", actor=actor, meeting_id=meeting_id, reason=reason, at=now) as c:
        h = _pending_handoff(store, handoff_id, "")
        it = read.item(store, h.item_id)
        if it.status in ("done", "dropped"):
            raise InputError(f"item #{it.id} is {it.status}; its handoff cannot be accepted")
        team = read.team(store)
        workflow_owner = team.workflow(it.workflow).owner
        allowed = rules.receivers.who_may_accept(h, team.people, workflow_owner, _local_day(now))
        if on_behalf is not None:
            if on_behalf != h.to_owner:
                raise InputError(f"handoff {handoff_id} waits on {h.to_owner or 'nobody'}, not {on_behalf}"
                                 f" (accepted: --for {h.to_owner})")
        elif actor not in allowed:
            raise InputError(f"handoff {handoff_id} waits on {h.to_owner or 'nobody'}; {', '.join(allowed)}"
                             f" can accept it (you are {actor}; to accept on their behalf: --for {h.to_owner})")
        c.update("handoffs", handoff_id, {"accepted_at": stamp, "accepted_by": actor})
        c.update("items", it.id, {"stage": h.to_stage, "stage_entered_at": stamp, "last_activity_at": stamp,
                                  "owner": h.to_owner or it.owner})


def reassign_handoff(store: Store, team: read.Team, handoff_id: int, to: str, *, reason: str | None = None,
                     actor: str, meeting_id: int | None = None) -> None:
    """A new receiver for a pending handoff (the SLA clock keeps running)."""
    with store.change("handoff.reassign", actor=actor, meeting_id=meeting_id, reason=_text(reason, "reason")) as c:
        h = _pending_handoff(store, handoff_id, "; reassign the item instead")
        _person(team, to)
        if h.to_owner == to:
            raise InputError(f"handoff {handoff_id} already goes to {to}")
        c.update("handoffs", handoff_id, {"to_owner": to})


def _not_due(what: str, late_from: datetime, last, now: datetime, settings: dict, step) -> InputError:
    """Why ``what`` cannot be escalated now, in one line."""
    if step is None:
        done = f" (it went to {last.to_handle}, tier {last.tier})" if last is not None else ""
        return InputError(f"{what} has no one left to escalate to{done}: its path (receiver or stage owner, their"
                          " cover while away, the workflow owner, the owner's cover) has nobody else who is there")
    due = rules.escalation.due_again_at(last.at if last is not None else None, late_from, settings)
    after = f"escalate_after {settings.get('escalate_after') or '24h'}"
    if last is not None:
        return InputError(f"{what} was escalated to {last.to_handle} (tier {last.tier}) on {clock.show(last.at)};"
                          f" it is due again, to {step.to} (tier {step.tier}), after {clock.show(due)} ({after} since)")
    return InputError(f"{what} is not due for escalation yet: it becomes due after {clock.show(due)} ({after} past its deadline);"
                      f" it would go to {step.to} (tier {step.tier})")


def _record_escalation(c, team: read.Team, step, *, handoff_id: int | None = None, item_id: int | None = None,
                       reason: str | None, actor: str, meeting_id: int | None, now: datetime) -> int:
    # a handoff's escalation is one change of the handoff (its escalated_at) and this record;
    # the record's event is named for itself so that "handoff.escalate" stays the handoff's
    person = team.people.get(step.to)
    return c.insert("escalations", {
        "handoff_id": handoff_id, "item_id": item_id, "tier": step.tier, "to_handle": step.to,
        "to_name": person.name if person is not None else step.to, "at": clock.stamp(now), "by": actor,
        "reason": reason, "meeting_id": meeting_id,
    }, action="escalation.record" if handoff_id is not None else None)


def _handoff_step(store: Store, handoff_id: int, now: datetime):
    """``(team, step)`` for escalating the handoff now, or InputError saying why not."""
    h = _pending_handoff(store, handoff_id, "; nothing to escalate")
    if not rules.is_overdue(h, now):
        raise InputError(f"handoff {handoff_id} is not overdue (due {clock.show(h.due_at)}); nothing to escalate")
    team = read.team(store)
    past = read.escalations_of(store, handoff_ids=[handoff_id])
    wf = next((w for w in team.workflows if w.key == h.workflow), None)
    step = rules.escalation.handoff_escalation(h, wf, team.people, past, now, _local_day(now), team.settings)
    if step is None:
        nxt = rules.escalation.handoff_next(h, wf, team.people, past, _local_day(now))
        last = past[-1] if past else None
        if last is None and h.escalated_at is not None and nxt is not None:
            raise InputError(f"handoff {handoff_id} was already escalated on {clock.show(h.escalated_at)};"
                             f" it is due again, to {nxt.to} (tier {nxt.tier}), after"
                             f" {clock.show(rules.escalation.due_again_at(h.escalated_at, h.due_at, team.settings))}")
        raise _not_due(f"handoff {handoff_id}", h.due_at, last, now, team.settings, nxt)
    return team, step


def _item_step(store: Store, item_id: int, now: datetime):
    """``(team, step)`` for escalating the item now, or InputError saying why not."""
    it = _open_item(store, item_id, "escalated")
    team = read.team(store)
    stage = team.stage_map.get((it.workflow, it.stage))
    late_from = rules.escalation.item_late_from(it, stage)
    if late_from is None:
        raise InputError(f"item #{item_id} is in {it.workflow}/{it.stage}, which has no max_days;"
                         " only an item past its stage's max_days escalates (a late handoff: --handoff N)")
    if late_from >= now:
        raise InputError(f"item #{item_id} is not past its stage's max_days until {clock.show(late_from)};"
                         " nothing to escalate")
    past = rules.escalation.item_episode(it, read.escalations_of(store, item_ids=[item_id]))
    wf = next((w for w in team.workflows if w.key == it.workflow), None)
    step = rules.escalation.item_escalation(it, stage, wf, team.people, past, now, _local_day(now), team.settings)
    if step is None:
        nxt = rules.escalation.item_next(it, stage, wf, team.people, past, _local_day(now))
        raise _not_due(f"item #{item_id}", late_from, past[-1] if past else None, now, team.settings, nxt)
    return team, step


def escalation_refused(store: Store, *, handoff_id: int | None = None, item_id: int | None = None,
                       now: datetime | None = None) -> str | None:
    """Why escalating it now would be refused (one line), or None when it is due: for a
    screen to say so before asking for a note. The write decides again, inside itself."""
    try:
        if handoff_id is not None:
            _handoff_step(store, handoff_id, _now(now))
        else:
            _item_step(store, item_id, _now(now))
    except InputError as error:
        return str(error)
    return None


def escalate_handoff(store: Store, handoff_id: int, *, reason: str | None = None, actor: str,
                     meeting_id: int | None = None, now: datetime | None = None):
    """Escalate an overdue handoff to the next tier of its path (rules.escalation) and
    record it: tier, the person as they are now, who escalated and why. Refused, writing
    nothing, when it is not due. Returns the :class:`~opsweek.rules.escalation.Step`."""
    now = _now(now)
    reason = _text(reason, "reason")
    with store.change("handoff.escalate", actor=actor, meeting_id=meeting_id, reason=reason, at=now) as c:
        team, step = _handoff_step(store, handoff_id, now)
        c.update("handoffs", handoff_id, {"escalated_at": clock.stamp(now)})
        _record_escalation(c, team, step, handoff_id=handoff_id, reason=reason, actor=actor,
                           meeting_id=meeting_id, now=now)
        return step


def escalate_item(store: Store, item_id: int, *, reason: str | None = None, actor: str,
                  meeting_id: int | None = None, now: datetime | None = None):
    """Escalate an item stuck past its stage's ``max_days`` to the next tier of its path
    and record it. Refused, writing nothing, when it is not due. Returns the Step."""
    now = _now(now)
    reason = _text(reason, "reason")
    with store.change("item.escalate", actor=actor, meeting_id=meeting_id, reason=reason, at=now) as c:
        team, step = _item_step(store, item_id, now)
        _record_escalation(c, team, step, item_id=item_id, reason=reason, actor=actor, meeting_id=meeting_id,
                           now=now)
        return step


# --- ownership -----------------------------------------------------------------------
# ``team`` names the stages, workflows and people; whether the owner already is the one
# asked for is read again inside the write, where it cannot change underneath.


def set_stage_owner(store: Store, team: read.Team, workflow: str, stage: str, owner: str, *,
                    reason: str | None = None, actor: str, meeting_id: int | None = None) -> None:
    team.stage(workflow, stage)
    _person(team, owner)
    with store.change("stage.owner", actor=actor, meeting_id=meeting_id, reason=_text(reason, "reason")) as c:
        row = store.one("SELECT id, owner FROM stages WHERE workflow = ? AND key = ?", (workflow, stage))
        if row is None:
            raise NotFound(f"unknown stage of {workflow} {stage!r}")
        if row["owner"] == owner:
            raise InputError(f"stage {workflow}/{stage} is already owned by {owner}")
        c.update("stages", row["id"], {"owner": owner})
        _move_pending(c, store, workflow, stage, owner)


def _move_pending(c, store: Store, workflow: str, stage: str, owner: str) -> None:
    """A stage's pending handoffs wait on its new owner (receivers can accept), as edits
    of the same change."""
    for h in read.pending_into_stage(store, workflow, stage):
        if h.to_owner != owner:
            c.update("handoffs", h.id, {"to_owner": owner})


def set_workflow_owner(store: Store, team: read.Team, workflow: str, owner: str, *, reason: str | None = None,
                       actor: str, meeting_id: int | None = None) -> None:
    team.workflow(workflow)
    _person(team, owner)
    with store.change("workflow.owner", actor=actor, meeting_id=meeting_id, reason=_text(reason, "reason")) as c:
        if store.scalar("SELECT owner FROM workflows WHERE key = ?", (workflow,)) == owner:
            raise InputError(f"workflow {workflow} is already owned by {owner}")
        c.update("workflows", workflow, {"owner": owner})


def set_cover(store: Store, team: read.Team, handle: str, cover: str, *, reason: str | None = None,
              actor: str, meeting_id: int | None = None) -> None:
    team.person(handle)
    _person(team, cover, "cover")
    if handle == cover:
        raise InputError(f"{handle} cannot cover for themselves")
    with store.change("person.cover", actor=actor, meeting_id=meeting_id, reason=_text(reason, "reason")) as c:
        if store.scalar("SELECT cover FROM people WHERE handle = ?", (handle,)) == cover:
            raise InputError(f"{cover} already covers for {handle}")
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
        today = _local_day(now)
        rows = [{"meeting_id": meeting_id, "handle": handle,
                 "present": int(not rules.is_away(person, today, today) and not rules.is_away(person, first, last))}
                for handle, person in team.people.items() if person.active]
        # one statement for everyone (4,000 people at --scale 1000000, 8 sessions), each row
        # with its own event at the change's time and its JSON as Change.insert writes it
        c.insert_many("attendance", rows, at_of=lambda row: c.at)
    return meeting_id


def _meeting_open(store: Store, meeting_id: int):
    """The meeting, if it is still open (call it inside the change's transaction)."""
    m = read.meeting(store, meeting_id)
    if m.closed_at is not None:
        raise InputError(f"meeting {meeting_id} ({m.week}) is closed")
    return m


def set_attendance(store: Store, meeting_id: int, handle: str, present: bool, *, actor: str) -> None:
    with store.change("meeting.attendance", actor=actor, meeting_id=meeting_id) as c:
        _meeting_open(store, meeting_id)
        row_id = store.scalar("SELECT id FROM attendance WHERE meeting_id = ? AND handle = ?", (meeting_id, handle))
        if row_id is None:
            c.insert("attendance", {"meeting_id": meeting_id, "handle": handle, "present": int(present)})
        else:
            c.update("attendance", row_id, {"present": int(present)})


def set_step(store: Store, meeting_id: int, step: str, *, actor: str) -> None:
    if step not in STEP_KEYS:
        raise InputError(f"{step!r} is not a step (accepted: {', '.join(STEP_KEYS)})")
    with store.change("meeting.step", actor=actor, meeting_id=meeting_id) as c:
        _meeting_open(store, meeting_id)
        c.update("meetings", meeting_id, {"step": step})


def add_step_time(store: Store, meeting_id: int, step: str, seconds: int, *, actor: str) -> None:
    """Add time spent on a step (written when leaving the step, and on quit)."""
    if seconds <= 0:
        return
    with store.change("meeting.time", actor=actor, meeting_id=meeting_id) as c:
        # read inside the write: two windows adding time at once both count
        row = store.one("SELECT id, seconds FROM step_times WHERE meeting_id = ? AND step = ?", (meeting_id, step))
        if row is None:
            c.insert("step_times", {"meeting_id": meeting_id, "step": step, "seconds": int(seconds)})
        else:
            c.update("step_times", row["id"], {"seconds": row["seconds"] + int(seconds)})


def mark_reviewed(store: Store, meeting_id: int, workflows: list[str], *, actor: str,
                  now: datetime | None = None) -> None:
    """Record that the session looked at these workflows (the audit's rhythm layer)."""
    def reviewed() -> set[str]:
        return {r[0] for r in store.query("SELECT workflow FROM reviews WHERE meeting_id = ?", (meeting_id,))}

    # reviews are only ever added, so "all of them already" cannot turn false: no write needed
    if set(workflows) <= reviewed():
        return
    stamp = clock.stamp(_now(now))
    with store.change("meeting.review", actor=actor, meeting_id=meeting_id, at=now) as c:
        done = reviewed()  # again inside the write: another window may have added some since
        for workflow in workflows:
            if workflow not in done:
                done.add(workflow)
                c.insert("reviews", {"meeting_id": meeting_id, "workflow": workflow, "at": stamp})


def rate_meeting(store: Store, meeting_id: int, rating: int, *, actor: str) -> None:
    """The session's rating, a whole number 1–10 (see :func:`opsweek.inputs.check_rating`)."""
    rating = inputs.check_rating(rating)
    with store.change("meeting.rate", actor=actor, meeting_id=meeting_id) as c:
        _meeting_open(store, meeting_id)
        c.update("meetings", meeting_id, {"rating": rating})


def rate_as_attendee(store: Store, meeting_id: int, handle: str, rating: int, *, actor: str,
                     now: datetime | None = None) -> None:
    """``handle``'s own 1–10 rating of the session (absent people do not rate it); rating
    again replaces it. The meeting's rating is the average (:func:`read.meeting_rating`)."""
    rating = inputs.check_rating(rating)
    with store.change("meeting.rate_attendee", actor=actor, meeting_id=meeting_id, at=now) as c:
        _meeting_open(store, meeting_id)
        present = read.attendance(store, meeting_id)
        if handle not in present:
            raise InputError(f"{handle} is not on this session's attendance"
                             f" (accepted: {', '.join(sorted(h for h, here in present.items() if here))})")
        if not present[handle]:
            raise InputError(f"{handle} is absent from this session; only those present rate it")
        row = store.one("SELECT id, rating FROM ratings WHERE meeting_id = ? AND handle = ?", (meeting_id, handle))
        if row is None:
            c.insert("ratings", {"meeting_id": meeting_id, "handle": handle, "rating": rating, "at": c.at})
        elif row["rating"] == rating:
            raise InputError(f"{handle} already rated this session {rating}/10")
        else:
            c.update("ratings", row["id"], {"rating": rating, "at": c.at})


def close_meeting(store: Store, meeting_id: int, *, actor: str, now: datetime | None = None) -> None:
    with store.change("meeting.close", actor=actor, meeting_id=meeting_id, at=now) as c:
        _meeting_open(store, meeting_id)
        c.update("meetings", meeting_id, {"closed_at": clock.stamp(_now(now)), "step": "wrapup"})


# --- outcomes: what the session did about a row it reviewed -------------------------

# SPEC "Outcome", in its words
OUTCOMES = ("reassigned", "escalated", "unblocked", "handed off", "done", "dropped", "decision", "action",
            "kept as is")
# the agenda steps whose rows get an outcome
OUTCOME_STEPS = ("stuck", "handoffs", "gaps")


def _write_outcome(c, store: Store, outcome: Outcome, *, logged: bool) -> None:
    """The outcome row of change ``c`` (checked inside its write). ``logged``: with an audit
    event of its own (``k``, where the outcome is the whole change); otherwise the change
    that caused it is its record: the row names that change, and holds while it is live."""
    if outcome.outcome not in OUTCOMES:
        raise InputError(f"{outcome.outcome!r} is not an outcome (accepted: {', '.join(OUTCOMES)})")
    if outcome.step not in OUTCOME_STEPS:
        raise InputError(f"{outcome.step!r} is not a step whose rows get outcomes"
                         f" (accepted: {', '.join(OUTCOME_STEPS)})")
    _meeting_open(store, outcome.meeting_id)
    row = {"meeting_id": outcome.meeting_id, "change_id": c.id, "step": outcome.step, "subject": outcome.subject,
           "subject_id": str(outcome.subject_id), "outcome": outcome.outcome, "at": c.at}
    if logged:
        c.insert("outcomes", row)
    else:
        store.conn.execute(f"INSERT INTO outcomes ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                           list(row.values()))


def with_outcome(store: Store, outcome: Outcome, change, *args, **kwargs):
    """Make ``change(store, *args, **kwargs)`` and record ``outcome`` in the same transaction:
    both land or neither does, and an undo of the change takes its outcome with it."""
    store.also_in_change = [lambda c: _write_outcome(c, store, outcome, logged=False)]
    try:
        return change(store, *args, **kwargs)
    finally:
        store.also_in_change = []


def keep_as_is(store: Store, outcome: Outcome, *, actor: str, meeting_id: int | None = None,
               now: datetime | None = None) -> None:
    """The session looked at a row and leaves it as it is (SPEC: ``k`` keep as is)."""
    with store.change("meeting.outcome", actor=actor, meeting_id=outcome.meeting_id, at=now) as c:
        _write_outcome(c, store, outcome._replace(outcome="kept as is"), logged=True)


# --- decisions, actions, notes -------------------------------------------------------


def record_entry(store: Store, team: read.Team, kind: str, text: str, *, meeting_id: int | None,
                 owner: str | None = None, due: date | None = None, item_id: int | None = None,
                 workflow: str | None = None, actor: str, now: datetime | None = None) -> int:
    """Record a decision, action or note (into an open meeting, or between meetings with
    ``meeting_id`` None); an action needs an owner and is due in 7 days by default."""
    now = _now(now)
    if kind not in ("decision", "action", "note"):
        raise InputError(f"{kind!r} is not an entry kind (accepted: decision, action, note)")
    text = _text(text, "text", required=True)
    if kind == "action":
        owner = inputs.check_action_owner(owner)
        due = inputs.action_due(_local_day(now), due)
    if owner:
        _person(team, owner)
    if workflow:
        team.workflow(workflow)
    with store.change(f"entry.{kind}", actor=actor, meeting_id=meeting_id, at=now) as c:
        if meeting_id is not None:
            _meeting_open(store, meeting_id)
        if item_id is not None:
            it = read.item(store, item_id)
            if not workflow:
                workflow = it.workflow
                team.workflow(workflow)
        return c.insert("entries", {
            "meeting_id": meeting_id, "kind": kind, "text": text, "owner": owner,
            "due": due.isoformat() if due else None, "item_id": item_id, "workflow": workflow,
            "status": "open" if kind == "action" else None, "created_at": clock.stamp(now),
        })


def set_action_status(store: Store, entry_id: int, status: str, *, meeting_id: int | None, actor: str,
                      reason: str | None = None, now: datetime | None = None, only_open: bool = False) -> None:
    """Close (done / dropped) or reopen an action; with ``only_open``, only an open one
    (``opsweek action ID done|drop``: of two people closing it at once, one does)."""
    if status not in ("open", "done", "dropped"):
        raise InputError(f"{status!r} is not an action status (accepted: open, done, dropped)")
    closed = None if status == "open" else meeting_id
    with store.change(f"action.{status}", actor=actor, meeting_id=meeting_id, reason=_text(reason, "reason"),
                      at=now) as c:
        e = read.entry(store, entry_id)
        if e.kind != "action":
            raise InputError(f"entry {entry_id} is a {e.kind}, not an action")
        if e.status == status or (only_open and e.status != "open"):
            raise InputError(f"action {entry_id} is already {e.status}")
        c.update("entries", entry_id, {"status": status, "closed_meeting_id": closed})


def carry_action(store: Store, entry_id: int, *, meeting_id: int | None, actor: str,
                 due: date | None = None, now: datetime | None = None) -> None:
    """Carry an open action over to next week (new due date, by default 7 days out)."""
    due = inputs.action_due(_local_day(_now(now)), due)
    with store.change("action.carry", actor=actor, meeting_id=meeting_id, at=now) as c:
        e = read.entry(store, entry_id)
        if e.kind != "action" or e.status != "open":
            raise InputError(f"entry {entry_id} is not an open action")
        c.update("entries", entry_id, {"due": due.isoformat(), "closed_meeting_id": None})


def set_action_due(store: Store, entry_id: int, due: date, *, actor: str, reason: str | None = None,
                   meeting_id: int | None = None, now: datetime | None = None) -> None:
    """A new due date for an open action (between sessions too)."""
    with store.change("action.due", actor=actor, meeting_id=meeting_id, reason=_text(reason, "reason"), at=now) as c:
        e = read.entry(store, entry_id)
        if e.kind != "action" or e.status != "open":
            raise InputError(f"entry {entry_id} is not an open action"
                             + (f" (it is {e.status})" if e.kind == "action" else f" (it is a {e.kind})"))
        if e.due == due:
            raise InputError(f"action {entry_id} is already due {due.isoformat()}")
        c.update("entries", entry_id, {"due": due.isoformat()})


# --- raised issues (SPEC "Issue") ------------------------------------------------------


def raise_issue(store: Store, team: read.Team, text: str, *, item_id: int | None = None,
                workflow: str | None = None, actor: str, meeting_id: int | None = None,
                now: datetime | None = None) -> int:
    """An issue for the session to look at, raised by ``actor`` (anyone), about an item or a
    workflow or neither; during a session (``meeting_id``) or between sessions. Returns its id."""
    now = _now(now)
    if (text or "").strip() and not (clean_text(text) or "").strip():
        raise InputError("issue text holds nothing but terminal control characters (accepted: any printable text)")
    text = _text(text, "issue text", required=True)
    if item_id is not None and workflow:
        raise InputError("an issue is about an item or a workflow, not both (accepted: --item N or --workflow W)")
    if workflow:
        team.workflow(workflow)
    with store.change("issue.raise", actor=actor, meeting_id=meeting_id, at=now) as c:
        if meeting_id is not None:
            _meeting_open(store, meeting_id)
        if item_id is not None:
            read.item(store, item_id)
        return c.insert("issues", {
            "text": text, "raised_by": actor, "raised_at": clock.stamp(now), "meeting_id": meeting_id,
            "item_id": item_id, "workflow": workflow or None, "status": "open",
        })


def _session_issue(store: Store, issue_id: int, meeting_id: int | None, doing: str):
    """The issue, if it is still open (call it inside the change's transaction: of two
    windows solving it at once, the second finds the first one's solution here)."""
    found = read.issue(store, issue_id, meeting_id)
    if found.status != "open":
        how = f" (entry {found.entry_id})" if found.entry_id else f" ({found.reason})" if found.reason else ""
        raise InputError(f"issue {issue_id} is already {found.status}{how}; it cannot be {doing}")
    return found


def rank_issue(store: Store, meeting_id: int, issue_id: int, rank: int | None = None, *, actor: str,
               now: datetime | None = None) -> int:
    """Put an open issue into the session's top 3, at ``rank`` (1–3) or, without one, at
    the first free place; returns the rank. A place another issue holds is refused."""
    if rank is not None:
        rank = inputs.check_issue_rank(rank)
    with store.change("issue.rank", actor=actor, meeting_id=meeting_id, at=now) as c:
        _meeting_open(store, meeting_id)
        found = _session_issue(store, issue_id, meeting_id, "ranked")
        ranks = read.issue_ranks(store, meeting_id)
        if found.rank is not None and (rank is None or rank == found.rank):
            raise InputError(f"issue {issue_id} is already ranked {found.rank} in this session")
        if rank is None:
            free = [n for n in range(1, inputs.ISSUE_TOP + 1) if n not in ranks]
            if not free:
                raise InputError(f"the top {inputs.ISSUE_TOP} is full (issues "
                                 f"{', '.join(str(ranks[n]) for n in sorted(ranks))}); take one out first")
            rank = free[0]
        elif rank in ranks:
            raise InputError(f"rank {rank} is issue {ranks[rank]}'s; take it out of the top {inputs.ISSUE_TOP} first")
        if found.rank is not None:
            row_id = store.scalar("SELECT id FROM issue_ranks WHERE meeting_id = ? AND issue_id = ?",
                                  (meeting_id, issue_id))
            c.update("issue_ranks", row_id, {"rank": rank})
        else:
            c.insert("issue_ranks", {"meeting_id": meeting_id, "issue_id": issue_id, "rank": rank})
        return rank


def unrank_issue(store: Store, meeting_id: int, issue_id: int, *, actor: str, now: datetime | None = None) -> int:
    """Take an issue out of the session's top 3; returns the rank it had."""
    with store.change("issue.unrank", actor=actor, meeting_id=meeting_id, at=now) as c:
        _meeting_open(store, meeting_id)
        row = store.one("SELECT id, rank FROM issue_ranks WHERE meeting_id = ? AND issue_id = ?",
                        (meeting_id, issue_id))
        if row is None:
            read.issue(store, issue_id)  # an unknown issue says so
            raise InputError(f"issue {issue_id} is not in this session's top {inputs.ISSUE_TOP}")
        c.delete("issue_ranks", row["id"])
        return row["rank"]


def solve_issue(store: Store, team: read.Team, issue_id: int, kind: str, text: str, *,
                owner: str | None = None, due: date | None = None, meeting_id: int | None, actor: str,
                now: datetime | None = None) -> int:
    """Solve an open issue by a decision or an action: the entry is recorded (about the
    issue's item or workflow; an action needs an owner and is due in 7 days by default) and
    the issue names it, in one change. Returns the entry's id."""
    now = _now(now)
    if kind not in ("decision", "action"):
        raise InputError(f"{kind!r} does not solve an issue (accepted: decision, action)")
    text = _text(text, "text", required=True)
    if kind == "action":
        owner = inputs.check_action_owner(owner)
        due = inputs.action_due(_local_day(now), due)
    if owner:
        _person(team, owner)
    stamp = clock.stamp(now)
    with store.change("issue.solve", actor=actor, meeting_id=meeting_id, at=now) as c:
        if meeting_id is not None:
            _meeting_open(store, meeting_id)
        found = _session_issue(store, issue_id, meeting_id, "solved")
        workflow = found.workflow
        if found.item_id is not None and not workflow:
            workflow = read.item(store, found.item_id).workflow
        entry_id = c.insert("entries", {
            "meeting_id": meeting_id, "kind": kind, "text": text, "owner": owner,
            "due": due.isoformat() if due else None, "item_id": found.item_id, "workflow": workflow,
            "status": "open" if kind == "action" else None, "created_at": stamp,
        })
        c.update("issues", issue_id, {"status": "solved", "entry_id": entry_id, "closed_meeting_id": meeting_id,
                                      "closed_at": stamp})
        return entry_id


def drop_issue(store: Store, issue_id: int, reason: str, *, meeting_id: int | None, actor: str,
               now: datetime | None = None) -> None:
    """Drop an open issue, saying why (the team will not act on it)."""
    reason = inputs.check_issue_drop_reason(reason)
    with store.change("issue.drop", actor=actor, meeting_id=meeting_id, reason=reason, at=now) as c:
        if meeting_id is not None:
            _meeting_open(store, meeting_id)
        _session_issue(store, issue_id, meeting_id, "dropped")
        c.update("issues", issue_id, {"status": "dropped", "reason": reason, "closed_meeting_id": meeting_id,
                                      "closed_at": clock.stamp(_now(now))})


# --- undo ----------------------------------------------------------------------------


def undo_last(store: Store, *, actor: str, meeting_id: int | None = None,
              mine_only: bool = True) -> history.ChangeRecord:
    """Revert the latest change in effect (``actor``'s own with ``mine_only``, else anyone's)
    that is not bookkeeping, recording the undo as a change of its own; returns the change
    reverted. Repeated calls walk further back (an undo is never itself the one reverted).
    Refuses, changing nothing, when a row it would restore was changed since by a later change.
    """
    target = history.latest_undoable(store, actor=actor if mine_only else None, skip=BOOKKEEPING)
    if target is None:
        raise InputError(f"nothing of {actor}'s to undo" if mine_only else "nothing to undo")
    words = history.describe_change(store, target)
    try:
        with store.change("undo", actor=actor, meeting_id=meeting_id, undoes=target.id,
                          reason=f"undid: {words} ({history.when(target.at)})") as c:
            for edit in reversed(target.edits):
                _check_unchanged(store, edit, words)
                if edit.before is None:      # it was an insert: remove the row
                    c.delete(edit.entity, edit.key)
                elif edit.after is None:     # it was a delete: put the row back
                    c.insert(edit.entity, edit.before)
                else:
                    c.update(edit.entity, edit.key, edit.before)
    except sqlite3.IntegrityError:
        # e.g. undoing "add item" after the item was handed off: later rows depend on it
        raise InputError(f"cannot undo ({words}): later changes depend on it; nothing undone") from None
    return target


def undo(store: Store, *, actor: str, meeting_id: int | None = None, mine_only: bool = True) -> str:
    """:func:`undo_last`, returning one line saying what was undone, in words as the TUI
    and the wrap-up say it ("undid: blocked #13 — waiting on legal (change 38)"): what it
    had done, its reason, by whom if not ``actor``, and the change's number (``opsweek
    log`` lists it, with the action's name for scripts)."""
    target = undo_last(store, actor=actor, meeting_id=meeting_id, mine_only=mine_only)
    by = "" if target.actor == actor else f" by {target.actor}"
    why = f" — {one_line(target.reason)}" if target.reason and target.undoes is None else ""
    return f"undid: {history.describe_change(store, target)}{why}{by} (change {target.id})"


def _check_unchanged(store: Store, edit: history.Edit, words: str) -> None:
    """The row must still be as ``edit`` left it; otherwise name who changed it since."""
    if history.still_as_left(store, edit):
        return
    later = history.later_edit(store, edit)
    who = ""
    if later is not None:
        who = (f" by {later.actor} ({history.describe(store, later.change_id)},"
               f" {history.when(later.at)})")
    raise InputError(f"cannot undo ({words}): {_label(edit)} was changed since{who}; nothing undone")


def _label(edit) -> str:
    names = {"items": "item #", "handoffs": "handoff ", "entries": "entry ", "meetings": "meeting ",
             "people": "person ", "workflows": "workflow ", "stages": "stage ", "issues": "issue "}
    return f"{names.get(edit.entity, edit.entity + ' ')}{edit.entity_id}"


# --- the team and the system: people, away periods, workflows, stages, settings --------
# (issue 11) Each function reads what decides it inside its own write, names unknown
# people, workflows and stages with their near matches, and records one change.

KEEP = object()  # "not given" for the ``*_set`` functions below; None clears a field
AFTER_FIRST = ""  # ``after=AFTER_FIRST`` moves a stage to the front


def handle_of(text: str | None) -> str:
    """A handle as typed, made canonical: handles are case-insensitive on input."""
    return (text or "").strip(" ").lower()  # a newline or tab is not part of any handle: refused


def _known_person(team: read.Team, handle: str, field: str) -> str:
    if handle not in team.people:
        raise NotFound(f"{field}: " + unknown("person", handle, team.people))
    return handle


def _active_person(team: read.Team, handle: str, field: str) -> str:
    _known_person(team, handle, field)
    if not team.people[handle].active:
        raise InputError(f"{field}: {handle} is inactive (accepted: an active person's handle)")
    return handle


def _cover_of(team: read.Team, handle: str, cover: str | None) -> str | None:
    if cover is None:
        return None
    cover = handle_of(cover)
    if cover == handle:
        raise InputError(f"--cover: {handle} cannot cover for themselves (accepted: someone else's handle)")
    return _active_person(team, cover, "--cover")


def _slug_of(text: str, what: str) -> str:
    value = (text or "").strip().lower()
    if not is_slug(value):
        raise InputError(f"{what} {text!r} is not a slug (accepted: lowercase letters, digits, - and _,"
                         " like 'ana' or 'client-delivery')")
    return value


def _no_change(what: str) -> InputError:
    return InputError(f"{what} already has those values; nothing changed")


def add_person(store: Store, handle: str, name: str, *, role: str | None = None, cover: str | None = None,
               actor: str, reason: str | None = None, meeting_id: int | None = None) -> str:
    """A new, active person on the team; returns their handle."""
    handle = _slug_of(handle, "handle")
    name = _text(name, "--name", required=True)
    with store.change("person.add", actor=actor, reason=_text(reason, "reason"), meeting_id=meeting_id) as c:
        team = read.team(store)
        if handle in team.people:
            raise InputError(f"{handle} is already on the team (change them with: opsweek person set {handle})")
        c.insert("people", {"handle": handle, "name": name, "role": _text(role, "--role") or "",
                            "cover": _cover_of(team, handle, cover), "active": 1})
    return handle


def update_person(store: Store, handle: str, *, name=KEEP, role=KEEP, cover=KEEP, active=KEEP, actor: str,
                  reason: str | None = None, meeting_id: int | None = None) -> dict:
    """Change a person's name, role, cover (None: no cover) or active flag; returns what changed."""
    handle = handle_of(handle)
    wanted: dict = {}
    if name is not KEEP:
        wanted["name"] = _text(name, "--name", required=True)
    if role is not KEEP:
        wanted["role"] = _text(role, "--role") or ""
    if active is not KEEP:
        wanted["active"] = int(bool(active))
    if not wanted and cover is KEEP:
        raise InputError("nothing to change (accepted: --name, --role, --cover, --active)")
    with store.change("person.set", actor=actor, reason=_text(reason, "reason"), meeting_id=meeting_id) as c:
        team = read.team(store)
        _known_person(team, handle, "person")
        if cover is not KEEP:
            wanted["cover"] = _cover_of(team, handle, cover)
        changed = c.update("people", handle, wanted)
        if not changed:
            raise _no_change(f"person {handle}")
    return changed


def _away_rows(store: Store, handle: str) -> list:
    return [(r["id"], date.fromisoformat(r["start"]), date.fromisoformat(r["end"])) for r in
            store.query("SELECT id, start, end FROM away WHERE handle = ? ORDER BY start, id", (handle,))]


def add_away(store: Store, handle: str, start: date, end: date | None = None, *, actor: str,
             reason: str | None = None, meeting_id: int | None = None) -> tuple[date, date]:
    """Mark someone away from ``start`` to ``end`` (inclusive; None: until they are back).

    Periods that overlap or touch the new one merge with it; returns the merged period.
    """
    from datetime import timedelta

    handle = handle_of(handle)
    start, end = inputs.check_away_period(start, end)
    with store.change("person.away", actor=actor, reason=_text(reason, "reason"), meeting_id=meeting_id) as c:
        team = read.team(store)
        _known_person(team, handle, "person")
        one = timedelta(days=1)
        # touching counts: 1–5 Dec and 6–8 Dec are one absence
        touching = [row for row in _away_rows(store, handle)
                    if row[1] - one <= end and start - one <= row[2]]
        merged = (min([start, *(r[1] for r in touching)]), max([end, *(r[2] for r in touching)]))
        if any((r[1], r[2]) == merged for r in touching) and len(touching) == 1:
            raise InputError(f"{handle} is already away {inputs.away_text(*merged)}; nothing changed")
        if touching:
            keep, *rest = touching
            for row in rest:
                c.delete("away", row[0])
            c.update("away", keep[0], {"start": merged[0].isoformat(), "end": merged[1].isoformat()})
        else:
            c.insert("away", {"handle": handle, "start": merged[0].isoformat(), "end": merged[1].isoformat()})
    return merged


def end_away(store: Store, handle: str, *, today: date, actor: str, reason: str | None = None,
             meeting_id: int | None = None) -> tuple[date, date] | None:
    """``back``: the away period covering ``today`` ends, so they are not away today.

    Returns the period as it now stands (None when it began today and so is removed).
    """
    from datetime import timedelta

    handle = handle_of(handle)
    with store.change("person.back", actor=actor, reason=_text(reason, "reason"), meeting_id=meeting_id) as c:
        team = read.team(store)
        _known_person(team, handle, "person")
        current = [row for row in _away_rows(store, handle) if row[1] <= today <= row[2]]
        if not current:
            later = [row for row in _away_rows(store, handle) if row[1] > today]
            nxt = f" (next away: {inputs.away_text(later[0][1], later[0][2])})" if later else ""
            raise InputError(f"{handle} is not away today{nxt}; nothing changed")
        row_id, start, _ = current[0]
        if start == today:
            c.delete("away", row_id)
            return None
        c.update("away", row_id, {"end": (today - timedelta(days=1)).isoformat()})
        return start, today - timedelta(days=1)


WORKFLOW_STATUSES = ("active", "paused", "retired")


def add_workflow(store: Store, key: str, name: str, *, owner: str, trigger: str | None = None,
                 outcome: str | None = None, actor: str, reason: str | None = None,
                 meeting_id: int | None = None) -> str:
    """A new active workflow (no stages yet: add them with :func:`add_stage`)."""
    key = _slug_of(key, "workflow key")
    name = _text(name, "--name", required=True)
    owner = handle_of(owner)
    with store.change("workflow.add", actor=actor, reason=_text(reason, "reason"), meeting_id=meeting_id) as c:
        team = read.team(store)
        if any(wf.key == key for wf in team.workflows):
            raise InputError(f"workflow {key} already exists (change it with: opsweek workflow set {key})")
        c.insert("workflows", {"key": key, "name": name, "outcome": _text(outcome, "--outcome") or "",
                               "owner": _active_person(team, owner, "--owner"),
                               "trigger": _text(trigger, "--trigger") or "", "status": "active"})
    return key


def update_workflow(store: Store, key: str, *, name=KEEP, owner=KEEP, trigger=KEEP, outcome=KEEP, status=KEEP,
                    actor: str, reason: str | None = None, meeting_id: int | None = None) -> dict:
    """Change a workflow's name, owner (None: nobody), trigger, outcome or status."""
    wanted: dict = {}
    if name is not KEEP:
        wanted["name"] = _text(name, "--name", required=True)
    if trigger is not KEEP:
        wanted["trigger"] = _text(trigger, "--trigger") or ""
    if outcome is not KEEP:
        wanted["outcome"] = _text(outcome, "--outcome") or ""
    if status is not KEEP:
        if status not in WORKFLOW_STATUSES:
            raise InputError(f"--status: {status!r} is not a status (accepted: {', '.join(WORKFLOW_STATUSES)})")
        wanted["status"] = status
    if not wanted and owner is KEEP:
        raise InputError("nothing to change (accepted: --name, --owner, --trigger, --outcome, --status)")
    with store.change("workflow.set", actor=actor, reason=_text(reason, "reason"), meeting_id=meeting_id) as c:
        team = read.team(store)
        team.workflow(key)
        if owner is not KEEP:
            wanted["owner"] = None if owner is None else _active_person(team, handle_of(owner), "--owner")
        changed = c.update("workflows", key, wanted)
        if not changed:
            raise _no_change(f"workflow {key}")
    return changed


def _stage_fields(team: read.Team, *, name=KEEP, owner=KEEP, sop=KEEP, max_days=KEEP, handoff_sla=KEEP) -> dict:
    wanted: dict = {}
    if name is not KEEP:
        wanted["name"] = _text(name, "--name", required=True)
    if owner is not KEEP:
        wanted["owner"] = None if owner is None else _active_person(team, handle_of(owner), "--owner")
    if sop is not KEEP:
        wanted["sop"] = _text(sop, "--sop")
    if max_days is not KEEP:
        wanted["max_days"] = None if max_days is None else inputs.check_max_days(max_days)
    if handoff_sla is not KEEP:
        wanted["handoff_sla"] = None if handoff_sla is None else inputs.check_duration(handoff_sla, "--handoff-sla")
    return wanted


def _stage_order(store: Store, workflow: str) -> list:
    return store.query("SELECT id, key, position FROM stages WHERE workflow = ? ORDER BY position, id", (workflow,))


def _place(c, store: Store, team: read.Team, workflow: str, key: str, after: str | None) -> None:
    """Put stage ``key`` right after ``after`` (AFTER_FIRST: first; None: last) and number
    the workflow's stages 1, 2, 3… in that order."""
    rows = _stage_order(store, workflow)
    keys = [r["key"] for r in rows if r["key"] != key]
    if after is None:
        keys.append(key)
    elif after == AFTER_FIRST:
        keys.insert(0, key)
    else:
        if after == key:
            raise InputError(f"--after: a stage cannot come after itself ({workflow}/{key})")
        if after not in keys:
            raise NotFound("--after: " + unknown(f"stage of {workflow}", after, keys))
        keys.insert(keys.index(after) + 1, key)
    ids = {r["key"]: (r["id"], r["position"]) for r in rows}
    for position, stage_key in enumerate(keys, start=1):
        row_id, current = ids[stage_key]
        if current != position:
            c.update("stages", row_id, {"position": position})


def _workflow_of(team: read.Team, workflow: str):
    wf = team.workflow(workflow)
    if wf.status == "retired":
        raise InputError(f"workflow {workflow} is retired (make it active first: opsweek workflow set {workflow}"
                         " --status active)")
    return wf


def add_stage(store: Store, workflow: str, key: str, name: str, *, after: str | None = None, owner=None,
              sop=None, max_days=None, handoff_sla=None, actor: str, reason: str | None = None,
              meeting_id: int | None = None) -> int:
    """A new stage of ``workflow``, last or right ``after`` a stage; returns its id."""
    key = _slug_of(key, "stage key")
    with store.change("stage.add", actor=actor, reason=_text(reason, "reason"), meeting_id=meeting_id) as c:
        team = read.team(store)
        _workflow_of(team, workflow)
        if (workflow, key) in team.stage_map:
            raise InputError(f"stage {workflow}/{key} already exists (change it with: opsweek stage set"
                             f" {workflow}/{key})")
        fields = _stage_fields(team, name=name, owner=owner, sop=sop, max_days=max_days, handoff_sla=handoff_sla)
        if after not in (None, AFTER_FIRST):
            after = after.strip().lower()
        position = (store.scalar("SELECT max(position) FROM stages WHERE workflow = ?", (workflow,)) or 0) + 1
        if after == AFTER_FIRST:
            position = 1
        elif after is not None and (workflow, after) in team.stage_map:
            position = team.stage_map[(workflow, after)].position + 1
        # inserted at its place, so only the stages after it move down
        stage_id = c.insert("stages", {"workflow": workflow, "key": key, "position": position, "owner": None,
                                       "sop": None, "max_days": None, "handoff_sla": None, **fields})
        if after is not None:
            _place(c, store, team, workflow, key, after)
    return stage_id


def update_stage(store: Store, workflow: str, key: str, *, name=KEEP, after=KEEP, owner=KEEP, sop=KEEP,
                 max_days=KEEP, handoff_sla=KEEP, actor: str, reason: str | None = None,
                 meeting_id: int | None = None) -> dict:
    """Change a stage: name, place (``after``), owner, SOP, max days, handoff SLA (None clears).

    A new owner gets the stage's future work; say why with ``reason`` (as for an item).
    Returns the fields that changed.
    """
    key = (key or "").strip().lower()
    given = [v for v in (name, after, owner, sop, max_days, handoff_sla) if v is not KEEP]
    if not given:
        raise InputError("nothing to change (accepted: --name, --after, --owner, --sop, --max-days, --handoff-sla)")
    with store.change("stage.set", actor=actor, reason=_text(reason, "reason"), meeting_id=meeting_id) as c:
        team = read.team(store)
        team.workflow(workflow)
        stage = team.stage(workflow, key)
        fields = _stage_fields(team, name=name, owner=owner, sop=sop, max_days=max_days, handoff_sla=handoff_sla)
        row_id = store.scalar("SELECT id FROM stages WHERE workflow = ? AND key = ?", (workflow, key))
        changed = c.update("stages", row_id, fields) if fields else {}
        if changed.get("owner"):
            _move_pending(c, store, workflow, key, changed["owner"])
        if after is not KEEP:
            before = c.events
            _place(c, store, team, workflow, key, after if after in (None, AFTER_FIRST) else after.strip().lower())
            if c.events != before:
                changed["position"] = store.scalar("SELECT position FROM stages WHERE id = ?", (row_id,))
        if not changed:
            raise _no_change(f"stage {workflow}/{stage.key}")
    return changed


def set_setting(store: Store, key: str, value: str, *, actor: str, meeting_id: int | None = None) -> str:
    """Set one setting (``inputs.SETTINGS`` lists the keys and their rules); returns the stored value."""
    key = (key or "").strip().lower()
    if key not in inputs.SETTINGS:
        from opsweek.text import near_matches

        close = near_matches(key, inputs.SETTINGS)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise InputError(f"unknown setting {key!r}{hint} (accepted: {', '.join(inputs.SETTINGS)})")
    with store.change("setting.set", actor=actor, meeting_id=meeting_id) as c:
        stored = store.scalar("SELECT value FROM settings WHERE key = ?", (key,))
        new = inputs.SETTINGS[key](value, stored)
        current = stored if stored is not None else rules.DEFAULT_SETTINGS.get(key)
        if new == current or (stored is None and key == "step_minutes" and new == "{}"):
            raise InputError(f"{key} is already {new}; nothing changed")
        if stored is None:
            c.insert("settings", {"key": key, "value": new})
        else:
            c.update("settings", key, {"value": new})
    return new
