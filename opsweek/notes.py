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
import os
import re
import tempfile
from datetime import date, datetime
from pathlib import Path

from opsweek import clock, rules
from opsweek.agenda import STEPS
from opsweek.errors import InputError, NotFound
from opsweek.model import Away
from opsweek.store import read
from opsweek.store.db import PRIMARY_KEYS, Store
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
    if spec.isdigit():
        return read.meeting(store, int(spec))
    if _WEEK.match(spec.upper()):
        week = spec.upper()
        clock.week_bounds(week)
        row = store.one("SELECT id FROM meetings WHERE week = ? ORDER BY started_at DESC, id DESC LIMIT 1", (week,))
        if row is None:
            weeks = [r[0] for r in store.query("SELECT DISTINCT week FROM meetings ORDER BY week DESC LIMIT 5")]
            hint = f" (meetings exist for: {', '.join(weeks)})" if weeks else " (there are no meetings yet)"
            raise NotFound(f"no meeting in {week}{hint}")
        return read.meeting(store, row["id"])
    raise InputError(f"{spec!r} is not a meeting (accepted: latest, a meeting number like 3, "
                     "or an ISO week like 2026-W47)")


# --- the state as the meeting found it ------------------------------------------------


def _pk(table: str, entity_id: str):
    return entity_id if PRIMARY_KEYS[table] in ("handle", "key") else int(entity_id)


def _rewind(rows: dict, table: str, events) -> dict:
    """Undo ``events`` (newest first) on ``rows`` (primary key -> row dict), in place."""
    for event in events:
        key = _pk(table, event["entity_id"])
        before = json.loads(event["before"]) if event["before"] else None
        after = json.loads(event["after"]) if event["after"] else None
        if before is None:          # inserted since: did not exist then
            rows.pop(key, None)
        elif after is None:         # deleted since: it was there
            rows[key] = dict(before)
        elif key in rows:
            rows[key].update(before)
    return rows


def _events_since(store: Store, since_id: int, table: str) -> list:
    # "+entity": walk the id range (short for a recent meeting), not every event of the table
    return store.query("SELECT entity_id, before, after FROM events WHERE id >= ? AND +entity = ? ORDER BY id DESC",
                       (since_id, table))


def _table_at(store: Store, table: str, since_id: int) -> dict:
    """Every row of a small table as it was before event ``since_id``."""
    pk = PRIMARY_KEYS[table]
    rows = {row[pk]: dict(row) for row in store.query(f"SELECT * FROM {table}")}
    return _rewind(rows, table, _events_since(store, since_id, table))


def _touched_at(store: Store, table: str, since_id: int) -> dict:
    """The rows of a big table that changed since event ``since_id``, as they were before it."""
    events = _events_since(store, since_id, table)
    keys = sorted({_pk(table, e["entity_id"]) for e in events})
    rows = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        marks = ",".join("?" * len(chunk))
        rows.update({r["id"]: dict(r) for r in store.query(f"SELECT * FROM {table} WHERE id IN ({marks})", chunk)})
    _rewind(rows, table, events)
    return {key: rows.get(key) for key in keys}  # None: did not exist then


def _team_at(store: Store, since_id: int) -> read.Team:
    settings = dict(rules.DEFAULT_SETTINGS)
    settings.update({k: r["value"] for k, r in _table_at(store, "settings", since_id).items()})
    away: dict[str, list] = {}
    for row in sorted(_table_at(store, "away", since_id).values(), key=lambda r: (r["handle"], r["start"])):
        away.setdefault(row["handle"], []).append(
            Away.model_construct(start=date.fromisoformat(row["start"]), end=date.fromisoformat(row["end"])))
    people = {h: read.person_from(r, away.get(h, [])) for h, r in sorted(_table_at(store, "people", since_id).items())}
    workflows = [read.workflow_from(r) for _, r in sorted(_table_at(store, "workflows", since_id).items())]
    stage_rows = sorted(_table_at(store, "stages", since_id).values(), key=lambda r: (r["workflow"], r["position"]))
    stages = [read.stage_from(r) for r in stage_rows]
    by_workflow: dict[str, list] = {}
    for stage in stages:
        by_workflow.setdefault(stage.workflow, []).append(stage)
    return read.Team(settings=settings, people=people, workflows=workflows, stages=stages,
                     stages_by_workflow=by_workflow, stage_map={(s.workflow, s.key): s for s in stages})


def _start_event(store: Store, meeting_id: int) -> int:
    """Id of the first audit event of the meeting (its creation); later events are "since"."""
    first = store.scalar("SELECT min(id) FROM events WHERE entity = 'meetings' AND entity_id = ?",
                         (str(meeting_id),))
    if first is None:
        first = store.scalar("SELECT min(id) FROM events WHERE meeting_id = ?", (meeting_id,))
    if first is None:  # no history at all: the current state is all there is
        first = (store.scalar("SELECT max(id) FROM events") or 0) + 1
    return first


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


def _live_changes(store: Store, meeting_id: int, actions: tuple[str, ...]) -> list:
    """Events of the meeting with these actions, leaving out changes that were undone."""
    marks = ",".join("?" * len(actions))
    return store.query(
        f"SELECT * FROM events WHERE meeting_id = ? AND action IN ({marks}) AND undoes IS NULL"
        " AND change_id NOT IN (SELECT undoes FROM events WHERE undoes IS NOT NULL) ORDER BY id",
        (meeting_id, *actions))


def _last_known(store: Store, table: str, key) -> dict | None:
    """A row as it is, or as it last was before it was deleted."""
    row = store.one(f"SELECT * FROM {table} WHERE {PRIMARY_KEYS[table]} = ?", (key,))
    if row is not None:
        return dict(row)
    gone = store.one("SELECT before FROM events WHERE entity = ? AND entity_id = ? AND after IS NULL"
                     " ORDER BY id DESC LIMIT 1", (table, str(key)))
    return json.loads(gone["before"]) if gone and gone["before"] else None


def _item_label(store: Store, item_id) -> dict:
    row = _last_known(store, "items", item_id) if item_id is not None else None
    return {"id": item_id, "title": row["title"] if row else None, "workflow": row["workflow"] if row else None}


def meeting_notes(store: Store, meeting_id: int, *, cap: int = LIST_CAP) -> dict:
    """Everything the notes of one session say, as JSON-ready data (see module doc)."""
    meeting = read.meeting(store, meeting_id)
    at = meeting.started_at
    today = _local(at).date()
    since = _start_event(store, meeting_id)
    current = read.team(store)
    team = _team_at(store, since)
    items_then = _touched_at(store, "items", since)

    return {
        "schema_version": SCHEMA_VERSION,
        "meeting": _header(store, meeting, current),
        "steps": _steps(store, meeting, current),
        "decisions": _entries(store, meeting_id, "decision"),
        "actions": _entries(store, meeting_id, "action"),
        "notes": _entries(store, meeting_id, "note"),
        "reassignments": _reassignments(store, meeting_id),
        "escalations": _escalations(store, meeting_id, current),
        "stuck_items": _stuck(store, team, at, today, items_then, cap),
        "overdue_handoffs": _overdue(store, at, _touched_at(store, "handoffs", since), cap),
        "carried_actions": _carried(store, meeting_id, since),
        "ownership_gaps": _gaps(store, team, meeting.week, at, items_then, cap),
    }


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
        "rating": meeting.rating,
    }


def _steps(store: Store, meeting, team: read.Team) -> list[dict]:
    seconds = read.step_seconds(store, meeting.id)
    targets = read.step_minutes(team.settings)
    return [{"step": s.key, "title": s.title, "seconds": int(seconds.get(s.key, 0)),
             "target_minutes": targets.get(s.key, s.target_minutes)} for s in STEPS]


def _entries(store: Store, meeting_id: int, kind: str) -> list[dict]:
    found = []
    for e in read.entries(store, "meeting_id = ? AND kind = ?", (meeting_id, kind), "id"):
        row = {"id": e.id, "text": e.text, "workflow": e.workflow,
               "item": _item_label(store, e.item_id) if e.item_id is not None else None}
        if kind == "action":
            row.update(owner=e.owner, due=_iso(e.due), status=e.status)
        found.append(row)
    return found


def _reassignments(store: Store, meeting_id: int) -> list[dict]:
    found = []
    for ev in _live_changes(store, meeting_id, tuple(_OWNERSHIP_ACTIONS)):
        field = _OWNERSHIP_ACTIONS[ev["action"]]
        before = json.loads(ev["before"]) if ev["before"] else {}
        after = json.loads(ev["after"]) if ev["after"] else {}
        if field not in after:
            continue
        entity_id = ev["entity_id"]
        subject, label, item = ev["entity"], entity_id, None
        if ev["entity"] == "items":
            item = _item_label(store, int(entity_id))
            subject, label = "item", f"#{entity_id}"
        elif ev["entity"] == "handoffs":
            row = _last_known(store, "handoffs", int(entity_id))
            item = _item_label(store, row["item_id"]) if row else None
            subject, label = "handoff", f"handoff {entity_id}" + (f" of #{row['item_id']}" if row else "")
        elif ev["entity"] == "stages":
            row = _last_known(store, "stages", int(entity_id))
            subject, label = "stage", f"{row['workflow']}/{row['key']}" if row else f"stage {entity_id}"
        elif ev["entity"] == "workflows":
            subject, label = "workflow", entity_id
        elif ev["entity"] == "people":
            subject, label = "cover", f"cover for {entity_id}"
        found.append({"event_id": ev["id"], "at": ev["at"], "by": ev["actor"], "subject": subject, "label": label,
                      "item": item, "from": before.get(field), "to": after.get(field), "reason": ev["reason"]})
    return found


def _escalations(store: Store, meeting_id: int, team: read.Team) -> list[dict]:
    """The session's escalations, from their records: the tier and the person they went
    to as they were then (never today's team)."""
    found = []
    for e in read.meeting_escalations(store, meeting_id):
        row = _last_known(store, "handoffs", e.handoff_id) or {} if e.handoff_id is not None else {}
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
    then = _rewind({r["id"]: dict(r) for r in store.query("SELECT * FROM entries")}, "entries",
                   _events_since(store, since, "entries"))
    open_then = sorted((r for r in then.values() if r["kind"] == "action" and r["status"] == "open"),
                       key=lambda r: (r["due"] or "", r["id"]))
    outcome: dict[int, tuple[str, str | None]] = {}
    for ev in _live_changes(store, meeting_id, ("action.done", "action.dropped", "action.open", "action.carry")):
        after = json.loads(ev["after"]) if ev["after"] else {}
        kind = ev["action"].split(".", 1)[1]
        outcome[int(ev["entity_id"])] = ("carried" if kind == "carry" else kind, after.get("due"))
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
    lines.append(f"- **Rating:** {m['rating']}/10" if m["rating"] is not None else "- **Rating:** not rated")

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
                "longest in their stage first.", ""]
        body += _table(["Item", "Workflow / stage", "Owner", "Why stuck"], [
            [_item_md(it), f"{md(it['workflow'])} / {md(it['stage'])}", md(it["owner"]) or "nobody",
             "; ".join(md(r["text"]) for r in it["reasons"])] for it in stuck["items"]])
        body += _more(len(stuck["items"]), stuck["total"])
    lines += _section("Stuck items reviewed", body)

    overdue = notes["overdue_handoffs"]
    body = []
    if overdue["handoffs"]:
        body = [f"{overdue['total']} overdue when the session started ({_when(overdue['as_of'])}), "
                "most overdue first.", ""]
        body += _table(["Handoff", "Item", "From → to", "Waiting on", "Due", "Late by"], [
            [str(h["id"]), _item_md(h["item"]), f"{md(h['from_stage'])} → {md(h['to_stage'])}",
             md(h["to_owner"]) or "nobody", _when(h["due_at"]), h["late_by"]] for h in overdue["handoffs"]])
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
        body = _table(["What", "Owner", "Problem", "Suggestion"], [
            [f"item {_item_md(g['item'])}" if g["item"] else f"{g['subject']} {md(g['label'])}",
             md(g["owner"]) or "nobody", md(g["problem"]), f"{md(g['suggestion'])} covers" if g["suggestion"] else ""]
            for g in gaps["gaps"]])
        body += _more(len(gaps["gaps"]), gaps["total"])
    lines += _section("Ownership gaps", body)
    return "\n".join(lines) + "\n"


# --- one call for the CLI and the TUI ------------------------------------------------


def render(store: Store, meeting_id: int, fmt: str = "md") -> str:
    """The notes of a meeting as ``md`` or ``json`` text."""
    if fmt not in ("md", "json"):
        raise InputError(f"format {fmt!r} is not known (accepted: md, json)")
    notes = meeting_notes(store, meeting_id)
    return to_markdown(notes) if fmt == "md" else to_json(notes)


def default_filename(week: str, fmt: str = "md") -> str:
    """``opsweek-2026-W47.md``: a stable name for a session's notes."""
    return f"opsweek-{week}.{fmt}"


def write_atomic(path: str | Path, text: str, *, mode: int | None = None) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through a temp file in the same directory and a
    rename, so readers never see a half-written file. ``mode`` defaults to the existing
    file's, else 0666 less the umask."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InputError(f"{path} is a directory (accepted: a file name)")
    if not directory.is_dir():
        raise InputError(f"cannot write {path}: no such directory {directory}")
    if mode is None:
        if path.exists():
            mode = path.stat().st_mode & 0o777
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
    try:
        fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise InputError(f"cannot write {path}: {error.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException as error:
        Path(temp).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise InputError(f"cannot write {path}: {error.strerror}") from None
        raise
    return path
