"""Triggers that fire, from the shell: ``recur add/list/drop``, ``schedule``, ``tick``
and ``set``. Each write checks everything first (bad input: one line, exit 2, nothing
written) and goes through :mod:`opsweek.store.recurring`.
"""

from __future__ import annotations

from opsweek import clock
from opsweek.cli.output import Cell, Printer, plural
from opsweek.errors import InputError, NotFound
from opsweek.text import one_line, unknown


def _target(text: str) -> tuple[str, str]:
    workflow, slash, key = (text or "").strip().lower().partition("/")
    if not slash or not workflow or not key:
        raise InputError(f"{text!r} is not WORKFLOW/KEY (accepted: complaints/weekly-review)")
    return workflow, key


def _open(ctx):
    from opsweek.store import read

    store = ctx.open_store()
    try:
        team = read.team(store)
        if ctx.me and ctx.me.lower() not in team.people:
            raise NotFound("--me: " + unknown("person", ctx.me, team.people))
    except BaseException:
        store.close()
        raise
    return store, team


def recur(ctx) -> int:
    """``opsweek recur add|list|drop``."""
    return {"add": _recur_add, "list": _recur_list, "drop": _recur_drop}[ctx.args.recur_action](ctx)


def _recur_add(ctx) -> int:
    from opsweek import schedule
    from opsweek.store import recurring

    args = ctx.args
    workflow, key = _target(args.target)
    store, team = _open(ctx)
    with store:
        now = clock.now()
        recurring.add_schedule(store, team, workflow, key, title=args.title, schedule_text=args.schedule,
                               owner=args.owner, due=args.due, catch_up=args.catch_up, actor=ctx.actor, now=now)
        added = next(s for s in recurring.schedules(store, workflow) if s.key == key)
        first = f"; first opens {schedule.describe(added.next_due)}" if added.next_due else ""
        print(f"{workflow}/{key}: {one_line(added.title)} — {one_line(added.schedule)}{first}")
    return 0


def _recur_list(ctx) -> int:
    from opsweek import schedule
    from opsweek.store import recurring

    store = ctx.open_store()
    with store:
        rows = recurring.schedules(store)
    if not rows:
        print("no recurring schedules (add one: opsweek recur add WF/KEY --title T --schedule S)")
        return 0
    out = Printer()
    out.table([[f"{s.workflow}/{s.key}", Cell(s.title), Cell(s.schedule), s.owner or "(first stage's owner)",
                f"+{s.due}" if s.due else "", s.catch_up,
                schedule.describe(s.next_due) if s.next_due else "never again"] for s in rows],
              header=["schedule", "title", "when", "owner", "due", "catch-up", "next"], indent=0)
    return 0


def _recur_drop(ctx) -> int:
    from opsweek.store import recurring

    workflow, key = _target(ctx.args.target)
    store, _ = _open(ctx)
    with store:
        recurring.drop_schedule(store, workflow, key, actor=ctx.actor)
    print(f"dropped {workflow}/{key}: nothing more opens; the items it opened stay")
    return 0


def schedule_(ctx) -> int:
    """``opsweek schedule [--days N]``: what will open and the sessions to come."""
    from opsweek import schedule
    from opsweek.store import recurring

    days = ctx.args.days
    store = ctx.open_store()
    with store:
        now = clock.now()
        coming = recurring.upcoming(store, now, days)
        has_meeting = bool(store.setting("meeting"))
    out = Printer()
    if not coming:
        print(f"nothing scheduled in the next {plural(days, 'day')}")
    else:
        out.table([[schedule.describe(u.at), "session" if u.kind == "session" else f"opens in {u.workflow}",
                    Cell(u.title), u.owner or ""] for u in coming], indent=0)
    if not has_meeting:
        print("the weekly session has no schedule (set one: opsweek set meeting \"every monday 10:00\")")
    return 0


def tick(ctx) -> int:
    """``opsweek tick``: open every occurrence that is due (cron, systemd timers)."""
    from opsweek.store import read, recurring

    store = ctx.open_store()
    with store:
        opened = recurring.tick(store, clock.now())
        if opened:
            for it in read.items_by_id(store, opened):
                print(f"opened #{it.id} in {it.workflow}: {one_line(it.title)} ({it.owner or 'no owner'})")
    return 0
