"""Stuck item (SPEC.md): an open or blocked item for which any of these hold, each
reported as its reason: it is blocked; it has been in its stage longer than the stage's
``max_days`` (counted from ``stage_entered_at``, never from the last edit); it has had no
activity for ``stale_after`` (default ``7d``); its due date has passed.

``stuck_reasons`` is the rule for one item; ``sql`` is the same condition for SQLite, on
``FROM`` (each item joined to its own stage), used by every count and page of stuck
items. The trends of ended weeks use :func:`past_sql`, an approximation documented there.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections import namedtuple
from datetime import date, datetime, timedelta

from opsweek.clock import humanize, parse_stamp, stamp
from opsweek.rules.common import OPEN_STATUSES, days, setting

# Stuck items are selected FROM this join, so that each item meets its own stage's max_days.
FROM = "items i LEFT JOIN stages s ON s.workflow = i.workflow AND s.key = i.stage"
KINDS = ("blocked", "in_stage", "stale", "past_due")


class Reason(namedtuple("Reason", "kind text")):
    """Why an item is stuck: ``kind`` is one of :data:`KINDS`, ``text`` for people."""

    __slots__ = ()

    def __str__(self) -> str:
        return self.text


def stuck_reasons(item, stage, now: datetime, today: date, settings: dict | None = None) -> list[Reason]:
    """Every reason an open or blocked item is stuck (empty when it is not).

    Time in stage counts from ``stage_entered_at`` (an edit does not reset it, a stage
    move does); staleness from ``last_activity_at``; a due date passes after its day.
    """
    if item.status not in OPEN_STATUSES:
        return []
    reasons: list[Reason] = []
    if item.status == "blocked":
        why = f"blocked: {item.blocked_reason}" if item.blocked_reason else "blocked"
        reasons.append(Reason("blocked", why))
    max_days = getattr(stage, "max_days", None) if stage is not None else None
    if max_days:
        in_stage = now - item.stage_entered_at
        if in_stage > timedelta(days=max_days):
            reasons.append(Reason("in_stage", f"{humanize(in_stage)} in {stage.name} (max {days(max_days)})"))
    stale = setting(settings, "stale_after")
    if stale.exceeded(item.last_activity_at, now):
        reasons.append(Reason("stale", f"no activity for {humanize(now - item.last_activity_at)}"))
    if item.due is not None and item.due < today:
        reasons.append(Reason("past_due", f"due {item.due.isoformat()} passed"))
    return reasons


def is_stuck(item, stage, now: datetime, today: date, settings: dict | None = None) -> bool:
    return bool(stuck_reasons(item, stage, now, today, settings))


def sql(settings: dict | None, now: datetime, today: date, max_days: Iterable | None = None) -> tuple[str, list]:
    """:func:`stuck_reasons` is not empty, as an SQL condition on :data:`FROM`.

    ``stale.before(now)`` is the exact threshold of ``stale.exceeded`` (business days
    included); ``max_days`` is compared in whole seconds, as the stored times are.

    Given ``max_days`` (the stages' ``max_days`` values, e.g. ``{s.max_days for s in
    team.stages}``), each value's time-in-stage threshold is worked out here once instead
    of by ``strftime`` for every row (a third of a scan at 100,000 items); a stage whose
    value is not among them still gets ``strftime``, so the rows are the same either way.
    """
    stale_before = stamp(setting(settings, "stale_after").before(now))
    moment = stamp(now)
    exact = ("strftime('%Y-%m-%dT%H:%M:%SZ', ?, printf('-%d seconds', CAST(s.max_days * 86400 AS INTEGER)))")
    limits = sorted({float(m) for m in (max_days or ()) if m is not None and m > 0})
    if limits:
        start = parse_stamp(moment)
        cutoff = "CASE s.max_days " + " ".join("WHEN ? THEN ?" for _ in limits) + f" ELSE {exact} END"
        cutoff_params = [v for m in limits for v in (m, stamp(start - timedelta(seconds=int(m * 86400))))]
        cutoff_params.append(moment)
    else:
        cutoff, cutoff_params = exact, [moment]
    condition = (
        "i.status IN ('open', 'blocked') AND (i.status = 'blocked' OR i.last_activity_at < ?"
        " OR (i.due IS NOT NULL AND i.due < ?)"
        f" OR (s.max_days > 0 AND i.stage_entered_at < {cutoff}))"
    )
    return condition, [stale_before, today.isoformat(), *cutoff_params]


def stage_cutoff(now: datetime, stage) -> str | None:
    """The stamp before which an item that entered ``stage`` then is past its ``max_days``
    (None: the stage has no such limit), in whole seconds as :func:`sql` compares."""
    max_days = getattr(stage, "max_days", None)
    if max_days is None or max_days <= 0:
        return None
    return stamp(parse_stamp(stamp(now)) - timedelta(seconds=int(max_days * 86400)))


def sql_in_stage(settings: dict | None, now: datetime, today: date, cutoff: str) -> tuple[str, list]:
    """:func:`sql` for items whose stage's time-in-stage cutoff (:func:`stage_cutoff`) is
    the SQL expression ``cutoff`` (``i`` an alias of ``items`` alone, no join with
    ``stages``): e.g. a column of a table of the stages and their cutoffs, so that counting
    every stage's stuck items reads the open-items index and nothing else (a third of the
    time of the join at 1,000,000 items). A NULL cutoff is no limit. Same thresholds as
    :func:`sql`, so the same items."""
    stale_before = stamp(setting(settings, "stale_after").before(now))
    condition = ("i.status IN ('open', 'blocked') AND (i.status = 'blocked' OR i.last_activity_at < ?"
                 f" OR (i.due IS NOT NULL AND i.due < ?) OR coalesce(i.stage_entered_at < {cutoff}, 0))")
    return condition, [stale_before, today.isoformat()]


def stuck_items(items: Iterable, stages: dict, now: datetime, today: date,
                settings: dict | None = None) -> list[tuple[object, list[Reason]]]:
    """``(item, reasons)`` for every stuck item, longest in its stage first.

    ``stages`` maps ``(workflow, stage key)`` to the stage.
    """
    found = []
    for item in items:
        reasons = stuck_reasons(item, stages.get((item.workflow, item.stage)), now, today, settings)
        if reasons:
            found.append((item, reasons))
    found.sort(key=lambda pair: (pair[0].stage_entered_at, pair[0].id or 0))
    return found


ORDER = "i.stage_entered_at, i.id"  # the order of stuck_items, for SQL pages


# --- the past, for the trends of ended weeks ------------------------------------------
#
# The rows hold each item's present; an ended week is measured at its last second
# ``:t{k}`` by rebuilding what the row held then (trends.py documents it in full):
# * time in stage: an item that entered its current stage by then was in it since
#   ``stage_entered_at``; one that entered later is taken to have been in the stage before
#   it (in the workflow's order) since it was opened;
# * no activity: the last activity then is ``last_activity_at`` if that came by then,
#   else its entry into its stage if that came by then, else its opening;
# * due date passed: its current due date, before the week's end day.
# Being blocked then comes from the audit log (trends.py), not from this condition.


def past_open_sql(k: int) -> str:
    """Open (opened, not yet closed) at the moment ``:t{k}``."""
    return f"i.opened_at <= :t{k} AND (i.closed_at IS NULL OR i.closed_at > :t{k})"


def past_sql(k: int) -> str:
    """Stuck at moment ``:t{k}`` for a reason other than being blocked, on ``items i``
    joined to :func:`past_limits_sql`'s ``limits l`` (string comparisons only: this runs for
    every item and every week). Written as ANDs and ORs rather than a ``CASE``: used as a
    condition (``CASE WHEN ... AND past_sql``), SQLite stops at the first term that
    decides it, so the stage's limits are read only for an item not already stale or past
    due (the eight ended weeks of 100,000 items: about a tenth less time, 0.20 -> 0.18 s
    warm); as a value it is the same truth, NULL where a limit is."""
    t = f":t{k}"
    return (
        f"(i.stage_entered_at <= {t} AND ((CASE WHEN i.last_activity_at <= {t} THEN i.last_activity_at"
        f" ELSE i.stage_entered_at END) < :stale{k} OR i.due < :day{k} OR i.stage_entered_at < l.cur{k}))"
        f" OR (i.stage_entered_at > {t} AND ((CASE WHEN i.last_activity_at <= {t} THEN i.last_activity_at"
        f" ELSE i.opened_at END) < :stale{k} OR i.due < :day{k} OR i.opened_at < l.before{k}))"
    )


def past_limits_sql(count: int) -> str:
    """A ``limits`` CTE: per stage and moment, entered before ``cur{k}`` an item was in the
    stage too long; ``before{k}`` the same for the stage before it."""
    def cutoff(k: int, max_days: str) -> str:
        return (f"CASE WHEN {max_days} > 0 THEN strftime('%Y-%m-%dT%H:%M:%SZ', :t{k},"
                f" '-' || CAST({max_days} * 86400 AS INTEGER) || ' seconds') END")
    before = "coalesce(lag(max_days) OVER w, max_days)"
    columns = [f"{cutoff(k, 'max_days')} AS cur{k}, {cutoff(k, before)} AS before{k}" for k in range(count)]
    return (f"WITH limits AS MATERIALIZED (SELECT workflow, key, {', '.join(columns)} FROM stages"
            " WINDOW w AS (PARTITION BY workflow ORDER BY position))")
