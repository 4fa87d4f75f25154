"""The system screens, driven by the keys a user presses, on the demo data with the clock frozen:
the workflow map, the audit (and fixing an owner from it), the what-if, my handoffs, the trend."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, SelectionList
from tui_support import settle

from opsweek.store import Store
from opsweek.tui.modal.item_details import ItemDetails
from opsweek.tui.app import make_app
from opsweek.tui.screens.audit import AuditScreen
from opsweek.tui.screens.my_handoffs import MyHandoffsScreen
from opsweek.tui.screens.whatif import WhatIfScreen
from opsweek.tui.screens.workflow_map import StageBox, StageMap, WorkflowMapScreen
from opsweek.tui.widgets.paged_table import PagedTable
from opsweek.tui.widgets.trends import TrendPanel

SIZE = (120, 40)


def cells(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(n)] for n in range(table.row_count)]


# --- workflow map --------------------------------------------------------------------


async def test_w_opens_the_map_with_the_bottleneck_marked(demo_db):
    app = make_app(demo_db, me="ana")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WorkflowMapScreen)
        assert screen.workflow == "client-delivery"
        boxes = list(screen.query(StageBox))
        assert [b.load.stage.key for b in boxes] == ["kickoff", "build", "qa", "handover"]
        # build is where work piles up: 5 waiting, 3 of them stuck, the oldest for 20 days
        assert [b.load.stage.key for b in boxes if b.has_class("bottleneck")] == ["build"]
        build = boxes[1].load
        assert (build.waiting, build.stuck) == (5, 3)
        qa = boxes[2].load
        assert qa.owner_problem == "jo is inactive"


async def test_the_map_lists_a_stages_items_and_switches_workflow(demo_db):
    app = make_app(demo_db, me="ana")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.show("workflows", workflow="hiring")
        await settle(pilot)
        screen = app.screen
        assert screen.workflow == "hiring"
        await pilot.press("right", "right")  # sourcing → screening → interview
        await settle(pilot)
        assert screen.query_one(StageMap).index == 2
        table = screen.query_one("#map-items", PagedTable)
        assert table.total == 3
        titles = [row.cells[1].plain for row in table.rows_data]
        assert "Product manager" in titles
        await pilot.press("enter")  # into the list
        await settle(pilot)
        assert table.has_focus
        await pilot.press("enter")  # the highlighted item in full, with its SOP
        await settle(pilot)
        assert isinstance(app.screen, ItemDetails)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("escape", "right_square_bracket")  # back to the map, next workflow
        await settle(pilot)
        assert screen.workflow == "client-delivery"  # hiring was the last: wraps round


async def test_references_has_no_owner_on_the_map(demo_db):
    app = make_app(demo_db, me="ana")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.show("workflows", workflow="hiring")
        await settle(pilot)
        references = [b for b in app.screen.query(StageBox) if b.load.stage.key == "references"][0]
        assert references.load.owner_problem == "no owner"
        assert "no owner" in str(references.render())


# --- audit ---------------------------------------------------------------------------


async def test_the_audit_names_what_is_missing(demo_db):
    app = make_app(demo_db, me="ana")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        scores = {r.workflow: r.score for r in screen.results}
        assert scores == {"client-delivery": 4, "complaints": 5, "content": 3, "hiring": 4}
        rows = cells(screen.query_one("#audit-table", DataTable))
        assert ["content", "Visibility", "stage publish has no SOP"] == rows[1][:3]
        assert ["hiring", "Ownership", "stage references has no owner"] in [r[:3] for r in rows]


async def test_fixing_an_ownership_gap_from_the_audit_writes_the_owner_and_an_event(demo_db):
    app = make_app(demo_db, me="carla")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        screen = app.screen
        target = next(n for n, f in enumerate(screen.findings) if f.stage == "references")
        for _ in range(target):
            await pilot.press("down")
        await pilot.press("o")
        await pilot.pause()
        await pilot.press(*"ivan", "enter")
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)
        assert {r.workflow: r.score for r in screen.results}["hiring"] == 5
    with Store.open(demo_db) as store:
        assert store.scalar("SELECT owner FROM stages WHERE workflow = 'hiring' AND key = 'references'") == "ivan"
        event = store.one("SELECT action, actor, reason FROM events ORDER BY id DESC LIMIT 1")
        assert (event["action"], event["actor"]) == ("stage.owner", "carla")
        assert "no owner" in event["reason"]


async def test_o_on_a_gap_an_owner_does_not_fix_says_how_it_is_fixed_in_place(demo_db):
    # issue 11: no finding sends anyone to the team file any more; enter fixes each in place
    app = make_app(demo_db, me="carla")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.show("audit")
        await settle(pilot)
        await pilot.press("down", "o")  # content/publish has no SOP
        await pilot.pause()
        assert isinstance(app.screen, AuditScreen)
        assert any("enter: type the SOP link" in str(n.message) for n in app._notifications)
        assert not any("team file" in str(n.message) for n in app._notifications)


# --- what-if -------------------------------------------------------------------------


async def test_what_if_eve_is_away_shows_what_would_break_and_writes_nothing(demo_db):
    with Store.open(demo_db) as store:
        events_before = store.scalar("SELECT count(*) FROM events")
    app = make_app(demo_db, me="ana")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.show("whatif")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WhatIfScreen)
        await pilot.click("#whatif-filter")
        await pilot.press(*"eve", "enter")  # filter, then into the list
        await pilot.press("space")
        await settle(pilot)
        assert screen.away == {"eve"}
        stages = cells(screen.query_one("#whatif-stages", DataTable))
        # eve has no cover: sourcing and screening are left with nobody
        assert ["hiring/sourcing", "eve", "nobody"] in stages
        assert ["hiring/screening", "eve", "nobody"] in stages
        handoffs = cells(screen.query_one("#whatif-handoffs", DataTable))
        assert any(row[1] == "hiring/screening" and row[3] == "nobody" for row in handoffs)
        breaches = cells(screen.query_one("#whatif-breaches", DataTable))
        assert any(row[0] == "hiring/sourcing" for row in breaches)
        summary = str(screen.query_one("#whatif-summary").render())
        assert "Name a cover before they leave: eve" in summary
        # the volume multiplier: nonsense is refused in place
        volume = screen.query_one("#whatif-volume", Input)
        volume.value = "lots"
        await settle(pilot)
        assert "is not a multiplier" in str(screen.query_one("#whatif-summary").render())
        volume.value = "2"
        await settle(pilot)
        assert screen.volume == 2.0
    with Store.open(demo_db) as store:
        assert store.scalar("SELECT count(*) FROM events") == events_before


async def test_what_if_filter_keeps_the_people_already_marked(demo_db):
    app = make_app(demo_db, me="ana")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.show("whatif")
        await settle(pilot)
        screen = app.screen
        people = screen.query_one("#whatif-people", SelectionList)
        people.focus()
        await pilot.press("space")  # ana, the first
        await settle(pilot)
        screen.query_one("#whatif-filter", Input).value = "ben"
        await pilot.pause()
        people.focus()
        await pilot.press("space")
        await settle(pilot)
        assert screen.away == {"ana", "ben"}
        screen.query_one("#whatif-filter", Input).value = ""
        await settle(pilot)
        assert set(people.selected) == {"ana", "ben"}


# --- my handoffs ---------------------------------------------------------------------


async def test_accepting_from_my_handoffs_moves_the_item(demo_db):
    with Store.open(demo_db) as store:
        handoff = store.one("SELECT h.id, h.item_id FROM handoffs h WHERE h.to_owner = 'ben' AND accepted_at IS NULL")
    app = make_app(demo_db, me="ben")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MyHandoffsScreen)
        incoming = cells(screen.query_one("#mine-incoming", DataTable))
        assert incoming[0][0] == str(handoff["id"]) and "App crashes at checkout" in incoming[0][1]
        assert incoming[0][5] == "16h"  # late, and its SOP is there
        assert "complaint-resolution" in incoming[0][6]
        await pilot.press("a")
        await settle(pilot)
        assert screen.query_one("#mine-incoming", DataTable).row_count == 0
    with Store.open(demo_db) as store:
        row = store.one("SELECT accepted_by, accepted_at FROM handoffs WHERE id = ?", (handoff["id"],))
        assert row["accepted_by"] == "ben" and row["accepted_at"] == "2026-11-24T10:00:00Z"
        assert store.scalar("SELECT stage FROM items WHERE id = ?", (handoff["item_id"],)) == "resolve"


async def test_my_handoffs_asks_who_you_are(demo_db):
    app = make_app(demo_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("y")
        await pilot.pause()
        await pilot.press(*"ana", "enter")
        await settle(pilot)
        assert app.me == "ana"
        screen = app.screen
        assert isinstance(screen, MyHandoffsScreen)
        stuck = cells(screen.query_one("#mine-stuck", DataTable))
        assert any("Rude reply from courier" in row[0] for row in stuck)
        actions = cells(screen.query_one("#mine-actions", DataTable))
        assert any("Chase the courier" in row[0] for row in actions)


# --- trend, palette, keys ------------------------------------------------------------


async def test_the_home_trend_shows_more_than_one_week(demo_db):
    app = make_app(demo_db, me="ana")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        panel = app.screen.query_one(TrendPanel)
        assert panel.trends is not None
        stuck = panel.trends.series("stuck")
        assert len(stuck) == 8 and sum(1 for v in stuck if v) > 1
        assert stuck[-1] == 22
        title = str(panel.query_one(".trend-title").render())
        assert "2026-W41" in title and "2026-W48" in title


@pytest.mark.parametrize("name, key", [("audit", "Fix owner (o)"), ("mine", "Accept handoff (a)"),
                                       ("workflows", "Next workflow (])")])
async def test_the_palette_reaches_each_screens_actions(demo_db, name, key):
    app = make_app(demo_db, me="ana")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.show(name)
        await settle(pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert key in titles
        assert "Open: What-if: pressure-test the team" in titles


async def test_question_mark_shows_the_keys_of_the_screen(demo_db):
    app = make_app(demo_db, me="ana")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.show("audit")
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen.query("HelpPanel")


async def test_the_numbers_read_at_launch_are_in_the_first_frame_and_a_return_reads_them_again(demo_db,
                                                                                               monkeypatch):
    """``opsweek`` reads the home screen's numbers while Textual loads (prefetch); when they
    are there by the time the screen mounts, it shows them at once, reading nothing again,
    and coming back from another screen reads them afresh."""
    from opsweek.tui import attention
    from opsweek.tui.screens.home import HomeScreen

    attention.prefetch(demo_db)
    attention._prefetched[demo_db].result(timeout=30)
    reads = []
    read_attention = attention.read_attention
    monkeypatch.setattr(attention, "read_attention", lambda *a, **k: reads.append(1) or read_attention(*a, **k))
    app = make_app(demo_db, me="ana")
    async with app.run_test(size=SIZE) as pilot:
        home = app.screen
        assert isinstance(home, HomeScreen) and home.ready
        assert "stuck items" in str(home.query_one("#attention").render())
        await settle(pilot)
        assert home.query_one(TrendPanel).trends is not None
        assert reads == []  # nothing read twice
        await pilot.press("t")
        await settle(pilot)
        app.pop_screen()
        await settle(pilot)
        assert reads == [1] and home.ready  # back home: read afresh
