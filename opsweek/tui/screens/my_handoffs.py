"""My handoffs: ``opsweek mine`` inside the TUI — what is waiting on me, with accept.

Handoffs waiting for me to accept (overdue first, with the stage's SOP; those of people
I cover for while they are away, too), handoffs I sent that wait on others, my stuck
items and my open actions. ``a`` accepts the highlighted incoming handoff: the item
moves into its stage at once.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Label

from opsweek import clock, rules
from opsweek.errors import OpsweekError
from opsweek.rules.waiting import MyWork
from opsweek.store import changes, read
from opsweek.text import plural
from opsweek.tui.app import ChangeRequested
from opsweek.tui.modal.item_details import ItemDetails
from opsweek.tui.modal.owner_picker import OwnerPicker
from opsweek.tui.widgets.footer import KeysFooter
from opsweek.tui.widgets.paged_table import Column, PagedTable, Row, Source
from opsweek.tui.widgets.text import cell, join, numbered

LATE = "bold red"
WARN = "yellow"
GOOD = "green"


class MyHandoffsScreen(Screen):
    """The personal view for ``app.me`` (asks who you are when the app does not know).

    Each of its four lists is paged and read in SQL: ``/`` filters the focused one as you
    type (item, people, workflow or stage), ``>`` / ``<`` sort it, ``g`` groups it by workflow.
    """

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("a", "accept", "Accept handoff"),
        Binding("r", "reload", "Refresh", show=False),
    ]

    # table id -> (its title, the hint beside it, its columns)
    LISTS = {
        "mine-incoming": ("Waiting for me to accept", "a accepts, enter shows the item", [
            Column("handoff", "Handoff", sort=True), Column("item", "Item", sort=True),
            Column("from", "From", sort=True), Column("into", "Into", sort=True), Column("due", "Due", sort=True),
            Column("late", "Late"), Column("sop", "SOP")]),
        "mine-sent": ("Handoffs I sent that wait", "", [
            Column("handoff", "Handoff", sort=True), Column("item", "Item", sort=True),
            Column("to", "To", sort=True), Column("into", "Into", sort=True), Column("due", "Due", sort=True),
            Column("waiting", "Waiting")]),
        "mine-stuck": ("My stuck items", "enter shows the item", [
            Column("title", "Item", sort=True), Column("workflow", "Where", sort=True), Column("why", "Why stuck")]),
        "mine-actions": ("My open actions", "", [
            Column("action", "Action", sort=True), Column("due", "Due", sort=True),
            Column("from", "From the session of", sort=True)]),
    }

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.mine: MyWork | None = None  # the summary's counts (each list reads its own rows)

    def compose(self) -> ComposeResult:
        yield Label("My handoffs", classes="screen-title", id="mine-title")
        sources = {
            "mine-incoming": Source(self.incoming_page, self.incoming_count, filtered=True,
                                    group=lambda row: row[0].workflow),
            "mine-sent": Source(self.sent_page, self.sent_count, filtered=True, group=lambda h: h.workflow),
            "mine-stuck": Source(self.stuck_page, self.stuck_count, filtered=True, group=lambda it: it.workflow),
            "mine-actions": Source(self.actions_page, self.actions_count, filtered=True,
                                   group=lambda action: action.workflow or "no workflow"),
        }
        with VerticalScroll(id="mine-body"):
            yield Label("", id="mine-summary", classes="hint")
            for table_id, (title, hint, columns) in self.LISTS.items():
                yield Label(title, classes="section-title", id=f"{table_id}-title")
                table = PagedTable(id=table_id, classes="mine-table")
                table.source = sources[table_id]
                table.set_columns(columns)
                yield table
        yield KeysFooter()

    def on_mount(self) -> None:
        if self.app.me:
            self.reload()
        else:
            self.ask_who()
        self.query_one("#mine-incoming", PagedTable).focus()

    def ask_who(self) -> None:
        def picked(handle: str | None) -> None:
            if not handle:
                self.app.pop_screen()
                return
            self.app.me = handle
            self.reload()

        self.app.push_screen(OwnerPicker(self.app.team.people, title="Who are you? (your handle)"), picked)

    # -- reading ------------------------------------------------------------------------

    def reload(self) -> None:
        """Read what is mine again (after accepting, an undo, or coming back)."""
        app = self.app
        if not app.me:
            return
        try:  # the summary: each list's first rows and the totals of the longer ones
            mine = self.mine = read.my_work(app.store, app.me, app.now(), app.today(), limit=PagedTable.page_size)
        except OpsweekError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        person = mine.people.get(app.me)
        overdue = mine.overdue()
        title = join("My handoffs  —  ", (app.me, "bold"), f" ({person.name})" if person else "")
        self.query_one("#mine-title", Label).update(title)
        if mine.empty():
            summary = join(("Nothing is waiting on you.", GOOD))
        else:
            incoming = mine.size("incoming")[0] + sum(mine.covering_size(c, "incoming")[0] for c in mine.covering)
            stuck, actions = mine.size("stuck")[0], mine.size("actions")[0]
            summary = join(f"{incoming:,} to accept  ·  {mine.size('sent')[0]:,} sent and waiting  ·  "
                           f"{stuck:,} stuck  ·  {plural(actions, 'open action')}  ·  ",
                           (f"{overdue['total']:,} overdue", LATE if overdue["total"] else GOOD))
        self.query_one("#mine-summary", Label).update(summary)
        for table in self.query(PagedTable):
            table.reload()

    # each list's rows, read in a worker thread (``app.store`` is the worker's connection)

    def incoming_count(self, view=None) -> int:
        return read.my_incoming_count(self.app.store, self.app.me, self.app.today(), view=view)

    def incoming_page(self, offset: int, limit: int, view=None) -> list[Row]:
        app = self.app
        me, now = app.me, app.now()
        stages = app.team.stage_map
        rows = []
        for h in read.my_incoming_page(app.store, me, app.today(), limit=limit, offset=offset, view=view):
            covering = h.to_owner if h.to_owner != me else None
            stage = stages.get((h.workflow, h.to_stage))
            late = rules.lateness(h, now)
            item = f"#{h.item_id} {h.title}" + (f"  (covering for {covering})" if covering else "")
            rows.append(Row(str(h.id), (
                cell(str(h.id)), cell(item), cell(h.from_owner or h.from_stage),
                cell(f"{h.workflow}/{h.to_stage}"), cell(clock.show(h.due_at)),
                Text(clock.humanize(late), style=LATE) if late else Text("on time", style=GOOD),
                cell(stage.sop if stage and stage.sop else "no SOP", "" if stage and stage.sop else WARN),
            ), (h, covering)))
        return rows

    def sent_count(self, view=None) -> int:
        return read.my_sent_count(self.app.store, self.app.me, view=view)

    def sent_page(self, offset: int, limit: int, view=None) -> list[Row]:
        now = self.app.now()
        rows = []
        for h in read.my_sent_page(self.app.store, self.app.me, limit=limit, offset=offset, view=view):
            late = rules.lateness(h, now)
            rows.append(Row(str(h.id), (
                cell(str(h.id)), cell(f"#{h.item_id} {h.title}"), cell(h.to_owner or "nobody", "" if h.to_owner else LATE),
                cell(f"{h.workflow}/{h.to_stage}"), cell(clock.show(h.due_at)),
                Text(f"{clock.humanize(now - h.sent_at)}" + (f", {clock.humanize(late)} late" if late else ""),
                     style=LATE if late else ""),
            ), h))
        return rows

    def stuck_count(self, view=None) -> int:
        app = self.app
        return read.my_stuck_count(app.store, app.team, app.me, app.now(), app.today(), view=view)

    def stuck_page(self, offset: int, limit: int, view=None) -> list[Row]:
        app = self.app
        rows = []
        for item, reasons in read.my_stuck_page(app.store, app.team, app.me, app.now(), app.today(), limit=limit,
                                                offset=offset, view=view):
            rows.append(Row(str(item.id), (
                cell(f"#{item.id} {item.title}"), cell(f"{item.workflow}/{item.stage}"),
                cell("; ".join(r.text for r in reasons), LATE if any(r.kind in ("blocked", "past_due")
                                                                     for r in reasons) else WARN),
            ), item))
        return rows

    def actions_count(self, view=None) -> int:
        return read.my_actions_count(self.app.store, self.app.me, view=view)

    def actions_page(self, offset: int, limit: int, view=None) -> list[Row]:
        today = self.app.today()
        rows = []
        for action in read.my_actions_page(self.app.store, self.app.me, limit=limit, offset=offset, view=view):
            entry = action.entry
            overdue = entry.due is not None and entry.due < today
            rows.append(Row(str(entry.id), (
                numbered(entry.id, entry.text), cell(entry.due.isoformat() if entry.due else "", LATE if overdue else ""),
                cell(entry.week or ""),
            ), action))
        return rows

    def on_paged_table_page_loaded(self, message: PagedTable.PageLoaded) -> None:
        """A list came: its title says how many and where the list is; an empty one (not
        narrowed by a filter) hides."""
        table = message.table
        title, hint, _ = self.LISTS[table.id]
        narrowed = bool(table.view.text.strip())
        table.display = bool(table.total) or narrowed
        parts: list = [title, (f" ({table.total:,})" if table.total >= 0 else " (…)",
                               "bold" if table.total else "dim")]
        if table.total == 0 and not narrowed:
            parts.append(("  none", "dim"))
        elif table.view_words() or table.total > len(table.rows_data):
            parts.append((f"  —  {table.page_position}", "dim"))
        elif hint:
            parts.append((f"  —  {hint}", "dim"))
        self.query_one(f"#{table.id}-title", Label).update(join(*parts))

    # -- keys ---------------------------------------------------------------------------

    def action_accept(self) -> None:
        table = self.query_one("#mine-incoming", PagedTable)
        if not table.rows_data:
            self.notify("nothing is waiting for you to accept", severity="warning")
            return
        if not table.has_focus:
            table.focus()
            self.notify("pick the handoff to accept, then press a again", markup=False)
            return
        handoff, _ = table.current.data
        self.post_message(ChangeRequested(
            changes.accept_handoff, (handoff.id,), reload="always",
            success=f"accepted handoff {handoff.id}: #{handoff.item_id} is now in {handoff.to_stage}"))

    @on(DataTable.RowSelected)
    def row_chosen(self, event: DataTable.RowSelected) -> None:
        item_id = self.item_of(event.data_table, event.cursor_row)
        if item_id is not None:
            self.app.push_screen(ItemDetails(item_id))

    def item_of(self, table: DataTable, row: int) -> int | None:
        if not isinstance(table, PagedTable) or not 0 <= row < len(table.rows_data):
            return None
        data = table.rows_data[row].data
        if table.id == "mine-incoming":
            return data[0].item_id
        if table.id == "mine-sent":
            return data.item_id
        if table.id == "mine-stuck":
            return data.id
        if table.id == "mine-actions":
            return data.entry.item_id
        return None

    def action_reload(self) -> None:
        self.reload()

    def action_back(self) -> None:
        self.app.pop_screen()

    def on_screen_resume(self) -> None:
        if self.mine is not None:
            self.reload()
