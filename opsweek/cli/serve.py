"""``opsweek serve``: the TUI for browsers, through textual-serve.

textual-serve starts one ``opsweek`` process per browser tab and relays its screen over a
websocket. It has no authentication of its own, so the server binds to 127.0.0.1 unless
``--host`` says otherwise; reach it through ``ssh -L 8765:localhost:8765 host`` or an
authenticating proxy. Every browser viewer is the ``--me`` the server was started with,
and with ``--read-only`` each one is a follow-mode viewer (``opsweek meeting --follow``)
that can change nothing.
"""

from __future__ import annotations

import shlex
import sys

from opsweek.errors import InputError


def app_command(db_path, me: str | None, *, read_only: bool) -> str:
    """The shell command textual-serve runs for each browser tab (every part quoted)."""
    words = [sys.executable, "-m", "opsweek", "--db", str(db_path)]
    if me:
        words += ["--me", me]
    words += ["meeting", "--follow"] if read_only else ["tui"]
    return shlex.join(words)


def serve(ctx) -> int:
    from opsweek.store import Store

    args = ctx.args
    path = ctx.db_path
    # an unusable database is one line now, not an error page in every browser tab later
    with Store.open(path, migrate=not args.read_only):
        pass
    try:
        from textual_serve.server import Server
    except ImportError:
        raise InputError("opsweek serve needs textual-serve (accepted: pip install 'opsweek[serve]')") from None
    command = app_command(path.resolve(), ctx.me, read_only=args.read_only)
    title = "opsweek" + (" (read-only)" if args.read_only else "") + (f" as {ctx.me}" if ctx.me else "")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"opsweek: serving on {args.host}: textual-serve has no authentication; anyone who can reach"
              f" this port acts as {ctx.actor}", file=sys.stderr)
    Server(command, host=args.host, port=args.port, title=title).serve()
    return 0
