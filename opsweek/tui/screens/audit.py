"""The system audit: each workflow's score on the five layers and exactly what is missing.

Every finding is fixed in place (``enter``, ``f`` or ``o`` on it), by what the finding
says fixes it (``Finding.fix``): an owner is picked, a trigger, a handoff SLA or an SOP
link is typed, a workflow never reviewed is noted as reviewed in this week's session
(which starts it if need be; ``m`` opens the session). Each fix is written at once with
its audit event, and the scores are read again.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Label

from opsweek import clock, inputs, rules
from opsweek.store import changes, read
from opsweek.text import is_slug, plural
from opsweek.tui.app import ChangeRequested
from opsweek.tui.modal.confirm import Confirm
from opsweek.tui.modal.owner_picker import OwnerPicker
from opsweek.tui.modal.text_prompt import TextPrompt
from opsweek.tui.widgets.footer import KeysFooter
from opsweek.tui.widgets.text import cell, join

LATE = "bold red"
WARN = "yellow"
GOOD = "green"
LAYER_TITLES = {"ownership": "Ownership", "triggers": "Triggers", "connections": "Connections",
                "visibility": "Visibility", "rhythm": "Rhythm"}
HOW_TO_FIX = {
    "ownership": "enter: pick an owner",
    "triggers": "enter: type what starts it",
    "connections": "enter: type the handoff SLA",
    "visibility": "enter: type the SOP link",
    "rhythm": "enter: note it reviewed this week (m: session)",
}
# what each kind of fix (``Finding.fix``) asks for, when it is not the layer's usual one
FIX_TEXT = {"stages": "enter: name its first stage", "receiver": "enter: pick who receives it",
            "feeds": "w: change what it feeds on the workflow map"}


def how_to_fix(finding) -> str:
    return FIX_TEXT.get(finding.fix) or HOW_TO_FIX[finding.layer]


class AuditScreen(Screen):
    """Scores on top (enter opens a workflow's map), what is missing below (enter fixes it)."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("f", "fix", "Fix it"),
        Binding("o", "fix_owner", "Fix owner"),
        Binding("w", "open_map", "Workflow map"),
        Binding("m", "meeting", "Session"),
        Binding("r", "reload", "Refresh", show=False),
    ]

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.results: list[rules.AuditResult] = []
        self.findings: list[rules.Finding] = []

    def compose(self) -> ComposeResult:
        yield Label("System audit: the five layers that make a process a system", classes="screen-title")
        yield Label("", id="audit-summary")
        yield DataTable(id="audit-scores", cursor_type="row", zebra_stripes=True)
        yield Label("What is missing  —  enter (or f) on a row fixes it now", classes="section-title")
        yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
        yield KeysFooter()

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
            table.add_row(cell(finding.workflow), cell(layer, "" if finding.scored else WARN),
                          cell(finding.text, LATE if finding.scored else WARN),
                          cell(how_to_fix(finding), "bold"), key=str(n))
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
        return next((f for f in self.findings if f.workflow == workflow), None)

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
        """``o``: pick an owner, on a finding an owner fixes; other findings say how they are fixed."""
        finding = self.current_finding()
        if finding is None:
            return
        if finding.fix not in ("owner", "receiver"):
            self.notify(f"{finding.workflow}: {finding.text} — {how_to_fix(finding)}", severity="warning")
            return
        self.fix_owner(finding)

    def action_fix(self) -> None:
        """Fix the finding under the cursor, the way its ``fix`` says."""
        finding = self.current_finding()
        if finding is None:
            return
        fixer = {"owner": self.fix_owner, "receiver": self.fix_owner, "trigger": self.fix_trigger, "handoff_sla": self.fix_sla,
                 "sop": self.fix_sop, "review": self.fix_review, "stages": self.fix_stages}.get(finding.fix)
        if fixer is None:
            self.notify(f"{finding.workflow}: {finding.text} — open the workflow map (w) to change it",
                        severity="warning")
            return
        fixer(finding)

    def _done(self, result) -> None:
        self.reload()

    def fix_owner(self, finding) -> None:
        app = self.app
        today = app.today()
        week = clock.week_bounds(clock.iso_week(today))
        what = (f"stage {finding.workflow}/{finding.stage}" if finding.subject == "stage" else
                f"handoff {finding.handoff_id}" if finding.subject == "handoff" else f"workflow {finding.workflow}")

        def picked(handle: str | None) -> None:
            if not handle:
                return
            # the finding is the reason, kept with the change in the log
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

    def _stage_field(self, finding, field: str, value: str, success: str) -> None:
        app = self.app
        self._done(app.make_change(changes.update_stage, finding.workflow, finding.stage, actor=app.actor,
                               reason=f"audit: {finding.text}", success=success, **{field: value}))

    def fix_trigger(self, finding) -> None:
        app = self.app

        def typed(text: str | None) -> None:
            if text:
                self._done(app.make_change(changes.update_workflow, finding.workflow, trigger=text,
                                       actor=app.actor, reason=f"audit: {finding.text}",
                                       success=f"{finding.workflow} now starts when: {text}"))

        app.push_screen(TextPrompt(f"What starts {finding.workflow}? (its trigger, in words)", required=True,
                                   placeholder="e.g. A complaint arrives in the support inbox",
                                   prompt_id="fix-trigger"), typed)

    def fix_sla(self, finding) -> None:
        def typed(text: str | None) -> None:
            if text:
                self._stage_field(finding, "handoff_sla", text,
                                  f"handoffs into {finding.workflow}/{finding.stage} are due within {text}")

        self.app.push_screen(TextPrompt(
            f"Handoff SLA into {finding.workflow}/{finding.stage} (time its owner has to accept)", required=True,
            placeholder="48h, 2d, 2bd", check=lambda text: inputs.problem(
                lambda value: inputs.check_duration(value, "handoff SLA"), text) if text else None,
            prompt_id="fix-sla"), typed)

    def fix_sop(self, finding) -> None:
        def typed(text: str | None) -> None:
            if text:
                self._stage_field(finding, "sop", text, f"{finding.workflow}/{finding.stage} links its SOP")

        self.app.push_screen(TextPrompt(f"SOP of {finding.workflow}/{finding.stage} (a URL or a path)",
                                        required=True, placeholder="https://wiki.example.com/sop/…",
                                        prompt_id="fix-sop"), typed)

    def fix_stages(self, finding) -> None:
        app = self.app

        def key_of(name: str) -> str:
            return "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split())

        def typed(text: str | None) -> None:
            if text:
                self._done(app.make_change(changes.add_stage, finding.workflow, key_of(text), text,
                                       actor=app.actor, success=f"{finding.workflow} has its first stage, {text}"))

        app.push_screen(TextPrompt(f"Name the first stage of {finding.workflow}", required=True,
                                   placeholder="e.g. Triage", prompt_id="fix-stages",
                                   check=lambda text: None if not text or is_slug(key_of(text)) else
                                   "use letters or digits in the name"), typed)

    def fix_review(self, finding) -> None:
        """Rhythm: note the workflow as reviewed in this week's session, starting the session
        when none is open (``m`` then opens it)."""
        app = self.app
        week = clock.iso_week(app.now())
        meeting = read.open_meeting(app.store, week)
        if meeting is not None:
            question = f"Note {finding.workflow} as reviewed in this week's session ({week})?"
            detail = "m opens the session."
        else:
            question = f"No session is open for {week}: start it now and note {finding.workflow} as reviewed?"
            detail = "Attendance starts from who is away. m opens it."

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            meeting_id = meeting.id if meeting is not None else app.make_change(changes.start_meeting, app.team, week=week,
                facilitator=app.me if app.me in app.team.people else None, actor=app.actor)
            if meeting_id is not None:
                app.make_change(changes.mark_reviewed, meeting_id, [finding.workflow], actor=app.actor,
                            success=f"{finding.workflow} noted as reviewed in the {week} session")
            self.reload()

        app.push_screen(Confirm(question, detail=detail), answered)

    def action_meeting(self) -> None:
        from opsweek.tui.screens.navigation import open_screen

        open_screen(self.app, "meeting")

    @on(DataTable.RowSelected, "#audit-scores")
    def workflow_chosen(self, event: DataTable.RowSelected) -> None:
        self.action_open_map()

    @on(DataTable.RowSelected, "#audit-table")
    def finding_chosen(self, event: DataTable.RowSelected) -> None:
        if self.current_finding() is not None:
            self.action_fix()

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

