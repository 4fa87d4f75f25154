"""Trends: how the system did over the last weeks, rebuilt from what the database records.

For each of the last ``weeks`` ISO weeks (ending with the week of ``now``) this counts,
as they were at the end of that week (the last second of its Sunday, local time; for the
current week, ``now``):

* **stuck items** — by the rules of :func:`opsweek.rules.stuck_reasons`;
* **overdue handoffs** — sent, past their due time and not yet accepted;
* **the on-time rate of actions due that week** — done by the end of their due day.

Nothing here is a stored guess: it comes from the items' and handoffs' own timestamps
(``opened_at``, ``closed_at``, ``stage_entered_at``, ``sent_at``, ``due_at``,
``accepted_at``), the audit log (status changes of items, deleted handoffs, ``action.done``
and ``action.carry`` events) and the sessions' entries. The current week matches the
live counts exactly. Past weeks are rebuilt with these approximations, chosen so that
the whole computation is a few SQL aggregates (well under 300 ms at 100,000 items):

* An item is open at a week's end when it was opened by then and not yet closed.
* **Blocked** at a week's end: the audit log's last status change of the item up to then
  (block, unblock, undo, close) says blocked. Before the log first knew an item (it was
  imported, or generated), it is taken to have been as the log first recorded it.
* **Time in stage**: when the item entered its current stage by the week's end, it was in
  that stage since ``stage_entered_at``. When it entered later, it was in the stage it
  last came from — the ``from_stage`` of its last accepted handoff, or, when no handoff
  records the move, the stage before the current one in the workflow — since the previous
  accepted handoff (or since it was opened). Only that one step back is rebuilt: an item
  that moved twice since counts as not stuck in stage then.
* **No activity**: when the item's last activity came before the week's end, that is the
  last activity then. When it came later, the last activity then is taken as the latest
  of the item's opening and its entry into the stage it was in (later edits before the
  week's end that the row no longer shows are not replayed).
* **Due date passed**: the item's current due date, before the week's end day.
* **Overdue handoffs** include handoffs deleted since (withdrawn when their item was
  closed), from the log's record of the deleted row, until the time they were deleted.
* **Actions**: an action due in a week is on time when its latest ``action.done`` event
  came by the end of its due day; late when it was not done by then and that day is
  over. A deadline moved by carrying the action over counts as a missed deadline in the
  week it was due. Dropped actions, actions done without a recorded time, and actions
  whose due day is still to come (and not done yet) are left out; a week with none has
  no rate (``None``).

Standard library only (no Textual, no pydantic).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from opsweek import clock, rules
from opsweek.store.db import Store

WEEKS = 8


@dataclass(frozen=True)
class WeekPoint:
    """One week of the trend, as it was at ``end``."""

    week: str            # ISO week label, 2026-W48
    end: datetime        # the moment measured: the week's last second, or now for this week
    stuck: int
    overdue: int
    actions_due: int     # actions whose deadline fell in the week and is decided (done or over)
    actions_on_time: int

    @property
    def on_time_rate(self) -> float | None:
        """Share of the week's decided actions done on time (0–1), None when there were none."""
        return self.actions_on_time / self.actions_due if self.actions_due else None


@dataclass(frozen=True)
class Trends:
    weeks: list[WeekPoint]

    def series(self, name: str) -> list:
        """The values of ``stuck``, ``overdue`` or ``on_time_rate``, oldest first."""
        return [getattr(point, name) for point in self.weeks]

    def latest(self, name: str):
        return getattr(self.weeks[-1], name) if self.weeks else None

    def direction(self, name: str) -> str:
        """``up``, ``down`` or ``flat``: the latest value against the week before (``""`` if unknown)."""
        values = [v for v in self.series(name) if v is not None]
        if len(values) < 2:
            return ""
        last, before = values[-1], values[-2]
        return "up" if last > before else "down" if last < before else "flat"


def week_end(week: str, now: datetime) -> datetime:
    """The last second (UTC) of an ISO week in local time, or ``now`` if that is earlier."""
    _, sunday = clock.week_bounds(week)
    end = datetime.combine(sunday + timedelta(days=1), time(0), tzinfo=clock.local_tz()) - timedelta(seconds=1)
    end = end.astimezone(clock.UTC)
    return min(end, now)


def last_weeks(now: datetime, count: int = WEEKS) -> list[str]:
    """ISO week labels of the ``count`` weeks ending with the week of ``now``, oldest first."""
    today = now.astimezone(clock.local_tz()).date()
    return [clock.iso_week(today - timedelta(weeks=back)) for back in range(count - 1, -1, -1)]


def weekly_trends(store: Store, now: datetime | None = None, weeks: int = WEEKS,
                  settings: dict | None = None) -> Trends:
    """Stuck items, overdue handoffs and the on-time rate of actions for the last ``weeks`` weeks."""
    now = now or clock.now()
    if settings is None:
        settings = dict(rules.DEFAULT_SETTINGS)
        settings.update({r[0]: r[1] for r in store.query("SELECT key, value FROM settings")})
    labels = last_weeks(now, weeks)
    ends = [week_end(label, now) for label in labels]
    stuck = _stuck_counts(store, ends, now, settings)
    overdue = _overdue_counts(store, ends, now)
    actions = _action_counts(store, labels, now)
    return Trends([
        WeekPoint(label, end, stuck[k], overdue[k], *actions[k])
        for k, (label, end) in enumerate(zip(labels, ends))
    ])


# --- stuck items ---------------------------------------------------------------------

_FOREVER = 10 ** 11  # an epoch second far in the future: "not closed", "no due date"


def _blocked_spans(store: Store) -> dict[int, list[tuple[int | None, int | None]]]:
    """Per item, the spans (epoch seconds, ``None`` = open-ended) the audit log shows it blocked.

    The candidates are items blocked now and items with a recorded change out of or into
    "blocked" (block, unblock, close, undo); an item whose first recorded status is
    "blocked" arrived blocked and counts as blocked from the start.
    """
    rows = store.query(
        "SELECT entity_id, at, before, after FROM events WHERE entity = 'items'"
        " AND entity_id IN (SELECT CAST(id AS TEXT) FROM items WHERE status = 'blocked'"
        "   UNION SELECT entity_id FROM events WHERE entity = 'items'"
        "   AND action IN ('item.block', 'item.unblock', 'item.done', 'item.drop', 'undo'))"
        " ORDER BY id")
    spans: dict[int, list[list]] = {}
    for row in rows:
        before = json.loads(row["before"]) if row["before"] else None
        after = json.loads(row["after"]) if row["after"] else None
        if not ((before and "status" in before) or (after and "status" in after)):
            continue
        item_spans = spans.setdefault(int(row["entity_id"]), [])
        at = int(clock.parse_stamp(row["at"]).timestamp())
        is_blocked = bool(after) and after.get("status") == "blocked"
        was_blocked = bool(item_spans) and item_spans[-1][1] is None
        if not item_spans and before and before.get("status") == "blocked":
            item_spans.append([None, None])  # the log first knew it blocked
            was_blocked = True
        if is_blocked and not was_blocked:
            item_spans.append([None if (before is None and not item_spans) else at, None])
        elif was_blocked and not is_blocked:
            item_spans[-1][1] = at
    return {item_id: [tuple(s) for s in item_spans] for item_id, item_spans in spans.items() if item_spans}


# Per item: the moments (epoch seconds) that shape whether it was stuck at a past time.
# Segment "before": in the stage it came from, [opened, entered); "entered": in its
# current stage before its last activity, [entered, activity); "after": [activity, closed).
# Each segment is stuck from the first moment any rule trips in it, until it ends.
_STUCK_ROWS = """
WITH limits AS MATERIALIZED (
    SELECT workflow, key,
           CASE WHEN max_days > 0 THEN CAST(max_days * 86400 AS INTEGER) END AS cm,
           CASE WHEN lag(key) OVER w IS NULL THEN
                    CASE WHEN max_days > 0 THEN CAST(max_days * 86400 AS INTEGER) END
                WHEN lag(max_days) OVER w > 0 THEN CAST(lag(max_days) OVER w * 86400 AS INTEGER) END AS pm
    FROM stages
    WINDOW w AS (PARTITION BY workflow ORDER BY position)
),
raw AS MATERIALIZED (
    SELECT i.id,
           unixepoch(i.opened_at) AS o,
           CASE WHEN i.closed_at IS NOT NULL THEN unixepoch(i.closed_at)
                WHEN i.status IN ('open', 'blocked') THEN :forever
                ELSE unixepoch(i.last_activity_at) END AS c,
           max(unixepoch(i.stage_entered_at), unixepoch(i.opened_at)) AS e,
           unixepoch(i.last_activity_at) AS a,
           CASE WHEN i.due IS NULL THEN :forever ELSE unixepoch(i.due) + 86400 - :offset END AS d,
           cur.cm, cur.pm
    FROM items i
    LEFT JOIN limits cur ON cur.workflow = i.workflow AND cur.key = i.stage
    WHERE i.opened_at <= :last AND (i.closed_at IS NULL OR i.closed_at > :first) {where}
),
rows AS (
    SELECT id, o, c, e, max(a, e) AS a2, d,
           min(coalesce(o + pm + 1, :forever), o + :stale + 1, max(d, o)) AS s1,
           min(coalesce(e + cm + 1, :forever), e + :stale + 1, max(d, e)) AS s2,
           min(coalesce(e + cm + 1, :forever), max(a, e) + :stale + 1, max(d, max(a, e))) AS s3
    FROM raw
)
"""


def _week_index(value: str, t0: int, week: int, count: int) -> str:
    """SQL: how many of the moments t0, t0+week, ... (``count`` of them) come before ``value``."""
    return f"min({count}, max(0, ({value} - {t0} + {week} - 1) / {week}))"


def _stuck_counts(store: Store, ends: list[datetime], now: datetime, settings: dict) -> list[int]:
    """Stuck items at each moment of ``ends``; the last one, when it is now, exactly as live."""
    counts = [0] * len(ends)
    past = ends[:-1] if ends[-1] == now else ends
    if ends[-1] == now:
        counts[-1] = _stuck_now(store, now, settings)
    if not past:
        return counts
    stale = rules.setting(settings, "stale_after")
    # business days are counted as calendar days at 7 per 5 for past weeks
    stale_s = int(stale.timedelta().total_seconds() * (7 / 5 if stale.unit == "bd" else 1))
    offset = int(now.astimezone(clock.local_tz()).utcoffset().total_seconds())
    moments = [int(end.timestamp()) for end in past]
    t0, week, n = moments[0], 7 * 86400, len(moments)
    params = {"forever": _FOREVER, "offset": offset, "stale": stale_s,
              "first": clock.stamp(past[0]), "last": clock.stamp(past[-1])}
    spans = [("s1", "o", "min(e, c)"), ("s2", "e", "min(a2, c)"), ("s3", "a2", "c")]
    columns = []
    for start, lower, upper in spans:
        columns.append(_week_index(f"max({start}, {lower})", t0, week, n))
        columns.append(_week_index(upper, t0, week, n))
    sql = (_STUCK_ROWS.format(where="") + f"SELECT {', '.join(columns)}, count(*) FROM rows"
           f" GROUP BY {', '.join(str(k + 1) for k in range(len(columns)))}")
    for row in store.query(sql, params):
        for pair in range(len(spans)):
            for k in range(row[2 * pair], row[2 * pair + 1]):
                counts[k] += row[-1]
    # blocked items not stuck for another reason then
    blocked = _blocked_spans(store)
    if blocked:
        sql = (_STUCK_ROWS.format(where="AND i.id IN (SELECT value FROM json_each(:ids))")
               + "SELECT id, o, c, e, a2, s1, s2, s3 FROM rows")
        for row in store.query(sql, {**params, "ids": json.dumps(sorted(blocked))}):
            for k, moment in enumerate(moments):
                if not row["o"] <= moment < row["c"]:
                    continue
                stuck = any(max(row[s], row[lo]) <= moment < min(hi, row["c"]) for s, lo, hi in
                            (("s1", "o", row["e"]), ("s2", "e", row["a2"]), ("s3", "a2", _FOREVER)))
                if not stuck and any((a is None or a <= moment) and (b is None or b > moment)
                                     for a, b in blocked[row["id"]]):
                    counts[k] += 1
    return counts


def _stuck_now(store: Store, now: datetime, settings: dict) -> int:
    """Stuck items now: the rules of :func:`opsweek.rules.stuck_reasons`, as one count."""
    stale = rules.setting(settings, "stale_after")
    return store.scalar(
        "SELECT count(*) FROM items i LEFT JOIN stages s ON s.workflow = i.workflow AND s.key = i.stage"
        " WHERE i.status IN ('open', 'blocked') AND (i.status = 'blocked' OR i.last_activity_at < ?"
        " OR (i.due IS NOT NULL AND i.due < ?)"
        " OR (s.max_days > 0 AND unixepoch(i.stage_entered_at) < ? - s.max_days * 86400))",
        (clock.stamp(clock.parse_relative(f"-{stale}", now)), now.astimezone(clock.local_tz()).date().isoformat(),
         int(now.timestamp())))


# --- overdue handoffs ----------------------------------------------------------------


def _overdue_counts(store: Store, ends: list[datetime], now: datetime) -> list[int]:
    params: dict[str, object] = {"first": clock.stamp(ends[0]), "now": clock.stamp(now)}
    columns = []
    for k, end in enumerate(ends):
        params[f"t{k}"] = clock.stamp(end)
        columns.append(f"sum(CASE WHEN sent_at <= :t{k} AND due_at < :t{k} AND gone > :t{k}"
                       f" AND (accepted_at IS NULL OR accepted_at > :t{k}) THEN 1 ELSE 0 END)")
    # live handoffs, plus those the log shows were deleted (withdrawn) since
    sql = f"""
    WITH every AS (
        SELECT sent_at, due_at, accepted_at, '9999' AS gone FROM handoffs
        WHERE due_at < :now AND (accepted_at IS NULL OR accepted_at > :first)
        UNION ALL
        SELECT json_extract(e.before, '$.sent_at'), json_extract(e.before, '$.due_at'),
               json_extract(e.before, '$.accepted_at'), max(e.at)
        FROM events e
        WHERE e.entity = 'handoffs' AND e.after IS NULL AND e.before IS NOT NULL AND e.at > :first
          AND CAST(e.entity_id AS INTEGER) NOT IN (SELECT id FROM handoffs)
        GROUP BY e.entity_id
    )
    SELECT {', '.join(columns)} FROM every"""
    row = store.one(sql, params)
    return [int(value or 0) for value in row]


# --- actions -------------------------------------------------------------------------


def _day_end(day: date) -> str:
    """The UTC stamp of the first moment after local ``day``."""
    return clock.stamp(datetime.combine(day + timedelta(days=1), time(0), tzinfo=clock.local_tz()))


def _action_counts(store: Store, labels: list[str], now: datetime) -> list[tuple[int, int]]:
    first, _ = clock.week_bounds(labels[0])
    _, last = clock.week_bounds(labels[-1])
    index = {label: k for k, label in enumerate(labels)}
    decided = [0] * len(labels)
    on_time = [0] * len(labels)
    at_now = clock.stamp(now)

    def count(due: date, done_at: str | None) -> None:
        k = index.get(clock.iso_week(due))
        if k is None:
            return
        deadline = _day_end(due)
        if done_at is not None and done_at < deadline:
            decided[k] += 1
            on_time[k] += 1
        elif deadline <= at_now:
            decided[k] += 1

    rows = store.query(
        "SELECT e.id, e.due, e.status,"
        " (SELECT max(ev.at) FROM events ev WHERE ev.entity = 'entries' AND ev.entity_id = CAST(e.id AS TEXT)"
        "  AND ev.action = 'action.done') AS done_at"
        " FROM entries e WHERE e.kind = 'action' AND e.due BETWEEN ? AND ?",
        (first.isoformat(), last.isoformat()))
    for row in rows:
        if row["status"] == "dropped" or (row["status"] == "done" and row["done_at"] is None):
            continue
        count(date.fromisoformat(row["due"]), row["done_at"] if row["status"] == "done" else None)
    # deadlines moved by carrying the action over were missed in their week
    carried = store.query(
        "SELECT json_extract(before, '$.due') AS due FROM events"
        " WHERE entity = 'entries' AND action = 'action.carry' AND json_extract(before, '$.due') BETWEEN ? AND ?",
        (first.isoformat(), last.isoformat()))
    for row in carried:
        count(date.fromisoformat(row["due"]), None)
    return list(zip(decided, on_time))
