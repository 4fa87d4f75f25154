"""The team: people with their role, cover, away periods, whether they are active, and
what each owns (workflows, stages, open items, pending handoffs).

``+`` adds a person, ``enter`` / ``e`` edits one, ``a`` marks them away (from / to as
people type dates), ``b`` says they are back, ``i`` makes them inactive (or active
again). Every change is written at once with its audit event (ctrl+z undoes it).
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Label

from opsweek import inputs
from opsweek.errors import OpsweekError
from opsweek.store import changes, read
from opsweek.store.records import Owns, Person
from opsweek.tui.modal.away_dialog import AwayDialog, away_period
from opsweek.tui.modal.confirm import Confirm
from opsweek.tui.modal.person_dialog import PersonDialog
from opsweek.tui.widgets.footer import KeysFooter
from opsweek.tui.widgets.paged_table import Column, PagedTable, Row, Source
from opsweek.tui.widgets.text import cell, join, line

LATE = "bold red"
WARN = "yellow"


def owns_text(owns: Owns | None) -> str:
    """``1 workflow, 2 stages, 4 items, 1 handoff`` (empty when they own nothing)."""
    if owns is None:
        return ""
    parts = [(owns.workflows, "workflow"), (owns.stages, "stage"), (owns.items, "item"), (owns.handoffs, "handoff")]
    return ", ".join(f"{n} {noun}{'s' if n != 1 else ''}" for n, noun in parts if n)


def short_period(start, end, today) -> str:
    """``22–27 Nov``, ``30 Nov–2 Dec``, ``1 Dec``, ``from 21 Nov`` (until back); the year
    only when it is not this year's: narrow enough for 80 columns."""
    def day(value, month: bool = True) -> str:
        text = f"{value.day} {value:%b}" if month else str(value.day)
        return text + (f" {value.year}" if value.year != today.year else "")

    if end == inputs.OPEN_END:
        return f"from {day(start)} on"
    if start == end:
        return day(start)
    same_month = (start.year, start.month) == (end.year, end.month)
    return f"{day(start, month=not same_month)}–{day(end)}"


def away_cell(person: Person, today) -> Text:
    periods = [a for a in person.away if a.end >= today]
    if not periods:
        return cell("")
    now = any(a.start <= today for a in periods)
    return cell(", ".join(short_period(a.start, a.end, today) for a in periods), WARN if now else "")


def count_cell(n: int, style: str = "") -> Text:
    text = cell(str(n) if n else "·", style if n else "dim")
    text.justify = "right"
    return text


class TeamScreen(Screen):
    """Everyone on the team, and the keys to keep them current. A paged list that ``/``
    filters (handle, name, role, cover, what they own) and ``>`` / ``<`` sort."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("plus", "add", "Add person", key_display="+"),
        Binding("e", "edit", "Edit"),
        Binding("a", "away", "Away"),
        Binding("b", "back_today", "Back today"),
        Binding("i", "toggle_active", "Inactive / active"),
        Binding("r", "reload", "Refresh", show=False),
    ]

    # what matters in a session first; the role (also in the edit dialog) last, so that
    # 80 columns show who is there, who covers and what each owns
    COLUMNS = [
        Column("handle", "Handle", sort=True),
        Column("name", "Name", width=14, sort=True),
        Column("active", "Act", sort=True),
        Column("cover", "Cover", sort=True),
        Column("away", "Away"),
        Column("workflows", "Wf", sort=True),
        Column("stages", "Stages", sort=True),
        Column("items", "Items", sort=True),
        Column("handoffs", "Handoffs", sort=True),
        Column("role", "Role", sort=True),
    ]

    def compose(self) -> ComposeResult:
        yield Label("Team: who owns what, who covers, who is away", classes="screen-title")
        with Horizontal(id="team-head"):
            yield Label("", id="team-summary")
            yield Label("", id="team-position")
        table = PagedTable(id="team-table")
        table.filter_hint = "handle, name, role, cover or what they own"
        table.source = Source(self.page, self.count, filtered=True)  # people have no workflow to group by
        table.set_columns(self.COLUMNS)
        yield table
        yield KeysFooter()

    loaded = False

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#team-table", PagedTable).focus()

    # -- reading ------------------------------------------------------------------------

    def count(self, view=None) -> int:
        return read.team_count(self.app.store, view=view)

    def page(self, offset: int, limit: int, view=None) -> list[Row]:
        today = self.app.today()
        rows = []
        for member in read.team_page(self.app.store, limit=limit, offset=offset, view=view):
            person, owned = member
            # an inactive person who still owns work is an ownership gap: shown in red
            lost = LATE if not person.active else ""
            rows.append(Row(person.handle, (
                cell(person.handle, "bold"), cell(person.name),
                cell("yes") if person.active else cell("no", LATE),
                cell(person.cover or "—", "" if person.cover else "dim"), away_cell(person, today),
                count_cell(owned.workflows, lost), count_cell(owned.stages, lost), count_cell(owned.items, lost),
                count_cell(owned.handoffs, lost), cell(person.role, "dim")), member))
        return rows

    def reload(self) -> None:
        """Read the team again (after a change or an undo), keeping the cursor on the same person."""
        app = self.app
        today = app.today()
        everyone = list(read.people(app.store).values())
        self.loaded = True
        self.query_one("#team-table", PagedTable).reload()
        away = [p.handle for p in everyone if p.active and any(a.start <= today <= a.end for a in p.away)]
        inactive = [p.handle for p in everyone if not p.active]
        parts: list = [f"{len(everyone)} people"]
        if away:
            parts += ["  ·  away today: ", (", ".join(away), WARN)]
        if inactive:
            parts += ["  ·  inactive: ", (", ".join(inactive), "dim")]
        self.query_one("#team-summary", Label).update(join(*parts))

    wanted: str | None = None  # whom the cursor goes to once the page being read comes

    def on_paged_table_page_loaded(self, message: PagedTable.PageLoaded) -> None:
        table = message.table
        keys = [row.key for row in table.rows_data]
        if self.wanted in keys:
            table.move_cursor(row=keys.index(self.wanted))
            self.wanted = None
        self.query_one("#team-position", Label).update(line(table.page_position))  # a typed filter: literal

    @property
    def current(self) -> Person | None:
        row = self.query_one("#team-table", PagedTable).current
        return row.data.person if row else None

    # -- changes ------------------------------------------------------------------------

    def _written(self, result) -> None:
        if result is not None:
            self.reload()

    def action_add(self) -> None:
        app = self.app

        def added(values: dict | None) -> None:
            if not values:
                return
            handle = values["handle"].lower()
            self._written(app.make_change(changes.add_person, handle, values["name"],
                                      role=values["role"] or None, cover=values["cover"].lower() or None,
                                      actor=app.actor, success=f"{handle} added to the team"))
            self.select(handle)

        app.push_screen(PersonDialog(app.team.people), added)

    def action_edit(self) -> None:
        person = self.current
        if person is None:
            return
        app = self.app

        def edited(values: dict | None) -> None:
            if not values:
                return
            wanted = {}
            if values["name"] != person.name:
                wanted["name"] = values["name"]
            if values["role"] != person.role:
                wanted["role"] = values["role"]
            cover = values["cover"].lower() or None
            if cover != person.cover:
                wanted["cover"] = cover
            if not wanted:
                self.notify(f"{person.handle}: nothing changed")
                return
            self._written(app.make_change(changes.update_person, person.handle, actor=app.actor,
                                      success=f"{person.handle} updated", **wanted))

        app.push_screen(PersonDialog(app.team.people, person), edited)

    def action_away(self) -> None:
        person = self.current
        if person is None:
            return
        app = self.app

        def chosen(values: dict | None) -> None:
            if not values:
                return
            try:
                start, end = away_period(values)
            except OpsweekError as error:  # the dialog checked it; the clock may have moved on
                self.notify(str(error), severity="error")
                return
            merged = app.make_change(changes.add_away, person.handle, start, end, actor=app.actor)
            if merged is not None:
                self.notify(f"{person.handle} is away {inputs.away_text(*merged)}")
                self.reload()

        app.push_screen(AwayDialog(person.handle, person.name), chosen)

    def action_back_today(self) -> None:
        person = self.current
        if person is None:
            return
        app = self.app
        app.make_change(changes.end_away, person.handle, today=app.today(), actor=app.actor,
                    success=f"{person.handle} is back: not away from today")
        self.reload()

    def action_toggle_active(self) -> None:
        person = self.current
        if person is None:
            return
        app = self.app
        owns = owns_text(read.ownership(app.store).get(person.handle))
        if person.active:
            question = f"Make {person.handle} ({person.name}) inactive?"
            # short: the dialog does not wrap it (the audit and the gaps list what is left)
            detail = f"They still own {owns}." if owns else "They own nothing; the history keeps them."
        else:
            question, detail = f"Make {person.handle} ({person.name}) active again?", ""

        def answered(yes: bool | None) -> None:
            if yes:
                state = "inactive" if person.active else "active"
                self._written(app.make_change(changes.update_person, person.handle,
                                          active=not person.active, actor=app.actor,
                                          success=f"{person.handle} is {state}"))

        app.push_screen(Confirm(question, detail=detail), answered)

    def select(self, handle: str) -> None:
        """Put the cursor on ``handle`` (once the page being read has come, if one is)."""
        table = self.query_one("#team-table", PagedTable)
        keys = [row.key for row in table.rows_data]
        if handle in keys and not table.loading_page:
            table.move_cursor(row=keys.index(handle))
        else:
            self.wanted = handle  # the page being read puts the cursor on them

    @on(DataTable.RowSelected, "#team-table")
    def person_chosen(self, event: DataTable.RowSelected) -> None:
        self.action_edit()

    def action_reload(self) -> None:
        self.reload()

    def action_back(self) -> None:
        self.app.pop_screen()

    def on_screen_resume(self) -> None:
        if self.loaded:  # coming back from a dialog or another screen (not the first showing)
            self.reload()
