"""``opsweek audit`` and ``opsweek whatif``: the rules' view of the whole system.

Both print readable tables by default and a stable JSON shape with ``--json``
(``"version": 1``; fields may be added, never renamed without bumping it).
"""

from __future__ import annotations

import sys

from opsweek import clock, rules
from opsweek.cli.output import Cell, Printer, day, plural, truncate
from opsweek.errors import InputError, NotFound
from opsweek.text import one_line, unknown

JSON_VERSION = 1
SHOWN = 20  # rows per what-if list before "… and N more" (--json has them all)


def _emit_json(data: dict) -> None:
    from opsweek.cli.output import json_text

    sys.stdout.write(json_text(data) + "\n")


# --- audit -----------------------------------------------------------------------------


def audit(ctx) -> int:
    """``opsweek audit [--json]``: each workflow scored on the five layers of a system."""
    from opsweek.store import read

    now = clock.now()
    with ctx.open_store() as store:
        team = read.team(store)
        results = rules.audit(team.workflows, team.stages_by_workflow, team.people,
                              read.last_reviews(store), now)
    names = {wf.key: wf.name for wf in team.workflows}
    if ctx.args.json:
        _emit_json({
            "version": JSON_VERSION,
            "now": clock.stamp(now),
            "layers": list(rules.LAYERS),
            "workflows": [
                {"workflow": r.workflow, "name": names.get(r.workflow), "score": r.score,
                 "layers": {layer: {"ok": r.passed(layer), "missing": r.missing.get(layer, [])}
                            for layer in rules.LAYERS}}
                for r in results
            ],
        })
        return 0
    out = Printer()
    if not results:
        out.line("No workflows to audit yet: import a team file (opsweek import team.toml).")
        return 0
    out.heading(f"System audit, {clock.show(now, '%a %d %b %Y')}: {plural(len(results), 'workflow')}")
    rows = []
    for r in results:
        style = "green" if r.score == 5 else ("red" if r.score <= 2 else "yellow")
        marks = [Cell("ok", "green") if r.passed(layer) else Cell("MISSING", "red") for layer in rules.LAYERS]
        rows.append([r.workflow, truncate(one_line(names.get(r.workflow, "")), 28), Cell(f"{r.score}/5", style),
                     *marks])
    out.table(rows, ["WORKFLOW", "NAME", "SCORE", *(layer.upper() for layer in rules.LAYERS)])
    gaps = [(r, layer, what) for r in results for layer in rules.LAYERS for what in r.missing.get(layer, [])]
    if gaps:
        out.line("")
        out.heading("What is missing")
        out.table([[r.workflow, layer, what] for r, layer, what in gaps])
    else:
        out.line("")
        out.line("Every workflow passes all five layers.")
    return 0


# --- what-if ---------------------------------------------------------------------------


def _away_handles(text: str, people: dict) -> list[str]:
    handles = [h.strip() for h in text.split(",") if h.strip()]
    if not handles:
        raise InputError("--away: no handles given (accepted: ana or ana,ben)")
    for handle in handles:
        if handle not in people:
            hint = "" if people else " (the team has no people yet: opsweek import team.toml)"
            raise NotFound("--away: " + unknown("person", handle, people) + hint)
    return sorted(set(handles))


def _lost_json(lost) -> dict:
    return {"subject": lost.subject, "label": lost.label, "workflow": lost.workflow, "stage": lost.stage,
            "owner": lost.owner, "cover": lost.cover}


def whatif(ctx) -> int:
    """``opsweek whatif --away H[,H...] [--volume X] [--json]``: the pressure test."""
    from opsweek.store import read

    now = clock.now()
    first, last = clock.week_bounds(clock.iso_week(now))
    with ctx.open_store() as store:
        team = read.team(store)
        away = _away_handles(ctx.args.away, team.people)
        items = read.open_items(store)
        pending = read.pending_handoffs(store)
    volume = ctx.args.volume
    result = rules.what_if(away, volume, team.people, team.workflows, team.stages, items, pending, now,
                           first, last)
    if ctx.args.json:
        _emit_json({
            "version": JSON_VERSION,
            "now": clock.stamp(now),
            "week": {"from": first.isoformat(), "to": last.isoformat()},
            "away": result.away,
            "volume": result.volume,
            "workflows": [_lost_json(x) for x in result.workflows],
            "stages": [_lost_json(x) for x in result.stages],
            "items": [_lost_json(x) for x in result.items],
            "handoffs": [_lost_json(x) for x in result.handoffs],
            "breaches": [{"workflow": b.workflow, "stage": b.stage, "why": b.why} for b in result.breaches],
            "already_breaching": [{"workflow": b.workflow, "stage": b.stage, "why": b.why} for b in result.already],
            "load": {h: {"now": n, "then": t} for h, (n, t) in result.load.items()},
            "moves": [{"who": m.who, "usual": m.usual, "then": m.then} for m in result.moves],
        })
        return 0

    out = Printer()
    today = clock.today()
    scale = f", volume ×{volume:g}" if volume != 1 else ""
    out.heading(f"What if {', '.join(result.away)} {'is' if len(result.away) == 1 else 'are'} away "
                f"({day(first, today)} – {day(last, today)}){scale}")

    def section(title: str, rows: list, header: list[str]) -> None:
        out.line("")
        if not rows:
            out.line(f"{title}: none")
            return
        out.heading(f"{title} ({len(rows)})")
        out.table(rows[:SHOWN], header)
        if len(rows) > SHOWN:
            out.line(f"  … and {len(rows) - SHOWN:,} more (opsweek whatif --json lists all)", "dim")

    def cover(lost) -> Cell:
        return Cell(lost.cover, "green") if lost.cover else Cell("nobody", "red")

    section("Workflows that lose their owner",
            [[x.label, x.owner, cover(x)] for x in result.workflows], ["WORKFLOW", "OWNER", "COVERED BY"])
    section("Stages that lose their owner",
            [[x.label, x.owner, cover(x)] for x in result.stages], ["STAGE", "OWNER", "COVERED BY"])
    section("Pending handoffs that lose their receiver",
            [[x.label, f"{x.workflow}/{x.stage}", x.owner, cover(x)] for x in result.handoffs],
            ["HANDOFF", "INTO", "RECEIVER", "COVERED BY"])
    section("Open items that lose their owner",
            [[truncate(one_line(x.label), 48), f"{x.workflow}/{x.stage}", x.owner, cover(x)] for x in result.items],
            ["ITEM", "WHERE", "OWNER", "COVERED BY"])
    section("Stages that would breach their SLA",
            [[f"{b.workflow}/{b.stage}", Cell(b.why, "red")] for b in result.breaches], ["STAGE", "WHY"])
    section("Load that moves (open items each holds this week → then)",
            [[m.who or Cell("nobody", "red"), f"{m.usual:g}",
              Cell(f"{m.then:g}", "red" if m.who is None else "yellow" if m.then > m.usual else None)]
             for m in result.moves],
            ["PERSON", "NOW", "THEN"])
    nobody = len(result.to_nobody)
    if nobody:
        out.line("")
        out.line(f"{plural(nobody, 'pending handoff')} would reach nobody: name a cover "
                 "before they leave.", "red")
    return 0
