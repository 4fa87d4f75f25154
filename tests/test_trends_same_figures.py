"""The week figures computed faster (issue 16) are the figures computed as before: the
handoffs due per week in one pass over the handoffs instead of one per week, and the
log's block/unblock/done/drop edits found by their action. Each is compared with the
former query, kept here as the reference, on the demo with a busy week of changes and
on a synthetic team of 12,000 items, over every ended week and over weeks with gaps."""

from __future__ import annotations

from datetime import timedelta

import pytest

from opsweek import clock, demo, trends
from opsweek.errors import InputError
from opsweek.store import Store, changes, history, read


def former_handoff_counts(store, labels, now):
    """trends._handoff_counts's SQL as it was: a join of the weeks with the handoffs."""
    spans = [trends._week_span(label) for label in labels]
    weeks = ", ".join(f"({k}, :lo{k}, :hi{k})" for k in range(len(labels)))
    params = {"now": clock.stamp(now)}
    for k, (lo, hi) in enumerate(spans):
        params[f"lo{k}"], params[f"hi{k}"] = lo, hi
    on_time = "h.accepted_at IS NOT NULL AND h.accepted_at <= h.due_at"
    rows = store.query(
        f"WITH w(k, lo, hi) AS (VALUES {weeks})"
        f" SELECT w.k, sum(CASE WHEN {on_time} OR h.due_at <= :now THEN 1 ELSE 0 END),"
        f"        sum(CASE WHEN {on_time} THEN 1 ELSE 0 END)"
        " FROM w JOIN handoffs h ON h.due_at >= w.lo AND h.due_at < w.hi GROUP BY w.k", params)
    decided, kept = [0] * len(labels), [0] * len(labels)
    for k, due, ok in rows:
        decided[k], kept[k] = int(due or 0), int(ok or 0)
    return decided, kept


def former_log(store):
    """history.edits_of(store, trends._LOGGED, ("items", "handoffs")) as it was written."""
    actions, tables = trends._LOGGED, ("items", "handoffs")
    return [history.edit_from(r) for r in store.query(
        f"SELECT * FROM events WHERE action IN ({','.join('?' * len(actions))})"
        f" AND entity IN ({','.join('?' * len(tables))}) ORDER BY id", (*actions, *tables))]


def busy_weeks(store, now, monkeypatch):
    """Blocks, unblocks, a finished item, accepted and escalated handoffs over two weeks."""
    team = read.team(store)
    for days_ago in (12, 9, 5, 2):
        moment = now - timedelta(days=days_ago)
        monkeypatch.setenv("OPSWEEK_NOW", clock.stamp(moment))
        stuck = [item for item, _ in read.stuck_page(store, team, moment, moment.date(), limit=20)]
        changes.block_item(store, next(i for i in stuck if i.status == "open").id, "Waiting on legal",
                           actor="ana", now=moment)
        changes.unblock_item(store, next(i for i in stuck if i.status == "blocked").id, actor="ana", now=moment)
        changes.finish_item(store, stuck[-1].id, actor="ana", now=moment)
        for handoff in read.overdue_page(store, moment, limit=10):  # the first one that is due an escalation
            try:
                changes.escalate_handoff(store, handoff.id, actor="ana", now=moment)
                break
            except InputError:  # escalated already, or nobody left to escalate to
                continue
    monkeypatch.setenv("OPSWEEK_NOW", clock.stamp(now))


@pytest.fixture(params=[None, 12_000], ids=["demo with a busy fortnight", "12,000 items"])
def store(request, tmp_path, frozen_now, monkeypatch):
    built = demo.build(tmp_path / "demo.db", scale=request.param, now=frozen_now - timedelta(days=14))
    if request.param is None:
        busy_weeks(built, frozen_now, monkeypatch)
    yield built
    built.close()


def test_the_figures_of_every_ended_week_are_computed_as_before(store, frozen_now):
    labels = trends.ended_weeks(frozen_now)
    log = trends._log(store)
    assert log == former_log(store)
    decided, kept = former_handoff_counts(store, labels, frozen_now)
    assert trends._handoff_counts(store, labels, frozen_now, log) == list(zip(
        *_with_withdrawn(store, labels, frozen_now, log, decided, kept)))
    assert sum(decided) > 0  # handoffs were due in those weeks: the figures were compared, not zeros


def test_weeks_asked_for_with_gaps_between_them_are_computed_as_before(store, frozen_now):
    ended = trends.ended_weeks(frozen_now)
    for labels in (ended[::2], ended[1::3], ended[-1:], [ended[0], ended[-1]]):
        log = trends._log(store)
        decided, kept = former_handoff_counts(store, labels, frozen_now)
        assert trends._handoff_counts(store, labels, frozen_now, log) == list(zip(
            *_with_withdrawn(store, labels, frozen_now, log, decided, kept)))


def test_the_frozen_record_holds_the_figures_of_the_history_rebuild(store, frozen_now):
    """What freezing writes is what the rebuild computes, week for week."""
    with Store.open(store.path) as other:
        other.conn.execute("DELETE FROM week_figures")
        frozen = trends.freeze_ended_weeks(other, frozen_now)
        assert frozen == trends.ended_weeks(frozen_now)
        stored = trends.recorded(other, frozen)
        rebuilt = trends.rebuild(other, frozen, frozen_now)
        assert [(p.week, p.stuck, p.overdue, p.handoffs_due, p.handoffs_on_time, p.actions_due, p.escalated)
                for p in rebuilt] == [
            (stored[w].week, stored[w].stuck, stored[w].overdue, stored[w].handoffs_due,
             stored[w].handoffs_on_time, stored[w].actions_due, stored[w].escalated) for w in frozen]


def _with_withdrawn(store, labels, now, log, decided, kept):
    """The former function's second half (handoffs withdrawn since): the same code it was."""
    decided, kept = list(decided), list(kept)
    trends._add_withdrawn(store, log, [trends._week_span(label) for label in labels], clock.stamp(now),
                          decided, kept)
    return decided, kept
