"""``opsweek mine``: what is waiting on me, in a moment.

Sections, in this order:

1. handoffs waiting for me to accept (overdue first, with how late, who sent them and
   the receiving stage's SOP);
2. handoffs I sent that are not yet accepted;
3. my stuck items, with their reasons;
4. my open actions, earliest due first;
5. "covering for X": for each person whose named cover I am and who is away at some
   point from today to Sunday (``rules.cover_for``), their handoffs waiting to be
   accepted and their stuck items.

``--check`` prints nothing and exits 0 when nothing of mine is overdue; otherwise it
prints one summary line and exits 1 (with ``--json`` too, the JSON is printed and the
exit status is the same). "Overdue" means: a handoff to me (or to someone I
cover for) past its due time, an item of mine past its due date, or an open action of
mine past its due date. Handoffs I sent that wait on others do not count.

This is the quick path (a shell prompt or login script may run it): it imports only the
standard library and opsweek's stdlib-only modules (clock, text, errors, rules,
store.db, cli.output) -- no pydantic, sqlite-utils or Textual; a test guards it. The
SQL below is written against the indexes of ``opsweek/store/schema.py``:
``handoffs_pending_to`` / ``handoffs_pending_from`` (partial, pending only),
``items_owner_status`` and ``entries_owner_status``.

JSON shape (``--json``), version 1 -- stable: fields may be added, never renamed or
removed without bumping ``version``. Times are UTC ``YYYY-MM-DDTHH:MM:SSZ``, dates
``YYYY-MM-DD``, absent values ``null``::

    {
      "version": 1,
      "me": "ana",
      "now": "2026-11-24T10:00:00Z",
      "today": "2026-11-24",
      "overdue": {"total": 3, "incoming": 1, "items": 1, "actions": 1, "covering": 0},
      "incoming": [HANDOFF, ...],     # to me, not yet accepted; most overdue first
      "sent": [HANDOFF, ...],         # from me to others, not yet accepted; earliest due first
      "stuck": [ITEM, ...],           # mine and stuck; longest in its stage first
      "actions": [ACTION, ...],       # mine and open; earliest due first, undated last
      "covering": [{"for": "gus", "name": "Gus Moreau",
                    "away": [{"from": "2026-11-22", "to": "2026-11-27"}],
                    "incoming": [HANDOFF, ...], "stuck": [ITEM, ...]}]
    }
    HANDOFF = {"id", "item_id", "title", "workflow", "from_stage", "from_owner",
               "to_stage", "to_stage_name", "to_owner", "sop", "note", "sent_at",
               "due_at", "overdue" (bool), "late_seconds" (0 when not late),
               "escalation_due" (bool), "escalated_at"}
    ITEM    = {"id", "title", "workflow", "stage", "stage_name", "status", "owner",
               "due", "sop", "overdue" (bool: past its due date),
               "reasons": [{"kind": "blocked|in_stage|stale|past_due", "text"}]}
    ACTION  = {"id", "text", "due", "overdue" (bool), "item_id", "workflow", "week"}

The same description, for people who script against it, is in ``docs/mine-json.md``.
"""

from __future__ import annotations

import sys
from datetime import date, datetime, timedelta
from types import SimpleNamespace

from opsweek import clock, rules
from opsweek.cli.output import Cell, Printer, day, plural, truncate, when
from opsweek.errors import NotFound
from opsweek.text import unknown

JSON_VERSION = 1
TITLE_WIDTH = 38

_HANDOFF_SQL = (
    "SELECT h.id, h.item_id, h.from_stage, h.from_owner, h.to_stage, h.to_owner, h.sent_at, h.due_at,"
    " h.note, h.escalated_at, i.workflow, i.title FROM handoffs h JOIN items i ON i.id = h.item_id"
)


# --- reading: light records the rules can use --------------------------------------


def _settings(store) -> dict:
    values = dict(rules.DEFAULT_SETTINGS)
    values.update({key: value for key, value in store.query("SELECT key, value FROM settings")})
    return values


def _people(store) -> dict:
    people = {
        row["handle"]: SimpleNamespace(handle=row["handle"], name=row["name"], cover=row["cover"],
                                       active=bool(row["active"]), away=[])
        for row in store.query("SELECT handle, name, cover, active FROM people")
    }
    for row in store.query("SELECT handle, start, end FROM away ORDER BY start"):
        person = people.get(row["handle"])
        if person is not None:
            person.away.append(SimpleNamespace(start=date.fromisoformat(row["start"]),
                                               end=date.fromisoformat(row["end"])))
    return people


def _stages(store) -> dict:
    return {
        (row["workflow"], row["key"]): SimpleNamespace(
            workflow=row["workflow"], key=row["key"], name=row["name"], sop=row["sop"],
            max_days=row["max_days"], handoff_sla=row["handoff_sla"])
        for row in store.query("SELECT workflow, key, name, sop, max_days, handoff_sla FROM stages")
    }


def _handoffs(store, column: str, handle: str) -> list:
    # "accepted_at IS NULL" spelled out so SQLite can use the partial pending indexes
    rows = store.query(f"{_HANDOFF_SQL} WHERE h.{column} = ? AND h.accepted_at IS NULL ORDER BY h.due_at, h.id",
                       (handle,))
    return [
        SimpleNamespace(
            id=r["id"], item_id=r["item_id"], from_stage=r["from_stage"], from_owner=r["from_owner"],
            to_stage=r["to_stage"], to_owner=r["to_owner"], sent_at=clock.parse_stamp(r["sent_at"]),
            due_at=clock.parse_stamp(r["due_at"]), accepted_at=None, note=r["note"],
            escalated_at=clock.parse_stamp(r["escalated_at"]), workflow=r["workflow"], title=r["title"])
        for r in rows
    ]


def _open_items(store, handle: str) -> list:
    rows = store.query(
        "SELECT id, workflow, stage, title, owner, status, stage_entered_at, last_activity_at, due,"
        " blocked_reason FROM items WHERE owner = ? AND status IN ('open', 'blocked')", (handle,))
    return [
        SimpleNamespace(
            id=r["id"], workflow=r["workflow"], stage=r["stage"], title=r["title"], owner=r["owner"],
            status=r["status"], stage_entered_at=clock.parse_stamp(r["stage_entered_at"]),
            last_activity_at=clock.parse_stamp(r["last_activity_at"]),
            due=date.fromisoformat(r["due"]) if r["due"] else None, blocked_reason=r["blocked_reason"])
        for r in rows
    ]


def _actions(store, handle: str) -> list:
    rows = store.query(
        "SELECT e.id, e.text, e.due, e.item_id, e.workflow, m.week FROM entries e"
        " LEFT JOIN meetings m ON m.id = e.meeting_id"
        " WHERE e.owner = ? AND e.status = 'open' AND e.kind = 'action'"
        " ORDER BY e.due IS NULL, e.due, e.id", (handle,))
    return [
        SimpleNamespace(id=r["id"], text=r["text"], due=date.fromisoformat(r["due"]) if r["due"] else None,
                        item_id=r["item_id"], workflow=r["workflow"], week=r["week"])
        for r in rows
    ]


# --- what is mine --------------------------------------------------------------------


class Mine:
    """Everything waiting on one person, computed by the rules."""

    def __init__(self, store, me: str, now: datetime, today: date):
        self.me = me
        self.now = now
        self.today = today
        self.settings = _settings(store)
        self.people = _people(store)
        if me not in self.people:
            hint = "" if self.people else " (the team has no people yet: opsweek import team.toml)"
            raise NotFound("--me: " + unknown("person", me, self.people) + hint)
        self.stages = _stages(store)
        self.incoming = _handoffs(store, "to_owner", me)
        # a handoff I sent to myself already shows as one to accept
        self.sent = [h for h in _handoffs(store, "from_owner", me) if h.to_owner != me]
        self.stuck = self._stuck(_open_items(store, me))
        self.actions = _actions(store, me)
        self.covering = []
        # who I cover for: away at some point from today to the end of this week
        last = today + timedelta(days=6 - today.weekday())
        for handle in sorted(self.people):
            person = self.people[handle]
            if handle == me or person.cover != me or not rules.is_away(person, today, last):
                continue
            if rules.cover_for(handle, self.people, today, today) != me:
                continue  # I am away or inactive myself: the cover falls through
            away = [p for p in person.away if p.start <= last and p.end >= today]
            self.covering.append(SimpleNamespace(
                person=person, away=away, incoming=_handoffs(store, "to_owner", handle),
                stuck=self._stuck(_open_items(store, handle))))

    def _stuck(self, items: list) -> list:
        return rules.stuck_items(items, self.stages, self.now, self.today, self.settings)

    # overdue counts: what --check answers
    def handoff_overdue(self, handoff) -> bool:
        return rules.is_overdue(handoff, self.now)

    def item_overdue(self, item) -> bool:
        return item.due is not None and item.due < self.today

    def action_overdue(self, action) -> bool:
        return action.due is not None and action.due < self.today

    def overdue(self) -> dict[str, int]:
        counts = {
            "incoming": sum(self.handoff_overdue(h) for h in self.incoming),
            "items": sum(self.item_overdue(item) for item, _ in self.stuck),
            "actions": sum(self.action_overdue(a) for a in self.actions),
            "covering": sum(self.handoff_overdue(h) for c in self.covering for h in c.incoming)
            + sum(self.item_overdue(item) for c in self.covering for item, _ in c.stuck),
        }
        return {"total": sum(counts.values()), **counts}

    def empty(self) -> bool:
        return not (self.incoming or self.sent or self.stuck or self.actions
                    or any(c.incoming or c.stuck for c in self.covering))

    # -- JSON -------------------------------------------------------------------------

    def handoff_json(self, h) -> dict:
        stage = self.stages.get((h.workflow, h.to_stage))
        return {
            "id": h.id, "item_id": h.item_id, "title": h.title, "workflow": h.workflow,
            "from_stage": h.from_stage, "from_owner": h.from_owner, "to_stage": h.to_stage,
            "to_stage_name": stage.name if stage else None, "to_owner": h.to_owner,
            "sop": stage.sop if stage else None, "note": h.note,
            "sent_at": clock.stamp(h.sent_at), "due_at": clock.stamp(h.due_at),
            "overdue": self.handoff_overdue(h), "late_seconds": int(rules.lateness(h, self.now).total_seconds()),
            "escalation_due": rules.escalation_due(h, self.now, self.settings),
            "escalated_at": clock.stamp(h.escalated_at) if h.escalated_at else None,
        }

    def item_json(self, item, reasons) -> dict:
        stage = self.stages.get((item.workflow, item.stage))
        return {
            "id": item.id, "title": item.title, "workflow": item.workflow, "stage": item.stage,
            "stage_name": stage.name if stage else None, "status": item.status, "owner": item.owner,
            "due": item.due.isoformat() if item.due else None, "sop": stage.sop if stage else None,
            "overdue": self.item_overdue(item),
            "reasons": [{"kind": r.kind, "text": r.text} for r in reasons],
        }

    def as_json(self) -> dict:
        return {
            "version": JSON_VERSION,
            "me": self.me,
            "now": clock.stamp(self.now),
            "today": self.today.isoformat(),
            "overdue": self.overdue(),
            "incoming": [self.handoff_json(h) for h in self.incoming],
            "sent": [self.handoff_json(h) for h in self.sent],
            "stuck": [self.item_json(item, reasons) for item, reasons in self.stuck],
            "actions": [
                {"id": a.id, "text": a.text, "due": a.due.isoformat() if a.due else None,
                 "overdue": self.action_overdue(a), "item_id": a.item_id, "workflow": a.workflow,
                 "week": a.week}
                for a in self.actions
            ],
            "covering": [
                {"for": c.person.handle, "name": c.person.name,
                 "away": [{"from": p.start.isoformat(), "to": p.end.isoformat()} for p in c.away],
                 "incoming": [self.handoff_json(h) for h in c.incoming],
                 "stuck": [self.item_json(item, reasons) for item, reasons in c.stuck]}
                for c in self.covering
            ],
        }


# --- for people ------------------------------------------------------------------------


def _late(mine: Mine, h) -> Cell:
    if mine.handoff_overdue(h):
        late = clock.humanize(rules.lateness(h, mine.now))
        style = "red bold" if rules.escalation_due(h, mine.now, mine.settings) else "red"
        return Cell(f"{late} late", style)
    return Cell(f"in {clock.humanize(h.due_at - mine.now)}")


def _incoming_rows(mine: Mine, handoffs: list) -> list[list]:
    rows = []
    for h in handoffs:
        stage = mine.stages.get((h.workflow, h.to_stage))
        rows.append([str(h.id), f"#{h.item_id}", truncate(h.title, TITLE_WIDTH), h.from_owner or "—",
                     f"{h.workflow}/{h.to_stage}", when(h.due_at), _late(mine, h),
                     (stage.sop if stage and stage.sop else "no SOP")])
    return rows


_INCOMING_HEADER = ["HANDOFF", "ITEM", "TITLE", "FROM", "INTO", "DUE", "LATE", "SOP"]


def _stuck_rows(mine: Mine, stuck: list) -> list[list]:
    rows = []
    for item, reasons in stuck:
        why = "; ".join(r.text for r in reasons)
        style = "red" if mine.item_overdue(item) else ("yellow" if item.status == "blocked" else None)
        rows.append([f"#{item.id}", truncate(item.title, TITLE_WIDTH), f"{item.workflow}/{item.stage}",
                     Cell(why, style)])
    return rows


_STUCK_HEADER = ["ITEM", "TITLE", "WHERE", "WHY"]


def _count(total: int, overdue: int) -> str:
    return f"{total}, {overdue} overdue" if overdue else str(total)


def render(mine: Mine, out: Printer) -> None:
    """The human-readable listing, sections in SPEC order."""
    person = mine.people[mine.me]
    out.line(f"What is waiting on {mine.me} ({person.name}), {when(mine.now)}", "bold")
    if mine.empty():
        out.line("")
        covering = ", ".join(c.person.handle for c in mine.covering)
        extra = f" (covering for {covering}: nothing waiting there either)" if covering else ""
        out.line(f"Nothing is waiting on you: no handoffs to accept or waiting on others, "
                 f"no stuck items, no open actions{extra}.")
        return

    out.line("")
    if mine.incoming:
        late = sum(mine.handoff_overdue(h) for h in mine.incoming)
        out.heading(f"Handoffs waiting for you to accept ({_count(len(mine.incoming), late)})")
        out.table(_incoming_rows(mine, mine.incoming), _INCOMING_HEADER)
        out.line(f"  accept one with: opsweek accept {mine.incoming[0].id}", "dim")
    else:
        out.line("Handoffs waiting for you to accept: none")

    out.line("")
    if mine.sent:
        late = sum(mine.handoff_overdue(h) for h in mine.sent)
        out.heading(f"Handoffs you sent, not yet accepted ({_count(len(mine.sent), late)})")
        out.table([[str(h.id), f"#{h.item_id}", truncate(h.title, TITLE_WIDTH), h.to_owner or "nobody",
                    f"{h.workflow}/{h.to_stage}", when(h.due_at), _late(mine, h)] for h in mine.sent],
                  ["HANDOFF", "ITEM", "TITLE", "TO", "INTO", "DUE", "LATE"])
    else:
        out.line("Handoffs you sent, not yet accepted: none")

    out.line("")
    if mine.stuck:
        late = sum(mine.item_overdue(item) for item, _ in mine.stuck)
        out.heading(f"Your stuck items ({_count(len(mine.stuck), late)})")
        out.table(_stuck_rows(mine, mine.stuck), _STUCK_HEADER)
    else:
        out.line("Your stuck items: none")

    out.line("")
    if mine.actions:
        late = sum(mine.action_overdue(a) for a in mine.actions)
        out.heading(f"Your open actions ({_count(len(mine.actions), late)})")
        rows = []
        for a in mine.actions:
            if a.due is None:
                status = Cell("no due date")
            elif mine.action_overdue(a):
                status = Cell(f"{(mine.today - a.due).days}d late", "red")
            else:
                status = Cell("due today" if a.due == mine.today else f"in {(a.due - mine.today).days}d")
            link = f"#{a.item_id}" if a.item_id else (a.workflow or "")
            rows.append([str(a.id), day(a.due, mine.today) or "—", status, a.text, link])
        out.table(rows, ["ACTION", "DUE", "", "WHAT", "ABOUT"])
    else:
        out.line("Your open actions: none")

    for c in mine.covering:
        out.line("")
        periods = ", ".join(f"{day(p.start, mine.today)} – {day(p.end, mine.today)}" for p in c.away)
        out.heading(f"Covering for {c.person.handle} ({c.person.name}, away {periods})")
        if not (c.incoming or c.stuck):
            out.line("  nothing waiting on them")
            continue
        if c.incoming:
            late = sum(mine.handoff_overdue(h) for h in c.incoming)
            out.line(f"  Handoffs waiting for {c.person.handle} to accept ({_count(len(c.incoming), late)})")
            out.table(_incoming_rows(mine, c.incoming), _INCOMING_HEADER, indent=4)
        if c.stuck:
            late = sum(mine.item_overdue(item) for item, _ in c.stuck)
            out.line(f"  Their stuck items ({_count(len(c.stuck), late)})")
            out.table(_stuck_rows(mine, c.stuck), _STUCK_HEADER, indent=4)


def check_line(mine: Mine, overdue: dict[str, int]) -> str:
    parts = []
    if overdue["incoming"]:
        parts.append(plural(overdue["incoming"], "handoff") + " to accept")
    if overdue["items"]:
        parts.append(plural(overdue["items"], "item") + " past due")
    if overdue["actions"]:
        parts.append(plural(overdue["actions"], "action"))
    if overdue["covering"]:
        names = ", ".join(c.person.handle for c in mine.covering)
        parts.append(f"{overdue['covering']} while covering for {names}")
    return f"{mine.me}: {overdue['total']} overdue ({'; '.join(parts)}); see 'opsweek mine'"


def mine(ctx) -> int:
    """``opsweek mine [--json] [--check]``; returns 1 with ``--check`` when something is overdue."""
    me = ctx.require_me()
    now = clock.now()
    today = now.astimezone(clock.local_tz()).date()
    store = ctx.open_store()
    try:
        result = Mine(store, me, now, today)
    finally:
        store.close()
    overdue = result.overdue()
    if ctx.args.json:
        from opsweek.cli.output import json_text

        sys.stdout.write(json_text(result.as_json()) + "\n")
    elif ctx.args.check:
        if overdue["total"]:
            Printer().line(check_line(result, overdue))
    else:
        render(result, Printer())
    return 1 if ctx.args.check and overdue["total"] else 0
