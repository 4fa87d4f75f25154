"""A small form: labelled one-line fields, problems shown inline, enter saves from any field.

The team's dialogs (a person, an away period, a stage, a workflow) are forms of this
kind; each says which fields it has and how a value is checked. Field values are user
text and never markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label

from opsweek.errors import OpsweekError
from opsweek.tui.widgets.text import plain


@dataclass
class FormField:
    """One line of a form: ``key`` names it in the values the form returns."""

    key: str
    label: str
    value: str = ""
    placeholder: str = ""
    disabled: bool = False
    suggestions: list[str] = field(default_factory=list)


class _Fields(VerticalScroll, can_focus=False):
    """The fields, scrolling when the terminal is short (tab moves between the inputs only)."""


class FormDialog(ModalScreen[dict | None]):
    """Dismisses with ``{key: text (stripped)}``, or None on escape.

    ``check(values)`` returns a problem to show (the form stays open) or None; raising an
    :class:`OpsweekError` counts as a problem too.
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save", show=False),
    ]

    def __init__(self, title: str, fields: list[FormField], *, about: str = "",
                 check: Callable[[dict], str | None] | None = None, hint: str | None = None,
                 dialog_id: str | None = None):
        super().__init__(id=dialog_id)
        self.title_text = title
        self.fields = fields
        self.about = about
        self.check = check
        self.hint = hint or "enter saves · tab moves between fields · escape cancels"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog form"):
            yield Label(plain(self.title_text), classes="dialog-title")
            if self.about:
                yield Label(plain(self.about), classes="dialog-hint")
            with _Fields(classes="form-fields"):
                for item in self.fields:
                    yield Label(plain(item.label), classes="field-label")
                    suggester = SuggestFromList(item.suggestions, case_sensitive=False) if item.suggestions else None
                    yield Input(item.value, placeholder=item.placeholder, id=f"form-{item.key}",
                                disabled=item.disabled, suggester=suggester)
            yield Label("", id="form-problem", classes="problem")
            yield Label(plain(self.hint), classes="dialog-hint")

    def on_mount(self) -> None:
        first = next((i for i in self.query(Input) if not i.disabled), None)
        if first is not None:
            first.focus()

    @property
    def values(self) -> dict[str, str]:
        return {item.key: self.query_one(f"#form-{item.key}", Input).value.strip() for item in self.fields}

    def problem(self, text: str) -> None:
        label = self.query_one("#form-problem", Label)
        label.update(plain(text))
        label.display = bool(text)

    @on(Input.Changed)
    def changed(self) -> None:
        self.problem("")

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        values = self.values
        if self.check is not None:
            try:
                problem = self.check(values)
            except OpsweekError as error:
                problem = str(error)
            if problem:
                self.problem(problem)
                return
        self.dismiss(values)

    def action_cancel(self) -> None:
        self.dismiss(None)
