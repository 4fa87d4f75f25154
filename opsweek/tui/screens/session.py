"""The weekly session: a stepper with the eight agenda steps and the current step beside it.

Every change is written through ``opsweek.store.changes`` the moment it is made, with
this meeting in its audit event; the current step is stored as it changes, and the time
spent on a step is added when leaving it, every minute while on it, and on quit — so
closing the terminal mid-session loses nothing, and ``opsweek meeting`` resumes here.

Following (``opsweek meeting --follow``, the app read-only): the screen shows this week's
session and moves with the step the facilitator's screen stores (``meetings.step``) as the
app notices the change; moving by hand looks around, ``f`` follows again. A viewer writes
nothing: no session is started, no step, time or review is recorded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Label
from textual.worker import get_current_worker

from opsweek import clock
from opsweek.agenda import STEP_KEYS, STEPS
from opsweek.errors import OpsweekError
from opsweek.store import changes, meetings, read
from opsweek.store.records import Meeting
from opsweek.tui.app import HEAP_SETTLES_S, READ_ONLY_NOTICE, ChangeRequested
from opsweek.tui.modal.confirm import Confirm
from opsweek.tui.modal.entry_dialog import EntryDialog, EntryDraft, NewEntry
from opsweek.tui.screens.steps.actions import ActionsStep, to_decide
from opsweek.tui.screens.steps.attendance import AttendanceStep
from opsweek.tui.screens.steps.base import About, Step, active_owner
from opsweek.tui.screens.steps.gaps import OwnershipGapsStep
from opsweek.tui.screens.steps.handoffs import OverdueHandoffsStep
from opsweek.tui.screens.steps.issues import IssuesStep
from opsweek.tui.screens.steps.stuck import StuckItemsStep
from opsweek.tui.screens.steps.workflows import WorkflowsStep
from opsweek.tui.screens.steps.wrapup import WrapUpStep
from opsweek.tui.widgets.footer import KeysFooter
from opsweek.tui.widgets.paged_table import PagedTable
from opsweek.tui.widgets.stepper import Stepper, StepLine
from opsweek.tui.widgets.text import join

# the session's own clock for time spent: monotonic, so a frozen OPSWEEK_NOW (tests,
# demos) or a clock change never distorts it; tests replace it to pin the stepper
monotonic: Callable[[], float] = time.monotonic
FLUSH_SECONDS = 60

# an empty database: what to do first (the home screen says the same)
NO_TEAM = ("no one is on the team yet: import a team file first (opsweek import team.toml)"
           " or try it out with opsweek demo")

STEP_WIDGETS = {
    "attendance": AttendanceStep,
    "actions": ActionsStep,
    "workflows": WorkflowsStep,
    "stuck": StuckItemsStep,
    "handoffs": OverdueHandoffsStep,
    "gaps": OwnershipGapsStep,
    "issues": IssuesStep,
    "wrapup": WrapUpStep,
}


def _issues_count(dealt: int, listed: int) -> str:
    """The stepper's count of the Issues step: "2/5" once some are dealt with, else how many."""
    return f"{dealt:,}/{listed:,}" if dealt else f"{listed:,}"


class SessionScreen(Screen):
    """This ISO week's session: resumes the open one, else starts one (``app.me`` facilitates)."""

    # under 110 columns the stepper narrows to numbers and counts (the step keeps its key
    # columns at 80×24); from 160 the lists' long text gets the room (their grow columns)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-normal"), (160, "-wide")]

    BINDINGS = [
        Binding("n", "next_step", "Next step"),
        Binding("p", "previous_step", "Previous step"),
        Binding("d", "record('decision')", "Decision"),
        Binding("a", "record('action')", "Action"),
        Binding("o", "record('note')", "Note", show=False),
        Binding("plus", "new_item", "New item", show=False),
        Binding("i", "raise_issue", "Raise issue", show=False),
        Binding("escape", "home", "Home"),
        Binding("q", "quit_session", "Quit"),
        Binding("f", "follow", "Follow the facilitator"),
        *[Binding(str(n), f"go_number({n})", show=False) for n in range(1, len(STEPS) + 1)],
    ]

    def __init__(self, meeting_id: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.meeting_id: int | None = meeting_id
        self.meeting: Meeting | None = None
        self.step = STEP_KEYS[0]
        self.present: dict[str, bool] = {}
        self.week: tuple[date, date] = clock.week_bounds(clock.iso_week())
        self.counts: dict[str, str] = {}
        self.stored_seconds: dict[str, int] = {}
        self.step_started = monotonic()
        self.drafts: dict[tuple, EntryDraft] = {}
        # step -> (rows reviewed, of how many): "7 of 22 reviewed"
        self.reviewed: dict[str, tuple[int, int]] = {}
        # a viewer (read-only app) moves with the facilitator's step until it looks around
        self.following = False

    @property
    def read_only(self) -> bool:
        return bool(getattr(self.app, "read_only", False))

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "follow":  # only a viewer has a facilitator to follow
            return self.read_only
        if action in ("record", "new_item", "raise_issue") and self.closed:  # a closed session records nothing more
            return False
        return True

    # -- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Label("", id="session-title")
        with Horizontal(id="session"):
            with Vertical(id="session-agenda"):
                yield Stepper(id="stepper")
            with ContentSwitcher(id="steps", initial=None):
                for widget in STEP_WIDGETS.values():
                    yield widget()
        yield KeysFooter()

    def on_mount(self) -> None:
        self.following = self.read_only
        if self.meeting_id is not None:
            self.begin(read.meeting(self.app.store, self.meeting_id))
            return
        store = self.app.store
        week = clock.iso_week(self.app.now())
        meeting = read.open_meeting(store, week)
        if meeting is not None:
            self.begin(meeting)
            return
        if self.read_only:
            self.wait_for_session(week)
            return
        from opsweek.store import recurring

        earlier = recurring.unclosed_earlier_session(store, self.app.now())
        if earlier is not None:
            self.ask_about(earlier, week)
            return
        self.open_this_week(week)

    def ask_about(self, earlier: Meeting, week: str) -> None:
        """An earlier week's session was never closed: carry on in it, or close it first."""
        from opsweek.tui.modal.choice import Choice

        def answer(key: str | None) -> None:
            if key == "c":
                self.begin(earlier)
            elif key == "x":
                self.post_message(ChangeRequested(
                    changes.close_meeting, (earlier.id,), success=f"the {earlier.week} session is closed",
                    then=lambda _: self.open_this_week(week)))
            else:
                self.dismiss_session()

        self.app.push_screen(Choice(
            f"The {earlier.week} session (started {clock.show(earlier.started_at)}) was never closed.",
            {"c": f"carry on in the {earlier.week} session",
             "x": f"close it, then start this week's ({week})"},
            detail="Its notes say it is still open until it is closed."), answer)

    def open_this_week(self, week: str) -> None:
        """Start this week's session, asking first when this week's was closed already."""
        store = self.app.store
        closed = meetings.last_of_week(store, week)
        if closed is None:
            self.start()
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.start()
            else:
                self.dismiss_session()

        self.app.push_screen(Confirm(f"This week's session ({week}) was closed on {clock.show(closed.closed_at)}.",
                                     detail="Start another session this week?"), answer)

    def wait_for_session(self, week: str) -> None:
        """A viewer with no open session this week: say so; :meth:`reload` (when the
        database changes) looks again, and the facilitator's new session then shows."""
        self.query_one("#session-title", Label).update(join(
            ("Weekly session ", "bold"), (week, "bold $accent"),
            "  ·  no session is open yet: this view shows it as soon as the facilitator starts it"))

    def start(self) -> None:
        app = self.app
        if not any(p.active for p in app.team.people.values()):
            # a session with nobody to attend or facilitate it is no session
            self.notify(NO_TEAM, severity="warning", timeout=10)
            self.dismiss_session()
            return
        facilitator = app.me if app.me in app.team.people and app.team.people[app.me].active else None
        if facilitator is None:
            # nobody said who they are (no --me), or not someone of the team: ask, so the
            # session and its changes name the person who runs it
            from opsweek.tui.modal.owner_picker import OwnerPicker

            if app.me:
                self.notify(f"{app.me} is not an active person of the team: who is facilitating?",
                            severity="warning", markup=False)

            def picked(handle: str | None) -> None:
                if not handle:  # escape: no session without a facilitator
                    self.dismiss_session()
                    return
                app.me = handle
                self.create(handle)

            app.push_screen(OwnerPicker(app.team.people, title="Who is facilitating this session?"), picked)
            return
        self.create(facilitator)

    def create(self, facilitator: str | None) -> None:
        """Open this week's session, with ``facilitator`` (or none)."""
        app = self.app
        try:
            meeting_id = changes.start_meeting(app.store, app.team, facilitator=facilitator, actor=app.actor)
        except OpsweekError as error:
            self.notify(str(error), severity="error", markup=False)
            self.dismiss_session()
            return
        self.begin(read.meeting(app.store, meeting_id))

    def begin(self, meeting: Meeting) -> None:
        self.meeting = meeting
        self.meeting_id = meeting.id
        self.week = clock.week_bounds(meeting.week)
        self.read_meeting()
        self.show_title()
        self.step = meeting.step if meeting.step in STEP_KEYS else STEP_KEYS[0]
        self.show_step(self.step)
        self.set_interval(1, self.tick)
        if not self.read_only:
            self.set_interval(FLUSH_SECONDS, self.flush_time)
        self.watch_hangup()
        self.refresh_counts()
        self.set_timer(HEAP_SETTLES_S, self.app.keep_heap)  # the session's screen lives as long as it runs

    def dismiss_session(self) -> None:
        """Leave without a session: back to the screen below (home), or quit."""
        if len(self.app.screen_stack) > 2 and self.app.screen_stack[-1] is self:
            self.app.pop_screen()
        else:
            self.app.exit()

    def show_title(self) -> None:
        m = self.meeting
        if m is None:
            return
        state = f"closed {clock.show(m.closed_at)}" if m.closed_at else f"started {clock.show(m.started_at)}"
        rating = read.meeting_rating(self.app.store, m)
        self.query_one("#session-title", Label).update(join(
            ("Weekly session ", "bold"), (m.week, "bold $accent"),
            "  ·  facilitator ", (m.facilitator or "none", "bold"), f"  ·  {state}",
            *(["  ·  rating ", (f"{rating:g}/10", "bold")] if rating else []),
            *([("  ·  read-only, ", "dim"), ("following", "bold $success") if self.following
               else ("looking around: f follows again", "bold $warning")] if self.read_only else []),
        ))

    # -- meeting state -------------------------------------------------------------------

    def read_meeting(self) -> None:
        store = self.app.store
        self.meeting = read.meeting(store, self.meeting_id)
        self.present = read.attendance(store, self.meeting_id)
        self.stored_seconds = read.step_seconds(store, self.meeting_id)

    _absent_of: dict | None = None
    _absent: frozenset[str] = frozenset()

    @property
    def absent(self) -> frozenset[str]:
        """Who is marked absent, worked out again only when attendance is read again (every
        owner cell of a page asks: a set of 400 people once per row was a third of a page)."""
        present = self.present
        if self._absent_of is not present:
            self._absent = frozenset(handle for handle, here in present.items() if not here)
            self._absent_of = present
        return self._absent

    @property
    def closed(self) -> bool:
        return self.meeting is not None and self.meeting.closed_at is not None

    def current_step(self) -> Step:
        return self.query_one(f"#step-{self.step}", Step)

    # -- moving between steps ----------------------------------------------------------

    # a step with a paged list is shown when its first page is in, or after this long
    SWITCH_WAIT = 0.3
    showing: str | None = None  # the step being read, to be shown when its first page is in

    def show_step(self, key: str) -> None:
        """Show step ``key``. One with a paged list reads its first page while hidden and is
        shown when it is in: one frame with its rows, where switching first drew the step
        empty (a whole screen laid out and drawn) and then drew it again with its rows."""
        step = self.query_one(f"#step-{key}", Step)
        if self.showing not in (None, key):  # a newer move: the step read for the last one stays hidden
            self.query_one(f"#step-{self.showing}", Step).leave()
        self.showing = key
        step.load()
        if self.meeting is not None and step.query(PagedTable):
            self.set_timer(self.SWITCH_WAIT, lambda: self.switch_to(key))
            return  # shown by on_paged_table_page_loaded, or by the timer
        self.switch_to(key)

    def show_pending_step(self) -> None:
        """A key of the session itself (d, a, o, +, i) acts on the step it moved to: show it now."""
        if self.showing is not None:
            self.switch_to(self.showing)

    def switch_to(self, key: str) -> None:
        if self.showing != key:  # already shown, or a newer move is being read
            return
        self.showing = None
        with self.app.batch_update():  # one frame for the switch, the focus and the stepper
            switcher = self.query_one("#steps", ContentSwitcher)
            if switcher.current and switcher.current != f"step-{key}":
                switcher.query_one(f"#{switcher.current}", Step).leave()
            switcher.current = f"step-{key}"
            step = self.query_one(f"#step-{key}", Step)
            step.focus_main()
            self.update_stepper()

    def _counts_if_still_waiting(self) -> None:
        if self.counts_after_list:
            self.counts_after_list = False
            self.refresh_counts()

    def on_paged_table_page_loaded(self, message: PagedTable.PageLoaded) -> None:
        if self.showing is not None and self.query_one(f"#step-{self.showing}", Step) in message.table.ancestors:
            self.switch_to(self.showing)
        if self.counts_after_list:
            self.counts_after_list = False
            self.call_after_refresh(self.refresh_counts)

    def go(self, key: str) -> None:
        if self.meeting is None or key == self.step:
            return
        if self.read_only:  # a viewer moving by hand looks around; the stored step stays
            self.following = False
            self.show_title()
            self.step = key
            self.show_step(key)
            return
        self.flush_time()
        if not self.closed:
            try:
                changes.set_step(self.app.store, self.meeting_id, key, actor=self.app.actor)
            except OpsweekError as error:
                self.notify(str(error), severity="error", markup=False)
        self.step = key
        self.step_started = monotonic()
        self.show_step(key)

    def action_next_step(self) -> None:
        index = STEP_KEYS.index(self.step)
        if index + 1 < len(STEP_KEYS):
            self.go(STEP_KEYS[index + 1])

    def action_previous_step(self) -> None:
        index = STEP_KEYS.index(self.step)
        if index > 0:
            self.go(STEP_KEYS[index - 1])

    def action_go_number(self, number: int) -> None:
        self.go(STEP_KEYS[number - 1])

    def action_follow(self) -> None:
        """A viewer follows the facilitator again: to the stored step, and with it from now on."""
        if not self.read_only or self.meeting is None:
            return
        self.following = True
        self.read_meeting()
        self.follow_step()
        self.show_title()

    def follow_step(self) -> None:
        """Show the facilitator's step (as stored with the meeting), if it moved."""
        step = self.meeting.step if self.meeting is not None else None
        if step in STEP_KEYS and step != self.step:
            self.step = step
            self.show_step(step)

    # -- time spent ------------------------------------------------------------------------

    def live_seconds(self) -> int:
        return max(0, int(monotonic() - self.step_started))

    def flush_time(self) -> None:
        """Add the time spent on the current step so far to the store (never from a viewer)."""
        if self.meeting is None or self.closed or self.read_only:
            return
        seconds = self.live_seconds()
        if seconds < 1:
            return
        try:
            changes.add_step_time(self.app.store, self.meeting_id, self.step, seconds, actor=self.app.actor)
        except OpsweekError:
            return  # the database is busy: keep counting and try again at the next flush
        self.step_started += seconds
        self.stored_seconds[self.step] = self.stored_seconds.get(self.step, 0) + seconds

    def tick(self) -> None:
        self.update_stepper()

    def on_resize(self, event) -> None:
        stepper = self.query_one("#stepper", Stepper)
        compact = self.size.width < 110
        if compact != stepper.compact:
            stepper.compact = compact
            self.update_stepper()

    def update_stepper(self) -> None:
        if self.meeting is None:
            return
        targets = read.step_minutes(self.app.team.settings)
        # a viewer does not know how long the facilitator has been on the step: stored time only
        live = 0 if self.closed or self.read_only else self.live_seconds()
        lines = []
        for number, step in enumerate(STEPS, 1):
            seconds = self.stored_seconds.get(step.key, 0) + (live if step.key == self.step else 0)
            lines.append(StepLine(number, step.title, self.counts.get(step.key, ""), seconds,
                                  targets.get(step.key, step.target_minutes), step.key == self.step))
        self.query_one("#stepper", Stepper).show_steps(
            lines, sum(line.seconds for line in lines), sum(targets.get(s.key, s.target_minutes) for s in STEPS))

    @dataclass
    class CountsRead(Message):
        """The stepper's counts, read by :meth:`_read_counts` (a worker)."""

        counts: dict[str, str]
        reviewed: dict[str, tuple[int, int]]

    def refresh_counts(self) -> None:
        """Read the counts for the stepper again (a moment at 100,000 items, so in a thread)."""
        app = self.app
        self._read_counts(app.team, app.now(), app.today(), self.meeting_id, dict(self.present), self.week)

    @work(thread=True, exclusive=True, group="counts", exit_on_error=False)
    def _read_counts(self, team: read.Team, now, today: date, meeting_id: int, present: dict[str, bool],
                     week: tuple[date, date]) -> None:
        with self.app.reader() as store:
            counts = {
                "attendance": f"{sum(present.values())}/{len(present)}",
                "actions": str(to_decide(store, meeting_id)),
                "workflows": str(sum(1 for w in team.workflows if w.status == "active")),
                "stuck": f"{read.stuck_count(store, team, now, today):,}",
                "handoffs": f"{read.overdue_count(store, now):,}",
                "gaps": f"{read.gaps_count(store, team, week):,}",
                "issues": _issues_count(*read.issue_counts(store, meeting_id)),
                "wrapup": str(meetings.entry_count(store, meeting_id)),
            }
            reviewed = read.reviewed_counts(store, team, now, today, meeting_id, week)
        for step, (done, of) in reviewed.items():
            if done:  # "7/22": seven of the 22 rows reviewed
                counts[step] = f"{done:,}/{of:,}"
        if not get_current_worker().is_cancelled:
            self.post_message(self.CountsRead(counts, reviewed))

    @on(CountsRead)
    def _show_counts(self, message: CountsRead) -> None:
        self.counts = message.counts
        self.reviewed = message.reviewed
        self.update_stepper()
        self.current_step().show_reviewed()

    # -- changes ---------------------------------------------------------------------------

    def reload(self) -> None:
        """After any change (also ctrl+z, and changes made elsewhere): re-read the meeting,
        the step and the counts; a following viewer moves to the facilitator's step."""
        if self.meeting is None:
            if self.read_only:  # a viewer waiting for the session: has it started?
                meeting = read.open_meeting(self.app.store, clock.iso_week(self.app.now()))
                if meeting is not None:
                    self.begin(meeting)
            return
        self.read_meeting()
        self.show_title()
        if self.following and self.meeting.step in STEP_KEYS and self.meeting.step != self.step:
            self.follow_step()  # shows (and loads) the new step
        else:
            self.current_step().load()
        self.update_stepper()
        self.refresh_counts_after_list()
        self.refresh_bindings()  # closed: the changing keys leave the footer

    counts_after_list = False  # the stepper's counts wait for the step's list (see below)

    def refresh_counts_after_list(self) -> None:
        """The stepper's counts, read once the step's list has its page again: reading them
        (a moment at 100,000 items) beside the page delays the row that just changed."""
        if any(table.loading_page for table in self.current_step().query(PagedTable)):
            self.counts_after_list = True
            self.set_timer(2.0, self._counts_if_still_waiting)  # the page may never come (a locked file)
        else:  # the list is in: after the frame that shows it
            self.call_after_refresh(self.refresh_counts)

    # -- decisions and actions, from any step ---------------------------------------------

    def action_record(self, kind: str, problem: str = "") -> None:
        if self.meeting is None:
            return
        self.show_pending_step()
        if self.read_only:
            self.notify(READ_ONLY_NOTICE, severity="warning")
            return
        if self.closed:
            self.notify("this session is closed; nothing more can be recorded in it", severity="warning")
            return
        step = self.current_step()
        about = step.about() or About("")
        # a decision or action on a reviewed row is its outcome (a note is not)
        outcome = step.outcome(kind, step.subject()) if kind in ("decision", "action") else None
        key = (kind, about.item_id, about.workflow)
        draft = self.drafts.get(key)
        if draft is None:  # an action is for the row's owner unless the facilitator says otherwise
            owner = active_owner(self.app.team.people, about.owner) if kind == "action" else ""
            draft = self.drafts[key] = EntryDraft(kind, owner=owner)

        def saved(entry: NewEntry | None) -> None:
            if entry is None:
                return

            def refused(error: OpsweekError) -> None:
                # keep the text: open the dialog again with the problem shown
                self.app.push_screen(EntryDialog(draft, self.app.team.people, about=about.label,
                                                 week=self.week, problem=str(error)), saved)

            what = f"{entry.kind} recorded" + (f" for {entry.owner}, due {entry.due}" if entry.kind == "action" else "")
            self.post_message(ChangeRequested(
                changes.record_entry, (self.app.team, entry.kind, entry.text),
                dict(owner=entry.owner, due=entry.due, item_id=about.item_id, workflow=about.workflow),
                success=what, meeting_id=self.meeting_id, refused=refused, outcome=outcome,
                then=lambda _: self.drafts.pop(key, None)))

        self.app.push_screen(EntryDialog(draft, self.app.team.people, about=about.label, week=self.week,
                                         problem=problem), saved)

    def action_new_item(self, problem: str = "", workflow: str | None = None) -> None:
        """+: a new item (workflow, title, owner, due), in the highlighted row's workflow by default."""
        if self.meeting is None:
            return
        self.show_pending_step()
        if self.closed:
            self.notify("this session is closed; nothing more can be recorded in it", severity="warning")
            return
        from opsweek.tui.modal.new_item import NewItem, NewItemDialog

        if workflow is None:
            about = self.current_step().about()
            workflow = about.workflow if about else None

        def saved(item: NewItem | None) -> None:
            if item is None:
                return

            def refused(error: OpsweekError) -> None:
                self.action_new_item(str(error), item.workflow)

            self.post_message(ChangeRequested(
                changes.add_item, (self.app.team, item.workflow, item.title),
                dict(owner=item.owner, due=item.due), meeting_id=self.meeting_id, refused=refused,
                success=lambda item_id: f"#{item_id} added to {item.workflow}"))

        self.app.push_screen(NewItemDialog(self.app.team, workflow=workflow, problem=problem), saved)

    def action_raise_issue(self, problem: str = "", text: str = "", about: str | None = None) -> None:
        """i: raise an issue for this session, about the highlighted row's item or workflow."""
        if self.meeting is None:
            return
        self.show_pending_step()
        if self.read_only:
            self.notify(READ_ONLY_NOTICE, severity="warning")
            return
        if self.closed:
            self.notify("this session is closed; opsweek raise TEXT raises one for the next", severity="warning")
            return
        from opsweek.tui.modal.issue_dialog import IssueDialog, about_text, parse_about

        if about is None:
            row = self.current_step().about()
            about = about_text(row.item_id, row.workflow) if row else ""

        def saved(values: dict | None) -> None:
            if values is None:
                return
            item_id, workflow = parse_about(values["about"], self.app.team)  # the dialog checked it

            def refused(error: OpsweekError) -> None:
                self.action_raise_issue(str(error), values["text"], values["about"])

            self.post_message(ChangeRequested(
                changes.raise_issue, (self.app.team, values["text"]), dict(item_id=item_id, workflow=workflow),
                meeting_id=self.meeting_id, refused=refused,
                success=lambda issue_id: f"issue {issue_id} raised: the Issues step lists it"))

        self.app.push_screen(IssueDialog(self.app.team, text=text, about=about, problem=problem), saved)

    # -- leaving -------------------------------------------------------------------------

    def action_home(self) -> None:
        self.flush_time()
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()
        else:  # opened straight into the meeting with nothing below: go home
            self.app.switch_screen(self.app.make_screen("home"))

    def action_quit_session(self) -> None:
        self.flush_time()
        self.app.exit()

    def on_unmount(self) -> None:
        try:
            self.flush_time()
        except Exception:  # the app is going away; never let that turn into a traceback
            pass
        self.watch_hangup(stop=True)

    def watch_hangup(self, *, stop: bool = False) -> None:
        """A closed terminal (SIGHUP) or a kill (SIGTERM): write the time spent, then quit.

        Every change is already in the database; this saves the last minute of step time.
        """
        import asyncio
        import signal

        try:
            loop = asyncio.get_running_loop()
            for number in (signal.SIGHUP, signal.SIGTERM):
                if stop:
                    loop.remove_signal_handler(number)
                else:
                    loop.add_signal_handler(number, self.hung_up)
        except (RuntimeError, NotImplementedError, ValueError, AttributeError):
            pass  # not the main thread, or no such signals here (Windows)

    def hung_up(self) -> None:
        try:
            self.flush_time()
        finally:
            self.app.exit()

