"""Ownership gaps: stages and workflows without a usable owner, items of absent owners;
assign an owner or a cover. (The list itself: ``read.gaps_page``; the rule: ``opsweek.rules.gaps``.)"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable

from opsweek import rules
from opsweek.store import changes, read
from opsweek.tui.modal.owner_picker import OwnerPicker
from opsweek.tui.screens.navigation import open_screen
from opsweek.tui.screens.steps.base import About, Step
from opsweek.tui.screens.steps.stuck import ItemActions
from opsweek.tui.widgets.paged_table import Column, PagedTable, Row, Source
from opsweek.tui.widgets.text import cell


class OwnershipGapsStep(ItemActions, Step):
    key = "gaps"
    # c sets a cover here (SPEC names no key for it; items are done from Stuck items)
    hint = ("r assign an owner (items: reassign) · c set a cover · x drop the item · u its due date"
            " · k keep as is · d/a/o decision/action/note · + new item · enter details")

    BINDINGS = [
        Binding("r", "assign", "Assign owner"),
        Binding("c", "cover", "Set cover"),
        Binding("k", "keep", "Keep as is"),
        Binding("x", "drop", "Drop item", show=False),
        Binding("u", "due", "Due date", show=False),
        Binding("b", "block", "Block/unblock", show=False),
        Binding("h", "hand_off", "Hand off", show=False),
    ]

    COLUMNS = [
        Column("what", "what", sort=True),
        Column("owner", "owner", sort=True),
        Column("problem", "problem"),
        Column("suggested", "suggested"),
        Column("workflow", "", grow=0.3, min_width=14, sort=True),
    ]

    def body(self) -> ComposeResult:
        table = PagedTable(id="gaps-table")
        table.source = Source(self.page, self.count, filtered=True, group=lambda gap: gap.workflow or "")
        table.set_columns(self.COLUMNS)
        yield table

    def count(self, view=None) -> int:
        return read.gaps_count(self.app.store, self.app.team, self.session.week, view=view)

    def page(self, offset: int, limit: int, view=None) -> list[Row]:
        team = self.app.team
        names = {w.key: w.name for w in team.workflows}
        rows = []
        for gap, title in read.gaps_page(self.app.store, team, self.session.week, offset, limit, view=view):
            what = Text.assemble((f"{gap.subject} ", "dim"), (gap.label, "bold"))
            if gap.subject in ("item", "handoff"):
                detail = title
            elif gap.subject == "recurring":
                detail = f"recurring work ({names.get(gap.workflow, gap.workflow)})"
            elif gap.subject == "stage":
                stage = team.stage_map.get((gap.workflow, gap.stage))
                detail = f"{stage.name if stage else gap.stage} ({names.get(gap.workflow, gap.workflow)})"
            else:
                detail = names.get(gap.workflow, gap.workflow)
            # a workflow or stage nobody can own is the worst (red); an item of an away owner,
            # with a cover to suggest, is routine (plain)
            severity = "bold red" if gap.subject in ("workflow", "stage") else \
                "" if gap.subject == "item" and gap.suggestion else "yellow"
            rows.append(Row(f"{gap.subject}:{gap.label}", (
                what, self.owner_cell(gap.owner), cell(gap.problem, severity),
                cell(gap.suggestion or "", "bold green"), cell(detail)), gap))
        return rows

    def load(self) -> None:
        if self.session.meeting is not None:
            self.query_one(PagedTable).reload()

    def current_gap(self) -> rules.Gap | None:
        row = self.query_one(PagedTable).current
        return row.data if row else None

    def current_item_id(self) -> int | None:
        gap = self.current_gap()
        return gap.item_id if gap and gap.subject in ("item", "handoff") else None

    def subject(self) -> tuple[str, str] | None:
        gap = self.current_gap()
        return None if gap is None else (gap.subject, gap.label)

    def suggested_owner(self, item) -> str | None:
        gap = self.current_gap()
        return (gap.suggestion if gap else None) or item.owner

    def about(self) -> About | None:
        gap = self.current_gap()
        if gap is None:
            return None
        return About(f"{gap.subject} {gap.label} ({gap.problem})", gap.item_id, gap.workflow,
                     gap.suggestion or gap.owner)

    def action_assign(self) -> None:
        gap = self.current_gap()
        if gap is None:
            return
        if not self.session_open():
            return
        if gap.subject == "item":
            self.action_reassign()
            return
        session, team = self.session, self.app.team
        outcome = self.outcome("reassigned", (gap.subject, gap.label))

        def picked(handle: str | None) -> None:
            if not handle:
                return
            if gap.subject == "workflow":
                self.request_change(changes.set_workflow_owner, team, gap.workflow, handle, outcome=outcome,
                                    success=f"{gap.workflow} is now owned by {handle}")
            elif gap.subject == "handoff":
                self.request_change(changes.reassign_handoff, team, gap.handoff_id, handle, outcome=outcome,
                                    success=f"handoff {gap.handoff_id} now waits on {handle}")
            elif gap.subject == "recurring":
                from opsweek.store import recurring

                self.request_change(recurring.set_schedule_owner, team, gap.workflow, gap.stage, handle,
                                    outcome=outcome,
                                    success=f"{gap.workflow}/{gap.stage} now opens its items for {handle}")
            else:
                self.request_change(changes.set_stage_owner, team, gap.workflow, gap.stage, handle, outcome=outcome,
                                    success=f"{gap.workflow}/{gap.stage} is now owned by {handle}")

        self.app.push_screen(OwnerPicker(team.people, title=f"Owner for {gap.subject} {gap.label}",
                                         current=gap.suggestion or gap.owner, week=session.week), picked)

    def action_cover(self) -> None:
        gap = self.current_gap()
        if gap is None:
            return
        if not self.session_open():
            return
        team = self.app.team
        if not gap.owner or gap.owner not in team.people:
            self.notify(f"{gap.label} has no known owner to cover for; r assigns one", severity="warning")
            return
        owner = gap.owner
        self.pick_person_then_reason(
            title=f"Who covers for {owner} when they are away?", current=team.people[owner].cover,
            question=lambda handle: f"{handle} covers for {owner}: why?",
            then=lambda handle, reason: self.request_change(
                changes.set_cover, self.app.team, owner, handle, reason=reason,
                outcome=self.outcome("reassigned", (gap.subject, gap.label)),
                success=f"{handle} now covers for {owner}"))

    @on(DataTable.RowSelected, "#gaps-table")
    def selected(self) -> None:
        gap = self.current_gap()
        if gap is None:
            return
        if gap.subject in ("item", "handoff"):
            self.action_details()
        else:
            open_screen(self.app, "workflows", workflow=gap.workflow)
