"""The opsweek Textual app: one factory for the CLI and the tests, shared state for screens.

Screens reach the database through ``self.app.store`` and the small team data through
``self.app.team`` (re-read after every change with :meth:`OpsweekApp.changed`).

Threads: the UI thread owns one connection and is the only one that writes. A worker
thread reads through a connection of its own, borrowed with ``with app.reader() as
store:`` (``app.store`` in that worker is then that reader; outside one it refuses), and
only posts its results back.

Changes: a screen or a step never writes itself; it posts a :class:`ChangeRequested`
(attributes down, messages up) and :meth:`OpsweekApp.apply_change` makes it, the one
place that writes through ``opsweek.store.changes``, notifies and refreshes the screen.

Live: every :data:`LIVE_SECONDS` the app asks its own connection for ``PRAGMA
data_version`` (no query of the data; the number only moves when another connection, in
this process or another, committed). When it moved, the team is re-read and the screen on
show reloads itself, keeping its cursor on the same row.

Read-only (``opsweek meeting --follow``, ``opsweek serve --read-only``): the app refuses
every :class:`ChangeRequested` with a notice, never ticks, and its connection is
``query_only``, so a viewer can never write, even by a path this file does not know of.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import import_module
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Literal

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.css.query import NoMatches
from textual.screen import ModalScreen, Screen

from opsweek import clock
from opsweek.errors import OpsweekError
from opsweek.store import Store, history, read
from opsweek.store.db import Busy, resolve_actor

# A write first waits this long for another process's lock; then the screen says so and
# the write waits the rest of the busy timeout (half a second, not a frozen 5 s).
QUICK_WAIT_MS = 400
# how often the app looks for changes made elsewhere (SPEC: shown within two seconds)
LIVE_SECONDS = 1.0
HEAP_SETTLES_S = 1.0  # after a screen is up: what is alive then is kept out of the collector's way
READ_ONLY_NOTICE = "this is a read-only view; nothing can be changed from it"

# name -> (module:class, title for the palette, key on the home screen)
SCREENS: dict[str, tuple[str, str]] = {
    "home": ("opsweek.tui.screens.home:HomeScreen", "Home: workflow health and what needs attention"),
    "meeting": ("opsweek.tui.screens.session:SessionScreen", "This week's session"),
    "workflows": ("opsweek.tui.screens.workflow_map:WorkflowMapScreen", "Workflow map: stages, owners, bottlenecks"),
    "audit": ("opsweek.tui.screens.audit:AuditScreen", "System audit of every workflow"),
    "whatif": ("opsweek.tui.screens.whatif:WhatIfScreen", "What-if: pressure-test the team"),
    "mine": ("opsweek.tui.screens.my_handoffs:MyHandoffsScreen", "My handoffs and work"),
    "team": ("opsweek.tui.screens.team:TeamScreen", "Team: people, covers, away periods, what each owns"),
}


def screen_words(title: str) -> str:
    """What a screen is called in the palette's help line: its title's head, in a sentence
    ("My handoffs and work: …" -> "my handoffs and work")."""
    head = title.split(":", 1)[0].strip()
    return head[:1].lower() + head[1:]


def where_words(node, screen) -> str:
    """Where a key of the palette works, in words: the session step's title ("key in Stuck
    items"), else the screen's name from :data:`SCREENS` (never a class name)."""
    step_title = getattr(node, "title", None) if node is not screen else None
    if isinstance(step_title, str) and step_title:
        return f"key in {step_title}"
    target = f"{type(screen).__module__}:{type(screen).__name__}"
    title = next((t for path, t in SCREENS.values() if path == target), None)
    return f"key on {screen_words(title)}" if title else "key on this screen"


def screenshot_directory() -> Path:
    """Where a screenshot is saved: the current directory (where exported notes go too)
    when it can be written, else opsweek's user data directory (created)."""
    import os

    try:
        here = Path.cwd()
    except OSError:  # the current directory was removed under us
        here = None
    if here is not None and os.access(here, os.W_OK):
        return here
    from platformdirs import user_data_dir

    data = Path(user_data_dir("opsweek", appauthor=False))
    try:
        data.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # the save then says why it failed
    return data


@dataclass
class ChangeRequested(Message):
    """A screen or a step asks for one change; the app makes it (:meth:`OpsweekApp.apply_change`).

    ``change`` is a function of ``opsweek.store.changes``, called on the UI thread as
    ``change(store, *args, actor=<who>, meeting_id=<meeting_id>, **kwargs)`` (``meeting_id``
    only when given: the session the change is made in, named by its audit events).
    """

    change: Callable[..., Any]
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    # the notification once it is written; a function of the change's result (undo's words)
    success: str | Callable[[Any], str] | None = None
    meeting_id: int | None = None
    # reload the screen after a written change, or also after a refusal ("already accepted
    # by …": the list on screen is out of date, so show what the database holds now)
    reload: Literal["written", "always"] = "written"
    then: Callable[[Any], None] | None = None  # after it was written, with the change's result
    refused: Callable[[OpsweekError], None] | None = None  # instead of the error notification
    # what the session did about the row it reviewed, written in the same change
    # (``changes.with_outcome``); an ``opsweek.store.records.Outcome``
    outcome: Any = None


class Readers:
    """Read-only connections for worker threads, lent one worker at a time.

    A worker borrows one for as long as it reads, so no two threads ever use a connection
    at once and none uses the UI thread's; a returned one is kept for the next worker (its
    page cache stays warm), up to ``keep`` of them.
    """

    def __init__(self, open_reader: Callable[[], Store], *, keep: int = 4):
        self._open = open_reader
        self._keep = keep
        self._idle: list[Store] = []
        self._lock = threading.Lock()
        self._local = threading.local()
        self._closed = False

    def current(self) -> Store | None:
        """The reader the calling thread has borrowed, or None."""
        return getattr(self._local, "store", None)

    @contextmanager
    def borrow(self) -> Iterator[Store]:
        """A reader for the calling thread (the one it already holds, when nested)."""
        held = self.current()
        if held is not None:
            yield held
            return
        with self._lock:
            store = self._idle.pop() if self._idle else None
        if store is None:
            store = self._open()
        self._local.store = store
        try:
            yield store
        finally:
            self._local.store = None
            with self._lock:
                if not self._closed and len(self._idle) < self._keep:
                    self._idle.append(store)
                    store = None
            if store is not None:
                store.close()

    def close(self) -> None:
        """Close the idle readers; one still lent out is closed when it comes back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for store in idle:
            store.close()


class OpsweekApp(App):
    """opsweek's TUI. ``start`` is the first screen: "home" or "meeting"."""

    # session screens (opsweek.tcss) and the system screens: map, audit, what-if (system.tcss)
    CSS_PATH = ["opsweek.tcss", "system.tcss"]
    TITLE = "opsweek"
    # a short terminal (24 rows): dialogs drop their spacing so the error line and keys show
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    BINDINGS = [
        Binding("question_mark", "toggle_keys", "Keys", key_display="?"),
        Binding("ctrl+z", "undo", "Undo", show=False),
        # SPEC: ctrl+c quits like q (Textual's default only hints at ctrl+q); in a text
        # field the field's own ctrl+c (copy) still wins. Nothing is lost: changes are written.
        Binding("ctrl+c", "quit", "Quit", show=False, system=True),
    ]

    def __init__(self, db_path: str | Path, *, me: str | None = None, start: str = "home",
                 store: Store | None = None, read_only: bool = False):
        super().__init__()
        self.db_path = Path(db_path)
        self.me = me
        self.start = start
        self.read_only = read_only
        self._ui_thread = threading.get_ident()
        # a viewer never migrates a database either (that is a write): it must be current
        self._store = store or Store.open(self.db_path, migrate=not read_only)
        self._store.quick_wait_ms = QUICK_WAIT_MS
        if read_only:
            self._store.refuse_writes()
        self.data_version = self._data_version()
        self.readers = Readers(self._store.reader)
        self.team: read.Team = read.team(self._store)
        self.crash: BaseException | None = None  # an unexpected exception: cli/tui.py exits 70

    # -- connections ----------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The calling thread's connection: the UI thread's own (the only one that writes),
        or in a worker, the read-only one it borrowed with :meth:`reader`."""
        if threading.get_ident() == self._ui_thread:
            return self._store
        borrowed = self.readers.current()
        if borrowed is None:
            raise RuntimeError("app.store is the UI thread's connection; a worker reads through its own:"
                               " 'with app.reader() as store:'")
        return borrowed

    def reader(self):
        """``with app.reader() as store:`` — a read-only connection for this worker thread."""
        return self.readers.borrow()

    # -- shared state ---------------------------------------------------------------

    @property
    def actor(self) -> str:
        """Who is making changes: ``--me`` / ``OPSWEEK_ME``, else the login name (as on the CLI)."""
        return resolve_actor(self.me)

    def now(self) -> datetime:
        return clock.now()

    def today(self) -> date:
        return clock.today()

    def changed(self) -> None:
        """Re-read the team after a change, and let screens refresh themselves."""
        self.team = read.team(self.store)

    # -- live -----------------------------------------------------------------------

    def _data_version(self) -> int:
        return self._store.data_version()

    def check_for_changes(self) -> bool:
        """Did another connection commit since the last look? Then re-read the team and let
        the screen on show reload (its cursor stays on the same row). One PRAGMA, no query
        of the data, when nothing changed. UI thread only. Returns True when it reloaded."""
        try:
            version = self._data_version()
        except Exception:  # the database went away under us: the next action says so
            return False
        if version == self.data_version:
            return False
        self.data_version = version
        try:
            self.changed()
        except OpsweekError as error:
            self.notify(str(error), severity="warning")
            return False
        self.reload_shown()
        return True

    def reload_shown(self) -> None:
        """Reload the screen the user is looking at: the top one, or the one under a dialog."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, ModalScreen):
                continue
            reload = getattr(screen, "reload", None)
            if callable(reload):
                try:
                    reload()
                except NoMatches:  # the screen is being taken down (the app is closing)
                    pass
            return

    # -- changes --------------------------------------------------------------------

    def on_change_requested(self, request: ChangeRequested) -> None:
        request.stop()
        self.apply_change(request)

    def apply_change(self, request: ChangeRequested) -> bool:
        """The one place a change is made: write it, say so, and refresh the screen.

        A refused change (:class:`OpsweekError`) becomes an error notification (or goes to
        ``request.refused``), never a crash. A written one re-reads the team, notifies
        ``request.success``, reloads the screen on top and then calls ``request.then``.
        Returns True when the change was written. UI thread only.
        """
        if threading.get_ident() != self._ui_thread:
            raise RuntimeError("only the UI thread writes; a worker posts a message instead")
        if self.read_only:
            self.notify(READ_ONLY_NOTICE, severity="warning")
            return False
        kwargs = {"actor": self.actor, **request.kwargs}
        if request.meeting_id is not None:
            kwargs.setdefault("meeting_id", request.meeting_id)
        try:
            if request.outcome is not None:
                from opsweek.store import changes

                result = changes.with_outcome(self._store, request.outcome, request.change, *request.args, **kwargs)
            else:
                result = request.change(self._store, *request.args, **kwargs)
        except Busy:  # another process is writing: say so now, write when it is done
            self.when_free(lambda: self.apply_change(request))
            return False
        except OpsweekError as error:
            if request.refused is not None:
                request.refused(error)
            else:
                self.notify(str(error), severity="error", markup=False)
            if request.reload == "always":
                self.reload_screen()
            else:  # refused because the row changed elsewhere? then show it as it is now
                self.check_for_changes()
            return False
        self.changed()
        success = request.success(result) if callable(request.success) else request.success
        if success:
            self.notify(success, markup=False)
        self.reload_screen()
        if request.then is not None:
            request.then(result)
        return True

    def make_change(self, change: Callable[..., Any], *args: Any, success: str | None = None, **kwargs: Any):
        """One change now, through :meth:`apply_change` (the one place that writes), for a
        dialog that goes on with its result: returns it, or None when it was refused."""
        results: list = []
        written = self.apply_change(ChangeRequested(change, args, kwargs, success=success, then=results.append))
        return results[0] if written and results else None

    def reload_screen(self) -> None:
        """Let the screen on top show the database as it is now (its ``reload``, if any)."""
        reload = getattr(self.screen, "reload", None)
        if callable(reload):
            reload()

    def when_free(self, retry) -> None:
        """Another process holds the write lock: say so now, then retry with the full wait
        once the notice is on screen (the retry blocks, the notice explains why)."""
        self.notify("another opsweek is writing; waiting for it…", severity="warning", timeout=6)

        def again() -> None:
            with self.store.patient():
                retry()

        self.set_timer(0.05, again)

    # -- screenshots (the palette's Screenshot, Textual's own action) -----------------

    def deliver_screenshot(self, filename: str | None = None, path: str | None = None,
                           time_format: str | None = None) -> str | None:
        """Textual saves into ~/Downloads, which many hosts lack ("Failed to save
        screenshot"); here it goes where the notes go, a directory that exists."""
        self.screenshot_directory = Path(path) if path is not None else screenshot_directory()
        return super().deliver_screenshot(filename, str(self.screenshot_directory), time_format)

    def on_delivery_complete(self, event: events.DeliveryComplete) -> None:
        if event.name != "screenshot":
            return
        event.prevent_default()  # Textual's own notice is markup ("[$text-success]…")
        self.notify(f"screenshot saved to {event.path}" if event.path is not None
                    else "screenshot sent to your browser", title="Screenshot")

    def on_delivery_failed(self, event: events.DeliveryFailed) -> None:
        if event.name != "screenshot":
            return
        event.prevent_default()
        error = event.exception
        why = getattr(error, "strerror", None) or str(error) or type(error).__name__
        where = getattr(self, "screenshot_directory", None)
        self.notify(f"screenshot not saved{f' in {where}' if where else ''}: {why}", title="Screenshot",
                    severity="error")

    def _handle_exception(self, error: Exception) -> None:
        # remembered for cli/tui.py, which exits 70 with one line (Textual would exit 0)
        if self.crash is None:
            self.crash = error
        super()._handle_exception(error)

    def _print_error_renderables(self) -> None:
        # Textual prints the traceback panel here; without OPSWEEK_DEBUG=1 the user gets
        # the one line from cli/tui.py instead (tests under Pilot still see the exception)
        import os

        if os.environ.get("OPSWEEK_DEBUG") or self.crash is None:
            super()._print_error_renderables()
        else:
            self._exit_renderables.clear()

    def notify(self, message: str, *, title: str = "", severity="information", timeout: float | None = None,
               markup: bool = True) -> None:
        """Notifications are never markup: they carry names, titles and reasons people typed.

        Every widget's ``notify`` ends here, so no call site can forget ``markup=False``.
        """
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def tick(self) -> list[int]:
        """Open what the schedules have due (SPEC: the TUI ticks first); one query when nothing is.
        A read-only viewer never ticks: the facilitator's app, the CLI or cron do."""
        from opsweek.store import recurring

        if self.read_only:
            return []

        try:
            opened = recurring.tick(self.store)
        except OpsweekError as error:  # locked past the timeout: the next tick opens it
            self.notify(str(error), severity="warning")
            return []
        if opened:
            self.changed()
            self.notify(f"{len(opened)} scheduled item{'s' if len(opened) != 1 else ''} opened")
        return opened

    # -- screens --------------------------------------------------------------------

    def make_screen(self, name: str, **kwargs) -> Screen:
        target, _ = SCREENS[name]
        module, cls = target.split(":")
        screen = getattr(import_module(module), cls)(**kwargs)
        # the size classes (-short, -tall) it will get at its first resize, given now: the
        # resize then changes no class, and the screen is not styled a second time
        screen.add_class(*self.breakpoint_classes(screen))
        return screen

    def breakpoint_classes(self, screen: Screen) -> list[str]:
        """The breakpoint classes Textual gives ``screen`` at the app's size (as
        ``Screen._on_resize`` works them out: per dimension, the largest point reached)."""
        width, height = self.size
        found = []
        for dimension, own, default in ((width, screen.HORIZONTAL_BREAKPOINTS, self.HORIZONTAL_BREAKPOINTS),
                                        (height, screen.VERTICAL_BREAKPOINTS, self.VERTICAL_BREAKPOINTS)):
            for point, name in sorted((default if own is None else own) or [], reverse=True):
                if dimension >= point:
                    found.append(name)
                    break
        return found

    def show(self, name: str, **kwargs) -> None:
        """Push the named screen (see ``SCREENS``)."""
        self.push_screen(self.make_screen(name, **kwargs))

    def on_mount(self) -> None:
        self._ui_thread = threading.get_ident()  # the thread the app runs on (as a rule, where it was made)
        self.tick()
        # a TUI left open across Friday 09:00 opens Friday's work too (one indexed query a minute)
        if not self.read_only:
            self.set_interval(60, self.tick)
        self.data_version = self._data_version()
        self.set_interval(LIVE_SECONDS, self.check_for_changes)
        self.push_screen(self.make_screen("home"))
        if self.start != "home":
            self.push_screen(self.make_screen(self.start))
        self.set_timer(HEAP_SETTLES_S, self.keep_heap)

    def keep_heap(self) -> None:
        """Take what is alive now (Textual, the modules, the screens shown so far) out of
        Python's cyclic garbage collector: they live as long as the app. A full collection
        walks every object (75,000 on home, 130,000 in a session: 50–80 ms on the UI thread,
        at a moment nobody chooses: a reassign took 238 ms when one came during it); after
        this, collections walk only what was made since. Called once the first screen is up
        and once a session has shown its first step (the objects of later dialogs and pages
        come and go, and are collected as before). The launch (``cli.tui``) pauses the
        collector until the first time this runs; it is on from here."""
        import gc

        gc.freeze()
        gc.enable()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for name, (_, title) in SCREENS.items():
            yield SystemCommand(f"Open: {title}", f"opens {screen_words(title)} (escape comes back)",
                                lambda name=name: self.show(name))
        yield SystemCommand("Undo", "revert your last change (ctrl+z)", self.action_undo)
        # the actions of the current screen and of its focused widget (a session step's r, b, h…)
        seen = set()
        for key, active in screen.active_bindings.items():
            binding, node = active.binding, active.node
            if node is self or not (binding.description and binding.show and active.enabled):
                continue
            if (id(node), binding.action) in seen:
                continue
            seen.add((id(node), binding.action))
            key = self.get_key_display(binding)  # "]" and "+", never "right_square_bracket"
            yield SystemCommand(f"{binding.description} ({key})", f"{where_words(node, screen)}: {key}",
                                lambda action=binding.action, node=node: self.run_action(action, node))

    # -- global actions -------------------------------------------------------------

    def action_toggle_keys(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_undo(self) -> None:
        from opsweek.store import changes, history

        meeting_id = getattr(self.screen, "meeting_id", None)
        def undid(undone) -> str:
            by = "" if undone.actor == self.actor else f" (by {undone.actor})"
            return f"undid: {history.describe_change(self.store, undone)}{by}"

        self.apply_change(ChangeRequested(changes.undo_last, meeting_id=meeting_id, success=undid))

    def on_unmount(self) -> None:
        self.readers.close()
        self._store.close()


def make_app(db_path: str | Path, *, me: str | None = None, start: str = "home",
             read_only: bool = False) -> OpsweekApp:
    """The one factory for the CLI and the tests (``read_only``: a viewer that never writes)."""
    return OpsweekApp(db_path, me=me, start=start, read_only=read_only)
