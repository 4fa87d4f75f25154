"""``opsweek digest [--everyone]``: only what needs someone now, for cron mail and login
scripts.

For ``--me`` (or, with ``--everyone``, one section per person who has something), in
this order: handoffs waiting for them to accept and escalations that reached them, their
overdue work (items past their due date or their stage's ``max_days``), and their actions
due today or past due. When nothing needs anyone it prints nothing at all, so cron's
``MAILTO`` sends no mail; the exit status is 1 when something is overdue (what
``opsweek mine --check`` counts), else 0.

Plain text that reads well in a mail client: short aligned lines, no colour unless the
output is a terminal (``Printer``: no ESC sequences into a pipe or a file). User text goes
through ``Cell`` (control characters removed).
"""

from __future__ import annotations

from opsweek import clock
from opsweek.cli.output import Cell, Printer, day, plural, truncate, when
from opsweek.store import read
from opsweek.text import one_line

TITLE_WIDTH = 40
LATE_KINDS = ("past_due", "in_stage")  # an item is late work when past its due date or its max_days


def _late_items(work) -> list:
    return [(item, [r for r in reasons if r.kind in LATE_KINDS]) for item, reasons in work.stuck
            if any(r.kind in LATE_KINDS for r in reasons)]


def _due_actions(work) -> list:
    return [a for a in work.actions if a.due is not None and a.due <= work.today]


def needs_attention(work) -> bool:
    """Anything for the digest: a handoff to accept, an escalation that reached them,
    late work of theirs, an action due today or before."""
    return bool(work.incoming or work.escalated_to_me or _late_items(work) or _due_actions(work))


def section(work, out: Printer, *, everyone: bool) -> None:
    """One person's part of the digest (sections in the order of the module doc)."""
    person = work.people[work.me]
    title = f"{work.me} ({one_line(person.name)})"
    out.heading(f"== {title} ==" if everyone else f"opsweek digest for {title}, {when(work.now)}")
    if work.incoming:
        late = sum(work.handoff_overdue(h) for h in work.incoming)
        out.line("")
        out.heading(f"Handoffs to accept ({plural(len(work.incoming), 'handoff')}"
                    + (f", {late} overdue)" if late else ")"))
        rows = []
        for h in work.incoming:
            if work.handoff_overdue(h):
                state = Cell(f"{clock.humanize(work.now - h.due_at)} late", "red")
            else:
                state = Cell(f"due in {clock.humanize(h.due_at - work.now)}")
            rows.append([f"handoff {h.id}", f"#{h.item_id}", Cell(truncate(h.title or "", TITLE_WIDTH)),
                         Cell(f"from {h.from_owner or 'nobody'}"), Cell(f"into {h.workflow}/{h.to_stage}"), state])
        out.table(rows)
        out.line(f"  accept with: opsweek accept {work.incoming[0].id}")
    if work.escalated_to_me:
        out.line("")
        out.heading(f"Escalated to you ({len(work.escalated_to_me)})")
        rows = []
        for w in work.escalated_to_me:
            e = w.escalation
            what = f"handoff {e.handoff_id}" if w.kind == "handoff" else "stuck item"
            late = f"{clock.humanize(work.now - w.late_since)} late" if w.late_since else ""
            rows.append([what, f"#{w.item_id}", Cell(truncate(w.title or "", TITLE_WIDTH)),
                         Cell(f"held by {w.holder or 'nobody'}"), Cell(f"tier {e.tier} by {e.by}"), Cell(late, "red")])
        out.table(rows)
    late_items = _late_items(work)
    if late_items:
        out.line("")
        out.heading(f"Your overdue work ({plural(len(late_items), 'item')})")
        out.table([[f"#{item.id}", Cell(truncate(item.title, TITLE_WIDTH)), Cell(f"{item.workflow}/{item.stage}"),
                    Cell("; ".join(r.text for r in reasons), "red")] for item, reasons in late_items])
    actions = _due_actions(work)
    if actions:
        out.line("")
        out.heading(f"Actions due ({len(actions)})")
        rows = []
        for a in actions:
            status = Cell("due today") if a.due == work.today else Cell(f"{(work.today - a.due).days}d late", "red")
            rows.append([f"action {a.id}", day(a.due, work.today), status, Cell(truncate(a.text, 60))])
        out.table(rows)


def digest(ctx) -> int:
    """``opsweek digest [--everyone]``: 1 when something is overdue, else 0; silent when
    nothing needs attention."""
    now = clock.now()
    today = now.astimezone(clock.local_tz()).date()
    me = None if ctx.args.everyone else ctx.require_me()
    store = ctx.open_store()
    try:
        if me is not None:
            works = [read.my_work(store, me, now, today)]
        else:
            everyone = read.people(store)
            works = [read.my_work(store, handle, now, today) for handle, p in everyone.items() if p.active]
    finally:
        store.close()
    shown = [w for w in works if needs_attention(w)]
    out = Printer()
    if ctx.args.everyone and shown:
        out.heading(f"opsweek digest, {when(now)}: {plural(len(shown), 'person', 'people')} with something to do")
    for index, work in enumerate(shown):
        if index or ctx.args.everyone:
            out.line("")
        section(work, out, everyone=ctx.args.everyone)
    return 1 if any(w.overdue()["total"] for w in works) else 0
