"""Workflow health, one row per workflow: open, stuck, overdue handoffs, audit score.

A :class:`~opsweek.tui.widgets.fast_table.FastTable` (the home screen's first frame draws
it: Rich's way of drawing every cell was a fifth of that frame). Its numbers are
right-aligned as DataTable aligns a right-justified cell (spaces before the number, in
the number's style, to the column's width), but the spaces are put in when the row is
added, so that each cell is one plain line the table draws directly;
``tests/test_home_speed.py`` checks that both ways draw the same segments.
"""

from __future__ import annotations

from rich.text import Text

from opsweek import clock
from opsweek.rules import LAYERS
from opsweek.rules.attention import WorkflowHealth
from opsweek.tui.widgets.fast_table import FastTable
from opsweek.tui.widgets.text import cell

COLUMNS = ("workflow", "owner", "open", "stuck", "overdue", "audit", "missing", "last review")
NUMBERS = (2, 3, 4)  # the columns of numbers (open, stuck, overdue), right-aligned


def number(value: int, warn_at: int = 1, style: str = "bold red", width: int = 0) -> Text:
    """``value`` with thousands separators, right-aligned in ``width`` columns (padded in
    front, as DataTable pads a right-justified cell)."""
    return Text(f"{value:,}".rjust(width), style=style if value >= warn_at else "")


class HealthTable(FastTable):
    """Filled with :meth:`show_health`; the row key is the workflow key."""

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.workflow_keys: list[str] = []

    def on_mount(self) -> None:
        self.add_columns(*COLUMNS)

    def _number_widths(self, health: list[WorkflowHealth]) -> list[int]:
        """Each number column's width once these rows are in: as DataTable works it out (its
        widest cell or label so far, cells never narrowing it)."""
        columns = self.ordered_columns
        widths = []
        for index, values in zip(NUMBERS, ([h.open for h in health], [h.stuck for h in health],
                                           [h.overdue for h in health])):
            known = columns[index].content_width if index < len(columns) else len(COLUMNS[index])
            widths.append(max([known, *(len(f"{v:,}") for v in values)]))
        return widths

    def show_health(self, health: list[WorkflowHealth], reviews: dict | None = None) -> None:
        cursor = self.cursor_row
        self.clear()
        self.workflow_keys = []
        opened, stuck, overdue = self._number_widths(health)
        for h in health:
            wf = h.workflow
            missing = [layer for layer in LAYERS if not h.audit.passed(layer)]
            score = h.audit.score
            reviewed = (reviews or {}).get(wf.key)
            name = cell(wf.name or wf.key, "bold")
            if wf.status != "active":
                name.append(f"  ({wf.status})", style="italic dim")
            self.add_row(
                name, cell(wf.owner or "nobody", "" if wf.owner else "bold red"),
                number(h.open, 10 ** 9, width=opened), number(h.stuck, width=stuck),
                number(h.overdue, width=overdue),
                Text(f"{score}/5", style="bold green" if score == 5 else "bold yellow" if score >= 3 else "bold red"),
                cell(", ".join(missing), "yellow"),
                cell(clock.show(reviewed, "%Y-%m-%d") if reviewed else "never", "dim"),
                key=wf.key,
            )
            self.workflow_keys.append(wf.key)
        if self.workflow_keys:
            self.move_cursor(row=min(max(cursor, 0), len(self.workflow_keys) - 1))

    @property
    def current_workflow(self) -> str | None:
        if not self.workflow_keys or not 0 <= self.cursor_row < len(self.workflow_keys):
            return None
        return self.workflow_keys[self.cursor_row]
