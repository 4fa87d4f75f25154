"""The system audit: each workflow's score on the five layers and exactly what is missing.

A stage with no owner, an inactive owner, or an owner away this week with no cover can
be fixed on the spot: ``o`` picks a new owner (written with its audit event at once).
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label

from opsweek import clock, rules
from opsweek.store import changes, read
from opsweek.text import plural
from opsweek.tui.app import ChangeRequested
from opsweek.tui.modal.owner_picker import OwnerPicker
from opsweek.tui.widgets.text import cell, join

LATE = "bold red"
WARN = "yellow"
GOOD = "green"
LAYER_TITLES = {"ownership": "Ownership", "triggers": "Triggers", "connections": "Connections",
                "visibility": "Visibility", "rhythm": "Rhythm"}
HOW_TO_FIX = {
    "ownership": "o: pick an owner",
    "triggers": "team file: trigger = … on the workflow",
    "connections": "team file: handoff_sla on the stage",
    "visibility": "team file: sop = … on the stage",
    "rhythm": "review it in this week's session (m)",
}


class AuditScreen(Screen):
    """Scores on top (enter opens a workflow's map), what is missing below (``o`` fixes owners)."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("o", "fix_owner", "Fix owner"),
        Binding("w", "open_map", "Workflow map"),
        Binding("r", "reload", "Refresh", show=False),
    ]

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.results: list[rules.AuditResult] = []
        self.findings: list[Finding] = []

    def compose(self) -> ComposeResult:
        yield Label("System audit: the five layers that make a process a system", classes="screen-title")
        yield Label("", id="audit-summary")
        yield DataTable(id="audit-scores", cursor_type="row", zebra_stripes=True)
        yield Label("What is missing  —  o on an ownership row picks an owner now", classes="section-title")
        yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        scores = self.query_one("#audit-scores", DataTable)
        scores.add_columns("Workflow", "Score", *[LAYER_TITLES[layer] for layer in rules.LAYERS])
        table = self.query_one("#audit-table", DataTable)
        table.add_columns("Workflow", "Layer", "What is missing", "How to fix")
        self.reload()
        table.focus()

    # -- reading ------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the audit again (after a fix or an undo), keeping the cursors where they were."""
        app = self.app
        self.results, self.findings = read.audit_findings(app.store, app.team, app.now())
        names = {wf.key: wf.name for wf in app.team.workflows}
        scores = self.query_one("#audit-scores", DataTable)
        row = scores.cursor_row
        scores.clear()
        for result in self.results:
            score_style = GOOD if result.score == 5 else WARN if result.score >= 3 else LATE
            marks = [Text("✓", style=GOOD) if result.passed(layer) else Text("✗ missing", style=LATE)
                     for layer in rules.LAYERS]
            scores.add_row(cell(f"{names.get(result.workflow, result.workflow)} ({result.workflow})"),
                           Text(f"{result.score}/5", style=score_style), *marks, key=result.workflow)
        if self.results:
            scores.move_cursor(row=min(row, len(self.results) - 1))
        table = self.query_one("#audit-table", DataTable)
        row = table.cursor_row
        table.clear()
        for n, finding in enumerate(self.findings):
            layer = LAYER_TITLES[finding.layer] + ("" if finding.scored else " (this week)")
            fix = HOW_TO_FIX[finding.layer] if (finding.fixable or finding.layer != "ownership") else \
                "fix the team file (owner = …)"
            table.add_row(cell(finding.workflow), cell(layer, "" if finding.scored else WARN),
                          cell(finding.text, LATE if finding.scored else WARN),
                          cell(fix, "bold" if finding.fixable else "dim"), key=str(n))
        if self.findings:
            table.move_cursor(row=min(row, len(self.findings) - 1))
        self.show_summary()

    def show_summary(self) -> None:
        total = len(self.results)
        layers = sum(r.score for r in self.results)
        missing = sum(1 for f in self.findings if f.scored)
        gaps = sum(1 for f in self.findings if not f.scored)
        parts: list = [f"{total} workflows  ·  ", (f"{layers}/{total * 5}", "bold"), " layers in place  ·  "]
        parts.append((f"{plural(missing, 'thing')} missing", LATE if missing else GOOD))
        if gaps:
            parts += ["  ·  ", (f"{plural(gaps, 'ownership gap')} this week", WARN)]
        perfect = [r.workflow for r in self.results if r.score == 5]
        if perfect:
            parts += ["  ·  5/5: ", ", ".join(perfect)]
        self.query_one("#audit-summary", Label).update(join(*parts))

    # -- what the cursor is on ------------------------------------------------------------

    def current_finding(self) -> rules.Finding | None:
        table = self.query_one("#audit-table", DataTable)
        if table.has_focus or not self.query_one("#audit-scores", DataTable).has_focus:
            if 0 <= table.cursor_row < len(self.findings):
                return self.findings[table.cursor_row]
            return None
        workflow = self.current_workflow()
        fixable = [f for f in self.findings if f.workflow == workflow and f.fixable]
        return fixable[0] if fixable else next((f for f in self.findings if f.workflow == workflow), None)

    def current_workflow(self) -> str | None:
        scores = self.query_one("#audit-scores", DataTable)
        if scores.has_focus:
            if 0 <= scores.cursor_row < len(self.results):
                return self.results[scores.cursor_row].workflow
            return None
        finding = self.current_finding()
        return finding.workflow if finding else None

    # -- actions --------------------------------------------------------------------------

    def action_fix_owner(self) -> None:
        finding = self.current_finding()
        if finding is None:
            return
        if not finding.fixable:
            self.notify(f"{finding.workflow}: {finding.text} — {HOW_TO_FIX[finding.layer]}",
                        severity="warning", markup=False)
            return
        app = self.app
        today = app.today()
        week = clock.week_bounds(clock.iso_week(today))
        what = (f"stage {finding.workflow}/{finding.stage}" if finding.subject == "stage" else
                f"handoff {finding.handoff_id}" if finding.subject == "handoff" else f"workflow {finding.workflow}")

        def picked(handle: str | None) -> None:
            if not handle:
                return
            if finding.subject == "handoff":
                change, args = changes.reassign_handoff, (app.team, finding.handoff_id, handle)
            elif finding.subject == "stage":
                change, args = changes.set_stage_owner, (app.team, finding.workflow, finding.stage, handle)
            else:
                change, args = changes.set_workflow_owner, (app.team, finding.workflow, handle)
            self.post_message(ChangeRequested(change, args, dict(reason=f"audit: {finding.text}"),
                                              success=f"{what} is now owned by {handle}", reload="always"))

        app.push_screen(OwnerPicker(app.team.people, title=f"New owner for {what} ({finding.text})",
                                    current=finding.owner, week=week), picked)

    @on(DataTable.RowSelected, "#audit-scores")
    def workflow_chosen(self, event: DataTable.RowSelected) -> None:
        self.action_open_map()

    @on(DataTable.RowSelected, "#audit-table")
    def finding_chosen(self, event: DataTable.RowSelected) -> None:
        finding = self.current_finding()
        if finding is not None and finding.fixable:
            self.action_fix_owner()

    @on(DataTable.RowHighlighted, "#audit-scores")
    def workflow_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Moving through the scores brings that workflow's findings into view."""
        if not event.data_table.has_focus or not (0 <= event.cursor_row < len(self.results)):
            return
        workflow = self.results[event.cursor_row].workflow
        for n, finding in enumerate(self.findings):
            if finding.workflow == workflow:
                self.query_one("#audit-table", DataTable).move_cursor(row=n)
                break

    def action_open_map(self) -> None:
        workflow = self.current_workflow()
        if workflow:
            self.app.show("workflows", workflow=workflow)

    def action_reload(self) -> None:
        self.reload()

    def action_back(self) -> None:
        self.app.pop_screen()

    def on_screen_resume(self) -> None:
        if self.results:
            self.reload()

