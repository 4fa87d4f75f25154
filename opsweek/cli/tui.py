"""``opsweek`` (home) and ``opsweek meeting``: the only commands that import Textual."""

from __future__ import annotations


def launch(ctx, path=None, *, screen: str = "home") -> int:
    from opsweek.store import Store

    path = path or ctx.db_path
    with Store.open(path) as store:  # a missing or unusable database is one line, before Textual starts
        ctx.tick(store)  # what is due opens before the dashboard's numbers are read
    if screen == "home":  # read the dashboard's numbers while Textual is being imported
        from opsweek.tui.attention import prefetch

        prefetch(path)
    from opsweek.tui.app import make_app

    make_app(path, me=ctx.me, start=screen).run()
    return 0


def home(ctx) -> int:
    return launch(ctx, screen="home")


def meeting(ctx) -> int:
    return launch(ctx, screen="meeting")
