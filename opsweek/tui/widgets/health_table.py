"""Workflow health, one row per workflow: open, stuck, overdue handoffs, audit score."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from opsweek import clock
from opsweek.rules import LAYERS
from opsweek.rules.attention import WorkflowHealth
from opsweek.tui.widgets.text import cell


def number(value: int, warn_at: int = 1, style: str = "bold red") -> Text:
    return Text(f"{value:,}", style=style if value >= warn_at else "", justify="right")


class HealthTable(DataTable):
    """Filled with :meth:`show_health`; the row key is the workflow key."""

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.workflow_keys: list[str] = []

    def on_mount(self) -> None:
        self.add_columns("workflow", "owner", "open", "stuck", "overdue", "audit", "missing", "last review")

    def show_health(self, health: list[WorkflowHealth], reviews: dict | None = None) -> None:
        cursor = self.cursor_row
        self.clear()
        self.workflow_keys = []
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
                number(h.open, 10 ** 9), number(h.stuck), number(h.overdue),
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
