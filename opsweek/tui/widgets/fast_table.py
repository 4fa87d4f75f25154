"""A DataTable that draws its one-line text cells without Rich's general layout.

Textual's DataTable renders every cell through Rich's full pipeline (a ``Padding`` inside
a ``Styled``, wrapped, cropped and padded by ``console.render_lines``) and measures every
new cell with ``__rich_measure__``. For the session's lists that is most of the time of a
new page or a new step: a screen of 7-column rows is about 250 cells, each costing more
than the query that read its row. Nearly all our cells are one line of ``rich.text.Text``
in a row of height 1, and for those both jobs are simple: the cell's width is its
``cell_len``, and its line is the text (cut to the column, with its overflow), padded, with
the table's styles before and after it — exactly the segments Rich would produce.

:class:`FastTable` does that for such cells and hands every other cell (a header, a
label, a string with markup, a multi-line or tabbed text, a justified one, a taller row)
to DataTable as before. ``tests/test_fast_table.py`` checks, cell by cell on the demo's
lists, that both ways give the same segments and the same column widths, so a Textual
upgrade that changes DataTable's drawing is caught there, not on a user's screen.
"""

from __future__ import annotations

from itertools import zip_longest
from typing import Iterable, Sequence

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.render import measure
from textual.widgets import DataTable
from textual.widgets.data_table import DuplicateKey, Row, RowKey

_NULL = Style.null()


def one_line(cell: object) -> Text | None:
    """``cell`` when it is a Text that draws as one plain line (else None: Rich draws it)."""
    if type(cell) is not Text or cell.justify not in (None, "default"):
        return None
    plain = cell.plain
    if "\t" in plain or (plain and plain.splitlines() != [plain]):  # any line break Rich splits on
        return None
    return cell


class FastTable(DataTable):
    """A DataTable whose one-line text cells are measured and drawn directly."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._component_rich: dict[tuple[str, object], Style] = {}
        self._meta_styles: dict[tuple[int, int], Style] = {}

    def add_rows_at_once(self, rows: Sequence[tuple[str, Sequence[object]]]) -> None:
        """Rows of height 1 at the bottom, each ``(key, cells)``: what ``add_row`` does for
        each, with the cursor checked and the table marked changed once for them all (a new
        page is a hundred rows; add_row's per-row bookkeeping was a fifth of crossing into it).
        ``tests/test_fast_table.py`` checks that the table ends as add_row leaves it."""
        columns = self.ordered_columns
        first = self.row_count
        locations, data, table_rows, new_rows = self._row_locations, self._data, self.rows, self._new_rows
        keys = [RowKey(key) for key, _ in rows]
        if len(set(keys)) != len(keys) or any(key in locations for key in keys):
            raise DuplicateKey("a row key is given twice or already exists")
        if any(len(cells) > len(columns) for _, cells in rows):
            raise ValueError("More values provided than there are columns.")
        for index, (row_key, (_, cells)) in enumerate(zip(keys, rows), start=first):
            locations[row_key] = index
            data[row_key] = {column.key: cell for column, cell in zip_longest(columns, cells)}
            table_rows[row_key] = Row(row_key, 1, None, False)
            new_rows.add(row_key)
        if not rows:
            return
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate
        if first == 0 and len(self.columns) > 0 and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()  # a cursor can show where none could: as add_row says so
        self._update_count += 1
        self.check_idle()

    # -- the styles of the table's parts, worked out once per state, not once per row ------

    _drawing_style: Style | None = None

    @property
    def rich_style(self) -> Style:
        """The widget's style; while a screen of lines is drawn, worked out once for all of
        them (DataTable asks for it again for every line)."""
        if self._drawing_style is not None:
            return self._drawing_style
        return super().rich_style

    def render_lines(self, crop):
        self._drawing_style = None
        self._drawing_style = self.rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._drawing_style = None

    def component_rich(self, name: str) -> Style:
        """``get_component_styles(name).rich_style``, kept until the styles change (working
        it out walks the widget's ancestors: a third of drawing a row)."""
        key = (name, self._pseudo_class_state)
        style = self._component_rich.get(key)
        if style is None:
            style = self._component_rich[key] = self.get_component_styles(name).rich_style
        return style

    _columns_seen: tuple | None = None
    _columns_ordered: list = []

    @property
    def ordered_columns(self) -> list:
        """DataTable's, worked out again only when columns are added or removed (it is asked
        for several times for every line drawn). Holding the locations object itself means a
        new one (after a clear or a removal) is never taken for the old."""
        locations = self._column_locations
        seen = self._columns_seen
        if seen is None or seen[0] is not locations or seen[1] != len(locations) or seen[2] != len(self.columns):
            self._columns_ordered = DataTable.ordered_columns.fget(self)
            self._columns_seen = (locations, len(locations), len(self.columns))
        return self._columns_ordered

    def notify_style_update(self) -> None:
        self._component_rich = {}
        super().notify_style_update()

    def _clear_caches(self) -> None:
        self._component_rich = {}
        super()._clear_caches()

    def _get_row_style(self, row_index: int, base_style: Style) -> Style:
        if row_index < 0 or row_index < self.fixed_rows or not self.zebra_stripes:
            return super()._get_row_style(row_index, base_style)
        return self.component_rich("datatable--odd-row" if row_index % 2 else "datatable--even-row")

    def _meta(self, row_index: int, column_index: int) -> Style:
        """The mouse's metadata of a cell (which row and column a click is on)."""
        key = (row_index, column_index)
        style = self._meta_styles.get(key)
        if style is None:
            if len(self._meta_styles) > 20000:
                self._meta_styles.clear()
            style = self._meta_styles[key] = Style.from_meta({"row": row_index, "column": column_index})
        return style

    def _render_line_in_row(self, row_key, line_no: int, base_style: Style, cursor_location, hover_location):
        """A body row of a row-cursor table without fixed columns or labels, drawn as
        DataTable draws it, with what is the same for all its cells worked out once."""
        if (row_key is self._header_row_key or self.fixed_columns or self.cursor_type != "row"
                or (self._labelled_row_exists and self.show_row_labels) or row_key not in self._row_locations):
            return super()._render_line_in_row(row_key, line_no, base_style, cursor_location, hover_location)
        show_cursor, show_hover = self.show_cursor, self._show_hover_cursor
        cache_key = (row_key, line_no, base_style, cursor_location, hover_location, "row", show_cursor,
                     show_hover, self._update_count, self._pseudo_class_state)
        cached = self._row_render_cache.get(cache_key)
        if cached is not None:
            return cached
        row_index = self._row_locations.get(row_key)
        row_style = self._get_row_style(row_index, base_style)
        cursor = row_index == cursor_location.row
        hover = row_index == hover_location.row
        row = self.rows.get(row_key)
        one_line_row = row is not None and row.height == 1 and not row.auto_height
        cells = self._get_row_renderables(row_index).cells if one_line_row else ()
        # the cursor and hover are the row's, so every cell of it has the same styles
        component_style, post_style = self._cell_styles(cursor, hover)
        pre_style = row_style + component_style
        padding = self.cell_padding
        console = self.app.console
        scrollable_row = []
        table_width = self._row_label_column_width
        for column_index, column in enumerate(self.ordered_columns):
            width = column.get_render_width(self)
            table_width += width
            text = one_line(cells[column_index]) if column_index < len(cells) else None
            if text is None or width - 2 * padding < 1:
                scrollable_row.append(self._render_cell(row_index, column_index, row_style, width, cursor=cursor,
                                                        hover=hover)[line_no])
            else:
                scrollable_row.append(self._draw_text(text, row_index, column_index, pre_style, post_style,
                                                      width, padding, console))
        remaining_space = max(0, self.size.width - table_width)
        extend_style, _ = self._get_styles_to_render_cell(False, False, False, hover, cursor, show_cursor,
                                                          show_hover, False, False)
        extend_style = row_style + extend_style + Style.from_meta(
            {"row": row_index, "column": 0, "out_of_bounds": True})
        scrollable_row.append([Segment(" " * remaining_space, extend_style)])
        row_pair = ([], scrollable_row)
        self._row_render_cache[cache_key] = row_pair
        return row_pair

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False):
        if row_index < 0 or column_index < 0 or row_index < self.fixed_rows or column_index < self.fixed_columns:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        cache_key = (row_key, column_key, base_style, cursor, hover, self._show_hover_cursor, self._update_count,
                     self._pseudo_class_state)
        cache = self._cell_render_cache
        lines = cache.get(cache_key)
        if lines is not None:
            return lines
        row = self.rows.get(row_key)
        cells = self._get_row_renderables(row_index).cells
        text = one_line(cells[column_index]) if column_index < len(cells) else None
        padding = self.cell_padding
        if text is None or row is None or row.height != 1 or row.auto_height or width - 2 * padding < 1:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        component_style, post_style = self._cell_styles(cursor, hover)
        lines = [self._draw_text(text, row_index, column_index, base_style + component_style, post_style,
                                 width, padding, self.app.console)]
        cache[cache_key] = lines
        return lines

    def _cell_styles(self, cursor: bool, hover: bool) -> tuple[Style, Style]:
        """The component and post styles of a body cell under (or not under) the cursor and
        the mouse, as DataTable works them out with the table's settings."""
        return self._get_styles_to_render_cell(
            False, False, False, hover, cursor, self.show_cursor, self._show_hover_cursor,
            self.cursor_foreground_priority == "css", self.cursor_background_priority == "css")

    def _draw_text(self, text: Text, row_index: int, column_index: int, pre_style: Style, post_style: Style,
                   width: int, padding: int, console) -> list[Segment]:
        """One line of text in its cell, as Rich draws it: padded, cut to the column with its
        overflow, styles laid pre (the row's and the cell state's), the text's own, post.

        The cell's metadata (the mouse's row and column) sets no colour, so adding it last
        gives the same styles; the rest repeats from row to row (Rich's cache of added
        styles answers it)."""
        inner = width - 2 * padding
        meta = self._meta(row_index, column_index)
        plain_style = pre_style + post_style + meta
        length = text.cell_len
        if length > inner:  # cut to the column, as Rich's no-wrap line does
            text = text.copy()
            text.truncate(inner, overflow=text.overflow or "fold")
            length = text.cell_len
        line: list[Segment] = []
        if padding:
            line.append(Segment(" " * padding, plain_style))
        own = console.get_style(text.style, default=_NULL) if text.style else None
        if text.spans:
            drawn = text.render(console, end="")
            if own is not None:  # Rich lays the text's own style under its spans
                drawn = Segment.apply_style(drawn, style=own)
            for part, style, _ in drawn:
                if part:
                    line.append(Segment(part, pre_style + style + post_style + meta if style else plain_style))
        elif text.plain:
            line.append(Segment(text.plain, pre_style + own + post_style + meta if own else plain_style))
        if inner > length:
            line.append(Segment(" " * (inner - length), plain_style))
        if padding:
            line.append(Segment(" " * padding, plain_style))
        return line

    def _update_dimensions(self, new_rows: Iterable) -> None:
        """DataTable's, then: when a column's width changed, the rows drawn before are drawn
        again. DataTable keeps each drawn row until its update count moves (a resize, a
        restyle), so a frame that came between adding rows and this (the next idle) left
        them at the columns' old widths, cut with an ellipsis ("Client …"), while the
        table's size stayed the same."""
        before = [column.get_render_width(self) for column in self.ordered_columns]
        self._measure_rows(list(new_rows))
        if [column.get_render_width(self) for column in self.ordered_columns] != before:
            self._update_count += 1
            self.refresh()

    def _measure_rows(self, new_rows: list) -> None:
        """As DataTable's, with a one-line text's width its ``cell_len`` (no Rich measure)."""
        rows = self.rows
        if any(row_key in rows and (rows[row_key].auto_height or rows[row_key].label is not None)
               for row_key in new_rows):
            super()._update_dimensions(new_rows)
            return
        console = self.app.console
        # a column given a width draws at that width whatever its cells hold: only the
        # auto-width ones are measured (DataTable measures all; get_render_width ignores it)
        auto = [(index, column) for index, column in enumerate(self.ordered_columns) if column.auto_width]
        for row_key in new_rows if auto else ():
            row_index = self._row_locations.get(row_key)
            if row_index is None:  # removed before the table was idle
                continue
            cells = self._get_row_renderables(row_index).cells
            for index, column in auto:
                if index >= len(cells):
                    break
                cell = cells[index]
                text = one_line(cell)
                width = text.cell_len if text is not None else measure(console, cell, 1)
                if width > column.content_width:
                    column.content_width = width
        data_width = sum(column.get_render_width(self) for column in self.columns.values())
        header_height = self.header_height if self.show_header else 0
        self.virtual_size = Size(data_width + self._row_label_column_width, self._total_row_height + header_height)
