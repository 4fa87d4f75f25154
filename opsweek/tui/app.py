"""The opsweek Textual app: one factory for the CLI and the tests, shared state for screens.

Screens reach the database through ``self.app.store`` and the small team data through
``self.app.team`` (re-read after every change with :meth:`OpsweekApp.changed`). Every
change goes through ``opsweek.store.changes`` the moment it is made.
"""

from __future__ import annotations

from datetime import date, datetime
from importlib import import_module
from pathlib import Path
from typing import Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from opsweek import clock
from opsweek.errors import OpsweekError
from opsweek.store import Store, read
from opsweek.store.db import resolve_actor

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


class OpsweekApp(App):
    """opsweek's TUI. ``start`` is the first screen: "home" or "meeting"."""

    # session screens (opsweek.tcss) and the system screens: map, audit, what-if (system.tcss)
    CSS_PATH = ["opsweek.tcss", "system.tcss"]
    TITLE = "opsweek"
    BINDINGS = [
        Binding("question_mark", "toggle_keys", "Keys", key_display="?"),
        Binding("ctrl+z", "undo", "Undo", show=False),
        # SPEC: ctrl+c quits like q (Textual's default only hints at ctrl+q); in a text
        # field the field's own ctrl+c (copy) still wins. Nothing is lost: changes are written.
        Binding("ctrl+c", "quit", "Quit", show=False, system=True),
    ]

    def __init__(self, db_path: str | Path, *, me: str | None = None, start: str = "home",
                 store: Store | None = None):
        super().__init__()
        self.db_path = Path(db_path)
        self.me = me
        self.start = start
        self.store = store or Store.open(self.db_path)
        self.team: read.Team = read.team(self.store)

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

    def attempt(self, function, *args, success: str | None = None, **kwargs):
        """Run a store change; a refused change becomes a notification, never a crash.

        Returns the function's result, or None when it was refused.
        """
        try:
            result = function(*args, **kwargs)
        except OpsweekError as error:
            self.notify(str(error), severity="error", markup=False)
            return None
        self.changed()
        if success:
            self.notify(success, markup=False)
        return result

    def notify(self, message: str, *, title: str = "", severity="information", timeout: float | None = None,
               markup: bool = True) -> None:
        """Notifications are never markup: they carry names, titles and reasons people typed.

        Every widget's ``notify`` ends here, so no call site can forget ``markup=False``.
        """
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    # -- screens --------------------------------------------------------------------

    def make_screen(self, name: str, **kwargs) -> Screen:
        target, _ = SCREENS[name]
        module, cls = target.split(":")
        return getattr(import_module(module), cls)(**kwargs)

    def show(self, name: str, **kwargs) -> None:
        """Push the named screen (see ``SCREENS``)."""
        self.push_screen(self.make_screen(name, **kwargs))

    def on_mount(self) -> None:
        self.push_screen(self.make_screen("home"))
        if self.start != "home":
            self.push_screen(self.make_screen(self.start))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for name, (_, title) in SCREENS.items():
            yield SystemCommand(f"Open: {title}", f"go to the {name} screen",
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
            yield SystemCommand(f"{binding.description} ({binding.key})",
                                f"{node.__class__.__name__} action",
                                lambda action=binding.action, node=node: self.run_action(action, node))

    # -- global actions -------------------------------------------------------------

    def action_toggle_keys(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_undo(self) -> None:
        from opsweek.store import changes

        meeting_id = getattr(self.screen, "meeting_id", None)
        description = self.attempt(changes.undo, self.store, actor=self.actor, meeting_id=meeting_id)
        if description:
            self.notify(description, markup=False)
            refresh = getattr(self.screen, "reload", None)
            if refresh:
                refresh()

    def on_unmount(self) -> None:
        self.store.close()


def make_app(db_path: str | Path, *, me: str | None = None, start: str = "home") -> OpsweekApp:
    """The one factory for the CLI and the tests."""
    return OpsweekApp(db_path, me=me, start=start)
