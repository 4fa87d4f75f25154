"""A read given a budget (Store.within) is stopped when it runs over, and only then."""

from __future__ import annotations

import time

import pytest

from opsweek.store import Store, TooSlow

COUNT_FAR = ("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 100000000)"
             " SELECT count(*) FROM n")


def test_a_read_over_its_budget_is_stopped_soon_after_the_budget():
    store = Store.memory()
    started = time.perf_counter()
    with pytest.raises(TooSlow):
        with store.within(20):
            store.scalar(COUNT_FAR)
    assert time.perf_counter() - started < 2.0  # counting that far takes many seconds


def test_a_quick_read_within_its_budget_is_answered():
    store = Store.memory()
    with store.within(500):
        assert store.scalar("SELECT count(*) FROM people") == 0


def test_after_the_budget_reads_run_as_long_as_they_need():
    store = Store.memory()
    with pytest.raises(TooSlow):
        with store.within(1):
            store.scalar(COUNT_FAR)
    slow = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 300000) SELECT count(*) FROM n"
    started = time.perf_counter()
    assert store.scalar(slow) == 300000
    assert time.perf_counter() - started > 0.001  # it ran past the old budget, and was not stopped


def test_an_error_of_the_read_itself_is_not_taken_for_slowness():
    import sqlite3

    store = Store.memory()
    with pytest.raises(sqlite3.OperationalError):
        with store.within(500):
            store.query("SELECT nothing FROM nowhere")
