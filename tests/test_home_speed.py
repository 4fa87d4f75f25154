"""Home's first frame does less work (issue 16) and draws the same: the health table's
numbers, the size classes a screen starts with, and ``opsweek --help``'s width."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace

from rich.text import Text
from textual.coordinate import Coordinate
from textual.strip import Strip
from textual.widgets import DataTable

from opsweek.cli.main import _columns
from opsweek.tui import attention as needs
from opsweek.tui.app import make_app
from opsweek.tui.widgets.health_table import NUMBERS, HealthTable
from tui_support import settle


def drawn(lines) -> list[list[tuple[str, object]]]:
    return [[(s.text, s.style) for s in Strip([s for s in line if s.text]).simplify()] for line in lines]


async def home(pilot):
    for _ in range(100):
        await settle(pilot)
        if getattr(pilot.app.screen, "ready", False):
            return pilot.app.screen
    raise AssertionError("the home screen never filled in")


async def test_the_health_numbers_draw_as_datatable_right_aligns_them(demo_db):
    """Each number, padded when its row is added, draws the segments DataTable draws for the
    same number right-justified in that column: cursor row, hovered row, zebra rows."""
    app = make_app(demo_db, me="ivan")
    async with app.run_test(size=(120, 40)) as pilot:
        table = (await home(pilot)).query_one(HealthTable)
        assert table.row_count >= 3
        checked = 0
        for row in range(table.row_count):
            row_key = table._row_locations.get_key(row)
            for column in NUMBERS:
                column_key = table.ordered_columns[column].key
                padded = table.get_cell(row_key, column_key)
                width = table.ordered_columns[column].get_render_width(table)
                for cursor, hover in ((False, False), (True, False), (False, True)):
                    table._cell_render_cache.clear()
                    fast = drawn(table._render_cell(row, column, table.rich_style, width, cursor, hover))
                    # what the table held before: the bare number, right-justified by Rich
                    table._data[row_key][column_key] = Text(padded.plain.strip(), style=padded.style,
                                                            justify="right")
                    table._clear_caches()
                    rich = drawn(DataTable._render_cell(table, row, column, table.rich_style, width, cursor,
                                                        hover))
                    table._data[row_key][column_key] = padded
                    table._clear_caches()
                    assert fast == rich, (row, column, cursor, hover)
                    checked += 1
        assert checked >= 27


async def test_a_reload_with_a_wider_number_widens_its_column_as_datatable_would(demo_db):
    """Back on home a workflow has 1,234,567 open items: the open column widens to it and
    every number in it is padded to that width; the other columns keep theirs."""
    app = make_app(demo_db, me="ivan")
    async with app.run_test(size=(120, 40)) as pilot:
        table = (await home(pilot)).query_one(HealthTable)
        before = [table.ordered_columns[c].content_width for c in NUMBERS]
        with app.reader() as store:
            attention = needs.read_attention(store, app.team, app.now(), app.today())
        attention.health[0] = replace(attention.health[0], open=1234567)
        table.show_health(attention.health, attention.reviews)
        await settle(pilot)
        widths = [table.ordered_columns[c].content_width for c in NUMBERS]
        assert widths == [len("1,234,567"), *before[1:]]
        assert {len(table.get_cell_at(Coordinate(row, NUMBERS[0])).plain) for row in range(table.row_count)} == {widths[0]}
        assert table.get_cell_at(Coordinate(0, NUMBERS[0])).plain == "1,234,567"


async def test_a_screen_starts_with_the_size_classes_of_its_first_resize(demo_db):
    for size, wanted in (((120, 40), "-tall"), ((80, 24), "-short")):
        app = make_app(demo_db, me="ivan")
        async with app.run_test(size=size) as pilot:
            screen = await home(pilot)
            assert screen.has_class(wanted)
            assert set(app.breakpoint_classes(screen)) == {wanted}
            other = "-short" if wanted == "-tall" else "-tall"
            assert not screen.has_class(other)
            await pilot.resize_terminal(size[0], 50 if wanted == "-short" else 24)
            await settle(pilot)
            assert screen.has_class(other) and not screen.has_class(wanted)


def test_help_is_as_wide_as_argparse_makes_it(monkeypatch):
    for columns in ("60", "132"):
        monkeypatch.setenv("COLUMNS", columns)
        assert _columns() == shutil.get_terminal_size().columns == int(columns)
    monkeypatch.delenv("COLUMNS", raising=False)
    assert _columns() == shutil.get_terminal_size().columns
    monkeypatch.setenv("COLUMNS", "not a number")
    assert _columns() == shutil.get_terminal_size().columns
    assert os.environ["COLUMNS"] == "not a number"


async def test_names_drawn_before_the_columns_were_measured_are_drawn_again_in_full(demo_db):
    """A frame that comes between filling the table and its next idle draws the rows at the
    columns' old widths ("Client …"); once the widths are worked out the rows show in full,
    even when the table's height (min-height 5 on home) does not change."""
    app = make_app(demo_db, me="ivan")
    async with app.run_test(size=(120, 40)) as pilot:
        await home(pilot)
        fresh = HealthTable(id="fresh")
        fresh.styles.height = "auto"
        fresh.styles.min_height = 6
        await app.screen.mount(fresh)
        await settle(pilot)
        with app.reader() as store:
            attention = needs.read_attention(store, app.team, app.now(), app.today())
        fresh.show_health(attention.health, attention.reviews)
        first = attention.health[0].workflow.name
        assert first not in "".join(s.text for s in fresh.render_line(1))  # drawn too narrow
        await settle(pilot)
        assert first in "".join(s.text for s in fresh.render_line(1))
