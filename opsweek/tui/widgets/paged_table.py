"""A DataTable that holds one page of a long list and reads the next page from SQL.

DataTable takes about a second to first paint 10,000 rows, so a list of 100,000 stuck
items is never loaded whole: the table holds ``page_size`` rows, moving past its last
(or first) row loads the next (or previous) page, and pages are read in a thread worker,
through a connection of its own (``app.reader()``), that only posts a message back.

A list whose source takes a view (``Source.filtered``) is also narrowed, sorted and
grouped in SQL (issue 14): ``/`` filters as you type (escape clears), ``>`` sorts by the
next sortable column (or click its header), ``<`` reverses the order, ``g`` groups by
workflow; the header says the sort, and :attr:`PagedTable.page_position` where the page is
(``rows 101–200 of 3,243``). Columns with ``grow`` share the room a wide terminal leaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import thread_time
from typing import Any, Callable, Sequence

from rich.text import Text
from textual import events, on, work
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Input

from opsweek.store import TooSlow
from opsweek.tui.widgets.fast_table import FastTable
from textual.worker import get_current_worker

from opsweek.store.records import ListView


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
    ``app.store`` is the worker's own read-only connection. ``page`` is tried first on the
    UI thread, within a budget that stops its reads (PagedTable.READ_AT_ONCE_MS), so it
    reads through ``app.store`` and nothing else. With ``filtered`` they take the
    table's :class:`ListView` too (``page(offset, limit, view)``, ``count(view)``) and read
    only its rows, in its order; ``group`` names a row's workflow when grouping by it.
    """

    page: Callable[..., list[Row]]
    count: Callable[..., int]
    filtered: bool = False
    group: Callable[[Any], str] | None = None


@dataclass
class Column:
    """A column of a paged list: ``width`` fixed (None: as wide as its cells), or ``grow``:
    this share of the table's width (long text: titles, reasons), never under ``min_width``;
    ``sort``: the list can be sorted by it (its key names the sort in ``read``)."""

    key: str
    label: str
    width: int | None = None
    grow: float = 0.0
    min_width: int = 8
    max_width: int = 90
    sort: bool = False


class ListFilter(Input):
    """The filter line of a paged list: filters as you type; enter or down goes back to the
    list keeping the filter, escape clears it."""

    DEFAULT_CSS = """
    ListFilter {
        height: 1;
        border: none;
        padding: 0 1;
        background: $boost;
    }
    ListFilter:focus {
        border: none;
        background: $accent 20%;
    }
    """

    BINDINGS = [
        Binding("escape", "clear_filter", "Clear filter"),
        Binding("enter", "back_to_list", "To the list", show=False),
        Binding("down", "back_to_list", "To the list", show=False),
    ]

    def __init__(self, table: "PagedTable", value: str = ""):
        super().__init__(value=value, placeholder=f"filter: {table.filter_hint} · escape clears",
                         classes="list-filter", max_length=200)
        self.table = table

    def on_input_changed(self, message: Input.Changed) -> None:
        message.stop()
        self.table.set_filter(message.value)

    def action_clear_filter(self) -> None:
        self.table.clear_filter()

    def action_back_to_list(self) -> None:
        self.table.focus()


class PagedTable(FastTable):
    """A paged, read-in-the-background list. Set ``source`` then call :meth:`reload`."""

    DEFAULT_CSS = """
    PagedTable {
        width: 1fr;
    }
    """

    page_size = 100
    filter_hint = "title, owner, workflow or stage"  # what the filter looks in (its placeholder)

    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("greater_than_sign", "sort", "Sort", key_display=">", show=False),
        Binding("less_than_sign", "reverse", "Reverse", key_display="<", show=False),
        Binding("g", "group", "Group by workflow", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

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
        self.counting = False  # the first page is shown, its rows are being counted
        self.count_asked = -1  # the generation whose rows are being counted
        self.view = ListView()
        self.column_specs: list[Column] = []
        self.laid_out_width = 0

    # -- what is under the cursor -------------------------------------------------------

    @property
    def current(self) -> Row | None:
        if not self.rows_data or self.cursor_row < 0 or self.cursor_row >= len(self.rows_data):
            return None
        return self.rows_data[self.cursor_row]

    @property
    def page_position(self) -> str:
        """``rows 101–200 of 3,243`` (``22 rows`` when they fit one page, or ``none``), then
        the filter, the sort and the grouping when there are any."""
        if not self.total:
            where = "no rows match" if self.view.text.strip() else "none"
        elif self.page_offset == 0 and len(self.rows_data) == self.total:
            where = f"{self.total:,} row{'' if self.total == 1 else 's'}"
        else:
            first = self.page_offset + 1
            of = "…" if self.counting else f"{self.total:,}"
            where = f"rows {first:,}–{self.page_offset + len(self.rows_data):,} of {of}"
        return " · ".join([where, *self.view_words()])

    def view_words(self) -> list[str]:
        """How the list is narrowed and ordered, in words (for the position line)."""
        words = []
        if self.view.text.strip():
            words.append(f'filter "{" ".join(self.view.text.split())[:40]}"')
        if self.view.sort:
            label = next((c.label for c in self.column_specs if c.key == self.view.sort), self.view.sort)
            words.append(f"sorted by {label}" + (", reversed" if self.view.descending else ""))
        elif self.view.descending:
            words.append("order reversed")
        if self.view.group:
            words.append("by workflow")
        return words

    # -- columns that use the room ------------------------------------------------------

    def set_columns(self, specs: list[Column]) -> None:
        """The list's columns (laid out again when the table's width or the view changes)."""
        self.column_specs = list(specs)
        self._lay_out(force=True)

    def _grouping(self) -> bool:
        return bool(self.view.group and self.source is not None and self.source.group is not None)

    def _room(self) -> int:
        """The width the list has: its container's (never its own, which its columns widen)."""
        if self.is_attached and self.parent is not None and self.parent.content_size.width:
            return self.parent.content_size.width
        return self.app.size.width if self.is_attached else 120

    def _lay_out(self, *, force: bool = False) -> None:
        width = self._room()
        if not force and width == self.laid_out_width:
            return
        self.laid_out_width = width
        self.clear(columns=True)
        if self._grouping():
            self.add_column(Text("workflow", style="bold"), key="group")
        for spec in self.column_specs:
            label = Text(spec.label)
            if spec.sort and self.view.sort == spec.key:
                label.append(" ▼" if self.view.descending else " ▲", style="bold")
            column_width = spec.width
            if spec.grow:  # a share of the table's width: long text gets the room a wide terminal has
                column_width = max(spec.min_width, min(spec.max_width, int(width * spec.grow)))
            self.add_column(label, key=spec.key, width=column_width)
        if self.rows_data:
            self._add_rows(self.rows_data)

    def on_resize(self, event: events.Resize) -> None:
        if self.column_specs:
            cursor = self.cursor_row
            self._lay_out()
            if self.rows_data:
                self.move_cursor(row=min(max(cursor, 0), len(self.rows_data) - 1), animate=False, scroll=True)

    # -- the view: filter, sort, group ------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("filter", "sort", "reverse", "group", "clear_filter"):
            if action == "clear_filter" and not self.view.text and not self._filter_bars():
                return False  # nothing to clear: escape (and the footer) are the screen's
            return self.source is not None and self.source.filtered
        return True

    def change_view(self, **changes: Any) -> None:
        """A new filter, sort or grouping: read the list again from its first row."""
        view = self.view._replace(**changes)
        if view == self.view:
            return
        regroup = view.group != self.view.group or view.sort != self.view.sort \
            or view.descending != self.view.descending
        self.view = view
        self.refresh_bindings()  # escape clears a filter now, or is the screen's again
        if regroup:
            self.rows_data = []
            self._lay_out(force=True)
        self.reload(keep_cursor=False)

    def set_filter(self, text: str) -> None:
        self.change_view(text=text)

    def clear_filter(self) -> None:
        for bar in self._filter_bars():
            bar.remove()
        self.change_view(text="")
        self.focus()
        self.call_after_refresh(self.refresh_bindings)  # the bar is gone: escape is the screen's

    def _filter_bars(self) -> list[ListFilter]:
        return [bar for bar in (self.parent.children if self.parent else []) if isinstance(bar, ListFilter)
                and bar.table is self]

    async def action_filter(self) -> None:
        bars = self._filter_bars()
        if bars:
            bars[0].focus()
            return
        bar = ListFilter(self, self.view.text)
        # mounted and focused before the next key is handled: keys typed right after "/" no
        # longer reach the list's own bindings ("/ana" typed fast recorded an action for "a")
        await self.parent.mount(bar, before=self)
        self.screen.set_focus(bar)  # now (Widget.focus waits for the next message)

        self.refresh_bindings()

    def action_clear_filter(self) -> None:
        self.clear_filter()  # only with something to clear (check_action): else escape is the screen's

    def sortable(self) -> list[Column]:
        return [spec for spec in self.column_specs if spec.sort]

    def action_sort(self) -> None:
        """Sort by the next sortable column (after the last: the list's own order)."""
        keys = [None, *[spec.key for spec in self.sortable()]]
        index = keys.index(self.view.sort) if self.view.sort in keys else 0
        self.change_view(sort=keys[(index + 1) % len(keys)], descending=False)

    def action_reverse(self) -> None:
        self.change_view(descending=not self.view.descending)

    def action_group(self) -> None:
        if self.source is not None and self.source.group is None:
            self.app.notify("this list has no workflows to group by", severity="warning")
            return
        self.change_view(group=not self.view.group)

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, message: DataTable.HeaderSelected) -> None:
        message.stop()
        key = message.column_key.value
        if self.source is None or not self.source.filtered or key not in {s.key for s in self.sortable()}:
            return
        if self.view.sort == key:
            self.change_view(descending=not self.view.descending)
        else:
            self.change_view(sort=key, descending=False)

    # -- loading ------------------------------------------------------------------------

    def blank(self) -> None:
        """Empty the table as it leaves the screen (its step is left), remembering where its
        cursor was: shown again, it draws no stale rows in its first frame (a whole screen of
        cells for nothing) and :meth:`reload` puts the cursor back on the same row."""
        current = self.current
        if current is not None:
            self.left_at = (self.cursor_row, current.key)
        self.rows_data = []
        self.clear()

    left_at: tuple[int, str] | None = None

    def reload(self, *, keep_cursor: bool = True, count: bool = True) -> None:
        """Read the current page again (after a change), keeping the cursor where it was."""
        cursor = self.cursor_row if keep_cursor else 0
        offset = self.page_offset if keep_cursor else 0
        current = self.current
        self.keep_key = current.key if keep_cursor and current else None
        if keep_cursor and current is None and self.left_at is not None:  # shown again after blank()
            cursor, self.keep_key = self.left_at
        self.left_at = None
        self.generation += 1  # pages read before the change are stale
        self.cache.clear()
        if count and self._read_at_once(offset, max(cursor, 0)):
            return
        self.load(offset, max(cursor, 0), count=count)

    # A list is read again at once, on the UI thread, when its view or data change (a
    # keystroke in its filter, a change, a step shown again), within this budget: its rows
    # are then in the very frame that shows the keystroke or closes the dialog, with no wait
    # for a thread. A read that runs over is stopped (Store.within) and given to a worker, as
    # is every read of a list whose last page took longer than this.
    READ_AT_ONCE_MS = 30.0
    read_ms: float | None = None  # how long the last page took to read

    def _read_at_once(self, offset: int, cursor: int) -> bool:
        """Read the page at ``offset`` now and show it (its count follows); False when it
        was not (slow last time, over the budget now, the list shrank under it, or the read
        failed): then a worker reads it."""
        source = self.source
        store = getattr(self.app, "store", None)
        if source is None or store is None or (self.read_ms is not None and self.read_ms >= self.READ_AT_ONCE_MS):
            return False
        started = thread_time()  # the UI thread's own time, as the budget counts it
        try:
            with store.within(self.READ_AT_ONCE_MS):
                rows = source.page(offset, self.page_size, *((self.view,) if source.filtered else ()))
        except TooSlow:
            self.read_ms = (thread_time() - started) * 1000
            return False
        except Exception:
            return False
        self.read_ms = (thread_time() - started) * 1000
        if not rows and offset:
            return False
        total = len(rows) if offset == 0 and len(rows) < self.page_size else -1
        self._fill(rows, offset, cursor, total)
        return True

    def load(self, offset: int, cursor: int = 0, *, count: bool = True) -> None:
        if self.source is None:
            return
        offset = max(0, offset)
        if not count and offset in self.cache:  # read ahead while the previous page was shown
            self._fill(self.cache[offset], offset, cursor, -1 if self.counting else self.total)
            return
        self.loading_page = True
        self._fetch(self.source, offset, cursor, count or not self.total, self.total, self.page_size,
                    self.generation, self.view)

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
               generation: int, view: ListView) -> None:
        extra = (view,) if source.filtered else ()
        try:
            with self.app.reader():
                if count:
                    # the page (after a new filter, sort, step or change) is shown before the
                    # list is counted: the rows repaint, the count follows ("rows 1–100 of …")
                    started = thread_time()  # the thread's own time: not its waits for the UI
                    rows = source.page(offset, page_size, *extra)
                    self.read_ms = (thread_time() - started) * 1000
                    if offset == 0 and len(rows) < page_size:  # all of them: nothing left to count
                        self._post_fetched(self.Fetched(rows, 0, cursor, len(rows), generation))
                        return
                    if rows:
                        self._post_fetched(self.Fetched(rows, offset, cursor, -1, generation))
                        return  # counted once the page is drawn (_fill), not against its drawing
                    total = source.count(*extra)  # the list shrank under this page: its last page
                if offset >= total and total:
                    offset = max(0, (total - 1) // page_size * page_size)
                rows = source.page(offset, page_size, *extra)
        except Exception as error:  # a locked or broken database: say so, keep the old page
            self.post_message(self.FetchFailed(str(error)))
            return
        self._post_fetched(self.Fetched(rows, offset, cursor, total, generation))

    @work(thread=True, exclusive=True, group="count", exit_on_error=False)
    def _count(self, source: Source, generation: int, view: ListView) -> None:
        """Count the list whose first page is shown (a newer keystroke cancels it)."""
        try:
            with self.app.reader():
                total = source.count(*((view,) if source.filtered else ()))
        except Exception as error:  # a locked or broken database: say so, keep the page
            self.post_message(self.FetchFailed(str(error)))
            return
        self._post_fetched(self.Counted(total, generation))

    def _post_fetched(self, message: Message) -> None:
        if not get_current_worker().is_cancelled:
            self.post_message(message)

    @dataclass
    class Counted(Message):
        """How many rows the list has, counted after its first page was shown (private)."""

        total: int
        generation: int

    def on_paged_table_counted(self, message: Counted) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        self.total, self.counting = message.total, False
        self.post_message(self.PageLoaded(self, self.page_offset, self.total))

    @work(thread=True, exclusive=True, group="read-ahead", exit_on_error=False)
    def _read_ahead(self, source: Source, offsets: list[int], total: int, page_size: int,
                    generation: int, view: ListView) -> None:
        extra = (view,) if source.filtered else ()
        with self.app.reader():
            for offset in offsets:
                try:
                    rows = source.page(offset, page_size, *extra)
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
        self.counting = total < 0
        if self.counting:  # not counted yet: at least this page, and one more row if it is full
            total = offset + len(rows) + (1 if len(rows) >= self.page_size else 0)
        self.page_offset, self.total, self.rows_data = offset, total, rows
        self.cache[offset] = rows
        self.clear()
        self._add_rows(rows)
        keys = [row.key for row in rows]
        if self.keep_key in keys:  # the same row, when a change moved it within the page
            cursor = keys.index(self.keep_key)
        self.keep_key = None
        if rows:
            self.move_cursor(row=min(cursor, len(rows) - 1), animate=False, scroll=True)
        self.post_message(self.PageLoaded(self, offset, total))
        if self.counting and self.source is not None and self.count_asked != self.generation:
            self.count_asked = self.generation  # the first page is drawn: count the rows now
            self.call_after_refresh(self._count, self.source, self.generation, self.view)
        # read the pages on either side now, so that crossing into them is immediate
        ahead = [o for o in (offset + self.page_size, offset - self.page_size)
                 if 0 <= o < total and o not in self.cache]
        if ahead and self.source is not None:  # once this page is drawn, not against its drawing
            self.call_after_refresh(self._read_ahead, self.source, ahead, self.total, self.page_size,
                                    self.generation, self.view)
        for stale in [o for o in self.cache if abs(o - offset) > 2 * self.page_size]:
            del self.cache[stale]

    def _add_rows(self, rows: list[Row]) -> None:
        seen: set[str] = set()
        grouping = self._grouping() and "group" in self.columns
        previous = None
        keyed = []
        for row in rows:
            key = row.key if row.key not in seen else f"{row.key}#{len(seen)}"
            seen.add(key)
            cells = row.cells
            if grouping:  # the workflow on the first row of each run (and of the page)
                group = self.source.group(row.data)
                cells = (Text(group if group != previous else "", style="bold", no_wrap=True, overflow="ellipsis"),
                         *cells)
                previous = group
            keyed.append((key, cells))
        self.add_rows_at_once(keyed)

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
