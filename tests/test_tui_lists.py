"""Lists that scale (issue 14): in the session a facilitator narrows a long list as they
type (``/``; escape clears), sorts it by a column (``>`` and ``<``, or a click on the
header), groups it by workflow (``g``), and always sees where they are in it ("rows 6–10
of 22"); PgDn crosses into the next page, read from the database."""

from __future__ import annotations

import pytest
from textual.widgets import Input
from tui_support import press, screen_text, settle, type_text

from opsweek.store import Store, read
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


# --- the other lists: last week's actions, the team, my handoffs --------------------------


def label(app, widget_id: str) -> str:
    return app.screen.query_one(widget_id).render().plain


async def test_last_weeks_actions_filter_sort_and_group_and_space_still_marks_the_row_done(demo_db):
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "2")
        table = app.screen.query_one("#actions-table", PagedTable)
        assert ids(table) == ["5", "3", "6", "4"]  # due first, as the step always listed them
        assert label(app, "#actions-position") == "4 rows · 4 to decide of 4"

        await press(pilot, "slash")
        await type_text(pilot, "courier")  # the action's own words
        assert ids(table) == ["5"] and label(app, "#actions-position") == '1 row · filter "courier" · 4 to decide of 4'
        await press(pilot, "escape")
        await press(pilot, "slash")
        await type_text(pilot, "Carla")  # its owner, by name
        assert ids(table) == ["3"]
        await press(pilot, "escape")
        await press(pilot, "slash")
        await type_text(pilot, "hiring")  # the workflow it is about
        assert ids(table) == ["6"]
        await press(pilot, "enter")  # back on the list, the filter kept: its keys work on the row
        await press(pilot, "space")
        with Store.open(demo_db) as store:
            assert read.entry(store, 6).status == "done"
        assert ids(table) == ["6"] and "3 to decide of 4" in label(app, "#actions-position")
        await press(pilot, "escape")
        assert len(ids(table)) == 4 and app.focused is table

        await press(pilot, "greater_than_sign", "greater_than_sign")  # due, then owner
        owners = [row.data.entry.owner for row in table.rows_data]
        assert owners == sorted(owners) and "owner ▲" in screen_text(app)
        assert "sorted by owner" in label(app, "#actions-position")
        await press(pilot, "less_than_sign")
        assert [row.data.entry.owner for row in table.rows_data] == sorted(owners, reverse=True)
        await press(pilot, "g")
        first_cells = [table.get_row_at(n)[0].plain for n in range(table.row_count)]
        # the groups in workflow order, the actions within each reversed by owner
        assert [c for c in first_cells if c] == ["client-delivery", "complaints", "content", "hiring"]
        assert "by workflow" in label(app, "#actions-position")


async def test_the_team_filters_by_name_cover_and_what_they_own_and_sorts_by_a_column(demo_db):
    app = make_app(demo_db, me="ivan", start="team")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#team-table", PagedTable)
        assert len(ids(table)) == 10 and label(app, "#team-position") == "10 rows"

        await press(pilot, "slash")
        await type_text(pilot, "Jensen")  # carla by name, and the two she covers for
        assert ids(table) == ["carla", "dev", "ivan"]
        assert label(app, "#team-position") == '3 rows · filter "Jensen"'
        await press(pilot, "escape")
        await press(pilot, "slash")
        await type_text(pilot, "hiring")  # who owns the hiring workflow or one of its stages
        assert ids(table) == ["eve", "ivan"]
        await press(pilot, "enter")  # back on the list: e edits the highlighted person as before
        await press(pilot, "down", "e")
        assert app.screen.query_one("#form-handle", Input).value == "ivan"  # the second of the two
        await press(pilot, "escape")
        await press(pilot, "escape")  # clears the filter
        assert len(ids(table)) == 10
        await press(pilot, "escape")  # nothing to clear: back where the team was opened from
        assert app.screen.__class__.__name__ == "HomeScreen"


async def test_the_team_sorts_by_what_each_owns_and_has_no_workflows_to_group_by(demo_db):
    app = make_app(demo_db, me="ivan", start="team")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#team-table", PagedTable)
        for _ in range(7):  # handle, name, active, cover, workflows, stages, items
            await press(pilot, "greater_than_sign")
        items = [row.data.owns.items for row in table.rows_data]
        assert items == sorted(items) and "Items ▲" in screen_text(app)
        await press(pilot, "less_than_sign")
        assert [row.data.owns.items for row in table.rows_data] == sorted(items, reverse=True)
        assert label(app, "#team-position") == "10 rows · sorted by Items, reversed"
        await press(pilot, "g")
        assert "this list has no workflows to group by" in [str(n.message) for n in app._notifications]


async def test_my_handoffs_each_list_filters_and_sorts_and_says_where_it_is(demo_db, monkeypatch):
    monkeypatch.setattr(PagedTable, "page_size", 2)  # ben's four stuck items: two pages
    app = make_app(demo_db, me="ben", start="mine")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        stuck = app.screen.query_one("#mine-stuck", PagedTable)
        assert ids(stuck) == ["38", "40"]
        assert "My stuck items (4)  —  rows 1–2 of 4" in label(app, "#mine-stuck-title")
        assert "4 stuck" in label(app, "#mine-summary")  # the summary counts them all
        stuck.focus()
        await press(pilot, "pagedown", "pagedown")  # across into the second page
        assert ids(stuck) == ["31", "33"] and "rows 3–4 of 4" in label(app, "#mine-stuck-title")

        await press(pilot, "slash")
        await type_text(pilot, "triage")  # the stage
        assert ids(stuck) == ["31", "33"]
        assert label(app, "#mine-stuck-title") == 'My stuck items (2)  —  2 rows · filter "triage"'
        await press(pilot, "escape")
        await press(pilot, "greater_than_sign")  # by title
        assert ids(stuck) == ["33", "40"] and "Item ▲" in screen_text(app)  # "Delivery…", "Late…"
        assert "sorted by Item" in label(app, "#mine-stuck-title")

        # a filter that matches nothing keeps the list (and its filter line) on screen
        incoming = app.screen.query_one("#mine-incoming", PagedTable)
        incoming.focus()
        await press(pilot, "slash")
        await type_text(pilot, "nonesuch")
        assert ids(incoming) == [] and incoming.display
        assert 'no rows match · filter "nonesuch"' in label(app, "#mine-incoming-title")
        await press(pilot, "escape")  # cleared: ben's handoff is back, and a accepts it
        assert ids(incoming) == ["10"]
        await press(pilot, "a")
        assert ids(incoming) == [] and not incoming.display
        assert "Waiting for me to accept (0)" in label(app, "#mine-incoming-title")


async def test_a_quick_filter_is_read_at_once_and_a_slow_one_by_a_worker_with_the_same_rows(demo_db, monkeypatch):
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        table = await stuck_items(pilot)
        table.set_filter("complaints")  # quick: its rows are there before the next frame
        assert not table.loading_page
        quick = sorted(ids(table), key=int)
        assert quick == ["31", "33", "34", "35", "38", "40"]

        table.clear_filter()
        await settle(pilot)
        # a read that runs over the UI thread's budget is stopped and given to a worker
        monkeypatch.setattr(PagedTable, "READ_AT_ONCE_MS", 0.001)
        table.set_filter("complaints")
        assert table.loading_page
        await settle(pilot)
        assert sorted(ids(table), key=int) == quick
        assert table.read_ms >= 0.001  # and the list's next reads go straight to its worker
        table.set_filter("complaints triage")
        assert table.loading_page
        await settle(pilot)
        assert sorted(ids(table), key=int) == ["31", "33"]
