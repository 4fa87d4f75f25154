"""``opsweek export`` (meeting notes) and ``opsweek dump`` (everything, losslessly)."""

from __future__ import annotations

import os
import sys


def _emit(ctx, text: str, *, what: str, private: bool = False) -> None:
    """To ``-o FILE`` (written whole, then renamed into place) or to stdout as UTF-8."""
    from opsweek.cli.output import say
    from opsweek.files import STDOUT, write_output

    output = getattr(ctx.args, "output", None) or STDOUT
    path = write_output(output, text, mode=0o600 if private else None)
    if path is not None:
        say(f"wrote {what} to {path}")


def export(ctx) -> int:
    """``opsweek export [MEETING|latest] [--format md|json] [-o FILE]``."""
    from opsweek import notes

    from opsweek.store import read

    with ctx.open_store() as store:
        meeting = notes.find_meeting(store, ctx.args.meeting)
        text = notes.render(store, meeting.id, ctx.args.format)
        name = notes.notes_filename(store, meeting, ctx.args.format)
        week = read.week_meetings(store, meeting.week)
    spec = str(ctx.args.meeting).strip().upper()
    if len(week) > 1 and spec == meeting.week:
        others = ", ".join(str(m.id) for m in week if m.id != meeting.id)
        print(f"{meeting.week} had {len(week)} sessions: this is the latest (meeting {meeting.id});"
              f" the others: {others} (export one by its number)", file=sys.stderr)
    output = getattr(ctx.args, "output", None)
    if output and output != "-" and os.path.isdir(output):
        ctx.args.output = os.path.join(output, name)  # -o DIR: the notes' own file name in it
    _emit(ctx, text, what=f"the notes of {meeting.week} (meeting {meeting.id})")
    return 0


def meetings(ctx) -> int:
    """``opsweek meetings [--json]``: every session, oldest first."""
    import json

    from opsweek import clock
    from opsweek.cli.output import Printer
    from opsweek.store import read

    with ctx.open_store() as store:
        found = read.meetings(store)
        numbers = {m.id: read.session_number(store, m) for m in found}
        ratings = {m.id: read.meeting_rating(store, m) for m in found}
    rows = [{"id": m.id, "week": m.week, "session": numbers[m.id], "facilitator": m.facilitator,
             "started_at": clock.stamp(m.started_at), "closed_at": clock.stamp(m.closed_at) if m.closed_at else None,
             "rating": ratings[m.id]} for m in found]
    if ctx.args.json:
        sys.stdout.write(json.dumps({"version": 1, "meetings": rows}, indent=2, ensure_ascii=False) + "\n")
        return 0
    out = Printer()
    if not rows:
        out.line("No sessions yet: start one with 'opsweek meeting'.")
        return 0
    out.table([[str(r["id"]), r["week"] + (f" #{r['session']}" if r["session"] > 1 else ""),
                r["facilitator"] or "—", clock.show(r["started_at"]),
                clock.show(r["closed_at"]) if r["closed_at"] else "open",
                "—" if r["rating"] is None else f"{r['rating']:g}"] for r in rows],
              ["ID", "WEEK", "FACILITATOR", "STARTED", "CLOSED", "RATING"])
    return 0


def dump(ctx) -> int:
    """``opsweek dump [-o FILE]``: restore it with ``opsweek import FILE``."""
    from opsweek.dump import dump as dump_all

    with ctx.open_store() as store:
        text = dump_all(store)
    # a dump holds everything: readable by its owner only, like the database itself
    _emit(ctx, text, what="the dump", private=True)
    return 0
