"""Stuck items, oldest in their stage first, with every reason they are stuck."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable

from opsweek import clock, inputs, rules
from opsweek.store.records import Item
from opsweek.store import changes, read
from opsweek.tui.modal.item_details import ItemDetails
from opsweek.tui.modal.stage_picker import StagePicker
from opsweek.tui.modal.text_prompt import TextPrompt
from opsweek.tui.screens.steps.base import About, Step
from opsweek.tui.widgets.paged_table import Column, PagedTable, Row, Source
from opsweek.tui.widgets.text import cell

# colour marks severity, so the worst rows stand out: red for what is due for escalation
# (and blocked work), yellow for past its limit; the rest of a stuck list stays plain
REASON_STYLES = {"blocked": "red"}
WORST_STYLE = "bold red"
WARN_STYLE = "yellow"


class ItemActions:
    """r / b / h / e / enter on a list whose rows are items (stuck items; ownership gaps)."""

    def current_item_id(self) -> int | None:  # pragma: no cover - each list says
        raise NotImplementedError

    def suggested_owner(self, item: Item) -> str | None:
        """Who the owner picker starts on: the item's owner (gaps suggest the cover)."""
        return item.owner

    def _item(self) -> Item | None:
        item_id = self.current_item_id()
        if item_id is None:
            return None
        if not self.session_open():
            return None
        return read.item(self.app.store, item_id)

    def action_reassign(self) -> None:
        it = self._item()
        if it is None:
            return
        outcome = self.outcome("reassigned", self.subject())
        self.pick_person_then_reason(
            title=f"New owner for #{it.id} {it.title}", current=self.suggested_owner(it),
            question=lambda handle: f"Why does #{it.id} move from {it.owner or 'nobody'} to {handle}?",
            then=lambda handle, reason: self.request_change(
                changes.reassign_item, self.app.team, it.id, handle, reason=reason, outcome=outcome,
                success=f"#{it.id} now owned by {handle}"))

    def action_done(self) -> None:
        """c: the item is finished (its pending handoff is withdrawn)."""
        it = self._item()
        if it is None:
            return
        self.request_change(changes.finish_item, it.id, outcome=self.outcome("done", self.subject()),
                            success=f"#{it.id} done")

    def action_drop(self) -> None:
        """x: drop the item, saying why."""
        it = self._item()
        if it is None:
            return
        outcome = self.outcome("dropped", self.subject())

        def reasoned(reason: str | None) -> None:
            if reason:
                self.request_change(changes.drop_item, it.id, reason, outcome=outcome,
                                    success=f"#{it.id} dropped")

        self.app.push_screen(TextPrompt(f"Drop #{it.id} {it.title}", placeholder="why is it dropped?",
                                        required=True, check=lambda text: inputs.problem(inputs.check_drop_reason,
                                                                                          text)), reasoned)

    def action_due(self) -> None:
        """u: a new due date for the item (empty clears it)."""
        it = self._item()
        if it is None:
            return

        def dated(text: str | None) -> None:
            if text is None:
                return
            due = clock.parse_date(text, "due") if text else None
            self.request_change(changes.set_item_due, it.id, due,
                                success=f"#{it.id} due {due.isoformat()}" if due else f"#{it.id} has no due date")

        def check(text: str) -> str | None:
            if text:
                clock.parse_date(text, "due")  # a problem is shown in the prompt
            return None

        self.app.push_screen(TextPrompt(f"Due date for #{it.id} {it.title}"
                                        + (f" (now {it.due.isoformat()})" if it.due else ""),
                                        value=it.due.isoformat() if it.due else "",
                                        placeholder="fri, +3d, 1 Dec, 2026-12-01; empty: no due date",
                                        check=check), dated)

    def action_block(self) -> None:
        it = self._item()
        if it is None:
            return
        if it.status == "blocked":
            self.request_change(changes.unblock_item, it.id, success=f"#{it.id} unblocked",
                                outcome=self.outcome("unblocked", self.subject()))
            return

        def reasoned(reason: str | None) -> None:
            if reason:
                self.request_change(changes.block_item, it.id, reason, success=f"#{it.id} blocked")

        self.app.push_screen(TextPrompt(f"Block #{it.id} {it.title}", placeholder="what is it waiting on?",
                                        required=True, check=lambda text: inputs.problem(inputs.check_block_reason,
                                                                                          text)), reasoned)

    def action_hand_off(self) -> None:
        it = self._item()
        if it is None:
            return
        session = self.session
        team = self.app.team
        stages = team.stages_by_workflow.get(it.workflow, [])
        if len(stages) < 2:
            self.notify(f"{it.workflow} has only one stage; nowhere to hand #{it.id} to", severity="warning")
            return
        first, last = session.week
        notes = {}
        for stage in stages:
            problem, cover = rules.owner_problem(stage.owner, team.people, first, last)
            if problem:
                notes[stage.key] = problem + (f"; {cover} covers" if cover else "")

        outcome = self.outcome("handed off", self.subject())

        def picked(stage: str | None) -> None:
            if stage:
                self.request_change(changes.hand_off, team, it.id, to_stage=stage, outcome=outcome,
                                    success=f"#{it.id} handed off to {stage}")

        self.app.push_screen(StagePicker(stages, current=it.stage, title=f"Hand off #{it.id} {it.title}",
                                         notes=notes), picked)

    def action_escalate(self) -> None:
        it = self._item()
        if it is None:
            return
        store, now = self.app.store, self.app.now()
        # the item itself when it is past its stage's max_days, else its late handoff
        refused = changes.escalation_refused(store, item_id=it.id, now=now)
        if refused is None:
            escalate(self, item=it, outcome=self.outcome("escalated", self.subject()))
            return
        pending = read.pending_handoff_for(store, it.id)
        if pending is not None and changes.escalation_refused(store, handoff_id=pending.id, now=now) is None:
            escalate(self, handoff=pending, outcome=self.outcome("escalated", self.subject()))
            return
        self.notify(refused, severity="warning", markup=False)

    def action_details(self) -> None:
        item_id = self.current_item_id()
        if item_id is not None:
            self.app.push_screen(ItemDetails(item_id, absent=self.session.absent))


def escalate(step: Step, handoff=None, item=None, outcome=None) -> None:
    """Escalate to the next tier of the path: say first when it is not due (no note is
    asked for then), else ask why (optional) and record it (with ``outcome``, the
    session's outcome for the row it was escalated from)."""
    app = step.app
    now = app.now()
    if handoff is not None:
        refused = changes.escalation_refused(app.store, handoff_id=handoff.id, now=now)
        states = read.handoff_escalation_states(app.store, app.team, [handoff], now)
        state, what = states[handoff.id], f"handoff {handoff.id} (#{handoff.item_id})"
    else:
        refused = changes.escalation_refused(app.store, item_id=item.id, now=now)
        states = read.item_escalation_states(app.store, app.team, [item], now)
        state, what = states[item.id], f"#{item.id}"
    if refused is not None or state.due is None:
        step.notify(refused or f"{what} is not due for escalation", severity="warning", markup=False)
        return
    to = state.due

    def reasoned(reason: str | None) -> None:
        if reason is None:
            return
        if handoff is not None:
            step.request_change(changes.escalate_handoff, handoff.id, reason=reason or None, outcome=outcome,
                                success=f"{what} escalated to {to.to}, tier {to.tier}")
        else:
            step.request_change(changes.escalate_item, item.id, reason=reason or None, outcome=outcome,
                                success=f"{what} escalated to {to.to}, tier {to.tier}")

    title = f"Escalate {what} to {to.to} (tier {to.tier})"
    app.push_screen(TextPrompt(title, placeholder="note for the escalation (optional)"), reasoned)


def escalation_cell(state) -> Text:
    """A row's place on its escalation path, compactly: the tier reached (``t0``: never
    escalated; ``t2 carla``) and who is next (``→ carla now`` when due)."""
    if state is None:
        return Text("")
    reached = Text(f"t{state.last.tier} {state.last.to_handle}" if state.last else "t0",
                   style="cyan" if state.last else "dim")
    if state.due is not None:
        return Text.assemble(reached, (f" → {state.due.to} now", "bold red"))
    if state.next is not None:
        return Text.assemble(reached, (f" · next {state.next.to}", "dim"))
    return Text.assemble(reached, (" · no one next", "dim"))


class StuckItemsStep(ItemActions, Step):
    key = "stuck"
    hint = ("r reassign · b block/unblock · h hand off · e escalate · c done · x drop · u due date · k keep as is"
            " · d/a/o decision/action/note · + new item · enter details & SOP")

    BINDINGS = [
        Binding("r", "reassign", "Reassign"),
        Binding("b", "block", "Block/unblock"),
        Binding("h", "hand_off", "Hand off"),
        Binding("c", "done", "Done"),
        Binding("x", "drop", "Drop"),
        Binding("k", "keep", "Keep as is"),
        Binding("u", "due", "Due date", show=False),
        Binding("e", "escalate", "Escalate", show=False),
    ]

    # the key columns first (at 80 columns the last ones leave the screen); titles and
    # reasons take a share of a wide terminal
    COLUMNS = [
        Column("item", "item", sort=True),
        Column("title", "title", grow=0.24, min_width=12, sort=True),
        Column("owner", "owner", sort=True),
        Column("in stage", "in stage", sort=True),
        Column("why", "why stuck", grow=0.3, min_width=18),
        Column("escalation", "escalation"),
        Column("workflow", "workflow / stage", sort=True),
    ]

    def body(self) -> ComposeResult:
        table = PagedTable(id="stuck-table")
        table.source = Source(self.page, self.count, filtered=True, group=lambda it: it.workflow)
        table.set_columns(self.COLUMNS)
        yield table

    # -- the list, read in a worker thread ------------------------------------------------

    def count(self, view=None) -> int:
        app = self.app
        return read.stuck_count(app.store, app.team, app.now(), app.today(), view=view)

    def page(self, offset: int, limit: int, view=None) -> list[Row]:
        app = self.app
        now = app.now()
        rows = []
        page = read.stuck_page(app.store, app.team, now, app.today(), limit=limit, offset=offset, view=view)
        states = read.item_escalation_states(app.store, app.team, [it for it, _ in page], now)
        for it, reasons in page:
            why = Text(no_wrap=True, overflow="ellipsis")
            for index, reason in enumerate(reasons):
                if index:
                    why.append("; ")
                why.append(rules_text(reason), style=REASON_STYLES.get(reason.kind, ""))
            late = any(r.kind == "in_stage" for r in reasons)
            state = states.get(it.id) if late else None
            worst = state is not None and state.due is not None  # due for escalation now
            rows.append(Row(str(it.id), (
                Text(f"#{it.id}", style="bold"), cell(it.title), self.owner_cell(it.owner),
                cell(clock.humanize(now - it.stage_entered_at), WORST_STYLE if worst else WARN_STYLE if late else ""),
                why, escalation_cell(state), cell(f"{it.workflow} / {it.stage}")), it))
        return rows

    def load(self) -> None:
        if self.session.meeting is not None:
            self.query_one(PagedTable).reload()

    def current_item_id(self) -> int | None:
        row = self.query_one(PagedTable).current
        return row.data.id if row else None

    def about(self) -> About | None:
        row = self.query_one(PagedTable).current
        if row is None:
            return None
        return About(f"#{row.data.id} {row.data.title}", row.data.id, row.data.workflow, row.data.owner)

    def subject(self) -> tuple[str, str] | None:
        item_id = self.current_item_id()
        return None if item_id is None else ("item", str(item_id))

    @on(DataTable.RowSelected, "#stuck-table")
    def selected(self) -> None:
        self.action_details()


def rules_text(reason: rules.Reason) -> str:
    # reasons carry user text (a blocked reason); ``Text.append`` keeps it literal
    return " ".join(str(reason).split())
