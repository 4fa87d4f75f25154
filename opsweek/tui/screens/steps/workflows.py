"""Workflows: the health table; enter opens the workflow's stages (the workflow map).

Showing this step records that the session reviewed the workflows (the audit's rhythm).
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.widgets import DataTable
from textual.worker import get_current_worker

from opsweek.store import changes, read
from opsweek.tui.screens.navigation import open_screen
from opsweek.tui.screens.steps.base import About, Step
from opsweek.tui.widgets.health_table import HealthTable


class WorkflowsStep(Step):
    key = "workflows"
    hint = "enter: the workflow's stages, owners and bottleneck · d / a: decision / action on the workflow"

    def body(self) -> ComposeResult:
        yield HealthTable(id="workflows-table")

    def load(self) -> None:
        session = self.session
        if session.meeting is None:
            return
        if not session.closed and not session.read_only:  # a viewer records no review
            active = [w.key for w in self.app.team.workflows if w.status == "active"]
            try:
                changes.mark_reviewed(self.app.store, session.meeting_id, active, actor=self.app.actor)
            except Exception as error:  # bookkeeping; the table still shows
                self.notify(f"could not record the review: {error}", severity="warning", markup=False)
        app = self.app
        self.read_health(app.team, app.now(), app.today())

    @work(thread=True, exclusive=True, group="health", exit_on_error=False)
    def read_health(self, team, now, today) -> None:
        app = self.app
        with app.reader() as store:
            health = read.health(store, team, now, today)
            reviews = read.last_reviews(store)
        if not get_current_worker().is_cancelled:
            app.call_from_thread(self.show_health, health, reviews)

    def show_health(self, health, reviews) -> None:
        self.query_one(HealthTable).show_health(health, reviews)
        stuck = sum(h.stuck for h in health)
        overdue = sum(h.overdue for h in health)
        self.show_position(f"{len(health)} workflows · {stuck:,} stuck · {overdue:,} overdue")

    def about(self) -> About | None:
        key = self.query_one(HealthTable).current_workflow
        if key is None:
            return None
        wf = next((w for w in self.app.team.workflows if w.key == key), None)
        return About(f"workflow {wf.name if wf else key}", None, key, wf.owner if wf else None)

    @on(DataTable.RowSelected, "#workflows-table")
    def open_map(self) -> None:
        key = self.query_one(HealthTable).current_workflow
        if key:
            open_screen(self.app, "workflows", workflow=key)
