"""Pick a person: filters as you type, shows who is away or inactive; enter picks."""

from __future__ import annotations

from datetime import date

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from opsweek import clock, rules
from opsweek.store.records import Person
from opsweek.tui.widgets.text import FIELD_MAX, join, plain


def availability(person: Person, people: dict[str, Person], week: tuple[date, date]) -> str:
    """"" when available in ``week``; otherwise why not ("inactive", "away 11-23→11-27, cover ben")."""
    if not person.active:
        return "inactive"
    first, last = week
    periods = [p for p in person.away or [] if p.start <= last and p.end >= first]
    if not periods:
        return ""
    spans = ", ".join(f"{p.start:%m-%d}→{p.end:%m-%d}" for p in periods)
    cover = rules.cover_for(person.handle, people, first, last)
    return f"away {spans}" + (f", cover {cover}" if cover else ", no cover")


class OwnerPicker(ModalScreen[str | None]):
    """Choose a person by handle or name. Dismisses with the handle, or None on escape.

    Inactive people are listed (so nobody wonders where they went) but cannot be picked.
    Typing an exact handle and pressing enter picks it even if another row is highlighted.
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("down", "move(1)", "Next", show=False),
        Binding("up", "move(-1)", "Previous", show=False),
        Binding("pagedown", "move(10)", show=False),
        Binding("pageup", "move(-10)", show=False),
    ]

    def __init__(self, people: dict[str, Person], *, title: str, current: str | None = None,
                 week: tuple[date, date] | None = None):
        super().__init__()
        self.people = people
        self.title_text = title
        self.current = current
        today = clock.today()
        self.week = week or (today, today)
        self.notes = {h: availability(p, people, self.week) for h, p in people.items()}
        # available people first, then away, then inactive; each by handle
        self.order = sorted(people, key=lambda h: (not people[h].active, bool(self.notes[h]), h))

    def compose(self) -> ComposeResult:
        with Vertical(id="picker", classes="dialog"):
            yield Label(plain(self.title_text), id="picker-title", classes="dialog-title")
            yield Input(placeholder="type a handle or name to filter", id="picker-filter", max_length=FIELD_MAX)
            yield OptionList(id="picker-list")
            yield Label("", id="picker-hint", classes="dialog-hint")

    def on_mount(self) -> None:
        self.fill("")
        self.query_one("#picker-filter", Input).focus()

    def matches(self, text: str) -> list[str]:
        needle = text.strip().lower()
        if not needle:
            return list(self.order)
        found = [h for h in self.order if needle in h or needle in (self.people[h].name or "").lower()]
        # a handle that starts with what was typed beats a match inside a name
        found.sort(key=lambda h: (not h.startswith(needle), self.order.index(h)))
        return found

    def fill(self, text: str) -> None:
        options = self.query_one("#picker-list", OptionList)
        options.clear_options()
        handles = self.matches(text)
        options.add_options([self.option(h) for h in handles])
        hint = self.query_one("#picker-hint", Label)
        if not handles:
            hint.update(join("nobody matches ", (repr(text.strip()), "bold"), " — escape to cancel"))
            return
        hint.update("enter picks · escape cancels")
        current = self.current if self.current in handles and not text.strip() else None
        for index, handle in enumerate(handles):
            if (current is None and self.people[handle].active) or handle == current:
                options.highlighted = index
                break

    def option(self, handle: str) -> Option:
        person = self.people[handle]
        note = self.notes[handle]
        style = "$error" if note == "inactive" else "$warning"
        parts: list = [(handle, "bold"), "  ", person.name or ""]
        if person.role:
            parts += ["  ", (person.role, "dim")]
        if note:
            parts += ["  ", (note, style)]
        if handle == self.current:
            parts += ["  ", ("(current)", "italic")]
        return Option(join(*parts), id=handle, disabled=not person.active)

    @on(Input.Changed, "#picker-filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.fill(event.value)

    def action_move(self, step: int) -> None:
        options = self.query_one("#picker-list", OptionList)
        if not options.option_count:
            return
        start = options.highlighted if options.highlighted is not None else -1
        index = start
        for _ in range(options.option_count):
            index = max(0, min(options.option_count - 1, index + step))
            if not options.get_option_at_index(index).disabled:
                options.highlighted = index
                return
            if index in (0, options.option_count - 1):
                break

    @on(Input.Submitted, "#picker-filter")
    def submitted(self, event: Input.Submitted) -> None:
        typed = event.value.strip().lower()
        if typed in self.people and self.people[typed].active:
            self.dismiss(typed)
            return
        options = self.query_one("#picker-list", OptionList)
        if options.highlighted is not None:
            option = options.get_option_at_index(options.highlighted)
            if not option.disabled:
                self.dismiss(option.id)
                return
        if typed in self.people:
            self.query_one("#picker-hint", Label).update(join((typed, "bold"), " is inactive; pick someone else"))

    @on(OptionList.OptionSelected, "#picker-list")
    def picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
