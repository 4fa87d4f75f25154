"""Last week's actions: open actions from earlier sessions — done, carry over, or drop."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding

from opsweek import clock, inputs
from opsweek.store import changes, history, read
from opsweek.store.records import Entry
from opsweek.tui.modal.text_prompt import TextPrompt
from opsweek.tui.screens.steps.base import LATE_STYLE, About, Step
from opsweek.tui.widgets.paged_table import Column, PagedTable, Row, Source
from opsweek.tui.widgets.text import cell, numbered


def _check_date(text: str) -> str | None:
    if text:
        clock.parse_date(text, "due")  # raises with the accepted forms
    return None


def carried_here(store, meeting_id: int) -> set[int]:
    """Actions carried over in this session (their due date moved; still open)."""
    return history.carried_in(store, meeting_id)


def to_decide(store, meeting_id: int) -> int:
    """Open actions of earlier sessions that this session has not dealt with yet."""
    carried = carried_here(store, meeting_id)
    return sum(1 for e in read.carried_actions(store, meeting_id) if e.status == "open" and e.id not in carried)


class ActionsStep(Step):
    key = "actions"
    hint = "space: done ↔ open · c: carry over (new due date) · x: drop · d / a: decision / action on it"

    BINDINGS = [
        Binding("space", "done", "Done"),
        Binding("c", "carry", "Carry over"),
        Binding("x", "drop", "Drop"),
    ]

    # the short columns first, so the due date is never cut off by a long action; "/"
    # filters by the action, its owner, its item, workflow or stage (read.carried_actions_page)
    COLUMNS = [
        Column("state", "state"),
        Column("due", "due", sort=True),
        Column("owner", "owner", sort=True),
        Column("action", "action", sort=True),
        Column("from", "from", sort=True),
        Column("about", "about", sort=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.deciding = (0, 0)  # (to decide, carried in all), for the position line

    def body(self) -> ComposeResult:
        table = PagedTable(id="actions-table")
        table.source = Source(self.page, self.count, filtered=True,
                              group=lambda carried: carried.workflow or "no workflow")
        table.set_columns(self.COLUMNS)
        yield table

    # -- the list, read in a worker thread ------------------------------------------------

    def count(self, view=None) -> int:
        return read.carried_actions_count(self.app.store, self.session.meeting_id, view=view)

    def page(self, offset: int, limit: int, view=None) -> list[Row]:
        store = self.app.store
        meeting_id = self.session.meeting_id
        found = read.carried_actions_page(store, meeting_id, limit=limit, offset=offset, view=view)
        carried = carried_here(store, meeting_id)
        today = self.app.today()
        rows = []
        for action in found:
            entry = action.entry
            if entry.status == "done":
                state = Text("✓ done", style="bold green")
            elif entry.status == "dropped":
                state = Text("✗ dropped", style="dim")
            elif entry.id in carried:
                state = Text("→ carried", style="bold cyan")
            else:
                state = Text("open", style="bold")
            late = entry.status == "open" and entry.due is not None and entry.due < today
            about = f"#{entry.item_id} {action.title or ''}" if entry.item_id else entry.workflow or ""
            rows.append(Row(str(entry.id), (
                state, cell(entry.due.isoformat() if entry.due else "", LATE_STYLE if late else ""),
                self.owner_cell(entry.owner), numbered(entry.id, entry.text), cell(entry.week or ""),
                cell(about)), action))
        return rows

    def load(self) -> None:
        session = self.session
        if session.meeting is None:
            return
        store = self.app.store
        self.deciding = (to_decide(store, session.meeting_id), read.carried_actions_count(store, session.meeting_id))
        self.query_one(PagedTable).reload()  # stays on the same action when the list reorders

    def show_reviewed(self) -> None:
        """The page position, then how many actions are still to decide ("2 to decide of 3")."""
        open_, of = self.deciding
        if not of:
            self.show_position("nothing carried over")
            return
        position = self.page_position
        self.show_position((f"{position} · " if position else "") + f"{open_} to decide of {of}")

    def highlighted(self) -> Entry | None:
        row = self.query_one(PagedTable).current
        return row.data.entry if row else None

    def about(self) -> About | None:
        entry = self.highlighted()
        if entry is None:
            return None
        return About(f"action {entry.id}: {entry.text}", entry.item_id, entry.workflow, entry.owner)

    def _usable(self) -> Entry | None:
        entry = self.highlighted()
        if entry is not None and not self.session_open():
            return None
        return entry

    def action_done(self) -> None:
        entry = self._usable()
        if entry is None:
            return
        status = "open" if entry.status == "done" else "done"
        self.request_change(changes.set_action_status, entry.id, status,
                            success=f"action {entry.id} {'reopened' if status == 'open' else 'done'}")

    def action_drop(self) -> None:
        entry = self._usable()
        if entry is None:
            return
        if entry.status == "dropped":
            self.request_change(changes.set_action_status, entry.id, "open",
                                success=f"action {entry.id} reopened")
            return

        def dropped(reason: str | None) -> None:
            if reason is not None:
                self.request_change(changes.set_action_status, entry.id, "dropped",
                                    reason=reason or None, success=f"action {entry.id} dropped")

        self.app.push_screen(TextPrompt(f"Drop action {entry.id}: {entry.text}", placeholder="why (optional)"),
                             dropped)

    def action_carry(self) -> None:
        entry = self._usable()
        if entry is None:
            return
        if entry.status != "open":
            self.notify(f"action {entry.id} is {entry.status}; space reopens it", severity="warning")
            return
        default = inputs.action_due(self.app.today())

        def carried(text: str | None) -> None:
            if text is None:
                return
            due = clock.parse_date(text, "due") if text else default
            self.request_change(changes.carry_action, entry.id, due=due,
                                success=f"action {entry.id} carried over, due {due.isoformat()}")

        self.app.push_screen(TextPrompt(f"Carry over action {entry.id}: {entry.text}",
                                        placeholder=f"new due date (empty: {default.isoformat()})",
                                        hint="fri, +3d, 1 Dec, 2026-12-01 · enter saves · escape cancels",
                                        check=_check_date), carried)
