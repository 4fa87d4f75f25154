"""``opsweek mine``: what is waiting on me, in a moment.

Sections, in this order:

1. handoffs waiting for me to accept (overdue first, with how late, who sent them and
   the receiving stage's SOP), then the escalations that reached me and still stand
   (from the records: tier, whose work, who escalated it, how late);
2. handoffs I sent that are not yet accepted;
3. my stuck items, with their reasons, then my own late work that was escalated;
4. my open actions, earliest due first;
5. the items opened for me since I last looked (a schedule, a feed, a teammate or an
   import opened them; not the ones I added myself), newest first -- "last looked" is the
   last plain ``opsweek mine`` (``opsweek.looked``; ``--json`` and ``--check`` leave it),
   and before the first, the last 7 days;
6. "covering for X": for each person whose named cover I am and who is away at some
   point from today to Sunday (``rules.cover_for``), their handoffs waiting to be
   accepted and their stuck items;
7. the issues I raised that are still open (the listing only: not in the JSON, which
   docs/mine-json.md pins).

Each section shows its 20 most urgent rows (in the order above) and then how many more
there are; ``--all`` shows every row, and ``--json`` always has every row.

``--check`` prints nothing and exits 0 when nothing of mine is overdue; otherwise it
prints one summary line and exits 1 (with ``--json`` too, the JSON is printed and the
exit status is the same). "Overdue" means: a handoff to me (or to someone I
cover for) past its due time, an item of mine past its due date, or an open action of
mine past its due date. Handoffs I sent that wait on others do not count.

This is the quick path (a shell prompt or login script may run it): the sections come
from ``read.my_work`` (the rule: ``opsweek.rules.waiting``), which imports only the
standard library -- no pydantic, sqlite-utils or Textual; a test guards it.

JSON shape (``--json``), version 1 -- stable: fields may be added, never renamed or
removed without bumping ``version``. Times are UTC ``YYYY-MM-DDTHH:MM:SSZ``, dates
``YYYY-MM-DD``, absent values ``null``::

    {
      "version": 1,
      "me": "ana",
      "now": "2026-11-24T10:00:00Z",
      "today": "2026-11-24",
      "overdue": {"total": 3, "incoming": 1, "items": 1, "actions": 1, "covering": 0,
                  "escalated": 0, "escalated_work": 0},
      "incoming": [HANDOFF, ...],     # to me, not yet accepted; most overdue first
      "sent": [HANDOFF, ...],         # from me to others, not yet accepted; earliest due first
      "stuck": [ITEM, ...],           # mine and stuck; longest in its stage first
      "actions": [ACTION, ...],       # mine and open; earliest due first, undated last
      "escalated_to_me": [ESCALATED, ...],  # escalations that reached me and still stand
      "escalated_work": [ESCALATED, ...],   # my late work that was escalated (latest each)
      "opened_since": "2026-11-23T09:00:00Z", "looked": true,  # false: no look yet, the last 7 days
      "opened": [OPENED, ...],        # opened for me since then, newest first
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
    ESCALATED = {"id", "kind" (handoff|item), "handoff_id", "item_id", "title", "workflow",
                 "stage", "holder", "tier", "to", "to_name" (as recorded then), "by",
                 "reason", "at", "late_seconds"}
    OPENED  = ITEM + {"opened_at", "schedule" (recurring key or null),
                      "fed_from" (item id or null), "fed_workflow", "by" (who added it)}

The same description, for people who script against it, is in ``docs/mine-json.md``.
"""

from __future__ import annotations

import sys

from opsweek import clock, rules
from opsweek.cli.output import Cell, Printer, day, plural, truncate, when
from opsweek.rules.waiting import OPENED_DAYS, MyWork
from opsweek.store import read

JSON_VERSION = 1
TITLE_WIDTH = 38
SHOWN = 20  # rows per section, most urgent first, unless --all


# --- JSON -----------------------------------------------------------------------------


def handoff_json(work: MyWork, h) -> dict:
    stage = work.stages.get((h.workflow, h.to_stage))
    return {
        "id": h.id, "item_id": h.item_id, "title": h.title, "workflow": h.workflow,
        "from_stage": h.from_stage, "from_owner": h.from_owner, "to_stage": h.to_stage,
        "to_stage_name": stage.name if stage else None, "to_owner": h.to_owner,
        "sop": stage.sop if stage else None, "note": h.note,
        "sent_at": clock.stamp(h.sent_at), "due_at": clock.stamp(h.due_at),
        "overdue": work.handoff_overdue(h), "late_seconds": int(rules.lateness(h, work.now).total_seconds()),
        "escalation_due": rules.escalation_due(h, work.now, work.settings),
        "escalated_at": clock.stamp(h.escalated_at) if h.escalated_at else None,
    }


def item_json(work: MyWork, item, reasons) -> dict:
    stage = work.stages.get((item.workflow, item.stage))
    return {
        "id": item.id, "title": item.title, "workflow": item.workflow, "stage": item.stage,
        "stage_name": stage.name if stage else None, "status": item.status, "owner": item.owner,
        "due": item.due.isoformat() if item.due else None, "sop": stage.sop if stage else None,
        "overdue": work.item_overdue(item),
        "reasons": [{"kind": r.kind, "text": r.text} for r in reasons],
    }


def escalated_json(work: MyWork, w) -> dict:
    e = w.escalation
    return {
        "id": e.id, "kind": w.kind, "handoff_id": e.handoff_id, "item_id": w.item_id, "title": w.title,
        "workflow": w.workflow, "stage": w.stage, "holder": w.holder, "tier": e.tier, "to": e.to_handle,
        "to_name": e.to_name, "by": e.by, "reason": e.reason, "at": clock.stamp(e.at),
        "late_seconds": _late_seconds(work, w),
    }


def _late_seconds(work: MyWork, w) -> int:
    return max(int((work.now - w.late_since).total_seconds()), 0) if w.late_since else 0


def opened_json(work: MyWork, o) -> dict:
    return {**item_json(work, o.item, ()), "opened_at": clock.stamp(o.item.opened_at), "schedule": o.schedule,
            "fed_from": o.fed_from, "fed_workflow": o.fed_workflow, "by": o.by}


def as_json(work: MyWork) -> dict:
    """The stable JSON shape of the module docstring (and docs/mine-json.md)."""
    return {
        "version": JSON_VERSION,
        "me": work.me,
        "now": clock.stamp(work.now),
        "today": work.today.isoformat(),
        "overdue": work.overdue(),
        "incoming": [handoff_json(work, h) for h in work.incoming],
        "sent": [handoff_json(work, h) for h in work.sent],
        "stuck": [item_json(work, item, reasons) for item, reasons in work.stuck],
        "actions": [
            {"id": a.id, "text": a.text, "due": a.due.isoformat() if a.due else None,
             "overdue": work.action_overdue(a), "item_id": a.item_id, "workflow": a.workflow,
             "week": a.week}
            for a in work.actions
        ],
        "escalated_to_me": [escalated_json(work, w) for w in work.escalated_to_me],
        "escalated_work": [escalated_json(work, w) for w in work.escalated_work],
        "opened_since": clock.stamp(work.opened_since),
        "looked": work.looked,
        "opened": [opened_json(work, o) for o in work.opened],
        "covering": [
            {"for": c.person.handle, "name": c.person.name,
             "away": [{"from": p.start.isoformat(), "to": p.end.isoformat()} for p in c.away],
             "incoming": [handoff_json(work, h) for h in c.incoming],
             "stuck": [item_json(work, item, reasons) for item, reasons in c.stuck]}
            for c in work.covering
        ],
    }


# --- for people ------------------------------------------------------------------------


def _late(mine: MyWork, h) -> Cell:
    if mine.handoff_overdue(h):
        late = clock.humanize(rules.lateness(h, mine.now))
        style = "red bold" if rules.escalation_due(h, mine.now, mine.settings) else "red"
        return Cell(f"{late} late", style)
    return Cell(f"in {clock.humanize(h.due_at - mine.now)}")


def _incoming_rows(mine: MyWork, handoffs: list) -> list[list]:
    rows = []
    for h in handoffs:
        stage = mine.stages.get((h.workflow, h.to_stage))
        rows.append([str(h.id), f"#{h.item_id}", truncate(h.title, TITLE_WIDTH), h.from_owner or "—",
                     f"{h.workflow}/{h.to_stage}", when(h.due_at), _late(mine, h),
                     (stage.sop if stage and stage.sop else "no SOP")])
    return rows


_INCOMING_HEADER = ["HANDOFF", "ITEM", "TITLE", "FROM", "INTO", "DUE", "LATE", "SOP"]


def _stuck_rows(mine: MyWork, stuck: list) -> list[list]:
    rows = []
    for item, reasons in stuck:
        why = "; ".join(r.text for r in reasons)
        style = "red" if mine.item_overdue(item) else ("yellow" if item.status == "blocked" else None)
        rows.append([f"#{item.id}", truncate(item.title, TITLE_WIDTH), f"{item.workflow}/{item.stage}",
                     Cell(why, style)])
    return rows


_STUCK_HEADER = ["ITEM", "TITLE", "WHERE", "WHY"]


_ESCALATED_HEADER = ["WHAT", "ITEM", "TITLE", "WHOSE", "TIER", "WHEN", "LATE", "BY"]


def _escalated_rows(mine: MyWork, found: list, who: str) -> list[list]:
    rows = []
    for w in found:
        e = w.escalation
        what = f"handoff {e.handoff_id}" if w.kind == "handoff" else "stuck item"
        person = (w.holder or "nobody") if who == "holder" else e.to_handle
        late = clock.humanize(mine.now - w.late_since) + " late" if w.late_since else ""
        rows.append([what, f"#{w.item_id}", truncate(w.title, TITLE_WIDTH), person, str(e.tier), when(e.at),
                     Cell(late, "red"), e.by])
    return rows


def _count(size: tuple[int, int]) -> str:
    total, overdue = size
    return f"{total}, {overdue} overdue" if overdue else str(total)


def _more(out: Printer, size: tuple[int, int], shown: int, indent: int = 2) -> None:
    """"and N more" under a section that shows only its most urgent rows."""
    if size[0] > shown:
        out.line(f"{' ' * indent}and {size[0] - shown} more (opsweek mine --all shows every row)", "dim")


def render(mine: MyWork, out: Printer, raised: list | None = None) -> None:
    """The human-readable listing, sections in SPEC order; ``raised``: the open issues
    ``mine.me`` raised (after the items opened for them, when there are any)."""
    person = mine.people[mine.me]
    out.line(f"What is waiting on {mine.me} ({person.name}), {when(mine.now)}", "bold")
    if mine.empty():
        out.line("")
        covering = ", ".join(c.person.handle for c in mine.covering)
        extra = f" (covering for {covering}: nothing waiting there either)" if covering else ""
        out.line(f"Nothing is waiting on you: no handoffs to accept or waiting on others, "
                 f"no stuck items, no open actions{extra}.")
        _raised(out, raised)
        return

    out.line("")
    if mine.incoming:
        size = mine.size("incoming")
        out.heading(f"Handoffs waiting for you to accept ({_count(size)})")
        out.table(_incoming_rows(mine, mine.incoming), _INCOMING_HEADER)
        _more(out, size, len(mine.incoming))
        out.line(f"  accept one with: opsweek accept {mine.incoming[0].id}", "dim")
    else:
        out.line("Handoffs waiting for you to accept: none")
    if mine.escalated_to_me:
        out.line("")
        out.heading(f"Escalated to you ({len(mine.escalated_to_me)})")
        out.table(_escalated_rows(mine, mine.escalated_to_me, "holder"), _ESCALATED_HEADER)

    out.line("")
    if mine.sent:
        size = mine.size("sent")
        out.heading(f"Handoffs you sent, not yet accepted ({_count(size)})")
        out.table([[str(h.id), f"#{h.item_id}", truncate(h.title, TITLE_WIDTH), h.to_owner or "nobody",
                    f"{h.workflow}/{h.to_stage}", when(h.due_at), _late(mine, h)] for h in mine.sent],
                  ["HANDOFF", "ITEM", "TITLE", "TO", "INTO", "DUE", "LATE"])
        _more(out, size, len(mine.sent))
    else:
        out.line("Handoffs you sent, not yet accepted: none")

    out.line("")
    if mine.stuck:
        size = mine.size("stuck")
        out.heading(f"Your stuck items ({_count(size)})")
        out.table(_stuck_rows(mine, mine.stuck), _STUCK_HEADER)
        _more(out, size, len(mine.stuck))
    else:
        out.line("Your stuck items: none")
    if mine.escalated_work:
        out.line("")
        out.heading(f"Your work that was escalated ({len(mine.escalated_work)})")
        out.table(_escalated_rows(mine, mine.escalated_work, "to"), _ESCALATED_HEADER[:3] + ["TO", "TIER", "WHEN",
                                                                                              "LATE", "BY"])

    out.line("")
    if mine.actions:
        size = mine.size("actions")
        out.heading(f"Your open actions ({_count(size)})")
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
        _more(out, size, len(mine.actions))
    else:
        out.line("Your open actions: none")

    if mine.opened:
        out.line("")
        size = mine.size("opened")
        since = f"since you last looked ({when(mine.opened_since)})" if mine.looked else \
            f"in the last {OPENED_DAYS} days"
        out.heading(f"Opened for you {since} ({_count(size)})")
        out.table([[str(o.item.id), truncate(o.item.title, TITLE_WIDTH), f"{o.item.workflow}/{o.item.stage}",
                    when(o.item.opened_at), _opened_by(o)] for o in mine.opened],
                  ["ITEM", "TITLE", "WHERE", "OPENED", "BY"])
        _more(out, size, len(mine.opened))
    _raised(out, raised)

    for c in mine.covering:
        out.line("")
        periods = ", ".join(f"{day(p.start, mine.today)} – {day(p.end, mine.today)}" for p in c.away)
        out.heading(f"Covering for {c.person.handle} ({c.person.name}, away {periods})")
        if not (c.incoming or c.stuck):
            out.line("  nothing waiting on them")
            continue
        if c.incoming:
            size = mine.covering_size(c, "incoming")
            out.line(f"  Handoffs waiting for {c.person.handle} to accept ({_count(size)})")
            out.table(_incoming_rows(mine, c.incoming), _INCOMING_HEADER, indent=4)
            _more(out, size, len(c.incoming), indent=4)
        if c.stuck:
            size = mine.covering_size(c, "stuck")
            out.line(f"  Their stuck items ({_count(size)})")
            out.table(_stuck_rows(mine, c.stuck), _STUCK_HEADER, indent=4)
            _more(out, size, len(c.stuck), indent=4)


def _raised(out: Printer, raised: list | None) -> None:
    """Issues you raised that are open: what the next session will look at."""
    if not raised:
        return
    out.line("")
    out.heading(f"Issues you raised that are open ({len(raised)})")
    out.table([[str(i.id), when(i.raised_at), i.text,
                f"#{i.item_id}" if i.item_id is not None else (i.workflow or "")] for i in raised],
              ["ISSUE", "RAISED", "WHAT", "ABOUT"])


def _opened_by(o) -> str:
    if o.schedule:
        return f"schedule {o.schedule}"
    if o.fed_from:
        return f"fed by #{o.fed_from} ({o.fed_workflow})"
    return o.by or ""


def check_line(mine: MyWork, overdue: dict[str, int]) -> str:
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
    if overdue.get("escalated"):
        parts.append(f"{overdue['escalated']} escalated to you")
    if overdue.get("escalated_work"):
        parts.append(plural(overdue["escalated_work"], "stuck item") + " of yours escalated")
    return f"{mine.me}: {overdue['total']} overdue ({'; '.join(parts)}); see 'opsweek mine'"


def mine(ctx) -> int:
    """``opsweek mine [--json] [--check] [--all]``; returns 1 with ``--check`` when something is overdue.

    Only the JSON (always complete) and ``--all`` read every row; otherwise each section
    reads its most urgent :data:`SHOWN` rows and its counts."""
    me = ctx.require_me()
    now = clock.now()
    today = now.astimezone(clock.local_tz()).date()
    from opsweek import looked

    store = ctx.open_store()
    try:
        limit = None if ctx.args.json or getattr(ctx.args, "all", False) else SHOWN
        seen = looked.last_looked(ctx.db_path, me)
        result = read.my_work(store, me, now, today, limit=limit, looked=seen)
        # only the listing shows them (the JSON's keys stay as docs/mine-json.md pins them)
        raised = read.open_issues_raised_by(store, me) if not (ctx.args.json or ctx.args.check) else None
    finally:
        store.close()
    overdue = result.overdue()
    if ctx.args.json:
        from opsweek.cli.output import json_text

        sys.stdout.write(json_text(as_json(result)) + "\n")
    elif ctx.args.check:
        if overdue["total"]:
            Printer().line(check_line(result, overdue))
    else:
        render(result, Printer(), raised)
        looked.mark_looked(ctx.db_path, me, now, seen)  # a person looked: next time, what opened since
    return 1 if ctx.args.check and overdue["total"] else 0
