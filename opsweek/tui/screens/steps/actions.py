"""Last week's actions: open actions from earlier sessions — done, carry over, or drop."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable

from opsweek import clock, inputs
from opsweek.store import changes, history, meetings, read
from opsweek.store.records import Entry
from opsweek.tui.modal.text_prompt import TextPrompt
from opsweek.tui.screens.steps.base import LATE_STYLE, About, Step
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

    def __init__(self) -> None:
        super().__init__()
        self.actions: list[Entry] = []

    def body(self) -> ComposeResult:
        table = DataTable(id="actions-table", cursor_type="row", zebra_stripes=True)
        # the short columns first, so the due date is never cut off by a long action
        table.add_columns("state", "due", "owner", "action", "from", "about")
        yield table

    def load(self) -> None:
        session = self.session
        if session.meeting is None:
            return
        store = self.app.store
        previous = self.highlighted()
        was = str(previous.id) if previous else None
        self.actions = read.carried_actions(store, session.meeting_id)
        carried = carried_here(store, session.meeting_id)
        weeks = meetings.weeks(store)
        titles = read.item_titles(store, [e.item_id for e in self.actions if e.item_id])
        table = self.query_one("#actions-table", DataTable)
        cursor = table.cursor_row
        table.clear()
        today = self.app.today()
        for entry in self.actions:
            if entry.status == "done":
                state = Text("✓ done", style="bold green")
            elif entry.status == "dropped":
                state = Text("✗ dropped", style="dim")
            elif entry.id in carried:
                state = Text("→ carried", style="bold cyan")
            else:
                state = Text("open", style="bold")
            late = entry.status == "open" and entry.due is not None and entry.due < today
            about = f"#{entry.item_id} {titles.get(entry.item_id, '')}" if entry.item_id else entry.workflow or ""
            table.add_row(state, cell(entry.due.isoformat() if entry.due else "", LATE_STYLE if late else ""),
                          self.owner_cell(entry.owner), numbered(entry.id, entry.text),
                          cell(weeks.get(entry.meeting_id, "")), cell(about), key=str(entry.id))
        keys = [str(e.id) for e in self.actions]
        if self.actions:  # stay on the same action when the list reorders (a new due date)
            table.move_cursor(row=keys.index(was) if was in keys else min(max(cursor, 0), len(keys) - 1))
        still_open = sum(1 for e in self.actions if e.status == "open" and e.id not in carried)
        self.show_position(f"{still_open} to decide of {len(self.actions)}" if self.actions
                           else "nothing carried over")

    def highlighted(self) -> Entry | None:
        table = self.query_one("#actions-table", DataTable)
        if not self.actions or not 0 <= table.cursor_row < len(self.actions):
            return None
        return self.actions[table.cursor_row]

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
