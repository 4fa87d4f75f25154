"""Overdue handoffs, most overdue first: how late, from whom to whom."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable

from opsweek import clock, rules
from opsweek.store import changes, meetings, read
from opsweek.store.records import Handoff
from opsweek.tui.modal.item_details import ItemDetails
from opsweek.tui.screens.steps.base import LATE_STYLE, About, Step
from opsweek.tui.screens.steps.stuck import ItemActions, escalate, escalation_cell
from opsweek.tui.widgets.paged_table import PagedTable, Row, Source
from opsweek.tui.widgets.text import cell


class OverdueHandoffsStep(ItemActions, Step):
    key = "handoffs"
    # c accepts here (SPEC names no key for accepting; the item is done from Stuck items)
    hint = ("r reassign receiver · c accept for them · e escalate (next tier) · x drop item · u due date"
            " · k keep as is · d/a/o decision/action/note · + new item · enter details")

    BINDINGS = [
        Binding("r", "reassign", "Reassign receiver"),
        Binding("c", "accept", "Accept for them"),
        Binding("e", "escalate", "Escalate"),
        Binding("x", "drop", "Drop item"),
        Binding("k", "keep", "Keep as is"),
        Binding("u", "due", "Due date", show=False),
    ]

    def body(self) -> ComposeResult:
        table = PagedTable(id="handoffs-table")
        table.add_column("handoff")
        table.add_column("item", width=28)
        table.add_columns("from → to", "late by", "escalation", "stages")
        yield table

    def on_mount(self) -> None:
        self.query_one(PagedTable).source = Source(self.page, self.count)

    def count(self) -> int:
        return read.overdue_count(self.app.store, self.app.now())

    def page(self, offset: int, limit: int) -> list[Row]:
        app = self.app
        now = app.now()
        handoffs = read.overdue_page(app.store, now, limit=limit, offset=offset)
        titles = read.item_titles(app.store, [h.item_id for h in handoffs])
        states = read.handoff_escalation_states(app.store, app.team, handoffs, now)
        rows = []
        for h in handoffs:
            state = escalation_cell(states.get(h.id))
            who = Text.assemble(self.owner_cell(h.from_owner), " → ", self.owner_cell(h.to_owner))
            rows.append(Row(str(h.id), (
                Text(str(h.id), style="bold"),
                Text.assemble((f"#{h.item_id} ", "bold"), cell(titles.get(h.item_id, ""))), who,
                cell(clock.humanize(rules.lateness(h, now)), LATE_STYLE), state,
                cell(f"{h.workflow}: {h.from_stage} → {h.to_stage}")), h))
        return rows

    def load(self) -> None:
        if self.session.meeting is not None:
            self.query_one(PagedTable).reload()

    def current(self) -> Handoff | None:
        row = self.query_one(PagedTable).current
        return row.data if row else None

    def _usable(self) -> Handoff | None:
        h = self.current()
        if h is not None and not self.session_open():
            return None
        return h

    def current_item_id(self) -> int | None:
        h = self.current()
        return h.item_id if h else None

    def subject(self) -> tuple[str, str] | None:
        h = self.current()
        return None if h is None else ("handoff", str(h.id))

    def about(self) -> About | None:
        row = self.query_one(PagedTable).current
        if row is None:
            return None
        h = row.data
        return About(f"#{h.item_id} (handoff {h.id} to {h.to_owner or 'nobody'})", h.item_id, h.workflow,
                     h.to_owner)

    def action_reassign(self) -> None:
        h = self._usable()
        if h is None:
            return
        self.pick_person_then_reason(
            title=f"New receiver for handoff {h.id} (#{h.item_id})", current=h.to_owner,
            question=lambda handle: f"Why does handoff {h.id} go to {handle} instead of {h.to_owner}?",
            then=lambda handle, reason: self.request_change(
                changes.reassign_handoff, self.app.team, h.id, handle, reason=reason,
                outcome=self.outcome("reassigned", ("handoff", str(h.id))),
                success=f"handoff {h.id} now goes to {handle}"))

    def action_accept(self) -> None:
        h = self._usable()
        if h is not None:
            # the session accepts for the receiver, and the change records it
            self.request_change(changes.accept_handoff, h.id, on_behalf=h.to_owner,
                                outcome=self.outcome("handed off", ("handoff", str(h.id))),
                                success=f"handoff {h.id} accepted for {h.to_owner}; #{h.item_id} is now in"
                                        f" {h.to_stage}")

    def action_escalate(self) -> None:
        h = self._usable()
        if h is not None:
            escalate(self, handoff=h, outcome=self.outcome("escalated", ("handoff", str(h.id))))

    @on(DataTable.RowSelected, "#handoffs-table")
    def selected(self) -> None:
        h = self.current()
        if h is not None:
            self.app.push_screen(ItemDetails(h.item_id, absent=self.session.absent))
