"""``opsweek trends [--weeks N] [--json]``: the figures of each week, ended weeks as recorded.

The JSON shape is documented in docs/trends-json.md.
"""

from __future__ import annotations

import sys

JSON_VERSION = 1


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def week_json(point, current: bool) -> dict:
    """One week of ``trends --json`` (docs/trends-json.md)."""
    from opsweek import clock

    monday, sunday = clock.week_bounds(point.week)
    return {
        "week": point.week,
        "from": monday.isoformat(),
        "to": sunday.isoformat(),
        "current": current,
        "as_of": clock.stamp(point.end),
        "recorded_at": clock.stamp(point.recorded_at) if point.recorded_at else None,
        "stuck": point.stuck,
        "overdue": point.overdue,
        "escalated": point.escalated,
        "handoffs": {"due": point.handoffs_due, "on_time": point.handoffs_on_time,
                     "rate": _rate(point.handoff_on_time_rate)},
        "actions": {"due": point.actions_due, "on_time": point.actions_on_time, "rate": _rate(point.on_time_rate)},
        "rating": point.rating,
    }


def _share(on_time: int, due: int) -> str:
    return f"{on_time / due:.0%} of {due}" if due else "—"


def trends(ctx) -> int:
    from opsweek import clock
    from opsweek.cli.output import Printer, json_text
    from opsweek.trends import recorded_trends

    now = clock.now()
    with ctx.open_store() as store:
        # the first process to notice that a week ended records it (SPEC: the past stays put)
        result = recorded_trends(store, now, ctx.args.weeks, freeze=True)
    last = len(result.weeks) - 1
    if ctx.args.json:
        data = {"version": JSON_VERSION, "now": clock.stamp(now),
                "weeks": [week_json(p, k == last) for k, p in enumerate(result.weeks)]}
        sys.stdout.write(json_text(data) + "\n")
        return 0
    rows = []
    for k, p in enumerate(result.weeks):
        rows.append([p.week, str(p.stuck), str(p.overdue), str(p.escalated), _share(p.handoffs_on_time, p.handoffs_due),
                     _share(p.actions_on_time, p.actions_due), "—" if p.rating is None else f"{p.rating:g}",
                     "this week, so far" if k == last else ("recorded" if p.recorded_at else "not recorded yet")])
    Printer().table(rows, ["WEEK", "STUCK", "OVERDUE", "ESCALATED", "HANDOFFS ON TIME", "ACTIONS ON TIME", "RATING",
                           ""], right=(1, 2, 3))
    return 0
