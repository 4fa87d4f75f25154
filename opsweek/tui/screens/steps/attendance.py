"""Attendance: everyone, people away pre-marked absent; space or enter toggles."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable

from opsweek import rules
from opsweek.store import changes
from opsweek.tui.screens.steps.base import ABSENT_STYLE, Step
from opsweek.tui.widgets.text import cell


class AttendanceStep(Step):
    key = "attendance"
    hint = "space / enter: present ↔ absent · people away this week start absent · n: next step"

    BINDINGS = [Binding("space", "toggle", "Present/absent")]

    def body(self) -> ComposeResult:
        table = DataTable(id="attendance-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("", "who", "name", "role", "this week")
        yield table

    def load(self) -> None:
        session = self.session
        if session.meeting is None:
            return
        table = self.query_one("#attendance-table", DataTable)
        cursor = table.cursor_row
        table.clear()
        people = self.app.team.people
        first, last = session.week
        handles = sorted(set(session.present) | {h for h, p in people.items() if p.active})
        for handle in handles:
            person = people.get(handle)
            here = session.present.get(handle, False)
            note = ""
            if person is not None:
                if not person.active:
                    note = "inactive"
                elif rules.is_away(person, first, last):
                    cover = rules.cover_for(handle, people, first, last)
                    note = "away" + (f", {cover} covers" if cover else ", no cover")
            table.add_row(
                Text("✓ present", style="bold green") if here else Text("✗ absent", style=ABSENT_STYLE),
                cell(handle, "bold"), cell(person.name if person else ""), cell(person.role if person else ""),
                cell(note, "yellow"), key=handle,
            )
        if handles:
            table.move_cursor(row=min(max(cursor, 0), len(handles) - 1))
        present = sum(1 for h in handles if session.present.get(h))
        self.show_position(f"{present} of {len(handles)} present")

    def highlighted(self) -> str | None:
        table = self.query_one("#attendance-table", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def action_toggle(self) -> None:
        handle = self.highlighted()
        session = self.session
        if handle is None or session.meeting is None:
            return
        if not self.session_open():
            return
        here = not session.present.get(handle, False)
        self.request_change(changes.set_attendance, session.meeting_id, handle, here, meeting=False)

    @on(DataTable.RowSelected, "#attendance-table")
    def selected(self) -> None:
        self.action_toggle()
