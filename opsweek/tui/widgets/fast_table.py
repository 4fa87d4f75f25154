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

from typing import Iterable

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.render import measure
from textual.widgets import DataTable

_NULL = Style.null()


def one_line(cell: object) -> Text | None:
    """``cell`` when it is a Text that draws as one plain line (else None: Rich draws it)."""
    if type(cell) is not Text or cell.justify not in (None, "default"):
        return None
    plain = cell.plain
    if "\n" in plain or "\t" in plain:
        return None
    return cell


class FastTable(DataTable):
    """A DataTable whose one-line text cells are measured and drawn directly."""

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
        inner = width - 2 * padding
        if text is None or row is None or row.height != 1 or row.auto_height or inner < 1:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        component_style, post_style = self._get_styles_to_render_cell(
            False, False, False, hover, cursor, self.show_cursor, self._show_hover_cursor,
            self.cursor_foreground_priority == "css", self.cursor_background_priority == "css")
        pre_style = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component_style
        if text.cell_len > inner:  # cut to the column, as Rich's no-wrap line does
            text = text.copy()
            text.truncate(inner, overflow=text.overflow or "fold")
        segments: list[Segment] = []
        if padding:
            segments.append(Segment(" " * padding, _NULL))
        console = self.app.console
        drawn = text.render(console, end="")
        if text.style:  # Rich lays the text's own style under its spans
            drawn = Segment.apply_style(drawn, style=console.get_style(text.style))
        segments.extend(segment for segment in drawn if segment.text)
        fill = inner - text.cell_len
        if fill > 0:
            segments.append(Segment(" " * fill, _NULL))
        if padding:
            segments.append(Segment(" " * padding, _NULL))
        line = list(Segment.apply_style(segments, style=pre_style, post_style=post_style))
        lines = [line]
        cache[cache_key] = lines
        return lines

    def _update_dimensions(self, new_rows: Iterable) -> None:
        """As DataTable's, with a one-line text's width its ``cell_len`` (no Rich measure)."""
        new_rows = list(new_rows)
        rows = self.rows
        if any(row_key in rows and (rows[row_key].auto_height or rows[row_key].label is not None)
               for row_key in new_rows):
            super()._update_dimensions(new_rows)
            return
        console = self.app.console
        columns = self.ordered_columns
        for row_key in new_rows:
            row_index = self._row_locations.get(row_key)
            if row_index is None:  # removed before the table was idle
                continue
            for column, cell in zip(columns, self._get_row_renderables(row_index).cells):
                text = one_line(cell)
                width = text.cell_len if text is not None else measure(console, cell, 1)
                if width > column.content_width:
                    column.content_width = width
        data_width = sum(column.get_render_width(self) for column in self.columns.values())
        header_height = self.header_height if self.show_header else 0
        self.virtual_size = Size(data_width + self._row_label_column_width, self._total_row_height + header_height)
