"""Home: workflow health, what needs attention, the trend, and the way into this week's session.

The numbers are read in a thread worker (a few hundred milliseconds at 100,000 items),
so the screen paints at once and fills in when they arrive.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Label, Static

from opsweek import clock, schedule
from opsweek.agenda import STEPS
from opsweek.errors import OpsweekError
from opsweek.tui import attention as needs
from opsweek.tui.attention import Attention
from opsweek.tui.screens.navigation import open_screen
from opsweek.tui.widgets.footer import KeysFooter
from opsweek.tui.widgets.health_table import HealthTable
from opsweek.tui.widgets.text import join


class HomeScreen(Screen):
    """The dashboard ``opsweek`` opens on."""

    BINDINGS = [
        Binding("m", "meeting", "Meeting"),
        Binding("y", "mine", "My handoffs"),
        Binding("w", "workflows", "Workflows"),
        Binding("t", "team", "Team"),
        Binding("a", "audit", "Audit"),
        Binding("e", "export", "Export notes"),
        Binding("q", "quit", "Quit"),
    ]

    @dataclass
    class Ready(Message):
        """The health table and the summary are filled (benchmarks wait for this)."""

        screen: "HomeScreen"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.ready = False
        self._resumed = False  # the first resume is the screen's first show, not a return

    def compose(self) -> ComposeResult:
        yield Label(self.title_line(), id="home-title")
        with Horizontal(id="home-top"):
            with Vertical(id="home-attention", classes="panel"):
                yield Label("Needs attention", classes="panel-title")
                yield Static("reading…", id="attention")
            with Vertical(id="home-session", classes="panel"):
                yield Label("This week's session", classes="panel-title")
                yield Static("", id="session-state")
        yield Label("Workflow health  —  enter opens a workflow's stages", classes="panel-title", id="health-title")
        yield HealthTable(id="home-health")
        yield KeysFooter()

    def title_line(self) -> Content:
        app = self.app
        today = app.today()
        return join(("opsweek", "bold $accent"), "  ·  ", app.db_path.name, "  ·  ",
                    *((["you: ", (app.me, "bold")]) if app.me else ["no --me given"]),
                    "  ·  ", f"{today:%a %Y-%m-%d} ({clock.iso_week(app.now())})")

    def on_mount(self) -> None:
        self.query_one(HealthTable).focus()
        early = needs.take_prefetched(self.app.db_path)
        if early is not None and early.done() and early.exception() is None:
            # read at launch while Textual was loading, and already there: the first
            # frame shows the numbers (no worker, no second layout of the screen)
            self.show_attention(early.result(), trend_after_frame=True)
        elif early is not None:  # started at launch, still reading
            self.wait_for(early)
        else:
            self.reload()

    def _on_screen_resume(self, event) -> None:
        # (Textual calls this class's handler, then Screen's own _on_screen_resume.) The first
        # show follows the mount, where every widget was styled: Screen's handler would style
        # them all again (a tenth of the first frame); any later return restyles as usual.
        if not self._resumed:
            event.refresh_styles = False
        self.on_screen_resume()

    def on_screen_resume(self) -> None:
        first, self._resumed = not self._resumed, True
        if self.ready and not first:  # back from the session or another screen: the numbers may have moved
            self.reload()
            for trend in self.query("#home-trend"):
                trend.reload()

    def reload(self) -> None:
        app = self.app
        self.load_attention(app.team, app.now(), app.today())

    @work(thread=True, exclusive=True, group="home", exit_on_error=False)
    def load_attention(self, team, now, today) -> None:
        app = self.app
        try:
            with app.reader() as store:
                attention = needs.read_attention(store, team, now, today, app.db_path)
        except Exception as error:  # never a traceback on the home screen
            self.app.notify(f"could not read the database: {error}", severity="error", markup=False)
            return
        self.app.call_from_thread(self.show_attention, attention)

    @work(thread=True, exclusive=True, group="home", exit_on_error=False)
    def wait_for(self, early) -> None:
        try:
            attention = early.result(timeout=60)
        except Exception:  # the early read failed: read again, the ordinary way
            self.app.call_from_thread(self.reload)
            return
        self.app.call_from_thread(self.show_attention, attention)

    def show_attention(self, attention: Attention, *, trend_after_frame: bool = False) -> None:
        self.query_one(HealthTable).show_health(attention.health, attention.reviews)
        lines = [
            join((f"{attention.stuck:,}", "bold $error" if attention.stuck else "bold"), " stuck items"),
            join((f"{attention.overdue:,}", "bold $error" if attention.overdue else "bold"), " overdue handoffs",
                 *([", ", (f"{attention.escalate:,}", "bold $error"), " due for escalation"]
                   if attention.escalate else [])),
            join((f"{attention.gaps:,}", "bold $warning" if attention.gaps else "bold"), " ownership gap" if attention.gaps == 1 else " ownership gaps"),
            join((f"{attention.actions_open:,}", "bold"), " open action" if attention.actions_open == 1 else " open actions",
                 *([", ", (f"{attention.actions_late:,}", "bold $error"), " past due"]
                   if attention.actions_late else [])),
        ]
        if attention.away:
            shown = attention.away[:6]
            more = f" and {len(attention.away) - 6} more" if len(attention.away) > 6 else ""
            lines.append(join(("away today: ", "dim"), ", ".join(str(a) for a in shown), more))
        self.query_one("#attention", Static).update(Content("\n").join(lines))
        self.query_one("#session-state", Static).update(self.session_state(attention))
        if not self.query("#home-trend"):
            # mounted once the numbers are in (and, when they are there for the first
            # frame, after it): its own worker then does not slow the first paint
            if trend_after_frame:
                # after that frame and after whatever else waited for it (call_later: the
                # next turn of the screen's messages, not among the frame's own callbacks)
                self.call_after_refresh(self.call_later, self._mount_trend)
            else:
                self._mount_trend()
        self.ready = True
        self.post_message(self.Ready(self))

    def _mount_trend(self) -> None:
        # imported here: the trend (and opsweek.trends) is not part of the first frame
        from opsweek.tui.widgets.trends import TrendPanel

        if not self.is_attached:  # the app closed before it came to this (q at once)
            return
        if not self.query("#home-trend"):
            self.mount(TrendPanel(id="home-trend"), before=self.query_one(KeysFooter))

    def session_state(self, attention: Attention) -> Content:
        lines = [self._session_now(attention)]
        if attention.unclosed is not None:
            u = attention.unclosed
            lines.append(join((f"{u.week}'s session was never closed", "bold $warning"),
                              f" (started {clock.show(u.started_at)}): m offers to close it or carry on in it"))
        if attention.next_session is not None:
            lines.append(join(("next session ", "dim"), schedule.describe(attention.next_session)))
        return Content("\n").join(lines)

    def _session_now(self, attention: Attention) -> Content:
        week = clock.iso_week(self.app.now())
        m = attention.meeting
        if m is not None:
            step = next((s.title for s in STEPS if s.key == m.step), m.step)
            return Content("\n").join([
                join((week, "bold"), " in progress, at ", (step, "bold $accent")),
                join(f"started {clock.show(m.started_at)}", *([", facilitator ", m.facilitator]
                                                              if m.facilitator else [])),
                join(("m", "bold $accent"), " resumes it"),
            ])
        if not self.app.team.people and not self.app.team.workflows:  # an empty database
            return Content("\n").join([
                join(("No team yet", "bold $warning"), ": import a team file"),
                join(("opsweek import team.toml", "bold $accent"), ","),
                join("or try it out: ", ("opsweek demo", "bold $accent")),
            ])
        closed = attention.closed_this_week
        if closed is not None:
            return Content("\n").join([
                join((week, "bold"), " closed ", clock.show(closed.closed_at),
                     *([", rated ", (f"{closed.rating}/10", "bold")] if closed.rating else [])),
                join(("e", "bold $accent"), " exports its notes · ", ("m", "bold $accent"), " starts another"),
            ])
        return Content("\n").join([
            join((week, "bold"), " not started yet"),
            join(("m", "bold $accent"), " starts it: attendance, actions, workflows, stuck, handoffs, gaps, wrap-up"),
        ])

    # -- keys ------------------------------------------------------------------------------

    def _show(self, name: str, **kwargs) -> None:
        open_screen(self.app, name, **kwargs)

    def action_meeting(self) -> None:
        self._show("meeting")

    def action_mine(self) -> None:
        self._show("mine")

    def action_workflows(self) -> None:
        self._show("workflows")

    def action_team(self) -> None:
        self._show("team")

    def action_audit(self) -> None:
        self._show("audit")

    def action_quit(self) -> None:
        self.app.exit()

    @on(DataTable.RowSelected, "#home-health")
    def open_workflow(self) -> None:
        key = self.query_one(HealthTable).current_workflow
        if key:
            self._show("workflows", workflow=key)

    def action_export(self) -> None:
        from opsweek import notes

        if self.app.read_only:  # a viewer (opsweek serve --read-only) writes no files on the host
            from opsweek.tui.app import READ_ONLY_NOTICE

            self.notify(READ_ONLY_NOTICE, severity="warning")
            return

        try:
            meeting = notes.find_meeting(self.app.store, "latest")
        except OpsweekError as error:
            self.notify(str(error), severity="warning", markup=False)
            return
        self.notify(f"exporting the notes of {meeting.week}…", markup=False)
        self.write_notes(meeting.id)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def write_notes(self, meeting_id: int) -> None:
        from opsweek.tui.screens.steps.wrapup import export_notes

        try:
            with self.app.reader() as store:
                path = export_notes(store, meeting_id)
        except Exception as error:  # one line, never a traceback
            self.app.notify(f"notes not written: {error}", severity="error", markup=False)
            return
        self.app.notify(f"notes written to {path}", markup=False, timeout=10)
