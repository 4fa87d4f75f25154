"""SVG snapshots of the home screen and each step of the session, on the demo data with the
clock frozen (OPSWEEK_NOW), TZ=UTC, a fixed 120×40 terminal and the session's own timer
stopped.

Regenerate after a deliberate change with ``pytest tests/test_tui_snapshots.py --snapshot-update``
and look at the SVGs under ``tests/__snapshots__/test_tui_snapshots/`` before committing them.
"""

from __future__ import annotations

import pytest
from tui_support import settle

from opsweek.agenda import STEP_KEYS
from opsweek.tui.app import make_app

SIZE = (120, 40)


@pytest.fixture(autouse=True)
def stopped_timer(monkeypatch):
    """The stepper shows time spent; a stopped monotonic clock keeps it at 0:00."""
    from opsweek.tui.screens import session

    monkeypatch.setattr(session, "monotonic", lambda: 1000.0)


async def home_ready(pilot) -> None:
    from opsweek.tui.widgets.trends import TrendPanel

    for _ in range(200):
        await settle(pilot)  # (and the health table has measured its rows)
        screen = pilot.app.screen
        panels = screen.query(TrendPanel)
        if getattr(screen, "ready", False) and panels and panels.first().trends is not None:
            return
    raise AssertionError("the home screen never finished loading")


def test_home(snap_compare, demo_db):
    assert snap_compare(make_app(demo_db, me="ivan"), terminal_size=SIZE, run_before=home_ready)


@pytest.mark.parametrize("step", STEP_KEYS)
def test_session_step(snap_compare, demo_db, step):
    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press(str(STEP_KEYS.index(step) + 1))
        await settle(pilot)
        assert pilot.app.screen.step == step

    assert snap_compare(make_app(demo_db, me="ivan", start="meeting"), terminal_size=SIZE, run_before=run_before)


# every step at the smallest terminal SPEC promises (80×24: the stepper narrows to numbers
# and counts, the key columns stay) and at a wide one (200×50: titles and reasons get the room)
@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
@pytest.mark.parametrize("step", STEP_KEYS)
def test_session_step_at_size(snap_compare, demo_db, step, size):
    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press(str(STEP_KEYS.index(step) + 1))
        await settle(pilot)
        assert pilot.app.screen.step == step

    assert snap_compare(make_app(demo_db, me="ivan", start="meeting"), terminal_size=size, run_before=run_before)


def test_issues_step_with_raised_issues(snap_compare, demo_db):
    """The Issues step with three issues raised before the session, one ranked first."""
    from opsweek.store import Store, changes, read

    with Store.open(demo_db) as store:
        team = read.team(store)
        first = changes.raise_issue(store, team, "The courier keeps losing parcels", item_id=13, actor="ana")
        changes.raise_issue(store, team, "Hiring needs a second interviewer", workflow="hiring", actor="ben")
        changes.raise_issue(store, team, "Stand-ups run long", actor="eve")

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press(str(STEP_KEYS.index("issues") + 1))
        await settle(pilot)
        session = pilot.app.screen
        assert session.step == "issues"
        await pilot.press("t")  # the first listed (the courier) goes to the top
        await settle(pilot)
        with Store.open(demo_db) as store:
            assert read.issue_ranks(store, session.meeting_id) == {1: first}

    assert snap_compare(make_app(demo_db, me="ivan", start="meeting"), terminal_size=SIZE, run_before=run_before)
