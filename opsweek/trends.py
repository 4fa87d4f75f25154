"""Trends: how the system did week by week, and the record of the weeks that have ended.

For each ISO week this gives, as it was at the end of that week (the last second of its
Sunday, local time; for the current week, ``now``):

* **stuck items** — by the rules of :func:`opsweek.rules.stuck_reasons`;
* **overdue handoffs** — sent, past their due time and not yet accepted;
* **escalated** — the handoffs and items escalated during the week, plus those escalated
  earlier that were still waiting at the week's end (a handoff not yet accepted, an item
  still open or blocked in the stage it was escalated in); each handoff or item counts
  once, however often it was escalated;
* **the on-time rate of handoffs due that week** — accepted by their due time;
* **the on-time rate of actions due that week** — done by the end of their due day;
* **the session rating** of the week (the average of its attendees'), if it was rated.

**The past stays put** (SPEC.md). The figures of a week that has ended are written once
into ``week_figures`` by the first process that notices the week is over
(:func:`freeze_ended_weeks`: every tick — the TUI at start and each minute, every write
command, ``opsweek tick`` — and ``opsweek trends``), and from then on they are read as
stored and never recomputed: an item finished today or a handoff accepted late does not
move last week's figures. Weeks that ended before this database recorded figures are
frozen from the history rebuild below at that first moment (the best known then); a
database with no items, entries or sessions yet freezes nothing (there is nothing to
measure; the first week with work in it is recorded). The current week is never stored:
it is the live counts, exactly. A read-only connection (a ``--follow`` viewer, the TUI's
worker threads) never writes: :func:`recorded_trends` shows frozen weeks as stored and
computes the ended weeks not frozen yet on the fly.

**The rebuild** (:func:`weekly_trends`, and what a week is frozen from) comes from the
items' and handoffs' own timestamps (``opened_at``, ``closed_at``, ``stage_entered_at``,
``sent_at``, ``due_at``, ``accepted_at``), the audit log (status changes of items,
deleted handoffs, ``action.done`` and ``action.carry`` events, the edits of escalated
items and handoffs), the escalation records and the sessions' entries. The current week
matches the live counts exactly. Past weeks are rebuilt with these approximations, chosen
so that the whole computation is a few SQL aggregates, comparing the stored UTC strings
without date functions per row (about 0.3–0.4 s of CPU at 100,000 items, most of them
open at some point of the 8 weeks; it runs in a worker, off the UI thread):

* An item is open at a week's end when it was opened by then and not yet closed.
* **Blocked** at a week's end: the audit log's last change of the item's status up to
  then (block, unblock, done, drop, undo) left it blocked. An item whose first recorded
  change leaves "blocked", or that is blocked now with no recorded block, arrived
  blocked (imported or generated so): blocked from the start.
* **Time in stage**: when the item entered its current stage by the week's end, it was in
  that stage since ``stage_entered_at``. When it entered later, it is taken to have been
  in the stage before (in the workflow's order) since it was opened: moves further back
  than one stage are not replayed, which can overstate time in stage for items that
  moved twice since.
* **No activity**: when the item's last activity came before the week's end, that is
  the last activity then; when it came later, the last activity then is taken as its
  entry into its current stage if that came by then, else its opening. Edits in between
  that the row no longer shows are not replayed, which can overstate staleness.
* **Due date passed**: the item's current due date, before the week's end day.
* **Overdue handoffs** include handoffs deleted since (withdrawn when their item was
  closed), from the log's record of the deleted row, until the time they were deleted.
* **Actions**: an action due in a week is on time when its latest ``action.done`` event
  came by the end of its due day; late when it was not done by then and that day is
  over. A deadline moved by carrying the action over counts as a missed deadline in the
  week it was due. Dropped actions, actions done without a recorded time, and actions
  whose due day is still to come (and not done yet) are left out; a week with none has
  no rate (``None``).
* **Handoffs**: a handoff due in a week is on time when accepted by its ``due_at``; late
  when it was not and that time has passed (a handoff withdrawn after its due time
  without being accepted was late; one withdrawn before it is left out). A week with
  none decided has no rate (``None``).
* **Escalated**: exact from the escalation records and the log's edits of the handoffs
  and items they name (rewound to each week's end); an undone escalation is gone.

Standard library only (no Textual, no pydantic).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from opsweek import clock, rules
from opsweek.rules import overdue, stuck
from opsweek.store import history
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
    rating: float | None = None  # the week's session rating (the average of its attendees'), if rated
    escalated: int = 0   # handoffs and items escalated in the week or still waiting escalated at its end
    handoffs_due: int = 0      # handoffs due in the week whose outcome is decided (accepted, or due time over)
    handoffs_on_time: int = 0  # of those, accepted by their due time
    recorded_at: datetime | None = None  # when the ended week was frozen; None: computed now

    @property
    def on_time_rate(self) -> float | None:
        """Share of the week's decided actions done on time (0–1), None when there were none."""
        return self.actions_on_time / self.actions_due if self.actions_due else None

    @property
    def handoff_on_time_rate(self) -> float | None:
        """Share of the week's decided handoffs accepted on time (0–1), None when there were none."""
        return self.handoffs_on_time / self.handoffs_due if self.handoffs_due else None


@dataclass(frozen=True)
class Trends:
    weeks: list[WeekPoint]

    def series(self, name: str) -> list:
        """The values of ``stuck``, ``overdue``, ``escalated``, ``on_time_rate``,
        ``handoff_on_time_rate`` or ``rating``, oldest first."""
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

    def before_latest(self, name: str) -> WeekPoint | None:
        """The latest earlier week with a value of ``name`` (what "▼ from N" compares with)."""
        return next((p for p in reversed(self.weeks[:-1]) if getattr(p, name) is not None), None)


def week_end(week: str, now: datetime) -> datetime:
    """The last second (UTC) of an ISO week in local time, or ``now`` if that is earlier."""
    _, sunday = clock.week_bounds(week)
    end = datetime.combine(sunday + timedelta(days=1), time(0), tzinfo=clock.local_tz()) - timedelta(seconds=1)
    end = end.astimezone(clock.UTC)
    return min(end, now)


def _week_span(week: str) -> tuple[str, str]:
    """The UTC stamps of the first moment of an ISO week (local Monday 00:00) and of the next."""
    monday, sunday = clock.week_bounds(week)
    return clock.stamp(datetime.combine(monday, time(0), tzinfo=clock.local_tz())), _day_end(sunday)


def last_weeks(now: datetime, count: int = WEEKS) -> list[str]:
    """ISO week labels of the ``count`` weeks ending with the week of ``now``, oldest first."""
    today = now.astimezone(clock.local_tz()).date()
    return [clock.iso_week(today - timedelta(weeks=back)) for back in range(count - 1, -1, -1)]


def _settings(store: Store) -> dict:
    settings = dict(rules.DEFAULT_SETTINGS)
    settings.update({r[0]: r[1] for r in store.query("SELECT key, value FROM settings")})
    return settings


def weekly_trends(store: Store, now: datetime | None = None, weeks: int = WEEKS,
                  settings: dict | None = None) -> Trends:
    """The last ``weeks`` weeks rebuilt from history (see the module doc), whatever is
    recorded: what an ended week is frozen from. Screens and commands show
    :func:`recorded_trends`."""
    now = now or clock.now()
    return Trends(rebuild(store, last_weeks(now, weeks), now, settings))


def rebuild(store: Store, labels: list[str], now: datetime, settings: dict | None = None) -> list[WeekPoint]:
    """Every figure of the weeks ``labels`` (ISO labels, oldest first, none after the week
    of ``now``) from history; the week of ``now`` exactly as live."""
    if not labels:
        return []
    if settings is None:
        settings = _settings(store)
    ends = [week_end(label, now) for label in labels]
    log = _log(store)
    stuck = _stuck_counts(store, ends, now, settings, log)
    overdue = _overdue_counts(store, ends, now, log)
    actions = _action_counts(store, labels, now)
    handoffs = _handoff_counts(store, labels, now, log)
    escalated = _escalated_counts(store, labels, ends)
    ratings = _ratings(store, labels)
    return [
        WeekPoint(label, end, stuck[k], overdue[k], *actions[k], rating=ratings.get(label), escalated=escalated[k],
                  handoffs_due=handoffs[k][0], handoffs_on_time=handoffs[k][1])
        for k, (label, end) in enumerate(zip(labels, ends))
    ]


# --- the record of ended weeks ---------------------------------------------------------

_FIGURES = ("week", "week_end", "stuck", "overdue", "escalated", "handoffs_due", "handoffs_on_time",
            "actions_due", "actions_on_time", "rating", "frozen_at")


def recorded(store: Store, labels: list[str]) -> dict[str, WeekPoint]:
    """The frozen figures of those of ``labels`` that are recorded, by week."""
    if not labels:
        return {}
    rows = store.query(f"SELECT {', '.join(_FIGURES)} FROM week_figures"
                       " WHERE week IN (SELECT value FROM json_each(?))", (json.dumps(labels),))
    return {r["week"]: WeekPoint(r["week"], clock.parse_stamp(r["week_end"]), r["stuck"], r["overdue"],
                                 r["actions_due"], r["actions_on_time"], rating=r["rating"],
                                 escalated=r["escalated"], handoffs_due=r["handoffs_due"],
                                 handoffs_on_time=r["handoffs_on_time"],
                                 recorded_at=clock.parse_stamp(r["frozen_at"]))
            for r in rows}


def _unrecorded(store: Store, labels: list[str]) -> list[str]:
    """Those of ``labels`` with no frozen figures (one look at the primary key)."""
    done = {r[0] for r in store.query("SELECT week FROM week_figures WHERE week IN (SELECT value FROM json_each(?))",
                                      (json.dumps(labels),))}
    return [label for label in labels if label not in done]


def _holds_work(store: Store) -> bool:
    """Is there anything to measure (an item, an entry or a session)? An empty database
    freezes nothing, so a dump can still be restored into it and imported history counts."""
    return bool(store.scalar("SELECT EXISTS (SELECT 1 FROM items) OR EXISTS (SELECT 1 FROM entries)"
                             " OR EXISTS (SELECT 1 FROM meetings)"))


def ended_weeks(now: datetime, weeks: int = WEEKS) -> list[str]:
    """The ``weeks`` ISO weeks that ended last before ``now``, oldest first."""
    return last_weeks(now, weeks + 1)[:-1]


def freeze_ended_weeks(store: Store, now: datetime | None = None, weeks: int = WEEKS,
                       labels: list[str] | None = None) -> list[str]:
    """Write the figures of the ended weeks not recorded yet (the last ``weeks``, or
    ``labels``), each exactly once; returns the weeks written by this call.

    Cheap when all are recorded (one indexed look). Otherwise, under one ``BEGIN
    IMMEDIATE``, it looks again and rebuilds and inserts only what is still missing
    (``INSERT OR IGNORE`` on the week): several processes noticing the same Monday write
    one row per week, and the figures written are those of the history no other write
    can change in between. Never call it on a read-only connection.
    """
    now = now or clock.now()
    current = clock.iso_week(now)
    labels = [label for label in (ended_weeks(now, weeks) if labels is None else labels) if label < current]
    if not labels or not _unrecorded(store, labels) or not _holds_work(store):
        return []
    with store.transaction():
        missing = _unrecorded(store, labels)  # again, under the write lock
        if not missing:
            return []
        points = rebuild(store, missing, now)
        at = clock.stamp(now)
        written = []
        for p in points:
            cursor = store.conn.execute(
                f"INSERT OR IGNORE INTO week_figures ({', '.join(_FIGURES)}) VALUES ({', '.join('?' * len(_FIGURES))})",
                (p.week, clock.stamp(p.end), p.stuck, p.overdue, p.escalated, p.handoffs_due, p.handoffs_on_time,
                 p.actions_due, p.actions_on_time, p.rating, at))
            if cursor.rowcount:
                written.append(p.week)
    return written


def recorded_trends(store: Store, now: datetime | None = None, weeks: int = WEEKS,
                    settings: dict | None = None, *, freeze: bool = False) -> Trends:
    """The last ``weeks`` weeks as the record has them: each ended week's frozen figures,
    the current week live. With ``freeze`` (a connection that may write) the ended weeks
    not recorded yet are frozen first; without it (read-only) they are computed on the
    fly, as they would be frozen now."""
    now = now or clock.now()
    labels = last_weeks(now, weeks)
    ended = labels[:-1]
    if freeze:
        freeze_ended_weeks(store, now, labels=ended)
    stored = recorded(store, ended)
    todo = [label for label in labels if label not in stored]
    computed = {p.week: p for p in rebuild(store, todo, now, settings)}
    return Trends([stored.get(label) or computed[label] for label in labels])


def _ratings(store: Store, labels: list[str]) -> dict[str, float]:
    """Per week, the rating of its sessions (each one's :func:`read.meeting_rating`; two
    rated sessions in a week: their mean), to one decimal."""
    from opsweek.store import read

    found: dict[str, list[float]] = {}
    for meeting in read.meetings(store):
        if meeting.week in labels:
            rating = read.meeting_rating(store, meeting)
            if rating is not None:
                found.setdefault(meeting.week, []).append(rating)
    return {week: round(sum(values) / len(values), 1) for week, values in found.items()}


# --- stuck items ---------------------------------------------------------------------


# changes that can block or unblock an item, or delete a pending handoff
_LOGGED = ('item.block', 'item.unblock', 'item.done', 'item.drop', 'undo')


def _log(store: Store) -> list:
    """The log's edits of items and handoffs by the changes in ``_LOGGED``, oldest first."""
    return history.edits_of(store, _LOGGED, ("items", "handoffs"))


def _blocked_spans(store: Store, log: list) -> dict[int, list[tuple[str | None, str | None]]]:
    """Per item, the spans (UTC stamps, ``None`` = open-ended) the audit log shows it blocked.

    An item whose first recorded change of status leaves "blocked" (or that is blocked now
    with no recorded block) arrived blocked: blocked from the start.
    """
    return history.value_spans(store, log, "items", "status", "blocked")


def _stuck_counts(store: Store, ends: list[datetime], now: datetime, settings: dict, log: list) -> list[int]:
    """Stuck items at each moment of ``ends``; the last one, when it is now, exactly as live."""
    stale = rules.setting(settings, "stale_after")
    live = ends[-1] == now
    past = len(ends) - 1 if live else len(ends)
    params: dict[str, object] = {"first": clock.stamp(ends[0]), "last": clock.stamp(ends[-1])}
    for k, end in enumerate(ends):
        params[f"t{k}"] = clock.stamp(end)
        params[f"stale{k}"] = clock.stamp(stale.before(end))
        params[f"day{k}"] = end.astimezone(clock.local_tz()).date().isoformat()
    source = (f"{stuck.past_limits_sql(len(ends))} SELECT {{columns}} FROM {{items}}"
              " LEFT JOIN limits l ON l.workflow = i.workflow AND l.key = i.stage"
              " WHERE i.opened_at <= :last AND (i.closed_at IS NULL OR i.closed_at > :first)")
    sums = [f"sum(CASE WHEN {stuck.past_open_sql(k)} AND ({stuck.past_sql(k)}) THEN 1 ELSE 0 END)"
            for k in range(past)]
    counts = []
    if past:
        row = store.one(source.format(columns=", ".join(sums), items="items i"), params)
        counts = [int(value or 0) for value in row]
    if live:  # now: the rule itself, on the current rows
        condition, live_params = stuck.sql(settings, now, now.astimezone(clock.local_tz()).date())
        counts.append(store.scalar(f"SELECT count(*) FROM {stuck.FROM} WHERE {condition}", live_params))
    # blocked then, and not already counted as stuck for another reason
    blocked = _blocked_spans(store, log)
    if blocked and past:
        flags = [f"{stuck.past_open_sql(k)} AND NOT coalesce({stuck.past_sql(k)}, 0)" for k in range(past)]
        sql = source.format(columns="i.id, " + ", ".join(flags),
                            items="json_each(:ids) j JOIN items i ON i.id = j.value")
        for row in store.query(sql, {**params, "ids": json.dumps(sorted(blocked))}):
            for k in range(past):
                at = params[f"t{k}"]
                if row[k + 1] and any((start is None or start <= at) and (end is None or end > at)
                                      for start, end in blocked[row[0]]):
                    counts[k] += 1
    return counts


# --- overdue handoffs ----------------------------------------------------------------


def _deleted_handoffs(store: Store, log: list) -> list[tuple[str, str, str | None, str]]:
    """(sent_at, due_at, accepted_at, deleted at) of handoffs the log shows deleted
    (withdrawn when their item was closed, or undone) and not put back since."""
    return [(row["sent_at"], row["due_at"], row.get("accepted_at"), deleted_at)
            for row, deleted_at in history.deleted_rows(store, log, "handoffs")]


def _overdue_counts(store: Store, ends: list[datetime], now: datetime, log: list) -> list[int]:
    counts = [0] * len(ends)
    past = ends[:-1] if ends[-1] == now else ends
    if ends[-1] == now:
        condition, late = overdue.sql(now)
        counts[-1] = store.scalar(f"SELECT count(*) FROM handoffs h WHERE {condition}", late)
    if not past:
        return counts
    moments = [clock.stamp(end) for end in past]
    params = {f"t{k}": at for k, at in enumerate(moments)}
    params.update(first=moments[0], last=moments[-1])
    sums = [f"sum(CASE WHEN {overdue.past_sql(k)} THEN 1 ELSE 0 END)" for k in range(len(past))]
    row = store.one(f"SELECT {', '.join(sums)} FROM handoffs WHERE due_at < :last"
                    " AND (accepted_at IS NULL OR accepted_at > :first)", params)
    for k, value in enumerate(row):
        counts[k] = int(value or 0)
    for sent_at, due_at, accepted_at, deleted_at in _deleted_handoffs(store, log):
        for k, at in enumerate(moments):
            if sent_at <= at and due_at < at and deleted_at > at and (accepted_at is None or accepted_at > at):
                counts[k] += 1
    return counts


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

    rows = store.query("SELECT e.id, e.due, e.status FROM entries e WHERE e.kind = 'action' AND e.due BETWEEN ? AND ?",
                       (first.isoformat(), last.isoformat()))
    done_at = history.latest_at(store, "action.done", "entries")  # when each action was last marked done
    for row in rows:
        done = done_at.get(row["id"])
        if row["status"] == "dropped" or (row["status"] == "done" and done is None):
            continue
        count(date.fromisoformat(row["due"]), done if row["status"] == "done" else None)
    # deadlines moved by carrying the action over were missed in their week
    for due in history.earlier_values(store, "action.carry", "entries", "due", first.isoformat(), last.isoformat()):
        count(date.fromisoformat(due), None)
    return list(zip(decided, on_time))


# --- handoffs on time ------------------------------------------------------------------


def _handoff_counts(store: Store, labels: list[str], now: datetime, log: list) -> list[tuple[int, int]]:
    """Per week: (handoffs due in it whose outcome is decided, of those accepted by their due time)."""
    spans = [_week_span(label) for label in labels]
    at_now = clock.stamp(now)
    params: dict[str, object] = {"now": at_now, "lo": min(lo for lo, _ in spans), "hi": max(hi for _, hi in spans)}
    for k, (lo, hi) in enumerate(spans):
        params[f"lo{k}"], params[f"hi{k}"] = lo, hi
    on_time = "h.accepted_at IS NOT NULL AND h.accepted_at <= h.due_at"
    # the weeks do not overlap: each handoff is due in one of them at most, found by one
    # look along the row (one pass over the handoffs, not one per week)
    week = " ".join(f"WHEN h.due_at >= :lo{k} AND h.due_at < :hi{k} THEN {k}" for k in range(len(labels)))
    rows = store.query(
        f"SELECT CASE {week} END AS k, sum(CASE WHEN {on_time} OR h.due_at <= :now THEN 1 ELSE 0 END),"
        f"        sum(CASE WHEN {on_time} THEN 1 ELSE 0 END)"
        " FROM handoffs h WHERE h.due_at >= :lo AND h.due_at < :hi GROUP BY k", params)
    decided = [0] * len(labels)
    kept = [0] * len(labels)
    for k, due, ok in rows:
        if k is not None:  # between weeks not asked for
            decided[k], kept[k] = int(due or 0), int(ok or 0)
    _add_withdrawn(store, log, spans, at_now, decided, kept)
    return list(zip(decided, kept))


def _add_withdrawn(store: Store, log: list, spans: list, at_now: str, decided: list[int], kept: list[int]) -> None:
    """Add to each week's counts its handoffs withdrawn since (their item closed, or undone):
    on time when accepted by their due time, late when withdrawn after it."""
    for row, deleted_at in history.deleted_rows(store, log, "handoffs"):
        due_at, accepted_at = row.get("due_at"), row.get("accepted_at")
        k = next((k for k, (lo, hi) in enumerate(spans) if due_at and lo <= due_at < hi), None)
        if k is None:
            continue
        if accepted_at is not None and accepted_at <= due_at:
            decided[k] += 1
            kept[k] += 1
        elif deleted_at > due_at and due_at <= at_now and (accepted_at is None or accepted_at > due_at):
            decided[k] += 1


# --- escalated -------------------------------------------------------------------------


def _escalated_counts(store: Store, labels: list[str], ends: list[datetime]) -> list[int]:
    """Per week: the handoffs and items escalated in it, or escalated before and still
    waiting at its end (the handoff not accepted, the item open in the stage it was
    escalated in), each counted once."""
    moments = [clock.stamp(end) for end in ends]
    rows = store.query("SELECT handoff_id, item_id, at FROM escalations WHERE at <= ? ORDER BY at, id",
                       (moments[-1],))
    if not rows:
        return [0] * len(labels)
    handoffs_then = history.rows_at_moments(
        store, "handoffs", [r["handoff_id"] for r in rows if r["handoff_id"] is not None], moments)
    items_then = history.rows_at_moments(
        store, "items", [r["item_id"] for r in rows if r["item_id"] is not None], moments)
    counts = []
    for k, at in enumerate(moments):
        start, _ = _week_span(labels[k])
        latest: dict[tuple[str, int], str] = {}  # what was escalated -> its latest escalation by then
        for r in rows:
            if r["at"] > at:
                break
            subject = ("handoff", r["handoff_id"]) if r["handoff_id"] is not None else ("item", r["item_id"])
            latest[subject] = r["at"]
        count = 0
        for (kind, key), escalated_at in latest.items():
            if escalated_at >= start:
                count += 1
            elif kind == "handoff":
                h = handoffs_then[k].get(key)
                count += h is not None and (h["accepted_at"] is None or h["accepted_at"] > at)
            else:
                it = items_then[k].get(key)
                count += (it is not None and it["status"] in ("open", "blocked")
                          and it["stage_entered_at"] <= escalated_at)
        counts.append(count)
    return counts
