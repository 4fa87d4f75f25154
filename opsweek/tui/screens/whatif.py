"""What-if: pick people to mark away (and a volume multiplier) and see what would break.

Stages, workflows, items and pending handoffs that lose their owner, who would cover
them, which handoffs would reach nobody, which stages would breach their SLA, and whose
load would grow. Nothing is written: this is :func:`opsweek.rules.what_if` on the
current data, recomputed in a worker as the selection changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Input, Label, SelectionList
from textual.widgets.selection_list import Selection
from textual.worker import get_current_worker

from opsweek import clock, inputs, rules
from opsweek.errors import InputError
from opsweek.store import read
from opsweek.tui.widgets.footer import KeysFooter
from opsweek.tui.widgets.text import FIELD_MAX, cell, join

SHOWN = 200  # rows per section; the count says how many there are in all
LATE = "bold red"
WARN = "yellow"
GOOD = "green"
VOLUME_RANGE = (inputs.VOLUME_MIN, inputs.VOLUME_MAX)


def parse_volume(text: str) -> float:
    """The volume multiplier typed by the user (an empty field is this week's work, 1);
    the rule is :func:`opsweek.inputs.check_volume`, whose :class:`InputError` says what is accepted."""
    return inputs.check_volume(text) if (text or "").strip() else 1.0


class WhatIfScreen(Screen):
    """People on the left (space marks away, type to filter), the consequences on the right."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+r", "clear", "Nobody away"),
        Binding("ctrl+f", "focus_filter", "Filter people"),
    ]

    @dataclass
    class Computed(Message):
        result: rules.WhatIf
        first: object
        last: object
        data: tuple[list, list]  # what it was computed from: kept for the next computation
        generation: int  # of the data (reload starts a new one)
        asked: int  # which request it answers: only the newest one's result is shown

    def __init__(self, away: list[str] | None = None, volume: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.away: set[str] = set(away or [])
        self.volume = volume
        self.data: tuple[list, list] | None = None  # open items, pending handoffs (read once)
        self.data_generation = 0
        # every keystroke that changes the question counts up; a result of an older one (a
        # worker finishing late) is dropped, so it never paints over a newer volume error
        self.asked = 0
        self.volume_problem = False

    def compose(self) -> ComposeResult:
        yield Label("What-if: pressure-test the team  —  nothing is written", classes="screen-title")
        with Horizontal(id="whatif"):
            with Vertical(id="whatif-controls"):
                yield Label("Mark away (space)", classes="section-title")
                yield Input(placeholder="filter people", id="whatif-filter", max_length=FIELD_MAX)
                yield SelectionList[str](id="whatif-people")
                yield Label("Volume multiplier", classes="section-title")
                yield Input(value=f"{self.volume:g}", placeholder="1.5 = 50% more work", id="whatif-volume",
                            max_length=FIELD_MAX)
            with VerticalScroll(id="whatif-results"):
                yield Label("", id="whatif-summary")
                for key, title in SECTIONS.items():
                    yield Label(title, classes="section-title", id=f"whatif-{key}-title")
                    yield DataTable(id=f"whatif-{key}", classes="whatif-table", cursor_type="row")
        yield KeysFooter()

    def on_mount(self) -> None:
        for key, columns in COLUMNS.items():
            self.query_one(f"#whatif-{key}", DataTable).add_columns(*columns)
        self.fill_people("")
        self.query_one("#whatif-people", SelectionList).focus()
        self.recompute()

    # -- the people list ----------------------------------------------------------------

    def person_prompt(self, handle: str) -> Content:
        team = self.app.team
        person = team.people[handle]
        today = self.app.today()
        parts: list = [(handle, "bold"), "  ", person.name or ""]
        if not person.active:
            parts.append(("  inactive", "dim"))
        elif rules.is_away(person, today, today):
            parts.append(("  away now", WARN))
        if person.active and not person.cover:
            parts.append(("  no cover", LATE))
        elif person.active:
            parts.append((f"  cover {person.cover}", "dim"))
        return join(*parts)

    def fill_people(self, text: str) -> None:
        needle = text.strip().lower()
        people = self.app.team.people
        handles = [h for h in sorted(people) if people[h].active and
                   (not needle or needle in h or needle in (people[h].name or "").lower())]
        selection = self.query_one("#whatif-people", SelectionList)
        selection.clear_options()
        selection.add_options([Selection(self.person_prompt(h), h, h in self.away) for h in handles])
        if handles:
            selection.highlighted = 0

    @on(Input.Changed, "#whatif-filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.fill_people(event.value)

    @on(Input.Submitted, "#whatif-filter")
    def filter_submitted(self, event: Input.Submitted) -> None:
        self.query_one("#whatif-people", SelectionList).focus()

    @on(SelectionList.SelectedChanged, "#whatif-people")
    def people_changed(self, event: SelectionList.SelectedChanged) -> None:
        selection = event.selection_list
        visible = {selection.get_option_at_index(n).value for n in range(selection.option_count)}
        away = (self.away - visible) | set(selection.selected)
        if away != self.away:
            self.away = away
            self.recompute()

    @on(Input.Changed, "#whatif-volume")
    def volume_changed(self, event: Input.Changed) -> None:
        try:
            volume = parse_volume(event.value)
        except InputError as error:
            self.asked += 1  # whatever is still being worked out answers an older question
            self.volume_problem = True
            self.query_one("#whatif-summary", Label).update(join(("volume: ", LATE), (str(error), LATE)))
            return
        if volume != self.volume or self.volume_problem:
            self.volume = volume
            self.volume_problem = False
            self.recompute()

    # -- computing ----------------------------------------------------------------------

    def recompute(self) -> None:
        self.asked += 1
        if self.volume_problem:  # the error stays until the volume is one again
            return
        if not self.away:
            self.show_summary_text(join(("Mark people away on the left (space) to see what would break. ",
                                         "dim"), ("People with no cover are the risk.", "dim")))
            for key in SECTIONS:
                self.query_one(f"#whatif-{key}", DataTable).clear()
                self.query_one(f"#whatif-{key}-title", Label).update(SECTIONS[key])
            return
        self.show_summary_text(join(("working it out…", "dim")))
        app = self.app
        self._compute(sorted(self.away), self.volume, app.team, app.now(), self.data, self.data_generation,
                      self.asked)

    def show_summary_text(self, content: Content) -> None:
        self.query_one("#whatif-summary", Label).update(content)

    @work(thread=True, exclusive=True, group="whatif", exit_on_error=False)
    def _compute(self, away: list[str], volume: float, team: read.Team, now, data: tuple[list, list] | None,
                 generation: int, asked: int) -> None:
        first, last = clock.week_bounds(clock.iso_week(now))
        if data is None:
            data = self._read(self.app)
        if get_current_worker().is_cancelled:
            return
        items, pending = data
        result = rules.what_if(away, volume, team.people, team.workflows, team.stages, items, pending, now,
                               first, last)
        if not get_current_worker().is_cancelled:
            self.post_message(self.Computed(result, first, last, data, generation, asked))

    @staticmethod
    def _read(app) -> tuple[list, list]:
        """Open items and pending handoffs, on a connection of the worker's own."""
        with app.reader() as store:
            return read.open_items(store), read.pending_handoffs(store)

    @on(Computed)
    def show(self, message: Computed) -> None:
        if message.generation == self.data_generation:
            self.data = message.data
        result = message.result
        if message.asked != self.asked:
            return  # a newer question was asked since (or the volume typed is wrong): not this answer
        names = ", ".join(result.away)
        scale = f" with ×{result.volume:g} the work" if result.volume != 1 else ""
        nobody = result.to_nobody
        uncovered_stages = [s for s in result.stages if s.cover is None]
        lines = [
            join(("What if ", "bold"), (names, "bold"), (f" {'is' if len(result.away) == 1 else 'are'} away", "bold"),
                 f" ({message.first:%a %d %b} – {message.last:%a %d %b}){scale}"),
            join(f"{_n(len(result.stages), 'stage')} {'loses its' if len(result.stages) == 1 else 'lose their'} owner (",
                 (f"{len(uncovered_stages)} with nobody to cover", LATE if uncovered_stages else GOOD), ")  ·  ",
                 f"{_n(len(result.items), 'item')}  ·  ",
                 (f"{_n(len(nobody), 'handoff')} would reach nobody", LATE if nobody else GOOD), "  ·  ",
                 (f"{_n(len(result.breaches), 'stage')} would breach", LATE if result.breaches else GOOD)),
        ]
        if nobody or uncovered_stages:
            lines.append(join(("Name a cover before they leave: ", LATE),
                              ", ".join(sorted({x.owner for x in [*nobody, *uncovered_stages]}))))
        elif not result.breaches:
            lines.append(join(("The system holds: every stage and handoff has someone.", GOOD)))
        self.show_summary_text(Content("\n").join(lines))

        def covered(lost) -> Text:
            return Text(lost.cover, style=GOOD) if lost.cover else Text("nobody", style=LATE)

        rows = {
            "stages": [[cell(x.label), cell(x.owner), covered(x)] for x in result.stages],
            "workflows": [[cell(x.label), cell(x.owner), covered(x)] for x in result.workflows],
            "handoffs": [[cell(x.label), cell(f"{x.workflow}/{x.stage}"), cell(x.owner), covered(x)]
                         for x in sorted(result.handoffs, key=lambda x: (x.cover is not None, x.label))],
            "breaches": [[cell(f"{b.workflow}/{b.stage}"), cell(b.why, LATE)] for b in result.breaches],
            "items": [[cell(x.label), cell(f"{x.workflow}/{x.stage}"), cell(x.owner), covered(x)]
                      for x in sorted(result.items, key=lambda x: (x.cover is not None, x.workflow, x.label))],
            "load": [[cell(m.who) if m.who else cell("nobody", LATE), cell(f"{m.usual:g}"),
                      Text(f"{m.then:g}", style=LATE if m.who is None else WARN if m.then > m.usual else "")]
                     for m in result.moves],
        }
        for key, title in SECTIONS.items():
            table = self.query_one(f"#whatif-{key}", DataTable)
            table.clear()
            section = rows[key]
            for row in section[:SHOWN]:
                table.add_row(*row)
            more = f" — showing {SHOWN:,} of {len(section):,}" if len(section) > SHOWN else ""
            self.query_one(f"#whatif-{key}-title", Label).update(
                join((title, ""), (f" ({len(section):,})", "bold" if section else "dim"), more))
            table.display = bool(section)

    # -- keys -----------------------------------------------------------------------------

    def action_clear(self) -> None:
        self.away = set()
        self.fill_people(self.query_one("#whatif-filter", Input).value)
        self.recompute()

    def action_focus_filter(self) -> None:
        self.query_one("#whatif-filter", Input).focus()

    def action_back(self) -> None:
        self.app.pop_screen()

    def reload(self) -> None:
        """Data changed (an undo, or back from another screen): read it again."""
        self.data = None
        self.data_generation += 1  # a computation on the old data keeps its result, not its data
        self.recompute()

    def on_screen_resume(self) -> None:
        if self.data is not None:  # back from another screen: the data may have changed
            self.reload()


SECTIONS = {
    "stages": "Stages that lose their owner",
    "handoffs": "Pending handoffs that lose their receiver",
    "breaches": "Stages that would breach their SLA",
    "workflows": "Workflows that lose their owner",
    "items": "Open items that lose their owner",
    "load": "Load that moves (open items each holds this week → then)",
}
COLUMNS = {
    "stages": ("Stage", "Owner", "Covered by"),
    "workflows": ("Workflow", "Owner", "Covered by"),
    "handoffs": ("Handoff", "Into", "Receiver", "Covered by"),
    "breaches": ("Stage", "Why"),
    "items": ("Item", "Where", "Owner", "Covered by"),
    "load": ("Person", "Now", "Then"),
}


def _n(count: int, noun: str) -> str:
    """``1 stage``, ``2 stages``, ``1,204 items``."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"
