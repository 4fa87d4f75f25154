"""A new item from the session: workflow, title, owner and due date, as they are spoken.

Enter saves from any field; a problem is shown inline and the field it is about gets the
focus. The owner may stay empty (the first stage's owner, or their cover, takes it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label

from opsweek import clock
from opsweek.errors import OpsweekError
from opsweek.store import read
from opsweek.text import unknown
from opsweek.tui.modal.entry_dialog import resolve_owner
from opsweek.tui.widgets.text import FIELD_MAX, TEXT_MAX, plain


@dataclass(frozen=True)
class NewItem:
    """A checked new item, ready for ``changes.add_item``."""

    workflow: str
    title: str
    owner: str | None
    due: date | None


class NewItemDialog(ModalScreen[NewItem | None]):
    """Dismisses with a :class:`NewItem`, or None on escape."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", "Save", show=False)]

    def __init__(self, team: read.Team, *, workflow: str | None = None, problem: str = ""):
        super().__init__()
        self.team = team
        self.workflow = workflow or ""
        self.first_problem = problem

    def compose(self) -> ComposeResult:
        active = sorted(w.key for w in self.team.workflows if w.status == "active")
        with Vertical(classes="dialog entry"):
            yield Label("New item", classes="dialog-title")
            yield Label(plain("Workflow  — " + (", ".join(active[:6]) + (" …" if len(active) > 6 else ""))),
                        classes="field-label")
            yield Input(self.workflow, id="item-workflow", max_length=FIELD_MAX, placeholder="workflow key",
                        suggester=SuggestFromList(active, case_sensitive=False))
            yield Label("Title", classes="field-label")
            yield Input("", id="item-title", max_length=TEXT_MAX, placeholder="e.g. Refund order 1182")
            yield Label("Owner (optional: the first stage's owner)", classes="field-label")
            yield Input("", id="item-owner", max_length=FIELD_MAX, placeholder="handle, e.g. ben",
                        suggester=SuggestFromList(sorted(self.team.people), case_sensitive=False))
            yield Label("Due (optional) — fri, +3d, 1 Dec, 2026-12-01", classes="field-label")
            yield Input("", id="item-due", max_length=FIELD_MAX, placeholder="no due date")
            yield Label("", id="item-problem", classes="problem")
            yield Label("enter saves · tab next field · escape cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#item-title" if self.workflow else "#item-workflow", Input).focus()
        self.show_problem(self.first_problem)

    def show_problem(self, text: str) -> None:
        label = self.query_one("#item-problem", Label)
        label.update(plain(text))
        label.display = bool(text)

    @on(Input.Changed)
    def changed(self) -> None:
        self.show_problem("")

    def value(self, field: str) -> str:
        return self.query_one(f"#item-{field}", Input).value.strip()

    def check(self) -> tuple[NewItem | None, str, str]:
        """``(item, problem, field)``: the item when everything is fine."""
        workflow = self.value("workflow").lower()
        known = {w.key: w for w in self.team.workflows}
        if workflow not in known:
            return None, unknown("workflow", workflow, known) if workflow else "Name the workflow first", "workflow"
        if known[workflow].status != "active":
            return None, f"workflow {workflow} is {known[workflow].status}; new items go to active workflows", \
                "workflow"
        title = self.value("title")
        if not title:
            return None, "Type the item's title first", "title"
        owner = None
        if self.value("owner"):
            try:
                owner = resolve_owner(self.value("owner"), self.team.people)
            except OpsweekError as error:
                return None, str(error), "owner"
            if not self.team.people[owner].active:
                return None, f"{owner} is inactive; name someone else", "owner"
        due = None
        if self.value("due"):
            try:
                due = clock.parse_date(self.value("due"), "due")
            except OpsweekError as error:
                return None, str(error), "due"
        return NewItem(workflow, title, owner, due), "", ""

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        item, problem, field = self.check()
        if item is None:
            self.show_problem(problem)
            self.query_one(f"#item-{field}", Input).focus()
            return
        self.dismiss(item)

    def action_cancel(self) -> None:
        self.dismiss(None)
