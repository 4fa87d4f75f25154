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
from opsweek.tui.widgets.text import cell, join, numbered

LATE = "bold red"
WARN = "yellow"
GOOD = "green"


class MyHandoffsScreen(Screen):
    """The personal view for ``app.me`` (asks who you are when the app does not know)."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("a", "accept", "Accept handoff"),
        Binding("r", "reload", "Refresh", show=False),
    ]

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.mine: MyWork | None = None
        self.incoming: list = []   # (handoff, covering-for handle or None), in table order

    def compose(self) -> ComposeResult:
        yield Label("My handoffs", classes="screen-title", id="mine-title")
        with VerticalScroll(id="mine-body"):
            yield Label("", id="mine-summary", classes="hint")
            yield Label("Waiting for me to accept  —  a accepts, enter shows the item", classes="section-title",
                        id="mine-incoming-title")
            yield DataTable(id="mine-incoming", classes="mine-table", cursor_type="row")
            yield Label("Handoffs I sent that wait", classes="section-title", id="mine-sent-title")
            yield DataTable(id="mine-sent", classes="mine-table", cursor_type="row")
            yield Label("My stuck items", classes="section-title", id="mine-stuck-title")
            yield DataTable(id="mine-stuck", classes="mine-table", cursor_type="row")
            yield Label("My open actions", classes="section-title", id="mine-actions-title")
            yield DataTable(id="mine-actions", classes="mine-table", cursor_type="row")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.query_one("#mine-incoming", DataTable).add_columns("Handoff", "Item", "From", "Into", "Due", "Late", "SOP")
        self.query_one("#mine-sent", DataTable).add_columns("Handoff", "Item", "To", "Into", "Due", "Waiting")
        self.query_one("#mine-stuck", DataTable).add_columns("Item", "Where", "Why stuck")
        self.query_one("#mine-actions", DataTable).add_columns("Action", "Due", "From the session of")
        if self.app.me:
            self.reload()
        else:
            self.ask_who()
        self.query_one("#mine-incoming", DataTable).focus()

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
        try:
            mine = self.mine = read.my_work(app.store, app.me, app.now(), app.today())
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
            summary = join(f"{len(self.all_incoming(mine))} to accept  ·  {len(mine.sent)} sent and waiting  ·  "
                           f"{len(mine.stuck)} stuck  ·  {plural(len(mine.actions), 'open action')}  ·  ",
                           (f"{overdue['total']} overdue", LATE if overdue["total"] else GOOD))
        self.query_one("#mine-summary", Label).update(summary)
        self.fill_incoming(mine)
        self.fill_sent(mine)
        self.fill_stuck(mine)
        self.fill_actions(mine)

    @staticmethod
    def all_incoming(mine: MyWork) -> list:
        rows = [(h, None) for h in mine.incoming]
        for covering in mine.covering:
            rows += [(h, covering.person.handle) for h in covering.incoming]
        # overdue first (most overdue first), then by due time
        rows.sort(key=lambda pair: (not rules.is_overdue(pair[0], mine.now), pair[0].due_at, pair[0].id))
        return rows

    def _refill(self, table_id: str, rows: list) -> None:
        table = self.query_one(table_id, DataTable)
        cursor = table.cursor_row
        keys = [row.key.value for row in table.ordered_rows]
        was = keys[cursor] if 0 <= cursor < len(keys) else None
        table.clear()
        for key, cells in rows:
            table.add_row(*cells, key=key)
        if rows:
            now = [key for key, _ in rows]
            if was in now:  # the same row, when a change elsewhere moved it (live reloads)
                cursor = now.index(was)
            table.move_cursor(row=max(0, min(cursor, len(rows) - 1)))
        table.display = bool(rows)

    def fill_incoming(self, mine: MyWork) -> None:
        self.incoming = self.all_incoming(mine)
        rows = []
        for h, covering in self.incoming:
            stage = mine.stages.get((h.workflow, h.to_stage))
            late = rules.lateness(h, mine.now)
            item = f"#{h.item_id} {h.title}" + (f"  (covering for {covering})" if covering else "")
            rows.append((str(h.id), [
                cell(str(h.id)), cell(item), cell(h.from_owner or h.from_stage),
                cell(f"{h.workflow}/{h.to_stage}"), cell(clock.show(h.due_at)),
                Text(clock.humanize(late), style=LATE) if late else Text("on time", style=GOOD),
                cell(stage.sop if stage and stage.sop else "no SOP", "" if stage and stage.sop else WARN),
            ]))
        self._refill("#mine-incoming", rows)
        self._title("#mine-incoming-title", "Waiting for me to accept", len(rows),
                    "a accepts, enter shows the item")

    def fill_sent(self, mine: MyWork) -> None:
        rows = []
        for h in mine.sent:
            late = rules.lateness(h, mine.now)
            rows.append((str(h.id), [
                cell(str(h.id)), cell(f"#{h.item_id} {h.title}"), cell(h.to_owner or "nobody", "" if h.to_owner else LATE),
                cell(f"{h.workflow}/{h.to_stage}"), cell(clock.show(h.due_at)),
                Text(f"{clock.humanize(mine.now - h.sent_at)}" + (f", {clock.humanize(late)} late" if late else ""),
                     style=LATE if late else ""),
            ]))
        self._refill("#mine-sent", rows)
        self._title("#mine-sent-title", "Handoffs I sent that wait", len(rows))

    def fill_stuck(self, mine: MyWork) -> None:
        rows = []
        for item, reasons in mine.stuck:
            rows.append((str(item.id), [
                cell(f"#{item.id} {item.title}"), cell(f"{item.workflow}/{item.stage}"),
                cell("; ".join(r.text for r in reasons), LATE if any(r.kind in ("blocked", "past_due")
                                                                     for r in reasons) else WARN),
            ]))
        self._refill("#mine-stuck", rows)
        self._title("#mine-stuck-title", "My stuck items", len(rows), "enter shows the item")

    def fill_actions(self, mine: MyWork) -> None:
        rows = []
        for action in mine.actions:
            overdue = mine.action_overdue(action)
            rows.append((str(action.id), [
                numbered(action.id, action.text), cell(action.due.isoformat() if action.due else "", LATE if overdue else ""),
                cell(action.week or ""),
            ]))
        self._refill("#mine-actions", rows)
        self._title("#mine-actions-title", "My open actions", len(rows))

    def _title(self, label_id: str, text: str, count: int, hint: str = "") -> None:
        parts: list = [text, (f" ({count})", "bold" if count else "dim")]
        if count == 0:
            parts.append(("  none", "dim"))
        elif hint:
            parts.append((f"  —  {hint}", "dim"))
        self.query_one(label_id, Label).update(join(*parts))

    # -- keys ---------------------------------------------------------------------------

    def action_accept(self) -> None:
        table = self.query_one("#mine-incoming", DataTable)
        if not self.incoming:
            self.notify("nothing is waiting for you to accept", severity="warning")
            return
        if not table.has_focus:
            table.focus()
            self.notify("pick the handoff to accept, then press a again", markup=False)
            return
        handoff, _ = self.incoming[max(0, min(table.cursor_row, len(self.incoming) - 1))]
        self.post_message(ChangeRequested(
            changes.accept_handoff, (handoff.id,), reload="always",
            success=f"accepted handoff {handoff.id}: #{handoff.item_id} is now in {handoff.to_stage}"))

    @on(DataTable.RowSelected)
    def row_chosen(self, event: DataTable.RowSelected) -> None:
        item_id = self.item_of(event.data_table, event.cursor_row)
        if item_id is not None:
            self.app.push_screen(ItemDetails(item_id))

    def item_of(self, table: DataTable, row: int) -> int | None:
        mine = self.mine
        if mine is None or row < 0:
            return None
        if table.id == "mine-incoming" and row < len(self.incoming):
            return self.incoming[row][0].item_id
        if table.id == "mine-sent" and row < len(mine.sent):
            return mine.sent[row].item_id
        if table.id == "mine-stuck" and row < len(mine.stuck):
            return mine.stuck[row][0].id
        if table.id == "mine-actions" and row < len(mine.actions):
            return mine.actions[row].item_id
        return None

    def action_reload(self) -> None:
        self.reload()

    def action_back(self) -> None:
        self.app.pop_screen()

    def on_screen_resume(self) -> None:
        if self.mine is not None:
            self.reload()
