"""Where to hand an item: the workflow's other stages, the next one highlighted."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from opsweek.store.records import Stage
from opsweek.tui.widgets.text import join, plain


class StagePicker(ModalScreen[str | None]):
    """Dismisses with the chosen stage key, or None on escape."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, stages: list[Stage], *, current: str, title: str, notes: dict[str, str] | None = None):
        super().__init__()
        self.stages = stages
        self.current = current
        self.title_text = title
        self.notes = notes or {}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(plain(self.title_text), classes="dialog-title")
            yield OptionList(*[self.option(s) for s in self.stages], id="stage-list")
            yield Label("enter hands off (to the stage owner, or their cover when away) · escape cancels",
                        classes="dialog-hint")

    def option(self, stage: Stage) -> Option:
        here = stage.key == self.current
        parts: list = [(f"{stage.position}. ", "dim"), (stage.name, "bold"), f"  ({stage.key})",
                       "  owner ", stage.owner or "nobody"]
        if self.notes.get(stage.key):
            parts += ["  ", (self.notes[stage.key], "$warning")]
        if here:
            parts += ["  ", ("— it is here", "italic")]
        return Option(join(*parts), id=stage.key, disabled=here)

    def on_mount(self) -> None:
        options = self.query_one("#stage-list", OptionList)
        keys = [s.key for s in self.stages]
        index = keys.index(self.current) + 1 if self.current in keys else 0
        if index >= len(keys):
            index = next((i for i, s in enumerate(self.stages) if s.key != self.current), 0)
        options.highlighted = index
        options.focus()

    @on(OptionList.OptionSelected, "#stage-list")
    def picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
