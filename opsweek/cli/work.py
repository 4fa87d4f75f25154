"""Changing work from the shell: add, handoff, accept, reassign, block, unblock, done,
drop, and the audit trail behind them: log, undo.

Each command is a thin wrapper over :mod:`opsweek.store.changes` (one transaction with
its audit events; everything is checked before anything is written) and prints one
confirming line. The actor is ``--me`` / ``OPSWEEK_ME`` (else the login name); a
``--me`` that names nobody on the team is refused, with the near matches.
"""

from __future__ import annotations

import json
import re

from opsweek import clock
from opsweek.cli.output import Printer, day, truncate, when
from opsweek.errors import InputError, NotFound
from opsweek.text import one_line, unknown


def _say(text: str) -> int:
    Printer(colour=False).line(text)  # it names titles and people: cleaned like every line
    return 0


def _open(ctx):
    """The store and the team, after checking who is acting."""
    from opsweek.store import read

    store = ctx.open_store()
    try:
        team = read.team(store)
        if ctx.me and ctx.me not in team.people:
            hint = "" if team.people else " (the team has no people yet: opsweek import team.toml)"
            raise NotFound("--me: " + unknown("person", ctx.me, team.people) + hint)
    except BaseException:
        store.close()
        raise
    return store, team


def _stage_label(team, workflow: str, key: str) -> str:
    stage = team.stage_map.get((workflow, key))
    return one_line(stage.name) if stage else key


def _quote(text: str | None, limit: int = 60) -> str:
    return "“" + truncate(one_line(text), limit) + "”"


# --- items -----------------------------------------------------------------------------


def add(ctx) -> int:
    """``opsweek add WORKFLOW TITLE [--owner H] [--due DATE] [--ref REF]``."""
    from opsweek.store import changes, read

    args = ctx.args
    due = clock.parse_date(args.due, "--due") if args.due is not None else None
    store, team = _open(ctx)
    with store:
        item_id = changes.add_item(store, team, args.workflow, args.title, owner=args.owner, due=due,
                                   ref=args.ref, actor=ctx.actor)
        it = read.item(store, item_id)
    wf = team.workflow(it.workflow)
    line = (f"#{item_id} added to {one_line(wf.name)}, stage {_stage_label(team, it.workflow, it.stage)}, "
            f"owner {it.owner or 'nobody'}")
    if it.due:
        line += f", due {day(it.due, clock.today())}"
    return _say(line)


def handoff(ctx) -> int:
    """``opsweek handoff ITEM [--to STAGE] [--owner H] [--note TEXT]``."""
    from opsweek.store import changes, read

    args = ctx.args
    store, team = _open(ctx)
    with store:
        handoff_id = changes.hand_off(store, team, args.item, to_stage=args.to_stage, owner=args.owner,
                                      note=args.note, actor=ctx.actor)
        h = read.handoff(store, handoff_id)
    line = (f"#{args.item} handed to {_stage_label(team, h.workflow, h.to_stage)} ({h.to_owner or 'nobody'}), "
            f"due {when(h.due_at)} (handoff {handoff_id})")
    if not args.owner:
        from opsweek import rules

        stage = team.stage(h.workflow, h.to_stage)
        chosen = rules.receivers.receiver(stage, team.people, clock.today(), h.workflow)
        if chosen.note:
            line += f"; {chosen.note}"
        elif chosen.warning:
            line += f"; warning: {chosen.warning} (listed as an ownership gap)"
    return _say(line)


def accept(ctx) -> int:
    """``opsweek accept HANDOFF``: the item moves into the handoff's stage."""
    from opsweek.store import changes, read

    store, team = _open(ctx)
    with store:
        on_behalf = ctx.args.for_.strip().lower() if ctx.args.for_ else None
        changes.accept_handoff(store, ctx.args.handoff, actor=ctx.actor, on_behalf=on_behalf)
        h = read.handoff(store, ctx.args.handoff)
        it = read.item(store, h.item_id)
    line = (f"handoff {h.id} accepted: #{it.id} is now in {_stage_label(team, it.workflow, it.stage)}, "
            f"owned by {it.owner or 'nobody'}")
    if h.to_owner and h.accepted_by != h.to_owner:
        line += f" (accepted by {h.accepted_by} {'on behalf of' if on_behalf else 'for'} {h.to_owner})"
    return _say(line)


def action(ctx) -> int:
    """``opsweek action ID done|drop|due DATE [--reason TEXT]``: between sessions too."""
    from opsweek.store import changes, read

    args = ctx.args
    if args.verb == "due" and not args.date:
        raise InputError("action ID due needs the new date (accepted: 2026-12-01, 1 Dec, +3d, fri)")
    if args.verb != "due" and args.date:
        raise InputError(f"action ID {args.verb} takes no date (accepted: action ID due DATE)")
    due = clock.parse_date(args.date, "DATE") if args.date else None
    with ctx.open_store() as store:
        if args.verb == "due":
            changes.set_action_due(store, args.action_id, due, actor=ctx.actor, reason=args.reason)
        else:
            changes.set_action_status(store, args.action_id, "done" if args.verb == "done" else "dropped",
                                      meeting_id=None, actor=ctx.actor, reason=args.reason, only_open=True)
        e = read.entry(store, args.action_id)
    what = {"done": "done", "drop": "dropped", "due": f"now due {day(e.due, clock.today())}"}[args.verb]
    return _say(f"action {e.id} {what}: {_quote(e.text)} ({e.owner})")


def reassign(ctx) -> int:
    """``opsweek reassign ITEM --to H [--reason TEXT]``."""
    from opsweek.store import changes, read

    args = ctx.args
    store, team = _open(ctx)
    with store:
        before = read.item(store, args.item)
        changes.reassign_item(store, team, args.item, args.to, reason=args.reason, actor=ctx.actor)
    return _say(f"#{args.item} reassigned from {before.owner or 'nobody'} to {args.to}")


def block(ctx) -> int:
    from opsweek.store import changes

    store, _ = _open(ctx)
    with store:
        changes.block_item(store, ctx.args.item, ctx.args.reason, actor=ctx.actor)
    return _say(f"#{ctx.args.item} blocked: {one_line(ctx.args.reason)}")


def unblock(ctx) -> int:
    from opsweek.store import changes, read

    store, _ = _open(ctx)
    with store:
        before = read.item(store, ctx.args.item)
        changes.unblock_item(store, ctx.args.item, actor=ctx.actor)
    was = f" (was: {one_line(before.blocked_reason)})" if before.blocked_reason else ""
    return _say(f"#{ctx.args.item} unblocked{was}")


def done(ctx) -> int:
    from opsweek.store import changes, read

    store, team = _open(ctx)
    with store:
        pending = read.pending_handoff_for(store, ctx.args.item)  # closing the item withdraws it
        changes.finish_item(store, ctx.args.item, actor=ctx.actor)
    extra = ""
    if pending:
        extra = f"; withdrew handoff {pending.id} to {_stage_label(team, pending.workflow, pending.to_stage)}"
    return _say(f"#{ctx.args.item} done{extra}")


def drop(ctx) -> int:
    from opsweek.store import changes, read

    store, team = _open(ctx)
    with store:
        pending = read.pending_handoff_for(store, ctx.args.item)  # closing the item withdraws it
        changes.drop_item(store, ctx.args.item, ctx.args.reason, actor=ctx.actor)
    extra = ""
    if pending:
        extra = f"; withdrew handoff {pending.id} to {_stage_label(team, pending.workflow, pending.to_stage)}"
    return _say(f"#{ctx.args.item} dropped: {one_line(ctx.args.reason)}{extra}")


def escalate(ctx) -> int:
    """``opsweek escalate (--handoff N|--item N) [--reason TEXT]``: to the next tier of the
    escalation path, now; refused (exit 2, nothing written) when it is not due."""
    from opsweek.store import changes

    args = ctx.args
    store, team = _open(ctx)
    with store:
        if args.handoff is not None:
            step = changes.escalate_handoff(store, args.handoff, reason=args.reason, actor=ctx.actor)
            what = f"handoff {args.handoff}"
        else:
            step = changes.escalate_item(store, args.item, reason=args.reason, actor=ctx.actor)
            what = f"#{args.item}"
    person = team.people.get(step.to)
    name = f" ({one_line(person.name)})" if person is not None else ""
    why = f": {_quote(args.reason)}" if args.reason and args.reason.strip() else ""
    return _say(f"{what} escalated to {step.to}{name}, tier {step.tier}{why}")


def raise_(ctx) -> int:
    """``opsweek raise TEXT [--item N|--workflow W]``: an issue for the next session, by
    anyone (``--me`` / ``OPSWEEK_ME``); the session's Issues step lists it until it is solved."""
    from opsweek.store import changes, read

    args = ctx.args
    store, team = _open(ctx)
    with store:
        issue_id = changes.raise_issue(store, team, args.text, item_id=args.item, workflow=args.workflow,
                                       actor=ctx.actor)
        found = read.issue(store, issue_id)
        title = read.item_titles(store, [found.item_id]).get(found.item_id) if found.item_id else None
    about = ""
    if found.item_id is not None:
        about = f" about #{found.item_id}" + (f" {_quote(title, 40)}" if title else "")
    elif found.workflow:
        about = f" about {one_line(team.workflow(found.workflow).name)}"
    return _say(f"issue {issue_id} raised by {found.raised_by}{about}: {_quote(found.text)}"
                " (the next session's Issues step lists it)")


# --- the audit trail -------------------------------------------------------------------

SHOWN_PER_CHANGE = 8  # a bulk import is one change of thousands of rows
_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_LABELS = {"items": "#", "handoffs": "handoff ", "entries": "entry ", "meetings": "meeting ",
           "people": "person ", "workflows": "workflow ", "stages": "stage ", "attendance": "attendance ",
           "step_times": "step time ", "reviews": "review ", "away": "away period ", "settings": "setting ",
           "escalations": "escalation ", "issues": "issue ", "issue_ranks": "issue rank "}


def _value(field: str, value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str) and _STAMP.match(value):
        return when(value)
    if isinstance(value, str) and field in ("title", "text", "note", "reason", "blocked_reason", "name",
                                             "outcome", "trigger", "sop", "ref", "role"):
        return _quote(value)
    if isinstance(value, (dict, list)):
        return truncate(one_line(json.dumps(value, sort_keys=True)), 60)
    return truncate(one_line(str(value)), 60)


def _row_summary(entity: str, row: dict) -> str:
    """A short description of a whole row (created or removed)."""
    if entity == "items":
        return (f"{_quote(row.get('title'))} in {row.get('workflow')}/{row.get('stage')}, "
                f"owner {row.get('owner') or 'nobody'}, {row.get('status')}")
    if entity == "handoffs":
        text = (f"#{row.get('item_id')} {row.get('from_stage')} → {row.get('to_stage')}, "
                f"to {row.get('to_owner') or 'nobody'}, due {_value('due_at', row.get('due_at'))}")
        return text + (f", accepted by {row['accepted_by']}" if row.get("accepted_by") else "")
    if entity == "entries":
        owner = f", owner {row['owner']}" if row.get("owner") else ""
        due = f", due {row['due']}" if row.get("due") else ""
        return f"{row.get('kind')} {_quote(row.get('text'))}{owner}{due}"
    if entity == "issues":
        about = (f" about #{row['item_id']}" if row.get("item_id") is not None
                 else f" about {row['workflow']}" if row.get("workflow") else "")
        return f"{_quote(row.get('text'))}{about}, raised by {one_line(str(row.get('raised_by')))}, {row.get('status')}"
    if entity == "people":
        return f"{_quote(row.get('name'))}"
    if entity == "escalations":  # from the record: the person as they were then
        what = f"handoff {row.get('handoff_id')}" if row.get("handoff_id") is not None else f"#{row.get('item_id')}"
        why = f": {_quote(row['reason'])}" if row.get("reason") else ""
        return (f"{what} to {one_line(str(row.get('to_handle')))} ({_quote(row.get('to_name'))}), tier {row.get('tier')},"
                f" by {one_line(str(row.get('by')))}{why}")
    shown = [f"{k} {_value(k, v)}" for k, v in sorted(row.items()) if k not in ("id",) and v not in (None, "")]
    return truncate(", ".join(shown), 100)


def _describe(event) -> str:
    label = _LABELS.get(event.entity, event.entity + " ") + one_line(event.entity_id)
    if event.before is None and event.after is not None:
        return f"{label} created: {_row_summary(event.entity, event.after)}"
    if event.after is None and event.before is not None:
        return f"{label} removed: {_row_summary(event.entity, event.before)}"
    after = dict(event.after or {})
    if len(after) > 1:
        after.pop("last_activity_at", None)  # any change touches it: say what changed instead
    order = {"status": 0, "owner": 1, "stage": 2, "to_owner": 2}
    fields = sorted(after, key=lambda k: (order.get(k, 3), k.endswith("_at"), k))
    changes = [f"{k.replace('_', ' ')} {_value(k, (event.before or {}).get(k))} → {_value(k, after[k])}"
               for k in fields]
    return f"{label}: " + "; ".join(changes)


def log(ctx) -> int:
    """``opsweek log [--item N] [--limit N]``: changes newest first, each said in words and
    then its row edits (the action's name stays in the header, for scripts)."""
    from opsweek.store import history, read

    args = ctx.args
    store = ctx.open_store()
    out = Printer()
    with store:
        if args.item is not None:
            read.item(store, args.item)  # an unknown item is an error, not an empty log
        found = history.recent_changes(store, item_id=args.item, limit=args.limit, edits_each=SHOWN_PER_CHANGE + 1)
        if not found:
            what = f"#{args.item}" if args.item is not None else "this database"
            out.line(f"no changes recorded for {what} yet")
            return 0
        for change in found:
            words = one_line(history.describe_change(store, change))
            header = f"change {change.id}  {when(change.at)}  {words}  by {one_line(change.actor)}  {change.action}"
            if change.undoes:
                header += f"  (undoes change {change.undoes})"
            elif change.reason:
                header += f"  ({one_line(change.reason)})"
            if change.meeting_id:
                header += f"  [meeting {change.meeting_id}]"
            out.line(header, "bold")
            for event in change.edits[:SHOWN_PER_CHANGE]:
                out.line("  " + _describe(event))
            if len(change.edits) > SHOWN_PER_CHANGE:
                total = history.edit_count(store, change.id, item_id=args.item)
                out.line(f"  … and {total - SHOWN_PER_CHANGE:,} more rows in this change", "dim")
    return 0


def undo(ctx) -> int:
    """``opsweek undo``: revert the latest change — yours when ``--me`` says who you are,
    else the latest of anyone's (repeat to walk further back)."""
    from opsweek.store import changes

    store, _ = _open(ctx)
    with store:
        message = changes.undo(store, actor=ctx.actor, mine_only=ctx.me is not None)
    return _say(message)
