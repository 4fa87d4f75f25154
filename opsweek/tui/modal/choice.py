"""A question with a few answers, each on its own key; escape answers None."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label

from opsweek.tui.widgets.text import join, plain


class Choice(ModalScreen[str | None]):
    """Dismisses with the key of the answer pressed (``answers``: key -> what it does)."""

    BINDINGS = [Binding("escape", "answer_none", "Back")]

    def __init__(self, question: str, answers: dict[str, str], *, detail: str = ""):
        super().__init__()
        self.question = question
        self.answers = answers
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog confirm"):
            yield Label(plain(self.question), classes="dialog-title")
            if self.detail:
                yield Label(plain(self.detail), classes="dialog-detail")
            for key, words in self.answers.items():
                yield Label(join((key, "bold $accent"), "  ", words), classes="dialog-detail")
            yield Label("escape: back", classes="dialog-hint")

    def on_key(self, event: events.Key) -> None:
        if event.key in self.answers:
            event.stop()
            self.dismiss(event.key)

    def action_answer_none(self) -> None:
        self.dismiss(None)
