"""Meeting notes: what leaves the room, as Markdown and as JSON.

:func:`meeting_notes` gathers one session into plain data (what was recorded, and the
session's audit events: a reassignment in the notes *is* the event, not retyped text);
:func:`to_markdown` and :func:`to_json` render that same data. The same database gives
the same bytes: rows are ordered, dates are ISO, and nothing depends on the time of the
export, only on the meeting. Times in the Markdown are local (the header names the UTC
offset); the JSON holds UTC stamps.

"Stuck items reviewed", "Overdue handoffs reviewed", "Ownership gaps" and the carried
actions are the state *as the session found it*: the current rows, rewound through the
audit events written since the meeting started. So an item unblocked or finished during
the session is still listed as reviewed, and an item opened after it is not.

No Textual here: the CLI (``opsweek export``) and the TUI's wrap-up both call this.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path

from opsweek import clock, rules
from opsweek.agenda import STEPS
from opsweek.errors import InputError, NotFound
from opsweek.model import Away
from opsweek.store import history, read
from opsweek.store.db import Store
from opsweek.text import clean_text

SCHEMA_VERSION = 1
LIST_CAP = 50  # rows per reviewed list; the rest is counted ("and N more")

# Audit actions that change who owns something, and how to read them.
_OWNERSHIP_ACTIONS = {
    "item.reassign": "owner",
    "handoff.reassign": "to_owner",
    "stage.owner": "owner",
    "workflow.owner": "owner",
    "person.cover": "cover",
}


# --- escaping ------------------------------------------------------------------------

_INLINE = str.maketrans({
    "\\": "\\\\", "`": "\\`", "*": "\\*", "_": "\\_", "~": "\\~", "[": "\\[", "]": "\\]",
    "|": "\\|", "&": "&amp;", "<": "&lt;", ">": "&gt;",
})
_LEADING = re.compile(r"^(?:([#+=-])|(\d+)([.)]))")


def md(text) -> str:
    """User text made inert for Markdown (CommonMark + GFM), on one line.

    Folds every line break and run of whitespace into one space (so it cannot break a
    table row or start a new block, nor become an indented code block); backslash-escapes
    ``\\ ` * _ ~ [ ] |`` (no code spans, emphasis, links or table cells); writes
    ``& < >`` as entities (no raw HTML, no entity tricks); and escapes what would start a
    block at the beginning of a line: ``#`` heading, ``-`` ``+`` list or rule, ``=``
    setext underline, ``1.`` / ``1)`` ordered list (``*`` and ``>`` are already escaped).
    Terminal control characters are removed. Safe anywhere in a line, a cell or a list item.
    """
    if text is None:
        return ""
    folded = " ".join((clean_text(str(text)) or "").split())
    escaped = folded.translate(_INLINE)
    return _LEADING.sub(lambda m: "\\" + m[1] if m[1] else m[2] + "\\" + m[3], escaped, count=1)


# --- finding the meeting -------------------------------------------------------------

_WEEK = re.compile(r"^\d{4}-W\d{2}$")


def find_meeting(store: Store, which: str | int | None = "latest"):
    """The meeting named ``latest`` (default), by id (``3``), or by ISO week (``2026-W47``,
    the latest session of that week). Raises NotFound / InputError with one line."""
    spec = str(which if which is not None else "latest").strip()
    if spec.lower() == "latest":
        found = read.latest_meeting(store)
        if found is None:
            raise NotFound("no meetings yet (run one with 'opsweek meeting')")
        return found
    if spec.isascii() and spec.isdigit():
        if len(spec) > 18:  # past any id SQLite can hold (2^63); "٣" is not a digit here either
            raise NotFound(f"no meeting {spec[:20]}… (accepted: latest, a meeting number like 3)")
        return read.meeting(store, int(spec))
    if _WEEK.match(spec.upper()):
        week = spec.upper()
        clock.week_bounds(week)
        sessions = read.week_meetings(store, week)
        if not sessions:
            weeks = [r[0] for r in store.query("SELECT DISTINCT week FROM meetings ORDER BY week DESC LIMIT 5")]
            hint = f" (meetings exist for: {', '.join(weeks)})" if weeks else " (there are no meetings yet)"
            raise NotFound(f"no meeting in {week}{hint}")
        return sessions[-1]
    raise InputError(f"{spec!r} is not a meeting (accepted: latest, a meeting number like 3, "
                     "or an ISO week like 2026-W47)")


# --- the state as the meeting found it ------------------------------------------------


def _team_at(store: Store, since_id: int) -> read.Team:
    """The team (settings, people and away periods, workflows, stages) as it was before event ``since_id``."""

    def then(table: str) -> dict:
        return history.table_as_of(store, table, since_id=since_id)

    settings = dict(rules.DEFAULT_SETTINGS)
    settings.update({k: r["value"] for k, r in then("settings").items()})
    away: dict[str, list] = {}
    for row in sorted(then("away").values(), key=lambda r: (r["handle"], r["start"])):
        away.setdefault(row["handle"], []).append(
            Away.model_construct(start=date.fromisoformat(row["start"]), end=date.fromisoformat(row["end"])))
    people = {h: read.person_from(r, away.get(h, [])) for h, r in sorted(then("people").items())}
    workflows = [read.workflow_from(r) for _, r in sorted(then("workflows").items())]
    stage_rows = sorted(then("stages").values(), key=lambda r: (r["workflow"], r["position"]))
    stages = [read.stage_from(r) for r in stage_rows]
    by_workflow: dict[str, list] = {}
    for stage in stages:
        by_workflow.setdefault(stage.workflow, []).append(stage)
    return read.Team(settings=settings, people=people, workflows=workflows, stages=stages,
                     stages_by_workflow=by_workflow, stage_map={(s.workflow, s.key): s for s in stages})


# --- gathering -----------------------------------------------------------------------


def _iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return clock.stamp(value)
    return value.isoformat()


def _local(value: datetime | str | None) -> datetime | None:
    if isinstance(value, str):
        value = clock.parse_stamp(value)
    return value.astimezone(clock.local_tz()) if value else None


def _item_label(store: Store, item_id) -> dict:
    row = history.last_known(store, "items", item_id) if item_id is not None else None
    return {"id": item_id, "title": row["title"] if row else None, "workflow": row["workflow"] if row else None}


def meeting_notes(store: Store, meeting_id: int, *, cap: int = LIST_CAP) -> dict:
    """Everything the notes of one session say, as JSON-ready data (see module doc)."""
    meeting = read.meeting(store, meeting_id)
    at = meeting.started_at
    today = _local(at).date()
    since = history.meeting_start_event(store, meeting_id)
    # a closed session is told as it closed (SPEC: its notes never change afterwards): the
    # team, the entries, the time per step and the handoffs it escalated are rewound to the
    # end of the change that closed it, so later work, renames and carry-overs leave it be
    until = history.meeting_close_end(store, meeting_id) if meeting.closed_at is not None else None
    current = read.team(store) if until is None else _team_at(store, until)
    team = _team_at(store, since)
    items_then = history.touched_as_of(store, "items", since_id=since)
    outcomes = read.outcomes(store, meeting_id)
    # the issues as of the close; of an open session, as they stand (up to the next event)
    issues = _issues(store, meeting, until if until is not None else history.next_event_id(store))

    return {
        "schema_version": SCHEMA_VERSION,
        "meeting": _header(store, meeting, current),
        "steps": _steps(store, meeting, current, until, with_issues=bool(issues)),
        "decisions": _entries(store, meeting_id, "decision", until),
        "actions": _entries(store, meeting_id, "action", until),
        "notes": _entries(store, meeting_id, "note", until),
        "issues": issues,
        "reassignments": _reassignments(store, meeting_id),
        "escalations": _escalations(store, meeting_id, until),
        "stuck_items": _with_outcomes(_stuck(store, team, at, today, items_then, cap), "items", outcomes,
                                      "stuck", lambda it: ("item", str(it["id"]))),
        "overdue_handoffs": _with_outcomes(
            _overdue(store, at, history.touched_as_of(store, "handoffs", since_id=since), cap), "handoffs",
            outcomes, "handoffs", lambda h: ("handoff", str(h["id"]))),
        "carried_actions": _carried(store, meeting_id, since),
        "ownership_gaps": _gap_outcomes(_with_outcomes(_gaps(store, team, meeting.week, at, items_then, cap),
                                                       "gaps", outcomes, "gaps",
                                                       lambda g: (g["subject"], g["label"]))),
    }


def _with_outcomes(section: dict, rows: str, outcomes: dict, step: str, subject) -> dict:
    """Each listed row with what the session did about it (SPEC "Outcome"; [] when it was
    not reviewed), and how many rows of the step the session reviewed."""
    for row in section[rows]:
        row["outcome"] = outcomes.get((step, *subject(row)), [])
    section["reviewed"] = sum(1 for key in outcomes if key[0] == step)
    return section


def _gap_outcomes(section: dict) -> dict:
    """Gaps as found, and which of them the session fixed (an owner or cover given, the item
    finished, dropped or handed on)."""
    for gap in section["gaps"]:
        gap["fixed"] = any(o in read.GAP_FIXES for o in gap["outcome"])
    section["fixed"] = sum(1 for gap in section["gaps"] if gap["fixed"])
    return section


def _header(store: Store, meeting, team: read.Team) -> dict:
    present = read.attendance(store, meeting.id)
    person = team.people.get(meeting.facilitator) if meeting.facilitator else None
    duration = None
    if meeting.closed_at is not None:
        duration = int((meeting.closed_at - meeting.started_at).total_seconds())
    return {
        "id": meeting.id,
        "week": meeting.week,
        "date": _local(meeting.started_at).date().isoformat(),
        "started_at": _iso(meeting.started_at),
        "closed_at": _iso(meeting.closed_at),
        "facilitator": meeting.facilitator,
        "facilitator_name": person.name if person else None,
        "present": sorted(h for h, here in present.items() if here),
        "absent": sorted(h for h, here in present.items() if not here),
        "duration_seconds": duration,
        "rating": read.meeting_rating(store, meeting),
        "ratings": read.attendee_ratings(store, meeting.id),
    }


def _steps(store: Store, meeting, team: read.Team, until: int | None = None, *, with_issues: bool = True
           ) -> list[dict]:
    """Time per step against its target. A closed session's time is as it closed, and a
    step added to the agenda later (``Step.added_later``: Issues) is listed for it only when
    it spent time on it or had issues on its list -- a session closed before the step came
    keeps the table it closed with."""
    seconds = read.step_seconds(store, meeting.id)
    if until is not None:  # time added after the close (a window left open) is not the session's
        seconds = {r["step"]: r["seconds"] for r in history.table_as_of(store, "step_times", since_id=until).values()
                   if r["meeting_id"] == meeting.id}
    targets = read.step_minutes(team.settings)
    return [{"step": s.key, "title": s.title, "seconds": int(seconds.get(s.key, 0)),
             "target_minutes": targets.get(s.key, s.target_minutes)} for s in STEPS
            if not (s.added_later and meeting.closed_at is not None and not seconds.get(s.key) and not with_issues)]


def _entries(store: Store, meeting_id: int, kind: str, until: int | None = None) -> list[dict]:
    """The session's entries of ``kind``; of a closed session, as they were when it closed
    (an action done, dropped or carried since keeps the status and due date it left with)."""
    found = []
    listed = read.entries(store, "meeting_id = ? AND kind = ?", (meeting_id, kind), "id")
    if until is not None:
        then = history.rows_before(store, "entries", [e.id for e in listed], until)
        listed = [read.entry_from(then[e.id]) for e in listed if then.get(e.id) is not None]
    for e in listed:
        row = {"id": e.id, "text": e.text, "workflow": e.workflow,
               "item": _item_label(store, e.item_id) if e.item_id is not None else None}
        if kind == "action":
            row.update(owner=e.owner, due=_iso(e.due), status=e.status)
        found.append(row)
    return found


def _issues(store: Store, meeting, closed: int) -> list[dict]:
    """The issues on the session's list, its top 3 first, each with how it was solved.

    Taken as of the session's close (the past stays put): an issue carried over and
    solved next week is "carried over" here, and an action's later due date or status
    does not change what this session decided. While the session is open, as it stands.
    """
    since = closed
    rows = [r for r in history.table_as_of(store, "issues", since_id=since).values()
            if r["status"] == "open" or r["closed_meeting_id"] == meeting.id]
    ranks = {r["issue_id"]: r["rank"] for r in history.table_as_of(store, "issue_ranks", since_id=since).values()
             if r["meeting_id"] == meeting.id}
    entries = history.rows_before(store, "entries", sorted({r["entry_id"] for r in rows if r["entry_id"]}), since)
    sessions = read.meetings(store)
    weeks = {m.id: m.week for m in sessions}

    def first_session(row: dict) -> int | None:
        if row["meeting_id"] is not None:
            return row["meeting_id"]
        raised = clock.parse_stamp(row["raised_at"])
        return next((m.id for m in sessions if m.started_at >= raised), None)

    found = []
    for row in sorted(rows, key=lambda r: (ranks.get(r["id"]) is None, ranks.get(r["id"]) or 0, r["raised_at"],
                                           r["id"])):
        first = first_session(row)
        entry = entries.get(row["entry_id"]) if row["entry_id"] else None
        if row["status"] == "solved" and entry:
            outcome = entry["kind"]
        elif row["status"] == "open":
            outcome = "carried over" if meeting.closed_at is not None else "open"
        else:
            outcome = row["status"]
        found.append({
            "id": row["id"], "rank": ranks.get(row["id"]), "text": row["text"], "raised_by": row["raised_by"],
            "raised_at": row["raised_at"],
            "carried_from": weeks.get(first) if first is not None and first != meeting.id else None,
            "item": _item_label(store, row["item_id"]) if row["item_id"] is not None else None,
            "workflow": row["workflow"], "outcome": outcome,
            "entry": {"id": entry["id"], "kind": entry["kind"], "text": entry["text"], "owner": entry["owner"],
                      "due": entry["due"]} if entry else None,
            "reason": row["reason"] if row["status"] == "dropped" else None,
        })
    return found


def _reassignments(store: Store, meeting_id: int) -> list[dict]:
    found = []
    for ev in history.meeting_edits(store, meeting_id, tuple(_OWNERSHIP_ACTIONS), undos=False):
        field = _OWNERSHIP_ACTIONS[ev.action]
        before = ev.before or {}
        after = ev.after or {}
        if field not in after:
            continue
        entity_id = ev.entity_id
        subject, label, item = ev.entity, entity_id, None
        if ev.entity == "items":
            item = _item_label(store, int(entity_id))
            subject, label = "item", f"#{entity_id}"
        elif ev.entity == "handoffs":
            row = history.last_known(store, "handoffs", int(entity_id))
            item = _item_label(store, row["item_id"]) if row else None
            subject, label = "handoff", f"handoff {entity_id}" + (f" of #{row['item_id']}" if row else "")
        elif ev.entity == "stages":
            row = history.last_known(store, "stages", int(entity_id))
            subject, label = "stage", f"{row['workflow']}/{row['key']}" if row else f"stage {entity_id}"
        elif ev.entity == "workflows":
            subject, label = "workflow", entity_id
        elif ev.entity == "people":
            subject, label = "cover", f"cover for {entity_id}"
        found.append({"event_id": ev.id, "at": ev.at, "by": ev.actor, "subject": subject, "label": label,
                      "item": item, "from": before.get(field), "to": after.get(field), "reason": ev.reason})
    return found


def _escalations(store: Store, meeting_id: int, until: int | None = None) -> list[dict]:
    """The session's escalations, from their records: the tier and the person they went
    to as they were then (never today's team); a closed session's handoffs as it closed."""
    found = []
    escalations = read.meeting_escalations(store, meeting_id)
    closed_rows = {}
    if until is not None:
        closed_rows = history.rows_before(store, "handoffs", {e.handoff_id for e in escalations
                                                             if e.handoff_id is not None}, until)
    for e in escalations:
        row = {}
        if e.handoff_id is not None:
            row = closed_rows.get(e.handoff_id) or history.last_known(store, "handoffs", e.handoff_id) or {}
        item_id = row.get("item_id") if e.handoff_id is not None else e.item_id
        item = _item_label(store, item_id) if item_id is not None else None
        found.append({"id": e.id, "at": _iso(e.at), "by": e.by, "kind": "handoff" if e.handoff_id else "item",
                      "handoff_id": e.handoff_id, "item": item, "to_stage": row.get("to_stage"),
                      "waiting_on": row.get("to_owner"), "due_at": row.get("due_at"), "tier": e.tier,
                      "escalated_to": e.to_handle, "escalated_to_name": e.to_name, "reason": e.reason})
    return found


_UNTOUCHED = "{}.id NOT IN (SELECT value FROM json_each(?))"  # rows the rewound copies stand for


def _stuck(store: Store, team: read.Team, at: datetime, today: date, then: dict, cap: int) -> dict:
    """Items stuck when the meeting started, longest in their stage first.

    ``then`` holds the items changed since, as they were; the others are read as they are.
    """
    where, params = f"i.opened_at <= ? AND {_UNTOUCHED.format('i')}", (clock.stamp(at), json.dumps(list(then)))
    untouched = read.stuck_page(store, team, at, today, where=where, params=params, limit=cap)
    total = len(untouched)
    if total == cap:  # counting is a second pass over the items: only when the page is full
        total = read.stuck_count(store, team, at, today, where=where, params=params)
    changed = []
    for row in then.values():
        if row is None or row["opened_at"] > clock.stamp(at):
            continue
        it = read.item_from(row)
        reasons = rules.stuck_reasons(it, team.stage_map.get((it.workflow, it.stage)), at, today, team.settings)
        if reasons:
            changed.append((it, reasons))
    merged = sorted([*untouched, *changed], key=lambda pair: (pair[0].stage_entered_at, pair[0].id))
    return {
        "as_of": _iso(at),
        "total": total + len(changed),
        "items": [{"id": it.id, "title": it.title, "workflow": it.workflow, "stage": it.stage, "owner": it.owner,
                   "status": it.status, "reasons": [{"kind": r.kind, "text": r.text} for r in reasons]}
                  for it, reasons in merged[:cap]],
    }


def _overdue(store: Store, at: datetime, then: dict, cap: int) -> dict:
    """Handoffs overdue when the meeting started, most overdue first (``then`` as in :func:`_stuck`)."""
    stamp = clock.stamp(at)
    where, params = f"h.sent_at <= ? AND {_UNTOUCHED.format('h')}", (stamp, json.dumps(list(then)))
    untouched = read.overdue_page(store, at, where=where, params=params, limit=cap)
    total = len(untouched)
    if total == cap:
        total = read.overdue_count(store, at, where=where, params=params)
    changed = []
    for row in then.values():
        if row is None or row["sent_at"] > stamp or row["accepted_at"] is not None or not row["due_at"] < stamp:
            continue
        item = store.one("SELECT workflow, title FROM items WHERE id = ?", (row["item_id"],))
        changed.append(read.handoff_from({**row, "workflow": item["workflow"] if item else None}))
    merged = sorted([*untouched, *changed], key=lambda h: (h.due_at, h.id))
    listed = []
    for h in merged[:cap]:
        item = _item_label(store, h.item_id)
        listed.append({"id": h.id, "item": item, "workflow": h.workflow, "from_stage": h.from_stage,
                       "from_owner": h.from_owner, "to_stage": h.to_stage, "to_owner": h.to_owner,
                       "sent_at": _iso(h.sent_at), "due_at": _iso(h.due_at),
                       "late_by": clock.humanize(rules.lateness(h, at))})
    return {"as_of": stamp, "total": total + len(changed), "handoffs": listed}


def _carried(store: Store, meeting_id: int, since: int) -> list[dict]:
    """Actions still open when the meeting started, and what the meeting did with each."""
    then = history.table_as_of(store, "entries", since_id=since)
    open_then = sorted((r for r in then.values() if r["kind"] == "action" and r["status"] == "open"),
                       key=lambda r: (r["due"] or "", r["id"]))
    outcome: dict[int, tuple[str, str | None]] = {}
    for ev in history.meeting_edits(store, meeting_id, ("action.done", "action.dropped", "action.open", "action.carry"),
                                    undos=False):
        after = ev.after or {}
        kind = ev.action.split(".", 1)[1]
        outcome[int(ev.entity_id)] = ("carried" if kind == "carry" else kind, after.get("due"))
    weeks = dict(store.query("SELECT id, week FROM meetings"))
    found = []
    for row in open_then:
        result, new_due = outcome.get(row["id"], ("open", None))
        found.append({"id": row["id"], "owner": row["owner"], "text": row["text"], "due": row["due"],
                      "from_week": weeks.get(row["meeting_id"]), "item": _item_label(store, row["item_id"])
                      if row["item_id"] is not None else None, "outcome": result,
                      "new_due": new_due if result == "carried" else None})
    return found


def _gaps(store: Store, team: read.Team, week: str, at: datetime, then: dict, cap: int) -> dict:
    """Ownership gaps in the meeting's week, with the team and items as the meeting found them."""
    first, last = clock.week_bounds(week)
    fine = sorted(h for h, p in team.people.items() if p.active and not rules.is_away(p, first, last))
    # only items whose owner is away, inactive or unknown can be gaps: let SQL find those
    candidates = read.items(
        store, f"i.status IN ('open', 'blocked') AND i.owner IS NOT NULL AND i.opened_at <= ?"
        f" AND {_UNTOUCHED.format('i')} AND i.owner NOT IN (SELECT value FROM json_each(?))",
        (clock.stamp(at), json.dumps(list(then)), json.dumps(fine)))
    for row in then.values():
        if row is not None and row["opened_at"] <= clock.stamp(at):
            candidates.append(read.item_from(row))
    candidates.sort(key=lambda it: it.id)
    gaps = rules.ownership_gaps(team.people, team.workflows, team.stages, candidates, first, last)
    return {
        "week": week,
        "total": len(gaps),
        "gaps": [{"subject": g.subject, "label": g.label, "workflow": g.workflow, "stage": g.stage,
                  "item": _item_label(store, g.item_id) if g.item_id is not None else None,
                  "owner": g.owner, "problem": g.problem, "suggestion": g.suggestion}
                 for g in gaps[:cap]],
    }


# --- rendering -----------------------------------------------------------------------


def to_json(notes: dict) -> str:
    """The notes as JSON (UTF-8 text, stable key order, ending in a newline)."""
    return json.dumps(notes, indent=2, ensure_ascii=False) + "\n"


def _minutes(seconds: int | None) -> str:
    if seconds is None:
        return ""
    minutes = round(seconds / 60)
    if minutes >= 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes} min"


def _when(stamp: str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return _local(stamp).strftime(fmt) if stamp else ""


def _zone(stamp: str) -> str:
    offset = _local(stamp).utcoffset()
    total = int(offset.total_seconds()) // 60 if offset else 0
    sign = "-" if total < 0 else "+"
    return f"UTC{sign}{abs(total) // 60:02d}:{abs(total) % 60:02d}"


def _item_md(item: dict | None) -> str:
    if not item:
        return ""
    return f"#{item['id']} {md(item['title'])}" if item.get("title") else f"#{item['id']}"


def _table(header: list[str], rows: list[list[str]], align: list[str] | None = None) -> list[str]:
    align = align or ["---"] * len(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _more(shown: int, total: int) -> list[str]:
    return ["", f"…and {total - shown} more."] if total > shown else []


def _section(title: str, body: list[str]) -> list[str]:
    return ["", f"## {title}", "", *(body or ["None."])]


def _outcome(row: dict) -> str:
    """What the session did about a reviewed row, in SPEC's words ("reassigned, escalated")."""
    return ", ".join(dict.fromkeys(row.get("outcome") or [])) or "not reviewed"


def _reviewed(section: dict) -> str:
    return f"{section['reviewed']} reviewed in the session"


def to_markdown(notes: dict) -> str:
    """The notes as Markdown (GitHub-flavoured tables), every piece of user text escaped."""
    m = notes["meeting"]
    started = m["started_at"]
    lines = [f"# Weekly session {md(m['week'])}", ""]
    span = _when(started, "%H:%M")
    if m["closed_at"]:
        span += "–" + _when(m["closed_at"], "%H:%M")
    lines.append(f"- **Date:** {m['date']} ({_when(started, '%A')}), {span} {_zone(started)}")
    who = md(m["facilitator"]) if m["facilitator"] else "nobody named"
    if m["facilitator_name"]:
        who = f"{md(m['facilitator_name'])} ({who})"
    lines.append(f"- **Facilitator:** {who}")
    lines.append(f"- **Present:** {', '.join(md(h) for h in m['present']) or 'nobody recorded'}")
    lines.append(f"- **Absent:** {', '.join(md(h) for h in m['absent']) or 'nobody'}")
    on_agenda = sum(s["seconds"] for s in notes["steps"])
    if m["duration_seconds"] is not None:
        lines.append(f"- **Duration:** {_minutes(m['duration_seconds'])}")
    else:
        lines.append(f"- **Duration:** still open ({_minutes(on_agenda)} so far)")
    if m.get("ratings"):
        each = ", ".join(f"{md(handle)} {rating}" for handle, rating in m["ratings"].items())
        lines.append(f"- **Rating:** {m['rating']:g}/10, the average of {len(m['ratings'])} ({each})")
    else:
        lines.append(f"- **Rating:** {m['rating']:g}/10" if m["rating"] is not None else "- **Rating:** not rated")

    rows = [[s["title"], _minutes(s["seconds"]), f"{s['target_minutes']} min"] for s in notes["steps"]]
    rows.append(["**Total**", f"**{_minutes(on_agenda)}**",
                 f"**{sum(s['target_minutes'] for s in notes['steps'])} min**"])
    lines += _section("Time per step", _table(["Step", "Time", "Target"], rows, ["---", "--:", "--:"]))

    def about(entry: dict) -> str:
        linked = _item_md(entry["item"]) or (md(entry["workflow"]) if entry["workflow"] else "")
        return f" ({linked})" if linked else ""

    lines += _section("Decisions", [f"- {md(d['text'])}{about(d)}" for d in notes["decisions"]])
    actions = [[md(a["owner"]), md(a["text"]), md(a["due"]), _item_md(a["item"]) or md(a["workflow"]),
                md(a["status"])] for a in notes["actions"]]
    lines += _section("Actions", _table(["Owner", "Action", "Due", "Linked", "Status"], actions)
                      if actions else [])
    lines += _section("Notes", [f"- {md(n['text'])}{about(n)}" for n in notes["notes"]])

    lines += _section("Issues", _issues_md(notes["issues"]))

    moves = [[f"{r['label']} {md(r['item']['title'])}".strip() if r["subject"] in ("item",) and r["item"]
              else md(r["label"]), md(r["from"]) or "nobody", md(r["to"]) or "nobody", md(r["reason"]), md(r["by"])]
             for r in notes["reassignments"]]
    lines += _section("Reassignments", _table(["What", "From", "To", "Reason", "By"], moves) if moves else [])

    escalations = [[f"handoff {e['handoff_id']}" if e["handoff_id"] is not None else "stuck item",
                    _item_md(e["item"]), md(e["to_stage"]), md(e["waiting_on"]), _when(e["due_at"]), str(e["tier"]),
                    f"{md(e['escalated_to_name'])} ({md(e['escalated_to'])})", md(e["by"]), md(e["reason"])]
                   for e in notes["escalations"]]
    lines += _section("Escalations", _table(["What", "Item", "Into", "Waiting on", "Due", "Tier", "Escalated to",
                                             "By", "Reason"], escalations) if escalations else [])

    stuck = notes["stuck_items"]
    body = []
    if stuck["items"]:
        body = [f"{stuck['total']} stuck when the session started ({_when(stuck['as_of'])}), "
                f"longest in their stage first; {_reviewed(stuck)}.", ""]
        body += _table(["Item", "Workflow / stage", "Owner", "Why stuck", "Outcome"], [
            [_item_md(it), f"{md(it['workflow'])} / {md(it['stage'])}", md(it["owner"]) or "nobody",
             "; ".join(md(r["text"]) for r in it["reasons"]), _outcome(it)] for it in stuck["items"]])
        body += _more(len(stuck["items"]), stuck["total"])
    lines += _section("Stuck items reviewed", body)

    overdue = notes["overdue_handoffs"]
    body = []
    if overdue["handoffs"]:
        body = [f"{overdue['total']} overdue when the session started ({_when(overdue['as_of'])}), "
                f"most overdue first; {_reviewed(overdue)}.", ""]
        body += _table(["Handoff", "Item", "From → to", "Waiting on", "Due", "Late by", "Outcome"], [
            [str(h["id"]), _item_md(h["item"]), f"{md(h['from_stage'])} → {md(h['to_stage'])}",
             md(h["to_owner"]) or "nobody", _when(h["due_at"]), h["late_by"], _outcome(h)]
            for h in overdue["handoffs"]])
        body += _more(len(overdue["handoffs"]), overdue["total"])
    lines += _section("Overdue handoffs reviewed", body)

    def outcome(a: dict) -> str:
        if a["outcome"] == "carried":
            return f"carried to {md(a['new_due'])}" if a["new_due"] else "carried"
        return {"open": "still open", "done": "done", "dropped": "dropped", "reopened": "reopened"}.get(
            a["outcome"], md(a["outcome"]))

    carried = [[md(a["owner"]), md(a["text"]) + (f" ({_item_md(a['item'])})" if a["item"] else ""),
                md(a["from_week"]), md(a["due"]), outcome(a)] for a in notes["carried_actions"]]
    lines += _section("Carried-over actions", _table(["Owner", "Action", "From", "Due", "Outcome"], carried)
                      if carried else [])

    gaps = notes["ownership_gaps"]
    body = []
    if gaps["gaps"]:
        fixed = gaps["fixed"]
        body = [f"{gaps['total']} found when the session started; {fixed} fixed in the session"
                f" ({_reviewed(gaps)}).", ""]
        body += _table(["What", "Owner", "Problem", "Suggestion", "Outcome"], [
            [f"item {_item_md(g['item'])}" if g["item"] else f"{g['subject']} {md(g['label'])}",
             md(g["owner"]) or "nobody", md(g["problem"]), f"{md(g['suggestion'])} covers" if g["suggestion"] else "",
             ("fixed: " if g["fixed"] else "") + _outcome(g)]
            for g in gaps["gaps"]])
        body += _more(len(gaps["gaps"]), gaps["total"])
    lines += _section("Ownership gaps", body)
    return "\n".join(lines) + "\n"


def _issues_md(issues: list[dict]) -> list[str]:
    """The session's issues, ranked, with how each was solved (decision / action with owner
    and due / dropped with reason / carried over)."""
    if not issues:
        return []
    carried = sum(1 for i in issues if i["carried_from"])
    ranked = sum(1 for i in issues if i["rank"])
    body = [f"{len(issues)} on the list ({len(issues) - carried} raised for this session, {carried} carried over"
            f" from earlier ones); {ranked} ranked in the top 3.", ""]

    def outcome(issue: dict) -> str:
        entry = issue["entry"]
        if entry and entry["kind"] == "action":
            return f"action: {md(entry['text'])} ({md(entry['owner'])}, due {md(entry['due'])})"
        if entry:
            return f"decision: {md(entry['text'])}"
        if issue["outcome"] == "dropped":
            return f"dropped: {md(issue['reason'])}"
        return {"carried over": "carried over", "open": "still open"}.get(issue["outcome"], md(issue["outcome"]))

    rows = []
    for issue in issues:
        raised = f"{md(issue['raised_by'])}, {_when(issue['raised_at'], '%Y-%m-%d')}"
        if issue["carried_from"]:
            raised += f" (from {md(issue['carried_from'])})"
        about = _item_md(issue["item"]) or md(issue["workflow"])
        rows.append([str(issue["rank"]) if issue["rank"] else "", md(issue["text"]), raised, about, outcome(issue)])
    return body + _table(["Rank", "Issue", "Raised", "About", "Outcome"], rows)


# --- one call for the CLI and the TUI ------------------------------------------------


def render(store: Store, meeting_id: int, fmt: str = "md") -> str:
    """The notes of a meeting as ``md`` or ``json`` text."""
    if fmt not in ("md", "json"):
        raise InputError(f"format {fmt!r} is not known (accepted: md, json)")
    notes = meeting_notes(store, meeting_id)
    return to_markdown(notes) if fmt == "md" else to_json(notes)


def default_filename(week: str, fmt: str = "md", number: int = 1) -> str:
    """``opsweek-2026-W47.md``, and ``opsweek-2026-W47-2.md`` for the week's second session:
    a stable name for a session's notes."""
    return f"opsweek-{week}.{fmt}" if number == 1 else f"opsweek-{week}-{number}.{fmt}"


def notes_filename(store: Store, meeting, fmt: str = "md") -> str:
    """The file name of ``meeting``'s notes (its number among the sessions of its week)."""
    return default_filename(meeting.week, fmt, read.session_number(store, meeting))


def write_atomic(path: str | Path, text: str, *, mode: int | None = None) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically: :func:`opsweek.files.write_output`,
    the one writer of every file opsweek is asked to write."""
    from opsweek.files import write_output

    return write_output(Path(path), text, mode=mode)
