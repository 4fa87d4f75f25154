"""Record a decision or an action as it is spoken: text, owner, due date.

Quick in a meeting: enter saves from any field, a problem is shown inline next to the
field, and what was typed is never lost — the dialog edits a :class:`EntryDraft` that
its caller keeps, so escape (or a refused save) brings the same text back next time.
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

from opsweek import clock, inputs
from opsweek.errors import OpsweekError
from opsweek.store.records import Person
from opsweek.text import unknown
from opsweek.tui.modal.owner_picker import OwnerPicker
from opsweek.tui.widgets.text import FIELD_MAX, TEXT_MAX, join, plain

DEFAULT_ACTION_DAYS = inputs.ACTION_DUE_DAYS  # the rule lives in opsweek.inputs


@dataclass
class EntryDraft:
    """What has been typed so far (kept by the caller between openings)."""

    kind: str  # decision / action / note
    text: str = ""
    owner: str = ""
    due: str = ""


@dataclass(frozen=True)
class NewEntry:
    """A checked entry, ready for ``changes.record_entry``."""

    kind: str
    text: str
    owner: str | None
    due: date | None


def resolve_owner(typed: str, people: dict[str, Person]) -> str:
    """A handle from what was typed: a handle, or a name/first name that fits one person."""
    value = typed.strip()
    lowered = value.lower()
    if lowered in people:
        return lowered
    by_name = [h for h, p in people.items()
               if (p.name or "").lower() == lowered or (p.name or "").lower().split(" ")[:1] == [lowered]]
    if len(by_name) == 1:
        return by_name[0]
    raise OpsweekError(unknown("person", value, people))


class EntryDialog(ModalScreen[NewEntry | None]):
    """Dismisses with a :class:`NewEntry`, or None on escape (the draft keeps the text)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel (text kept)"),
        Binding("ctrl+o", "pick_owner", "Pick owner"),
        Binding("ctrl+s", "save", "Save", show=False),
    ]

    def __init__(self, draft: EntryDraft, people: dict[str, Person], *, about: str = "",
                 week: tuple[date, date] | None = None, problem: str = ""):
        super().__init__()
        self.draft = draft
        self.people = people
        self.about = about
        self.week = week
        self.first_problem = problem
        self.warned_due: str | None = None  # a past due date said once; enter again keeps it

    @property
    def is_action(self) -> bool:
        return self.draft.kind == "action"

    def compose(self) -> ComposeResult:
        kind = {"action": "an action", "note": "a note"}.get(self.draft.kind, "a decision")
        what = {"action": "What will be done", "note": "The note"}.get(self.draft.kind, "What was decided")
        with Vertical(classes="dialog entry"):
            yield Label(join(("Record " + kind, "bold"), *([" about ", self.about] if self.about else [])),
                        classes="dialog-title")
            yield Label(what, classes="field-label")
            # coming back to the sentence (shift+tab) must not make the next key wipe it; the
            # owner and due fields do select: typing there replaces the suggested owner or date
            yield Input(self.draft.text, id="entry-text", max_length=TEXT_MAX, select_on_focus=False,
                        placeholder={"action": "e.g. Call the courier about the late parcel",
                                     "note": "e.g. The courier changes its pickup time next week"}.get(
                                         self.draft.kind, "e.g. Triage moves to a 24h SLA"))
            yield Label("Owner" + ("" if self.is_action else " (optional)") + "  — ctrl+o to pick",
                        classes="field-label")
            yield Input(self.draft.owner, id="entry-owner", placeholder="handle, e.g. ben", max_length=FIELD_MAX,
                        suggester=SuggestFromList(sorted(self.people), case_sensitive=False))
            if self.is_action:
                default = f"in {inputs.ACTION_DUE_DAYS} days"
                yield Label(f"Due  — fri, +3d, 1 Dec, 2026-12-01; empty: {default}", classes="field-label")
                yield Input(self.draft.due, id="entry-due", placeholder=default, max_length=FIELD_MAX)
                yield Label("", id="entry-due-shown", classes="dialog-hint")
            yield Label("", id="entry-problem", classes="problem")
            yield Label("enter saves · tab next field · escape cancels (your text is kept)", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#entry-text", Input).focus()
        self.show_due()
        self.show_problem(self.first_problem)

    # -- live feedback ------------------------------------------------------------------

    def show_problem(self, text: str) -> None:
        label = self.query_one("#entry-problem", Label)
        label.update(plain(text))
        label.display = bool(text)

    def parse_due(self) -> date | None:
        typed = self.draft.due.strip()
        return inputs.action_due(clock.today(), clock.parse_date(typed, "due") if typed else None)

    def show_due(self) -> None:
        if not self.is_action:
            return
        shown = self.query_one("#entry-due-shown", Label)
        try:
            due = self.parse_due()
        except OpsweekError:
            shown.update("")
            return
        past = inputs.past_due_warning(due, clock.today())
        shown.update(join(f"→ {due:%a %Y-%m-%d}", *([("  — in the past", "$warning")] if past else [])))

    @on(Input.Changed)
    def changed(self, event: Input.Changed) -> None:
        field = (event.input.id or "").removeprefix("entry-")
        if field in ("text", "owner", "due"):
            setattr(self.draft, field, event.value)
        if field == "due":
            self.show_due()
        self.show_problem("")

    # -- saving ---------------------------------------------------------------------------

    def check(self) -> tuple[NewEntry | None, str, str]:
        """``(entry, problem, field)``: the entry when everything is fine."""
        text = self.draft.text.strip()
        if not text:
            return None, {"action": "Type what will be done first", "note": "Type the note first"}.get(
                self.draft.kind, "Type what was decided first"), "text"
        owner = None
        if self.draft.owner.strip():
            try:
                owner = resolve_owner(self.draft.owner, self.people)
            except OpsweekError as error:
                return None, str(error), "owner"
            if not self.people[owner].active:
                return None, f"{owner} is inactive; pick someone else (ctrl+o)", "owner"
        elif self.is_action:
            return None, inputs.problem(inputs.check_action_owner, self.draft.owner) + " · ctrl+o picks one", "owner"
        due = None
        if self.is_action:
            try:
                due = self.parse_due()
            except OpsweekError as error:
                return None, str(error), "due"
            past = inputs.past_due_warning(due, clock.today())
            if past and self.warned_due != self.draft.due:
                self.warned_due = self.draft.due
                return None, past + ": enter again to keep it, or type another date", "due"
        return NewEntry(self.draft.kind, text, owner, due), "", ""

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        entry, problem, field = self.check()
        if entry is None:
            self.show_problem(problem)
            self.query_one(f"#entry-{field}", Input).focus()
            return
        self.dismiss(entry)

    def action_pick_owner(self) -> None:
        def picked(handle: str | None) -> None:
            if handle:
                owner = self.query_one("#entry-owner", Input)
                owner.value = handle
                self.draft.owner = handle
                (self.query_one("#entry-due", Input) if self.is_action else owner).focus()

        current = self.draft.owner.strip().lower() or None
        self.app.push_screen(OwnerPicker(self.people, title="Owner of this " + self.draft.kind,
                                         current=current, week=self.week), picked)

    def action_cancel(self) -> None:
        self.dismiss(None)
