"""SVG snapshots of the system screens on the demo data (clock frozen, TZ=UTC, 120×40).

Regenerate after a deliberate change with ``pytest tests/test_tui_system_snapshots.py --snapshot-update``
and look at the SVGs under ``tests/__snapshots__/`` before committing them.
"""

from __future__ import annotations

from tui_support import settle

from opsweek.tui.app import make_app

SIZE = (120, 40)


def opened(name: str, *keys: str, **kwargs):
    async def run_before(pilot) -> None:
        await settle(pilot)
        pilot.app.show(name, **kwargs)
        await settle(pilot)
        if keys:
            await pilot.press(*keys)
            await settle(pilot)

    return run_before


def test_workflow_map(snap_compare, demo_db):
    assert snap_compare(make_app(demo_db, me="ana"), terminal_size=SIZE,
                        run_before=opened("workflows", "right", workflow="client-delivery"))


def test_audit(snap_compare, demo_db):
    assert snap_compare(make_app(demo_db, me="ana"), terminal_size=SIZE, run_before=opened("audit"))


def test_what_if_eve_away(snap_compare, demo_db):
    assert snap_compare(make_app(demo_db, me="ana"), terminal_size=SIZE,
                        run_before=opened("whatif", away=["eve"]))


def test_my_handoffs(snap_compare, demo_db):
    assert snap_compare(make_app(demo_db, me="ben"), terminal_size=SIZE, run_before=opened("mine"))
