"""Ask for one line of text: a reason, a rating, a date. Problems are shown inline."""

from __future__ import annotations

from typing import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from opsweek.errors import OpsweekError
from opsweek.tui.widgets.text import TEXT_MAX, plain


class TextPrompt(ModalScreen[str | None]):
    """One line of text; dismisses with it (stripped), or None on escape.

    ``check`` returns a problem to show (and keeps the dialog open), or None when the
    text is fine; raising an :class:`OpsweekError` counts as a problem too. It sees empty
    text as well, so that a rule of :mod:`opsweek.inputs` ("a block needs a reason") says
    what is missing in its own words; ``required`` without a check says "cannot be empty".
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, *, placeholder: str = "", value: str = "", required: bool = False,
                 hint: str | None = None, check: Callable[[str], str | None] | None = None,
                 prompt_id: str | None = None):
        super().__init__(id=prompt_id)
        self.title_text = title
        self.placeholder = placeholder
        self.value = value
        self.required = required
        self.hint = hint or ("enter saves · escape cancels" if required else
                             "enter saves (empty is fine) · escape cancels")
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog prompt"):
            yield Label(plain(self.title_text), classes="dialog-title")
            yield Input(self.value, placeholder=self.placeholder, id="prompt-input", max_length=TEXT_MAX)
            yield Label("", id="prompt-problem", classes="problem")
            yield Label(plain(self.hint), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#prompt-input", Input).focus()

    def problem(self, text: str) -> None:
        label = self.query_one("#prompt-problem", Label)
        label.update(plain(text))
        label.display = bool(text)

    @on(Input.Changed, "#prompt-input")
    def changed(self) -> None:
        self.problem("")

    @on(Input.Submitted, "#prompt-input")
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if self.check is not None:
            try:
                problem = self.check(text)
            except OpsweekError as error:
                problem = str(error)
            if problem:
                self.problem(problem)
                return
        if self.required and not text:
            self.problem("this cannot be empty")
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
