"""Keeping the system current from the shell: ``people``, ``person add|set``, ``away``,
``back``, ``workflow add|set``, ``stage add|set``, ``set`` and ``team export``.

Each command is a thin wrapper over :mod:`opsweek.store.changes` (one change with its
audit events, in ``log`` and undoable) and prints one confirming line. Handles are
lowercased at the door; ``none`` clears an optional field.
"""

from __future__ import annotations

import sys

from opsweek import clock
from opsweek.cli.output import Cell, Printer, plural, truncate
from opsweek.errors import InputError
from opsweek.text import one_line

NONE = "none"


def _open(ctx, *, check_me: bool = True):
    from opsweek.cli.work import _open as open_checked

    if check_me:
        return open_checked(ctx)
    from opsweek.store import read

    store = ctx.open_store()
    return store, read.team(store)


def _cleared(value: str | None):
    """``None`` when not given (KEEP), None for ``none``, else the value."""
    from opsweek.store.changes import KEEP

    if value is None:
        return KEEP
    return None if value.strip().lower() == NONE else value


def _given(value):
    from opsweek.store.changes import KEEP

    return KEEP if value is None else value


def _shown(value) -> str:
    if value is None or value == "":
        return "—"
    return truncate(one_line(str(value)), 60)


def _changes(what: str, changed: dict, before: dict) -> str:
    """``stage hiring/qa: owner jo → hana; sop — → https://…`` in the record's field order."""
    order = list(before)
    fields = sorted(changed, key=lambda f: order.index(f) if f in order else len(order))
    return f"{what}: " + "; ".join(f"{field.replace('_', ' ')} {_shown(before.get(field))} → {_shown(changed[field])}"
                                   for field in fields)


def _owns_text(owns) -> str:
    if owns is None:
        return ""
    parts = [(owns.workflows, "workflow"), (owns.stages, "stage"), (owns.items, "item"),
             (owns.handoffs, "handoff")]
    return ", ".join(plural(n, noun) for n, noun in parts if n)


def _away_text(person, today) -> str:
    from opsweek import inputs

    periods = [a for a in person.away if a.end >= today]
    return "; ".join(inputs.away_text(a.start, a.end) for a in periods)


# --- the team ----------------------------------------------------------------------------


def people(ctx) -> int:
    """``opsweek people``: everyone, with role, cover, away periods, active and what they own."""
    from opsweek.store import read

    today = clock.today()
    with ctx.open_store() as store:
        everyone = read.people(store)
        owns = read.ownership(store)
    out = Printer()
    if not everyone:
        out.line("No people yet: opsweek person add HANDLE --name NAME (or opsweek import team.toml)")
        return 0
    rows = []
    for person in everyone.values():
        away = _away_text(person, today)
        rows.append([person.handle, truncate(one_line(person.name), 24), truncate(one_line(person.role), 22),
                     person.cover or "—", Cell(away or "—", "yellow" if away else None),
                     Cell("yes", None) if person.active else Cell("no", "red"),
                     _owns_text(owns.get(person.handle)) or "—"])
    out.table(rows, ["HANDLE", "NAME", "ROLE", "COVER", "AWAY", "ACTIVE", "OWNS"])
    return 0


def person(ctx) -> int:
    """``opsweek person add HANDLE --name N [--role R] [--cover H]`` and
    ``opsweek person set HANDLE [--name N] [--role R] [--cover H|none] [--active yes|no]``."""
    from opsweek.store import changes, read

    args = ctx.args
    handle = changes.handle_of(args.handle)
    if args.verb == "add":
        if args.name is None:
            raise InputError("person add: --name is required (accepted: opsweek person add HANDLE --name NAME)")
        if args.active is not None:
            raise InputError("person add: --active is for person set (a new person is active)")
        store, _ = _open(ctx, check_me=False)
        with store:
            changes.add_person(store, handle, args.name, role=args.role,
                               cover=changes.handle_of(args.cover) if args.cover else None,
                               actor=ctx.actor, reason=args.reason)
            added = read.people(store)[handle]
        extra = "".join([f", {one_line(added.role)}" if added.role else "",
                         f", cover {added.cover}" if added.cover else ""])
        print(f"person {handle} added ({one_line(added.name)}{extra})")
        return 0
    store, team = _open(ctx)
    with store:
        before = team.person(handle)._asdict() if handle in team.people else {}
        cover = _cleared(args.cover)
        changed = changes.update_person(
            store, handle, name=_given(args.name), role=_given(args.role),
            cover=cover if cover in (None, changes.KEEP) else changes.handle_of(cover),
            active=changes.KEEP if args.active is None else args.active == "yes",
            actor=ctx.actor, reason=args.reason)
        owns = read.ownership(store).get(handle)
    if "active" in changed:
        changed["active"] = "yes" if changed["active"] else "no"
        before["active"] = "no" if changed["active"] == "yes" else "yes"
    print(_changes(f"person {handle}", changed, before))
    if changed.get("active") == "no" and owns:
        print(f"{handle} still owns {_owns_text(owns)}: give them new owners (opsweek audit lists the gaps)")
    return 0


def away(ctx) -> int:
    """``opsweek away HANDLE FROM [TO]``: dates as people type them; no TO means until back."""
    from opsweek import inputs
    from opsweek.store import changes

    args = ctx.args
    start = clock.parse_date(args.start, "FROM")
    end = clock.parse_date(args.end, "TO") if args.end is not None else None
    inputs.check_away_period(start, end)
    store, _ = _open(ctx)
    handle = changes.handle_of(args.handle)
    with store:
        merged = changes.add_away(store, handle, start, end, actor=ctx.actor)
    joined = "" if (merged[0], merged[1]) == (start, end if end is not None else inputs.OPEN_END) else \
        " (merged with a period it overlaps or touches)"
    print(f"{handle} is away {inputs.away_text(*merged)}{joined}")
    return 0


def back(ctx) -> int:
    """``opsweek back HANDLE``: the away period that covers today ends (they are here today)."""
    from opsweek import inputs
    from opsweek.store import changes

    store, _ = _open(ctx)
    handle = changes.handle_of(ctx.args.handle)
    with store:
        left = changes.end_away(store, handle, today=clock.today(), actor=ctx.actor)
    if left is None:
        print(f"{handle} is back (the away period that began today is removed)")
    else:
        print(f"{handle} is back; away period now {inputs.away_text(*left)}")
    return 0


# --- workflows and stages ------------------------------------------------------------------


def workflow(ctx) -> int:
    """``opsweek workflow add KEY --name N --owner H [--trigger T] [--outcome O]`` and
    ``opsweek workflow set KEY [--name N] [--owner H] [--trigger T] [--outcome O] [--status S]``."""
    from opsweek.store import changes

    args = ctx.args
    key = args.key.strip().lower()
    store, team = _open(ctx)
    with store:
        if args.verb == "add":
            missing = [flag for flag, v in (("--name", args.name), ("--owner", args.owner)) if v is None]
            if missing:
                raise InputError(f"workflow add: {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'}"
                                 " required (accepted: opsweek workflow add KEY --name N --owner H)")
            if args.status is not None:
                raise InputError("workflow add: --status is for workflow set (a new workflow is active)")
            changes.add_workflow(store, key, args.name, owner=args.owner, trigger=args.trigger,
                                 outcome=args.outcome, actor=ctx.actor, reason=args.reason)
            print(f"workflow {key} added ({one_line(args.name)}, owner {changes.handle_of(args.owner)});"
                  f" add its stages: opsweek stage add {key}/STAGE --name N")
            return 0
        before = team.workflow(key)._asdict()
        changed = changes.update_workflow(
            store, key, name=_given(args.name), owner=_cleared(args.owner), trigger=_cleared(args.trigger),
            outcome=_cleared(args.outcome), status=_given(args.status), actor=ctx.actor, reason=args.reason)
    print(_changes(f"workflow {key}", changed, before))
    return 0


def _stage_target(text: str) -> tuple[str, str]:
    workflow, sep, stage = text.strip().lower().partition("/")
    if not sep or not workflow or not stage:
        raise InputError(f"{text!r} is not WF/STAGE (accepted: like complaints/triage)")
    return workflow, stage


def stage(ctx) -> int:
    """``opsweek stage add|set WF/STAGE [--name N] [--after STAGE] [--owner H] [--sop URL]
    [--max-days N] [--handoff-sla DUR]``; on ``set``, ``none`` clears a field (``--after none``
    makes it the first stage)."""
    from opsweek.store import changes

    args = ctx.args
    workflow_key, key = _stage_target(args.target)
    after = None if args.after is None else (
        changes.AFTER_FIRST if args.after.strip().lower() == NONE else args.after.strip().lower())
    store, team = _open(ctx)
    with store:
        team.workflow(workflow_key)
        if args.verb == "add":
            if args.name is None:
                raise InputError("stage add: --name is required (accepted: opsweek stage add WF/STAGE --name N)")
            options = {name: (None if value is None or value.strip().lower() == NONE else value)
                       for name, value in (("owner", args.owner), ("sop", args.sop), ("max_days", args.max_days),
                                           ("handoff_sla", args.handoff_sla))}
            changes.add_stage(store, workflow_key, key, args.name, after=after, actor=ctx.actor,
                              reason=args.reason, **options)
            where = "first" if after == changes.AFTER_FIRST else (f"after {after}" if after else "last")
            print(f"stage {workflow_key}/{key} added ({one_line(args.name)}, {where})")
            return 0
        current = team.stage_map.get((workflow_key, key))
        before = current._asdict() if current else {}
        changed = changes.update_stage(
            store, workflow_key, key, name=_given(args.name), after=changes.KEEP if args.after is None else after,
            owner=_cleared(args.owner), sop=_cleared(args.sop), max_days=_cleared(args.max_days),
            handoff_sla=_cleared(args.handoff_sla), actor=ctx.actor, reason=args.reason)
    print(_changes(f"stage {workflow_key}/{key}", changed, before))
    if "owner" in changed and not args.reason:
        print("(say why next time with --reason: the log keeps it beside the change)")
    return 0


def set_(ctx) -> int:
    """``opsweek set KEY VALUE``: a setting (``opsweek.inputs.SETTINGS`` lists them)."""
    from opsweek.store import changes, read

    args = ctx.args
    store, _ = _open(ctx)
    key = args.key.strip().lower()
    with store:
        before = read.settings(store).get(key)
        value = changes.set_setting(store, args.key, args.value, actor=ctx.actor)
        following = None
        if key == "meeting":
            from opsweek.store import recurring

            following = recurring.next_session(store, clock.now())
    line = f"{key}: {_shown(before)} → {value}"
    if following is not None:
        line += f"; next session {clock.show(following, '%a %Y-%m-%d %H:%M')}"
    print(line)
    return 0


# --- the team file -------------------------------------------------------------------------


def team(ctx) -> int:
    """``opsweek team export [-o FILE]``: the current system as a team file (stdout by default)."""
    from opsweek import teamfile

    with ctx.open_store() as store:
        text = teamfile.export(store)
    if not ctx.args.output or ctx.args.output == "-":
        sys.stdout.write(text)
        return 0
    from pathlib import Path

    target = Path(ctx.args.output).expanduser()
    if target.is_dir():
        raise InputError(f"-o {target}: is a directory (accepted: a file name, like team.toml)")
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(target)  # whole or not at all
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise InputError(f"-o {target}: cannot write ({error.strerror})") from None
    print(f"team file written to {target}")
    return 0
