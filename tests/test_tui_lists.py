"""Lists that scale (issue 14): in the session a facilitator narrows a long list as they
type (``/``; escape clears), sorts it by a column (``>`` and ``<``, or a click on the
header), groups it by workflow (``g``), and always sees where they are in it ("rows 6–10
of 22"); PgDn crosses into the next page, read from the database."""

from __future__ import annotations

import pytest

from tui_support import press, screen_text, settle, type_text

from opsweek.tui.app import make_app
from opsweek.tui.widgets.paged_table import ListFilter, PagedTable

SIZE = (150, 45)


def ids(table: PagedTable) -> list[str]:
    return [row.key for row in table.rows_data]


async def stuck_items(pilot) -> PagedTable:
    await settle(pilot)
    await press(pilot, "4")
    return pilot.app.screen.query_one("#stuck-table", PagedTable)


async def test_typing_a_filter_narrows_stuck_items_and_escape_clears_it(demo_db):
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        table = await stuck_items(pilot)
        assert len(ids(table)) == 22 and "22 rows · 0 of 22 reviewed" in screen_text(app)

        await press(pilot, "slash")
        assert isinstance(app.focused, ListFilter)
        await type_text(pilot, "complaints")
        # the complaints workflow's stuck items, and only those
        assert sorted(ids(table), key=int) == ["31", "33", "34", "35", "38", "40"]
        assert all(row.data.workflow == "complaints" for row in table.rows_data)
        assert '6 rows · filter "complaints"' in screen_text(app)

        await type_text(pilot, " triage")  # every word must match: the workflow, and the stage
        assert sorted(ids(table), key=int) == ["31", "33"]
        await type_text(pilot, " nonesuch")
        assert ids(table) == [] and 'no rows match · filter "complaints triage nonesuch"' in screen_text(app)

        await press(pilot, "escape")  # clears the filter, back on the list
        assert len(ids(table)) == 22 and app.focused is table
        assert "filter" not in app.screen.query_one("#stuck-position").render().plain
        await press(pilot, "escape")  # nothing left to clear: escape leaves the session as before
        assert app.screen.__class__.__name__ == "HomeScreen"


async def test_a_filter_matches_owners_by_name_and_items_by_number(demo_db):
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        table = await stuck_items(pilot)
        await press(pilot, "slash")
        await type_text(pilot, "#26")
        assert ids(table) == ["26"]
        await press(pilot, "escape")
        await press(pilot, "slash")
        await type_text(pilot, "Ivan")  # ivan's name, whatever the case
        assert ids(table) and all(row.data.owner == "ivan" for row in table.rows_data)
        await press(pilot, "enter")  # back to the list, the filter kept
        assert app.focused is table and all(row.data.owner == "ivan" for row in table.rows_data)


async def test_sorting_by_a_column_says_so_in_the_header(demo_db):
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        table = await stuck_items(pilot)
        rule_order = ids(table)
        await press(pilot, "greater_than_sign")  # the first sortable column: item
        assert ids(table) == sorted(rule_order, key=int)
        assert "item ▲" in screen_text(app) and "sorted by item" in screen_text(app)
        await press(pilot, "less_than_sign")
        assert ids(table) == sorted(rule_order, key=int, reverse=True)
        assert "item ▼" in screen_text(app) and "sorted by item, reversed" in screen_text(app)
        await press(pilot, "greater_than_sign", "greater_than_sign")  # title, then owner
        owners = [row.data.owner for row in table.rows_data]
        assert owners == sorted(owners) and "sorted by owner" in screen_text(app)

        # a click on a header sorts by it; a second click reverses
        column = list(table.columns).index("title")
        await pilot.click(table, offset=(sum(c.get_render_width(table) for c in list(table.columns.values())[:column]) + 2, 0))
        await settle(pilot)
        titles = [row.data.title.lower() for row in table.rows_data]
        assert titles == sorted(titles) and "sorted by title" in screen_text(app)


async def test_grouping_by_workflow_names_each_group_once(demo_db):
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        table = await stuck_items(pilot)
        await press(pilot, "g")
        workflows = [row.data.workflow for row in table.rows_data]
        assert workflows == sorted(workflows) and len(workflows) == 22
        first_cells = [table.get_row_at(n)[0].plain for n in range(len(workflows))]
        assert [c for c in first_cells if c] == sorted(set(workflows))
        assert "by workflow" in screen_text(app)
        await press(pilot, "g")
        assert "by workflow" not in screen_text(app) and "group" not in table.columns


async def test_page_down_crosses_into_the_next_page_and_the_position_follows(demo_db, monkeypatch):
    monkeypatch.setattr(PagedTable, "page_size", 5)  # 22 stuck items: five pages
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        table = await stuck_items(pilot)
        everything = []
        assert "rows 1–5 of 22" in screen_text(app)
        everything += ids(table)
        await press(pilot, "pagedown")  # to the page's last row
        await press(pilot, "pagedown")  # and across into the next page
        assert table.page_offset == 5 and table.cursor_row == 0
        assert "rows 6–10 of 22" in screen_text(app)
        everything += ids(table)
        for _ in range(4):
            await press(pilot, "pagedown", "pagedown")
        assert "rows 21–22 of 22" in screen_text(app)
        await press(pilot, "pageup", "pageup")  # to the top of the last page, then across to the page before
        assert table.page_offset == 15 and "rows 16–20 of 22" in screen_text(app)
        # a filter starts again from its first row, paged the same way
        await press(pilot, "slash")
        await type_text(pilot, "client-delivery")
        assert table.page_offset == 0 and "rows 1–5 of 6" in screen_text(app)
        assert len(set(everything)) == 10


@pytest.mark.parametrize("step,table_id,text,expected", [
    ("5", "#handoffs-table", "carla", None),
    ("6", "#gaps-table", "gus", None),
])
async def test_overdue_handoffs_and_gaps_filter_too(demo_db, step, table_id, text, expected):
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, step)
        table = app.screen.query_one(table_id, PagedTable)
        everything = list(table.rows_data)
        await press(pilot, "slash")
        await type_text(pilot, text)
        narrowed = table.rows_data
        assert 0 < len(narrowed) < len(everything)
        assert {row.key for row in narrowed} <= {row.key for row in everything}
        assert f'filter "{text}"' in screen_text(app)
