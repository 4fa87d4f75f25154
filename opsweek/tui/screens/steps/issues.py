"""Issues: what people raised since the last session and what earlier sessions carried over.

The team ranks a top 3 (``t``), then solves each by a decision (``d``) or an action (``a``),
or drops it (``x``, saying why); the open ones carry over to the next session by
themselves. The ranking is the session's own (``issue_ranks``): each session ranks afresh.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable

from opsweek import clock, inputs
from opsweek.errors import OpsweekError
from opsweek.store import changes, read
from opsweek.store.records import Entry, Issue
from opsweek.tui.modal.entry_dialog import EntryDialog, EntryDraft, NewEntry
from opsweek.tui.modal.text_prompt import TextPrompt
from opsweek.tui.app import ChangeRequested
from opsweek.tui.screens.steps.base import About, Step, active_owner
from opsweek.tui.widgets.text import cell

RANK_STYLE = "bold $accent"


class IssuesStep(Step):
    key = "issues"
    hint = ("t into the top 3 / out · d / a solve by a decision / an action · x drop (why) · i raise one"
            " · o note · the open ones carry over")

    BINDINGS = [
        Binding("t", "rank", "Top 3"),
        Binding("d", "solve('decision')", "Solve: decision"),
        Binding("a", "solve('action')", "Solve: action"),
        Binding("x", "drop", "Drop"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.issues: list[Issue] = []
        self.entries: dict[int, Entry] = {}

    def body(self) -> ComposeResult:
        table = DataTable(id="issues-table", cursor_type="row", zebra_stripes=True)
        # rank and state first, then the issue itself (a long one is cut, as titles are)
        table.add_columns("top", "state")
        table.add_column("issue", width=40)
        table.add_columns("raised by", "raised", "from", "about")
        yield table

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("rank", "solve", "drop") and self.session.closed:
            return False
        return super().check_action(action, parameters)

    def load(self) -> None:
        session = self.session
        if session.meeting is None:
            return
        store = self.app.store
        previous = self.highlighted()
        was = str(previous.id) if previous else None
        self.issues = read.session_issues(store, session.meeting_id)
        self.entries = {e.id: e for e in read.entries_by_id(store, [i.entry_id for i in self.issues if i.entry_id])}
        titles = read.item_titles(store, [i.item_id for i in self.issues if i.item_id])
        table = self.query_one("#issues-table", DataTable)
        cursor = table.cursor_row
        table.clear()
        for issue in self.issues:
            about = (f"#{issue.item_id} {titles.get(issue.item_id, '')}" if issue.item_id is not None
                     else issue.workflow or "")
            came = ("new" if issue.first_meeting in (None, session.meeting_id)
                    else f"carried from {issue.first_week}")
            table.add_row(cell(str(issue.rank) if issue.rank else "", RANK_STYLE), self.state_cell(issue),
                          cell(issue.text), self.owner_cell(issue.raised_by),
                          cell(clock.show(issue.raised_at, "%a %d %b")), cell(came, "" if came == "new" else "cyan"),
                          cell(about), key=str(issue.id))
        keys = [str(i.id) for i in self.issues]
        if self.issues:  # stay on the same issue when ranking reorders the list
            table.move_cursor(row=keys.index(was) if was in keys else min(max(cursor, 0), len(keys) - 1))
        self.show_position(self.position())

    def state_cell(self, issue: Issue) -> Text:
        if issue.status == "dropped":
            return Text("✗ dropped", style="dim")
        if issue.status == "solved":
            entry = self.entries.get(issue.entry_id)
            return Text(f"✓ {entry.kind if entry else 'solved'}", style="bold green")
        return Text("open", style="bold")

    def position(self) -> str:
        if not self.issues:
            return "no issues raised — i raises one"
        still = sum(1 for i in self.issues if i.status == "open")
        ranked = sum(1 for i in self.issues if i.rank)
        return (f"{still} open of {len(self.issues)} · {ranked} of {inputs.ISSUE_TOP} ranked"
                + (" · the open ones carry over" if still else ""))

    def highlighted(self) -> Issue | None:
        table = self.query_one("#issues-table", DataTable)
        if not self.issues or not 0 <= table.cursor_row < len(self.issues):
            return None
        return self.issues[table.cursor_row]

    def about(self) -> About | None:
        issue = self.highlighted()
        if issue is None:
            return None
        return About(f"issue {issue.id}: {issue.text}", issue.item_id, issue.workflow, self.issue_owner(issue))

    def _open_issue(self) -> Issue | None:
        """The highlighted issue, if the session takes changes and it is still open."""
        issue = self.highlighted()
        if issue is None or not self.session_open():
            return None
        if issue.status != "open":
            self.notify(f"issue {issue.id} is already {issue.status}; ctrl+z undoes that", severity="warning")
            return None
        return issue

    # -- rank, solve, drop -------------------------------------------------------------

    def action_rank(self) -> None:
        """t: into the top 3 at the first free place; on a ranked issue, out of it again."""
        issue = self.highlighted()
        if issue is None or not self.session_open():
            return
        meeting_id = self.session.meeting_id
        if issue.rank is not None:
            self.request_change(changes.unrank_issue, meeting_id, issue.id, meeting=False,
                                success=f"issue {issue.id} is out of the top {inputs.ISSUE_TOP}")
            return
        if self._open_issue() is None:
            return
        self.request_change(changes.rank_issue, meeting_id, issue.id, meeting=False,
                            success=lambda rank: f"issue {issue.id} is number {rank} of the top {inputs.ISSUE_TOP}")

    def action_solve(self, kind: str, problem: str = "") -> None:
        """d / a: the decision or the action that solves the issue, in the entry dialog."""
        issue = self._open_issue()
        if issue is None:
            return
        session = self.session
        key = ("issue", issue.id, kind)
        draft = session.drafts.get(key)
        if draft is None:  # an action is for whoever owns what the issue is about, when they can take it
            owner = active_owner(self.app.team.people, self.issue_owner(issue)) if kind == "action" else ""
            draft = session.drafts[key] = EntryDraft(kind, owner=owner)

        def saved(entry: NewEntry | None) -> None:
            if entry is None:
                return

            def refused(error: OpsweekError) -> None:
                self.app.push_screen(EntryDialog(draft, self.app.team.people, about=f"issue {issue.id}: {issue.text}",
                                                 week=session.week, problem=str(error)), saved)

            what = f"issue {issue.id} solved by a {entry.kind}" + (
                f" for {entry.owner}, due {entry.due}" if entry.kind == "action" else "")
            self.post_message(ChangeRequested(
                changes.solve_issue, (self.app.team, issue.id, entry.kind, entry.text),
                dict(owner=entry.owner, due=entry.due), success=what, meeting_id=session.meeting_id,
                refused=refused, then=lambda _: session.drafts.pop(key, None)))

        self.app.push_screen(EntryDialog(draft, self.app.team.people, about=f"issue {issue.id}: {issue.text}",
                                         week=session.week, problem=problem), saved)

    def issue_owner(self, issue: Issue) -> str | None:
        """Who owns what the issue is about: its item's owner, else its workflow's."""
        if issue.item_id is not None:
            found = read.items_by_id(self.app.store, [issue.item_id])
            return found[0].owner if found else None
        if issue.workflow is not None:
            return next((w.owner for w in self.app.team.workflows if w.key == issue.workflow), None)
        return None

    def action_drop(self) -> None:
        """x: the team will not act on it; why goes into the notes."""
        issue = self._open_issue()
        if issue is None:
            return

        def dropped(reason: str | None) -> None:
            if reason is not None:
                self.request_change(changes.drop_issue, issue.id, reason, success=f"issue {issue.id} dropped")

        self.app.push_screen(TextPrompt(f"Drop issue {issue.id}: {issue.text}", placeholder="why (for the notes)",
                                        check=lambda text: inputs.problem(inputs.check_issue_drop_reason, text),
                                        hint="enter drops it · escape cancels"), dropped)
