"""Trends: stuck items, overdue handoffs and actions on time, week by week, rebuilt from history."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta

import pytest

from opsweek import clock, trends
from opsweek.store import Store, changes, read


@pytest.fixture
def store(demo_db):
    with Store.open(demo_db) as opened:
        yield opened


def at(monkeypatch, moment):
    """Move the one clock (events are stamped by it) to ``moment``."""
    monkeypatch.setenv("OPSWEEK_NOW", clock.stamp(moment))


def test_eight_weeks_ending_this_week(store, frozen_now):
    result = trends.weekly_trends(store, frozen_now)
    assert [p.week for p in result.weeks] == [f"2026-W{n}" for n in range(41, 49)]
    assert result.weeks[-1].end == frozen_now
    # each past week is measured at the last second of its Sunday
    assert result.weeks[-2].end == clock.parse_stamp("2026-11-22T23:59:59Z")


def test_this_week_matches_the_live_counts(store, frozen_now):
    team = read.team(store)
    result = trends.weekly_trends(store, frozen_now)
    assert result.latest("stuck") == read.stuck_count(store, team, frozen_now, frozen_now.date()) == 22
    assert result.latest("overdue") == read.overdue_count(store, frozen_now) == 9


def test_the_demo_has_history_over_several_weeks(store, frozen_now):
    result = trends.weekly_trends(store, frozen_now)
    assert sum(1 for value in result.series("stuck") if value) >= 4
    # items opened 60 days ago were not stuck before they existed: the trend builds up
    assert result.series("stuck")[0] < result.series("stuck")[-1]
    assert result.direction("stuck") in ("up", "down", "flat")


def _count_delta(store, frozen_now, make_change):
    before = trends.weekly_trends(store, frozen_now)
    make_change()
    after = trends.weekly_trends(store, frozen_now)
    return [a - b for a, b in zip(after.series("stuck"), before.series("stuck"))]


@pytest.mark.parametrize("blocked", [True, False])
def test_a_block_recorded_in_the_log_counts_in_the_weeks_it_lasted(store, frozen_now, monkeypatch, blocked):
    # hiring/sourcing keeps items 10 days and staleness is 7 days: four days in, only the block makes it stuck
    def story():
        team = read.team(store)
        opened = frozen_now - timedelta(days=20)           # Wed 4 Nov
        at(monkeypatch, opened)
        item_id = changes.add_item(store, team, "hiring", "Staff engineer", actor="ivan", now=opened)
        if blocked:
            at(monkeypatch, opened + timedelta(days=1))
            changes.block_item(store, item_id, "budget freeze", actor="ivan", now=opened + timedelta(days=1))
            at(monkeypatch, frozen_now - timedelta(days=5))
            changes.unblock_item(store, item_id, actor="ivan", now=frozen_now - timedelta(days=5))
        at(monkeypatch, frozen_now - timedelta(days=4))     # Fri 20 Nov: done before the W47 week end
        changes.finish_item(store, item_id, actor="ivan", now=frozen_now - timedelta(days=4))
        at(monkeypatch, frozen_now)

    delta = _count_delta(store, frozen_now, story)
    weeks = dict(zip([f"W{n}" for n in range(41, 49)], delta))
    assert weeks["W44"] == 0                      # not opened yet
    assert weeks["W45"] == (1 if blocked else 0)  # Sun 8 Nov: blocked since the 5th, nothing else wrong
    assert weeks["W47"] == 0 and weeks["W48"] == 0  # done on the 20th


def test_an_item_that_arrived_blocked_counts_as_blocked_from_the_start(demo_db, frozen_now):
    with Store.open(demo_db) as store:
        # "Account executive" was imported blocked, opened 25 days ago, in interview for 5
        spans = trends._blocked_spans(store, trends._log(store))
        item_id = store.scalar("SELECT id FROM items WHERE ref = 'REQ-093'")
        assert spans[item_id] == [(None, None)]


def test_an_overdue_handoff_counts_until_it_is_accepted(store, frozen_now, monkeypatch):
    def story():
        team = read.team(store)
        sent = frozen_now - timedelta(days=10, hours=2)      # Sat 14 Nov, due 24h later (triage SLA)
        item_id = changes.add_item(store, team, "complaints", "Parcel lost", actor="ben", now=sent)
        handoff_id = changes.hand_off(store, team, item_id, actor="ben", now=sent)
        accepted = frozen_now - timedelta(days=3)
        at(monkeypatch, accepted)
        changes.accept_handoff(store, handoff_id, actor="ana", now=accepted)
        at(monkeypatch, frozen_now)

    before = trends.weekly_trends(store, frozen_now).series("overdue")
    story()
    after = trends.weekly_trends(store, frozen_now).series("overdue")
    delta = [a - b for a, b in zip(after, before)]
    assert delta == [0, 0, 0, 0, 0, 1, 0, 0]  # overdue at the end of W46 only


def test_a_handoff_withdrawn_when_its_item_closed_still_counts_before(store, frozen_now, monkeypatch):
    def story():
        team = read.team(store)
        sent = frozen_now - timedelta(days=10, hours=2)
        item_id = changes.add_item(store, team, "complaints", "Parcel lost", actor="ben", now=sent)
        changes.hand_off(store, team, item_id, actor="ben", now=sent)
        closed = frozen_now - timedelta(days=3)
        at(monkeypatch, closed)
        changes.drop_item(store, item_id, "duplicate", actor="ben", now=closed)  # deletes the pending handoff
        at(monkeypatch, frozen_now)

    before = trends.weekly_trends(store, frozen_now).series("overdue")
    story()
    after = trends.weekly_trends(store, frozen_now).series("overdue")
    assert [a - b for a, b in zip(after, before)] == [0, 0, 0, 0, 0, 1, 0, 0]


def test_actions_on_time_are_those_done_by_the_end_of_their_due_day(store, frozen_now, monkeypatch):
    team = read.team(store)
    due = (frozen_now - timedelta(days=12)).date()    # Thu 12 Nov, in W46
    made = frozen_now - timedelta(days=14)
    on_time = changes.record_entry(store, team, "action", "Send the offer letter", meeting_id=None, owner="ivan",
                                   due=due, actor="ivan", now=made)
    late = changes.record_entry(store, team, "action", "Book the interviews", meeting_id=None, owner="eve",
                                due=due, actor="ivan", now=made)
    changes.record_entry(store, team, "action", "Never done", meeting_id=None, owner="eve",
                         due=due, actor="ivan", now=made)
    at(monkeypatch, frozen_now - timedelta(days=13))
    changes.set_action_status(store, on_time, "done", meeting_id=None, actor="ivan")
    at(monkeypatch, frozen_now - timedelta(days=10))
    changes.set_action_status(store, late, "done", meeting_id=None, actor="eve")
    at(monkeypatch, frozen_now)
    week = trends.weekly_trends(store, frozen_now).weeks[5]
    assert week.week == "2026-W46"
    assert (week.actions_due, week.actions_on_time) == (3, 1)
    assert week.on_time_rate == pytest.approx(1 / 3)


def test_a_carried_action_missed_its_first_deadline(store, frozen_now):
    team = read.team(store)
    made = frozen_now - timedelta(days=14)
    entry = changes.record_entry(store, team, "action", "Write the SOP", meeting_id=None, owner="fay",
                                 due=(frozen_now - timedelta(days=12)).date(), actor="fay", now=made)
    changes.carry_action(store, entry, meeting_id=None, actor="fay", now=frozen_now)
    result = trends.weekly_trends(store, frozen_now)
    assert (result.weeks[5].actions_due, result.weeks[5].actions_on_time) == (1, 0)


def test_actions_not_yet_due_have_no_rate(store, frozen_now):
    result = trends.weekly_trends(store, frozen_now)
    # the demo's actions due later this week are not late yet; weeks with none have no rate
    assert result.weeks[0].on_time_rate is None
    assert result.weeks[-1].actions_due == 1  # due yesterday, not done


def test_quick_on_a_synthetic_team(tmp_path, frozen_now):
    from opsweek import demo

    store = demo.build(tmp_path / "big.db", scale=5000, now=frozen_now)
    try:
        team = read.team(store)
        started = time.perf_counter()
        result = trends.weekly_trends(store, frozen_now)
        elapsed = time.perf_counter() - started
        assert result.latest("stuck") == read.stuck_count(store, team, frozen_now, frozen_now.date())
        assert result.latest("overdue") == read.overdue_count(store, frozen_now)
        assert all(value > 0 for value in result.series("stuck"))
        assert elapsed < 1.0
    finally:
        store.close()


def test_trends_is_core_code_without_textual_or_pydantic():
    code = "import sys, opsweek.trends; print(sorted(m for m in ('textual', 'pydantic') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
