"""``opsweek ics [-o FILE] [--everyone]``: an RFC 5545 calendar of my deadlines.

Events: each handoff waiting for me to accept, at its due time (a 15-minute event, so a
calendar shows it as a moment), and each open action of mine on its due date (an
all-day event). ``--everyone`` gives the team calendar: every pending handoff and every
open action, each scheduled occurrence of the next 60 days and each weekly session (the
``meeting`` setting).

Calendar apps update an event instead of adding a copy when its ``UID`` stays the same
and its ``SEQUENCE`` / ``LAST-MODIFIED`` move on: the UID is derived from the kind, the
row's id and the database's identity (its first audit event, see
``read.database_identity``), so two runs, or two people's calendars from the same
database, agree; SEQUENCE counts the row's changes in the audit log and LAST-MODIFIED
(and DTSTAMP) is its latest, so the same database gives the same bytes. ``-o FILE`` is
written atomically (temp file in the same directory, then a rename), so a web server or
a synced folder never serves half a file.
"""

from __future__ import annotations

import hashlib
import sys
from datetime import timedelta

from opsweek import clock
from opsweek.store import read
from opsweek.text import one_line

EVENT_MINUTES = 15
PRODID = "-//opsweek//opsweek calendar//EN"


HORIZON_DAYS = 60  # how far ahead scheduled occurrences and sessions are listed


def _uid(identity: str, kind: str, key) -> str:
    digest = hashlib.sha256(f"{identity}|{kind}|{key}".encode("utf-8")).hexdigest()[:24]
    return f"{kind}-{key}-{digest}@opsweek"


def build(store, me: str | None, now) -> bytes:
    """The calendar as bytes: ``me``'s deadlines, or everyone's when ``me`` is None."""
    from icalendar import Calendar, Event

    team = read.team(store)
    handoffs = read.pending_handoffs(store) if me is None else read.pending_handoffs_to(store, me)
    actions = read.open_actions(store, me)
    identity = read.database_identity(store) or str(store.path)
    handoff_versions = read.row_versions(store, "handoffs", [h.id for h in handoffs])
    action_versions = read.row_versions(store, "entries", [a.id for a in actions])

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "opsweek: the team" if me is None else f"opsweek: {me}")
    events = []
    for h in handoffs:
        stage = team.stage_map.get((h.workflow, h.to_stage))
        ev = Event()
        ev.add("uid", _uid(identity, "handoff", h.id))
        ev.add("summary", one_line(f"Accept handoff {h.id}: #{h.item_id} {h.title or ''}"
                                   + ("" if me else f" ({h.to_owner or 'nobody'})")))
        ev.add("dtstart", h.due_at)
        ev.add("dtend", h.due_at + timedelta(minutes=EVENT_MINUTES))
        lines = [f"From {h.from_owner or 'nobody'} ({h.from_stage}) to {h.to_owner or 'nobody'}"
                 f" ({h.workflow}/{h.to_stage}); due {clock.show(h.due_at)}.",
                 f"Accept with: opsweek accept {h.id}"]
        if stage is not None and stage.sop:
            lines.append(f"SOP: {stage.sop}")
        if h.note:
            lines.append(f"Note: {h.note}")
        ev.add("description", "\n".join(one_line(line) for line in lines))
        ev.add("categories", ["opsweek", "handoff"])
        events.append((ev, handoff_versions.get(str(h.id)), h.sent_at))
    for a in actions:
        if a.due is None:
            continue
        ev = Event()
        ev.add("uid", _uid(identity, "action", a.id))
        ev.add("summary", one_line(f"Action {a.id} due: {a.text}" + ("" if me else f" ({a.owner})")))
        ev.add("dtstart", a.due)
        ev.add("dtend", a.due + timedelta(days=1))
        where = f" (#{a.item_id})" if a.item_id else (f" ({a.workflow})" if a.workflow else "")
        ev.add("description", one_line(f"Owner {a.owner}{where}; recorded in the session of"
                                       f" {a.week or 'no session'}."))
        ev.add("categories", ["opsweek", "action"])
        events.append((ev, action_versions.get(str(a.id)), a.created_at))
    _add_rhythm(store, team, me, now, identity, events)
    for ev, version, created in events:
        sequence, changed = version if version else (0, created)
        changed = changed or now
        ev.add("sequence", sequence)
        ev.add("last-modified", changed)
        ev.add("dtstamp", changed)  # no time of its own: the same database, the same bytes
    for ev, _, _ in sorted(events, key=lambda e: str(e[0]["uid"])):
        cal.add_component(ev)
    return cal.to_ical()


def _add_rhythm(store, team, me: str | None, now, identity: str, events: list) -> None:
    """Scheduled occurrences of the next 60 days (mine: those that open for me) and the
    weekly sessions (the ``meeting`` setting), each with a UID of its own occurrence."""
    from icalendar import Event

    from opsweek import schedule
    from opsweek.store import recurring

    horizon = now + timedelta(days=HORIZON_DAYS)
    plans = recurring.schedules(store)
    versions = read.row_versions(store, "recurring", [p.id for p in plans])
    for plan in plans:
        first = (team.stages_by_workflow.get(plan.workflow) or [None])[0]
        owner = plan.owner or (first.owner if first else None)
        if me is not None and owner != me:
            continue
        for at in schedule.occurrences(plan.rrule, plan.created_at, max(plan.seen_until, now), horizon):
            ev = Event()
            ev.add("uid", _uid(identity, f"opens-{plan.id}", clock.stamp(at)))
            ev.add("summary", one_line(f"Opens in {plan.workflow}: {schedule.title_for(plan.title, at)}"
                                       + ("" if me else f" ({owner or 'nobody'})")))
            ev.add("dtstart", at)
            ev.add("dtend", at + timedelta(minutes=EVENT_MINUTES))
            ev.add("description", one_line(f"Recurring work {plan.workflow}/{plan.key} ({plan.schedule})"
                                           " opens an item at this time."))
            ev.add("categories", ["opsweek", "scheduled"])
            events.append((ev, versions.get(str(plan.id)), plan.created_at))
    meeting = read.row_versions(store, "settings", ["meeting"]).get("meeting")
    for at in recurring.sessions(store, now, HORIZON_DAYS):
        ev = Event()
        ev.add("uid", _uid(identity, "session", clock.stamp(at)))
        ev.add("summary", f"opsweek weekly session {clock.iso_week(at)}")
        ev.add("dtstart", at)
        ev.add("dtend", at + timedelta(hours=1))
        ev.add("description", "The team's weekly session: opsweek meeting")
        ev.add("categories", ["opsweek", "session"])
        events.append((ev, meeting, None))


def ics(ctx) -> int:
    """``opsweek ics [-o FILE] [--everyone]``."""
    me = None if ctx.args.everyone else ctx.require_me()
    now = clock.now()
    store = ctx.open_store()
    try:
        if me is not None:
            read.team(store).person(me)  # an unknown --me is an error, not an empty calendar
        data = build(store, me, now)
    finally:
        store.close()
    if ctx.args.output:
        from opsweek.notes import write_atomic

        path = write_atomic(ctx.args.output, data.decode("utf-8"))
        print(f"wrote {path}", file=sys.stderr)
        return 0
    sys.stdout.buffer.write(data)
    return 0
