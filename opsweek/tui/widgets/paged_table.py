"""A DataTable that holds one page of a long list and reads the next page from SQL.

DataTable takes about a second to first paint 10,000 rows, so a list of 100,000 stuck
items is never loaded whole: the table holds ``page_size`` rows, moving past its last
(or first) row loads the next (or previous) page, and pages are read in a thread worker,
through a connection of its own (``app.reader()``), that only posts a message back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from rich.text import Text
from textual import work
from textual.message import Message
from textual.widgets import DataTable
from textual.worker import get_current_worker


@dataclass
class Row:
    """One row: its key (unique in the list), its cells and the object behind it."""

    key: str
    cells: Sequence[Text]
    data: Any = None


@dataclass
class Source:
    """Where a list comes from: ``page(offset, limit)`` rows and ``count()`` in all.

    Both are called in a worker thread, so they may take a moment at 100,000 items; there
    ``app.store`` is the worker's own read-only connection.
    """

    page: Callable[[int, int], list[Row]]
    count: Callable[[], int]


class PagedTable(DataTable):
    """A paged, read-in-the-background list. Set ``source`` then call :meth:`reload`."""

    page_size = 100

    @dataclass
    class PageLoaded(Message):
        """A page arrived (the table has been filled with it)."""

        table: "PagedTable"
        offset: int
        total: int

        @property
        def control(self) -> "PagedTable":
            return self.table

    def __init__(self, *, id: str | None = None, classes: str | None = None, page_size: int | None = None):
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self.source: Source | None = None
        self.page_offset = 0
        self.total = 0
        self.rows_data: list[Row] = []
        self.loading_page = False
        self.keep_key: str | None = None
        self.cache: dict[int, list[Row]] = {}  # offset -> rows of this generation
        self.generation = 0
        if page_size:
            self.page_size = page_size

    # -- what is under the cursor -------------------------------------------------------

    @property
    def current(self) -> Row | None:
        if not self.rows_data or self.cursor_row < 0 or self.cursor_row >= len(self.rows_data):
            return None
        return self.rows_data[self.cursor_row]

    @property
    def page_position(self) -> str:
        """``21–40 of 15,998`` (or ``none``)."""
        if not self.total:
            return "none"
        first = self.page_offset + 1
        last = self.page_offset + len(self.rows_data)
        if first == 1 and last == self.total:
            return f"{self.total:,}"
        return f"{first:,}–{last:,} of {self.total:,}"

    # -- loading ------------------------------------------------------------------------

    def reload(self, *, keep_cursor: bool = True, count: bool = True) -> None:
        """Read the current page again (after a change), keeping the cursor where it was."""
        cursor = self.cursor_row if keep_cursor else 0
        offset = self.page_offset if keep_cursor else 0
        current = self.current
        self.keep_key = current.key if keep_cursor and current else None
        self.generation += 1  # pages read before the change are stale
        self.cache.clear()
        self.load(offset, max(cursor, 0), count=count)

    def load(self, offset: int, cursor: int = 0, *, count: bool = True) -> None:
        if self.source is None:
            return
        offset = max(0, offset)
        if not count and offset in self.cache:  # read ahead while the previous page was shown
            self._fill(self.cache[offset], offset, cursor, self.total)
            return
        self.loading_page = True
        self._fetch(self.source, offset, cursor, count or not self.total, self.total, self.page_size,
                    self.generation)

    @dataclass
    class Fetched(Message):
        """A page read by the worker (private: the table fills itself with it)."""

        rows: list[Row]
        offset: int
        cursor: int | None  # None: read ahead, only to be cached
        total: int
        generation: int

    @dataclass
    class FetchFailed(Message):
        """The worker could not read the page (private: the table says so, keeps its page)."""

        reason: str

    @work(thread=True, exclusive=True, group="page", exit_on_error=False)
    def _fetch(self, source: Source, offset: int, cursor: int, count: bool, total: int, page_size: int,
               generation: int) -> None:
        try:
            with self.app.reader():
                if count:
                    total = source.count()
                if offset >= total and total:
                    offset = max(0, (total - 1) // page_size * page_size)
                rows = source.page(offset, page_size)
        except Exception as error:  # a locked or broken database: say so, keep the old page
            self.post_message(self.FetchFailed(str(error)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Fetched(rows, offset, cursor, total, generation))

    @work(thread=True, exclusive=True, group="read-ahead", exit_on_error=False)
    def _read_ahead(self, source: Source, offsets: list[int], total: int, page_size: int,
                    generation: int) -> None:
        with self.app.reader():
            for offset in offsets:
                try:
                    rows = source.page(offset, page_size)
                except Exception:
                    return  # only a read-ahead: the page is read again when it is needed
                if get_current_worker().is_cancelled:
                    return
                self.post_message(self.Fetched(rows, offset, None, total, generation))

    def on_paged_table_fetch_failed(self, message: FetchFailed) -> None:
        message.stop()
        self.loading_page = False
        self.app.notify(f"could not read the list: {message.reason}", severity="error", markup=False)

    def on_paged_table_fetched(self, message: Fetched) -> None:
        message.stop()
        if message.generation != self.generation:
            if message.cursor is not None:
                self.loading_page = False
            return
        if message.cursor is None:
            self.cache[message.offset] = message.rows
            return
        self._fill(message.rows, message.offset, message.cursor, message.total)

    def _fill(self, rows: list[Row], offset: int, cursor: int, total: int) -> None:
        self.loading_page = False
        self.page_offset, self.total, self.rows_data = offset, total, rows
        self.cache[offset] = rows
        self.clear()
        seen: set[str] = set()
        for row in rows:
            key = row.key if row.key not in seen else f"{row.key}#{len(seen)}"
            seen.add(key)
            self.add_row(*row.cells, key=key)
        keys = [row.key for row in rows]
        if self.keep_key in keys:  # the same row, when a change moved it within the page
            cursor = keys.index(self.keep_key)
        self.keep_key = None
        if rows:
            self.move_cursor(row=min(cursor, len(rows) - 1), animate=False, scroll=True)
        self.post_message(self.PageLoaded(self, offset, total))
        # read the pages on either side now, so that crossing into them is immediate
        ahead = [o for o in (offset + self.page_size, offset - self.page_size)
                 if 0 <= o < total and o not in self.cache]
        if ahead and self.source is not None:
            self._read_ahead(self.source, ahead, self.total, self.page_size, self.generation)
        for stale in [o for o in self.cache if abs(o - offset) > 2 * self.page_size]:
            del self.cache[stale]

    # -- moving past the ends of the page -----------------------------------------------

    def _has_next(self) -> bool:
        return self.page_offset + len(self.rows_data) < self.total

    def action_cursor_down(self) -> None:
        if self.rows_data and self.cursor_row >= len(self.rows_data) - 1 and self._has_next():
            if not self.loading_page:
                self.load(self.page_offset + self.page_size, 0, count=False)
            return
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.cursor_row <= 0 and self.page_offset > 0:
            if not self.loading_page:
                self.load(self.page_offset - self.page_size, self.page_size - 1, count=False)
            return
        super().action_cursor_up()

    def action_page_down(self) -> None:
        if self.rows_data and self.cursor_row >= len(self.rows_data) - 1 and self._has_next():
            self.action_cursor_down()
            return
        super().action_page_down()

    def action_page_up(self) -> None:
        if self.cursor_row <= 0 and self.page_offset > 0:
            self.action_cursor_up()
            return
        super().action_page_up()
