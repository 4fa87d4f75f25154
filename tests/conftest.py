"""Shared fixtures: a frozen clock, a demo database, and an isolated environment."""

from __future__ import annotations

import gc
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

FROZEN = datetime(2026, 11, 24, 10, 0, 0, tzinfo=timezone.utc)  # a Tuesday


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory, monkeypatch):
    """No test touches the developer's database or depends on their time zone."""
    home = tmp_path_factory.mktemp("env")
    monkeypatch.setenv("OPSWEEK_DB", str(home / "default" / "opsweek.db"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))  # where mine keeps "last looked"
    monkeypatch.delenv("OPSWEEK_ME", raising=False)
    monkeypatch.delenv("OPSWEEK_NOW", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
    # an app of this test kept its objects out of the collector (OpsweekApp.keep_heap):
    # give them back, or every TUI test's objects would stay in this process for good;
    # and a launch's pause of the collector (cli.tui.make_app) ends with its test
    gc.unfreeze()
    gc.enable()


@pytest.fixture
def frozen_now(monkeypatch) -> datetime:
    """Freeze the one clock at Tuesday 2026-11-24 10:00 UTC and return that time."""
    monkeypatch.setenv("OPSWEEK_NOW", FROZEN.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return FROZEN


@pytest.fixture
def demo_db(tmp_path, frozen_now) -> Path:
    """The sample-data demo database, built at the frozen time; returns its path."""
    from opsweek import demo

    path = tmp_path / "demo.db"
    demo.build(path, now=frozen_now).close()
    return path


@pytest.fixture
def children(monkeypatch) -> list:
    """The children ``opsweek.aside.fork`` makes during the test (None for each call that
    made none), listed as they are made."""
    from opsweek import aside

    made = []
    fork = aside.fork

    def spied(work):
        made.append(fork(work))
        return made[-1]

    monkeypatch.setattr(aside, "fork", spied)
    return made
