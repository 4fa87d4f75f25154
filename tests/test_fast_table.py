"""The session's lists draw their cells directly (opsweek.tui.widgets.fast_table): the same
segments and the same column widths as Textual's DataTable, cell by cell."""

from __future__ import annotations

from rich.text import Text
from textual.app import App
from textual.strip import Strip
from textual.widgets import DataTable

from opsweek.tui.app import make_app
from opsweek.tui.widgets.fast_table import FastTable
from opsweek.tui.widgets.paged_table import PagedTable
from tui_support import press, settle


def drawn(lines) -> list[list[tuple[str, object]]]:
    """A cell's lines as (text, style) runs, adjacent runs of one style joined."""
    return [[(s.text, s.style) for s in Strip([s for s in line if s.text]).simplify()] for line in lines]


def both_ways(table: FastTable, row: int, column: int, width: int, cursor: bool, hover: bool):
    table._cell_render_cache.clear()
    fast = table._render_cell(row, column, table.rich_style, width, cursor, hover)
    table._cell_render_cache.clear()
    rich = DataTable._render_cell(table, row, column, table.rich_style, width, cursor, hover)
    table._cell_render_cache.clear()
    return drawn(fast), drawn(rich)


def assert_same_cells(table: FastTable) -> int:
    checked = 0
    for row in range(table.row_count):
        for column_index, column in enumerate(table.ordered_columns):
            for width in {column.get_render_width(table), 3, 7}:
                for cursor, hover in ((False, False), (True, False), (False, True)):
                    fast, rich = both_ways(table, row, column_index, width, cursor, hover)
                    assert fast == rich, (row, column_index, width, cursor, hover)
                    checked += 1
    return checked


class Cells(App):
    """One FastTable of awkward cells: wide characters, styles in spans, long and empty text."""

    CELLS = [
        Text("plain"),
        Text(""),
        Text("a title far longer than any column it is shown in, cut with an ellipsis", overflow="ellipsis"),
        Text("cropped without an ellipsis because its overflow is crop", overflow="crop"),
        Text("folded by default: no overflow said at all, longer than the column"),
        Text.assemble(("late ", "bold red"), ("by 3d", "yellow"), " · ", ("escalated", "reverse")),
        Text("日本語のタイトル、とても長い", overflow="ellipsis"),
        Text("emoji 🚀 in a title 🚀🚀", style="italic", overflow="ellipsis"),
        Text("right", justify="right"),
        Text("two\nlines"),
        Text("a file\x1cseparator: a line break to Rich"),
        Text("a theme colour Rich cannot resolve", style="bold $accent"),
        "a [b]markup[/b] string",
        42,
    ]

    def compose(self):
        table = FastTable(cursor_type="row", zebra_stripes=True)
        table.add_column("narrow", width=6)
        table.add_column("auto")
        table.add_column("wide", width=30)
        yield table

    def on_mount(self) -> None:
        table = self.query_one(FastTable)
        for n, cell in enumerate(self.CELLS):
            table.add_row(cell, cell, cell, key=str(n))


async def test_awkward_cells_draw_as_datatable_draws_them():
    async with Cells().run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = pilot.app.query_one(FastTable)
        assert assert_same_cells(table) >= len(Cells.CELLS) * 3 * 3


async def test_the_column_widths_are_datatables():
    async with Cells().run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = pilot.app.query_one(FastTable)
        fast = [column.get_render_width(table) for column in table.ordered_columns]
        for column in table.ordered_columns:
            column.content_width = 0
        DataTable._update_dimensions(table, list(table.rows))
        assert [column.get_render_width(table) for column in table.ordered_columns] == fast
        assert fast[1] == 2 * table.cell_padding + len("a title far longer than any column it is shown in, cut with an ellipsis")


async def test_the_session_lists_draw_as_datatable_draws_them(demo_db):
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        checked = 0
        for key, table_id in (("4", "#stuck-table"), ("5", "#handoffs-table"), ("6", "#gaps-table")):
            await press(pilot, key)
            table = app.screen.query_one(table_id, PagedTable)
            assert table.row_count
            checked += assert_same_cells(table)
        assert checked > 300


class Twins(App):
    """The same rows in a FastTable and in Textual's DataTable, side by side, as wide."""

    CSS = "Horizontal > * { width: 1fr; height: 1fr; }"

    def compose(self):
        from textual.containers import Horizontal

        with Horizontal():
            yield FastTable(id="fast", cursor_type="row", zebra_stripes=True)
            yield DataTable(id="rich", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        for table in self.query(DataTable):
            table.add_column("#", width=4)
            table.add_column("title")
            table.add_column("why", width=14)
            for n, cell in enumerate(Cells.CELLS[:9] * 3):
                table.add_row(Text(f"#{n}", style="bold"), cell, Text.assemble(("late", "bold red"), " 3d"),
                              key=str(n))


def lines(table: DataTable) -> list[list[tuple[str, object]]]:
    from textual.geometry import Region

    table._clear_caches()
    return [[(s.text, s.style) for s in strip.simplify()]
            for strip in table.render_lines(Region(0, 0, table.size.width, table.size.height))]


async def test_whole_rows_draw_as_datatable_draws_them_wherever_the_cursor_is():
    async with Twins().run_test(size=(150, 24)) as pilot:
        await settle(pilot)
        fast, rich = pilot.app.query_one("#fast", FastTable), pilot.app.query_one("#rich", DataTable)
        assert fast.size == rich.size
        for row in (0, 3, 8, 20):
            fast.move_cursor(row=row)
            rich.move_cursor(row=row)
            drawn = {}
            for focused in (fast, rich):  # each table focused, then not (the cursor's colours change)
                focused.focus()
                await settle(pilot)
                drawn[focused.id, "focused"] = lines(focused)
                drawn[(rich if focused is fast else fast).id, "not focused"] = lines(rich if focused is fast else fast)
            assert drawn["fast", "focused"] == drawn["rich", "focused"], row
            assert drawn["fast", "not focused"] == drawn["rich", "not focused"], row
            assert drawn["fast", "focused"] != drawn["fast", "not focused"]


class Added(App):
    """Two FastTables: one given its rows one add_row at a time, one given them at once."""

    def compose(self):
        yield FastTable(id="one-by-one", cursor_type="row")
        yield FastTable(id="at-once", cursor_type="row")

    def on_mount(self) -> None:
        self.highlighted: list[tuple[str, int]] = []
        for table in self.query(FastTable):
            table.add_column("#", width=4, key="n")
            table.add_column("title", key="title")

    def on_data_table_row_highlighted(self, message: DataTable.RowHighlighted) -> None:
        self.highlighted.append((message.data_table.id, message.cursor_row))


def table_state(table: FastTable):
    return ([str(key.value) for key in table._row_locations], {k.value: {c.value: cell for c, cell in v.items()} for k, v in table._data.items()},
            [(r.key.value, r.height, r.label, r.auto_height) for r in table.rows.values()],
            table.cursor_coordinate, [c.get_render_width(table) for c in table.ordered_columns])


async def test_a_page_of_rows_added_at_once_leaves_the_table_as_add_row_does():
    import pytest
    from textual.widgets.data_table import DuplicateKey

    pages = [[(f"{page}-{n}", (Text(f"#{n}"), Text("a title " * (n % 4)))) for n in range(40)] for page in range(3)]
    async with Added().run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        one, once = pilot.app.query_one("#one-by-one", FastTable), pilot.app.query_one("#at-once", FastTable)
        for page in pages:  # a new page replaces the last, as the session's lists do
            for table in (one, once):
                table.clear()
            for key, cells in page:
                one.add_row(*cells, key=key)
            once.add_rows_at_once(page)
            await settle(pilot)
            assert table_state(once) == table_state(one)
            assert once.virtual_size == one.virtual_size
        highlighted = pilot.app.highlighted
        assert [row for table, row in highlighted if table == "at-once"] == \
               [row for table, row in highlighted if table == "one-by-one"] != []
        # the same refusals, and a refused page adds nothing
        before = table_state(once)
        with pytest.raises(DuplicateKey):
            once.add_rows_at_once([("new", (Text("1"),)), (pages[-1][0][0], (Text("2"),))])
        with pytest.raises(ValueError):
            once.add_rows_at_once([("three", (Text("1"), Text("2"), Text("3")))])
        assert table_state(once) == before
