"""What every session step shares: its title line, the session it belongs to, owner cells."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label

from opsweek.agenda import STEPS
from opsweek.text import one_line
from opsweek.tui.app import READ_ONLY_NOTICE, ChangeRequested
from opsweek.tui.widgets.paged_table import PagedTable

if TYPE_CHECKING:
    from opsweek.tui.screens.session import SessionScreen

ABSENT_STYLE = "bold yellow"
LATE_STYLE = "bold red"


@dataclass(frozen=True)
class About:
    """What a decision or action recorded on a row is about."""

    label: str
    item_id: int | None = None
    workflow: str | None = None


class Step(Vertical):
    """One agenda step: a title line, a hint with its keys, and its body."""

    key: ClassVar[str] = ""
    hint: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__(id=f"step-{self.key}", classes="step")

    @property
    def title(self) -> str:
        return next(step.title for step in STEPS if step.key == self.key)

    @property
    def session(self) -> "SessionScreen":
        return self.screen  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with Horizontal(classes="step-head"):
            yield Label(self.title, classes="step-title")
            yield Label("", classes="step-position", id=f"{self.key}-position")
        yield Label(self.hint, classes="step-hint")
        yield from self.body()

    def body(self) -> ComposeResult:
        yield from ()

    # -- what the session asks of a step ---------------------------------------------

    def load(self) -> None:
        """Read the step's data again (when it is shown, and after every change)."""

    def focus_main(self) -> None:
        for widget in self.query("DataTable"):
            widget.focus()
            return

    def about(self) -> About | None:
        """What the highlighted row is, for a decision or action recorded on it."""
        return None

    def request_change(self, change: Callable[..., Any], *args: Any, success: str | None = None,
                       meeting: bool = True, then: Callable[[Any], None] | None = None, **kwargs: Any) -> None:
        """Ask for one change, made in this session (``meeting=False``: the change names the
        session itself, like rating it). The app writes it, notifies and reloads the session."""
        self.post_message(ChangeRequested(change, args, kwargs, success=success, then=then,
                                          meeting_id=self.session.meeting_id if meeting else None))

    def session_open(self) -> bool:
        """True while the session takes changes; says so when it is closed (or only viewed)."""
        if self.session.read_only:
            self.notify(READ_ONLY_NOTICE, severity="warning")
            return False
        if self.session.closed:
            self.notify("this session is closed", severity="warning")
            return False
        return True

    def pick_person_then_reason(self, *, title: str, current: str | None, question, then) -> None:
        """The owner picker, then an optional reason: ``then(handle, reason or None)``.

        ``question(handle)`` is the reason prompt; escaping either dialog changes nothing.
        """
        from opsweek.tui.modal.owner_picker import OwnerPicker
        from opsweek.tui.modal.text_prompt import TextPrompt

        def picked(handle: str | None) -> None:
            if not handle:
                return

            def reasoned(reason: str | None) -> None:
                if reason is not None:
                    then(handle, reason or None)

            self.app.push_screen(TextPrompt(question(handle), placeholder="reason (optional, for the notes)"),
                                 reasoned)

        self.app.push_screen(OwnerPicker(self.app.team.people, title=title, current=current,
                                         week=self.session.week), picked)

    def show_position(self, text: str) -> None:
        self.query_one(f"#{self.key}-position", Label).update(text)

    def on_paged_table_page_loaded(self, message: PagedTable.PageLoaded) -> None:
        self.show_position(message.table.page_position)

    # -- cells -------------------------------------------------------------------------

    def owner_cell(self, handle: str | None) -> Text:
        """An owner, flagged when they are absent from this session."""
        if not handle:
            return Text("nobody", style=LATE_STYLE)
        if handle in self.session.absent:
            return Text.assemble(one_line(handle), (" absent", ABSENT_STYLE))
        return Text(one_line(handle))
