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
from opsweek.tui.screens.steps.base import About, Step
from opsweek.tui.screens.steps.stuck import WARN_STYLE, WORST_STYLE, ItemActions, escalate, escalation_cell
from opsweek.tui.widgets.paged_table import Column, PagedTable, Row, Source
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

    # the key columns first: which handoff, late by, to whom; the item's title takes a
    # share of a wide terminal
    COLUMNS = [
        Column("handoff", "handoff", sort=True),
        Column("late by", "late by", sort=True),
        Column("item", "item", grow=0.3, min_width=16, sort=True),
        Column("from → to", "from → to", sort=True),
        Column("escalation", "escalation"),
        Column("stages", "stages", grow=0.2, min_width=12, sort=True),
    ]

    def body(self) -> ComposeResult:
        table = PagedTable(id="handoffs-table")
        table.source = Source(self.page, self.count, filtered=True, group=lambda h: h.workflow or "")
        table.set_columns(self.COLUMNS)
        yield table

    def count(self, view=None) -> int:
        return read.overdue_count(self.app.store, self.app.now(), view=view)

    def page(self, offset: int, limit: int, view=None) -> list[Row]:
        app = self.app
        now = app.now()
        handoffs = read.overdue_page(app.store, now, limit=limit, offset=offset, view=view)
        titles = read.item_titles(app.store, [h.item_id for h in handoffs])
        states = read.handoff_escalation_states(app.store, app.team, handoffs, now)
        rows = []
        for h in handoffs:
            state = states.get(h.id)
            # the worst stand out: red when due for escalation now, yellow when only late
            worst = state is not None and state.due is not None
            who = Text.assemble(self.owner_cell(h.from_owner), " → ", self.owner_cell(h.to_owner))
            rows.append(Row(str(h.id), (
                Text(str(h.id), style="bold"),
                cell(clock.humanize(rules.lateness(h, now)), WORST_STYLE if worst else WARN_STYLE),
                Text.assemble((f"#{h.item_id} ", "bold"), cell(titles.get(h.item_id, "")),
                              no_wrap=True, overflow="ellipsis"), who,
                escalation_cell(state), cell(f"{h.workflow}: {h.from_stage} → {h.to_stage}")), h))
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
