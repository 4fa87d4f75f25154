"""What every session step shares: its title line, the session it belongs to, owner cells."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label

from opsweek.agenda import STEPS
from opsweek.store import changes
from opsweek.store.records import Outcome
from opsweek.text import one_line
from opsweek.tui.app import READ_ONLY_NOTICE, ChangeRequested
from opsweek.tui.widgets.paged_table import PagedTable
from opsweek.tui.widgets.text import line

if TYPE_CHECKING:
    from opsweek.tui.screens.session import SessionScreen

ABSENT_STYLE = "bold yellow"
LATE_STYLE = "bold red"


# the steps' actions that change something (hidden once the session is closed)
CHANGING = frozenset({"toggle", "done", "carry", "drop", "reassign", "block", "hand_off", "escalate", "keep",
                      "due", "accept", "assign", "cover", "rate", "rate_each", "close_session"})


@dataclass(frozen=True)
class About:
    """What a decision or action recorded on a row is about."""

    label: str
    item_id: int | None = None
    workflow: str | None = None
    owner: str | None = None  # who an action on it is for, unless the facilitator says otherwise


def active_owner(people: dict, handle: str | None) -> str:
    """``handle`` when that person is on the team and active, else "": whom an action on a
    row is suggested for (the facilitator can always say otherwise)."""
    person = people.get(handle) if handle else None
    return handle if person is not None and person.active else ""


class Step(Vertical):
    """One agenda step: a title line, a hint with its keys, and its body."""

    key: ClassVar[str] = ""
    hint: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__(id=f"step-{self.key}", classes="step")

    @property
    def title(self) -> str:
        return next(step.title for step in STEPS if step.key == self.key)

    _session: "SessionScreen | None" = None

    @property
    def session(self) -> "SessionScreen":
        """The session screen this step is on (found once: every owner cell of a page asks)."""
        if self._session is None:
            self._session = self.screen  # type: ignore[assignment]
        return self._session  # type: ignore[return-value]

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

    def leave(self) -> None:
        """The session moves to another step: its paged lists empty themselves (see
        :meth:`PagedTable.blank`), so that showing this step again draws no stale rows."""
        for table in self.query(PagedTable):
            table.blank()

    def focus_main(self) -> None:
        for widget in self.query("DataTable"):
            widget.focus()
            return

    def about(self) -> About | None:
        """What the highlighted row is, for a decision or action recorded on it."""
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A closed session takes no changes: its changing keys leave the footer. While the
        session is reading another step to show it, this step's keys do nothing (its rows are
        about to leave the screen)."""
        if self.session.showing not in (None, self.key):
            return False
        if action in CHANGING and self.session.closed:
            return False
        return True

    def subject(self) -> tuple[str, str] | None:
        """The highlighted row as an outcome's subject (``("item", "42")``), where rows get outcomes."""
        return None

    def outcome(self, word: str, subject: tuple[str, str] | None) -> Outcome | None:
        """The outcome ``word`` for ``subject`` (a row of this step), or None where rows get none."""
        if subject is None or self.key not in changes.OUTCOME_STEPS or self.session.meeting_id is None:
            return None
        return Outcome(self.session.meeting_id, self.key, subject[0], str(subject[1]), word)

    def request_change(self, change: Callable[..., Any], *args: Any, success: str | None = None,
                       meeting: bool = True, then: Callable[[Any], None] | None = None,
                       outcome: Outcome | None = None, **kwargs: Any) -> None:
        """Ask for one change, made in this session (``meeting=False``: the change names the
        session itself, like rating it). The app writes it, with ``outcome`` for the row it
        is about, notifies and reloads the session: at once (a step runs on the UI thread), so
        that the row shows the change in the frame that closes the dialog, not one frame later."""
        self.app.apply_change(ChangeRequested(change, args, kwargs, success=success, then=then, outcome=outcome,
                                              meeting_id=self.session.meeting_id if meeting else None))

    def action_keep(self) -> None:
        """k: the session looked at the row and keeps it as it is."""
        subject = self.subject()
        outcome = self.outcome("kept as is", subject)
        if outcome is None or not self.session_open():
            return
        self.request_change(changes.keep_as_is, outcome, meeting=False,
                            success=f"{subject_words(subject)} kept as is")

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
        # one line of a fixed width (the step's head): no new layout of the screen for it;
        # literal, never markup: it carries the filter a person typed ('filter "[/]"')
        self.query_one(f"#{self.key}-position", Label).update(line(text), layout=False)

    def on_paged_table_page_loaded(self, message: PagedTable.PageLoaded) -> None:
        self.page_position = message.table.page_position
        self.show_reviewed()

    page_position = ""

    def show_reviewed(self) -> None:
        """The page position, and how many of the step's rows the session has reviewed
        (``7 of 22 reviewed``, counted by the session's counts worker)."""
        if self.key not in changes.OUTCOME_STEPS:
            return  # the other steps say their own position
        reviewed = self.session.reviewed.get(self.key)
        text = self.page_position
        if reviewed is not None:
            text = (f"{text} · " if text else "") + f"{reviewed[0]:,} of {reviewed[1]:,} reviewed"
        self.show_position(text)

    # -- cells -------------------------------------------------------------------------

    def owner_cell(self, handle: str | None) -> Text:
        """An owner, flagged when they are absent from this session."""
        if not handle:
            return Text("nobody", style=LATE_STYLE)
        if handle in self.session.absent:
            return Text.assemble(one_line(handle), (" absent", ABSENT_STYLE))
        return Text(one_line(handle))


def subject_words(subject: tuple[str, str] | None) -> str:
    """``#42``, ``handoff 7``, ``stage complaints/triage``: a row named for a notice."""
    if subject is None:
        return ""
    kind, key = subject
    return f"#{key}" if kind == "item" else f"{kind} {key}"
