"""``opsweek`` (home), ``opsweek meeting`` (``--follow``): the commands that run the TUI."""

from __future__ import annotations

import os
import sys

# A bug of ours, not the user's (the same code as cli/main.py's INTERNAL_ERROR)
INTERNAL_ERROR = 70


def launch(ctx, path=None, *, screen: str = "home", read_only: bool = False) -> int:
    from opsweek.store import Store

    path = path or ctx.db_path
    # a missing or unusable database is one line, before Textual starts; a viewer opens it
    # without migrating or ticking (both write)
    with Store.open(path, migrate=not read_only) as store:
        if not read_only:
            ctx.tick(store)  # what is due opens before the dashboard's numbers are read
    import gc

    try:
        app = make_app(path, me=ctx.me, screen=screen, read_only=read_only)
        app.run()
    finally:
        gc.enable()  # make_app paused it; the app resumes it once its first screen is up, if it got so far
    return outcome(app)


def make_app(path, *, me=None, screen: str = "home", read_only: bool = False):
    """The app ``launch`` runs (``benchmarks/tui_home.py`` times this way too), made as
    quickly as it can be: the dashboard's numbers read while Textual is being imported,
    and Python's cycle collector paused until the first screen is up (the app's
    ``keep_heap`` freezes what is alive then and resumes it): importing Textual and
    building the screen make some 75,000 objects that live as long as the app, and each
    collection on the way walked them all again (60–100 ms of the 500 to the first
    frame at 100,000 items)."""
    import gc

    gc.disable()
    try:
        if screen == "home":
            from opsweek.tui.attention import prefetch

            prefetch(path)
        from opsweek.tui.app import make_app as app_for

        return app_for(path, me=me, start=screen, read_only=read_only)
    except BaseException:
        gc.enable()
        raise


def outcome(app) -> int:
    """The exit code of a finished app: an unexpected exception is one line and 70, never 0
    (Textual itself returns normally after one; its traceback shows under OPSWEEK_DEBUG=1)."""
    crash = getattr(app, "crash", None)
    if crash is None:
        return 0 if not app.return_code else INTERNAL_ERROR
    from opsweek.errors import OpsweekError
    from opsweek.text import one_line

    if isinstance(crash, OpsweekError):  # e.g. the database became unusable under the screen
        print(f"opsweek: {one_line(str(crash))}", file=sys.stderr)
        return crash.exit_code
    import sqlite3

    if isinstance(crash, sqlite3.Error):
        print(f"opsweek: the database cannot be used: {one_line(str(crash))}", file=sys.stderr)
        return 3
    hint = "" if os.environ.get("OPSWEEK_DEBUG") else " (set OPSWEEK_DEBUG=1 for details)"
    print(f"opsweek: internal error in the TUI: {type(crash).__name__}: {one_line(str(crash))}{hint}",
          file=sys.stderr)
    return INTERNAL_ERROR


def home(ctx) -> int:
    return launch(ctx, screen="home")


def meeting(ctx) -> int:
    """``opsweek meeting``; with ``--follow`` a read-only view that moves with the facilitator."""
    return launch(ctx, screen="meeting", read_only=bool(getattr(ctx.args, "follow", False)))
