"""The ``opsweek`` command line: argument parsing and dispatch.

Parsing uses argparse (standard library, ~5 ms) rather than click (~40 ms) because
``opsweek mine`` must answer in well under 120 ms whole-process. Each command's code
lives in a module imported only when that command runs, so the quick commands never
import Textual, sqlite-utils or pydantic.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from importlib import import_module

from opsweek.errors import InputError, OpsweekError

PROG = "opsweek"


def _columns() -> int:
    """The terminal's columns as ``shutil.get_terminal_size`` gives them (``COLUMNS``, else
    the terminal of stdout, else 80), without importing shutil (and with it bz2, lzma and
    zlib: 3 ms of ``opsweek mine``) for the dozen formatters argparse makes while the
    parser is built."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
        columns = columns or 80
    return columns


class _Formatter(argparse.HelpFormatter):
    """argparse's help formatter, as wide as argparse makes it (the columns less 2)."""

    def __init__(self, prog, indent_increment=2, max_help_position=24, width=None):
        super().__init__(prog, indent_increment, max_help_position, _columns() - 2 if width is None else width)


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad usage as one line and exit 2 (never a traceback)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        raise InputError(f"{message} (see '{self.prog} --help')")


# ids and counts: ASCII digits only ("٣".isdigit() is true, and int() reads it) and
# below 2^63, the largest number SQLite holds (a larger one is OverflowError in a query)
_DIGITS = re.compile(r"[0-9]{1,19}")
_LARGEST = 2**63 - 1


def _item_number(text: str) -> int:
    raw = text.strip().lstrip("#")
    if not _DIGITS.fullmatch(raw) or int(raw) > _LARGEST:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not an item number (accepted: 42 or #42)")
    return int(raw)


def _number(text: str) -> int:
    raw = text.strip()
    if not _DIGITS.fullmatch(raw) or int(raw) > _LARGEST:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number (accepted: 12)")
    return int(raw)


def _positive(text: str) -> int:
    value = _number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be 1 or more")
    return value


def _trend_weeks(text: str) -> int:
    """``trends --weeks N``: 1 to 260 (five years)."""
    try:
        value = _number(text)
    except argparse.ArgumentTypeError:
        value = None
    if value is None or not 1 <= value <= 260:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a number of weeks (accepted: 1 to 260)")
    return value


def _port(text: str) -> int:
    value = _number(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (accepted: 1–65535)")
    return value


def _handle(text: str) -> str:
    """A person's handle as typed: handles are case-insensitive on input."""
    return text.strip(" ").lower()  # a newline or tab is not part of any handle: refused


def _volume(text: str) -> float:
    """``--volume X``: the rule is :func:`opsweek.inputs.check_volume` (0.1–100), as in the TUI."""
    from opsweek import inputs

    try:
        return inputs.check_volume(text)
    except InputError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _global_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--db", metavar="PATH", default=default,
                        help="database file (env OPSWEEK_DB; default: opsweek.db in the user data dir)")
    parser.add_argument("--me", metavar="HANDLE", default=default,
                        help="who is acting or asking (env OPSWEEK_ME)")


# command -> (handler "module:function", help, argument adder)
COMMANDS: dict[str, tuple[str, str]] = {}


class _Unused:
    """Stands in for the sub-parser of a command that is not being run."""

    def add_argument(self, *args, **kwargs) -> None:
        pass

    def add_subparsers(self, *args, **kwargs) -> "_Unused":
        return self

    def add_parser(self, *args, **kwargs) -> "_Unused":
        return self

    def set_defaults(self, **kwargs) -> None:
        pass

    def add_mutually_exclusive_group(self, **kwargs) -> "_Unused":
        return self


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with ``only``, just that command's sub-parser (argparse spends
    ~15 ms building all of them, a tenth of the budget of ``opsweek mine``)."""
    parser = _Parser(prog=PROG, description="Run your team's weekly operating rhythm.")
    _global_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, handler: str, help_text: str) -> argparse.ArgumentParser:
        COMMANDS[name] = (handler, help_text)
        if only is not None and name != only:
            return _Unused()
        p = sub.add_parser(name, help=help_text, description=help_text)
        _global_options(p, suppress=True)
        p.set_defaults(handler=handler)
        return p

    command("tui", "opsweek.cli.tui:home", "open the TUI at the home dashboard")
    p = command("meeting", "opsweek.cli.tui:meeting", "open this week's session, resuming an unfinished one")
    p.add_argument("--follow", action="store_true",
                   help="a read-only view that moves with the facilitator's step (changes nothing)")
    p = command("serve", "opsweek.cli.serve:serve", "the TUI in a browser (textual-serve; no authentication:"
                " binds to localhost unless told otherwise)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8765, help="port to listen on (default 8765)")
    p.add_argument("--read-only", dest="read_only", action="store_true",
                   help="browsers get follow-mode viewers that can change nothing")
    p = command("demo", "opsweek.cli.setup:demo", "build a demo database from sample_data/ and open it")
    p.add_argument("--scale", type=_positive, metavar="N", help="generate N synthetic items instead (load tests)")
    p.add_argument("--no-tui", action="store_true", help="print a summary instead of opening the TUI")
    p = command("init", "opsweek.cli.setup:init", "create an empty database")
    p.add_argument("--shared", action="store_true",
                   help="for a team's group directory: file 0660, new directory 2770 (env OPSWEEK_SHARED=1)")
    p = command("import", "opsweek.cli.setup:import_", "import a team file (.toml), items (.csv) or a dump (.json)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--replace", action="store_true", help="let a dump replace a database that holds data")
    p.add_argument("--dry-run", action="store_true", help="print what a team file would change; write nothing")
    p.add_argument("--force", action="store_true",
                   help="import a team file even where it reverts values changed in the app since")
    p.add_argument("--prune", action="store_true",
                   help="retire what the team file no longer lists (people inactive; never deleted)")

    p = command("mine", "opsweek.cli.mine:mine", "what is waiting on me")
    p.add_argument("--json", action="store_true", help="machine-readable output (stable shape)")
    p.add_argument("--check", action="store_true", help="exit 1 when anything of mine is overdue")
    p.add_argument("--all", action="store_true", help="every row of each section (default: the 20 most urgent)")

    p = command("add", "opsweek.cli.work:add", "new item in the workflow's first stage")
    p.add_argument("workflow", metavar="WORKFLOW")
    p.add_argument("title", metavar="TITLE")
    p.add_argument("--owner", type=_handle, metavar="H")
    p.add_argument("--due", metavar="DATE")
    p.add_argument("--ref", metavar="REF")
    p = command("handoff", "opsweek.cli.work:handoff", "hand an item to the next (or named) stage")
    p.add_argument("item", type=_item_number, metavar="ITEM")
    p.add_argument("--to", metavar="STAGE", dest="to_stage")
    p.add_argument("--owner", type=_handle, metavar="H")
    p.add_argument("--note", metavar="TEXT")
    p = command("accept", "opsweek.cli.work:accept", "accept a handoff; the item moves to its stage")
    p.add_argument("handoff", type=_number, metavar="HANDOFF")
    p.add_argument("--for", dest="for_", metavar="H", help="accept on behalf of the receiver")
    p = command("reassign", "opsweek.cli.work:reassign", "new owner for an item")
    p.add_argument("item", type=_item_number, metavar="ITEM")
    p.add_argument("--to", required=True, type=_handle, metavar="H")
    p.add_argument("--reason", metavar="TEXT")
    p = command("block", "opsweek.cli.work:block", "mark an item blocked")
    p.add_argument("item", type=_item_number, metavar="ITEM")
    p.add_argument("--reason", required=True, metavar="TEXT")
    p = command("unblock", "opsweek.cli.work:unblock", "clear an item's block")
    p.add_argument("item", type=_item_number, metavar="ITEM")
    p = command("done", "opsweek.cli.work:done", "mark an item done")
    p.add_argument("item", type=_item_number, metavar="ITEM")
    p = command("drop", "opsweek.cli.work:drop", "drop an item")
    p.add_argument("item", type=_item_number, metavar="ITEM")
    p.add_argument("--reason", required=True, metavar="TEXT")

    p = command("raise", "opsweek.cli.work:raise_", "an issue for the next session (anyone can raise one)")
    p.add_argument("text", metavar="TEXT")
    p.add_argument("--item", type=_item_number, metavar="N", help="the item it is about")
    p.add_argument("--workflow", metavar="W", help="the workflow it is about")

    p = command("escalate", "opsweek.cli.work:escalate", "escalate a late handoff or stuck item to the next tier now")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--handoff", type=_number, metavar="N")
    which.add_argument("--item", type=_item_number, metavar="N")
    p.add_argument("--reason", metavar="TEXT")
    p = command("digest", "opsweek.cli.digest:digest", "only what needs me now (prints nothing when nothing does)")
    p.add_argument("--everyone", action="store_true", help="one section per person")
    p = command("ics", "opsweek.cli.ics:ics", "an iCalendar file of my deadlines (RFC 5545)")
    p.add_argument("-o", "--output", metavar="FILE")
    p.add_argument("--everyone", action="store_true", help="the team calendar")

    p = command("export", "opsweek.cli.notes:export", "meeting notes as Markdown or JSON")
    p.add_argument("meeting", nargs="?", default="latest", metavar="MEETING|latest")
    p.add_argument("--format", choices=("md", "json"), default="md")
    p.add_argument("-o", "--output", metavar="FILE|DIR")
    p = command("action", "opsweek.cli.work:action", "an action from a session: done, dropped, or due on a new date")
    p.add_argument("action_id", type=_number, metavar="ID")
    p.add_argument("verb", choices=("done", "drop", "due"), metavar="done|drop|due")
    p.add_argument("date", nargs="?", metavar="DATE", help="the new due date (with 'due')")
    p.add_argument("--reason", metavar="TEXT")
    p = command("meetings", "opsweek.cli.notes:meetings", "every session: id, week, facilitator, started, closed,"
                " rating")
    p.add_argument("--json", action="store_true", help="machine-readable output (stable shape)")
    p = command("trends", "opsweek.cli.trends:trends", "stuck, overdue, escalated, on-time handoff and action"
                " rates per week")
    p.add_argument("--weeks", type=_trend_weeks, default=8, metavar="N",
                   help="how many weeks, ending with this one (default 8)")
    p.add_argument("--json", action="store_true", help="machine-readable output (stable shape)")
    p = command("dump", "opsweek.cli.notes:dump", "everything as JSON (import restores it)")
    p.add_argument("-o", "--output", metavar="FILE")

    p = command("log", "opsweek.cli.work:log", "the audit trail, newest first")
    p.add_argument("--item", type=_item_number, metavar="N")
    p.add_argument("--limit", type=_positive, default=20, metavar="N")
    command("undo", "opsweek.cli.work:undo", "revert your most recent change")
    p = command("audit", "opsweek.cli.system:audit", "the system audit of every workflow")
    p.add_argument("--json", action="store_true")
    p = command("whatif", "opsweek.cli.system:whatif", "pressure test: who loses what if people are away")
    p.add_argument("--away", required=True, type=_handle, metavar="H[,H...]")
    p.add_argument("--volume", type=_volume, default=1.0, metavar="X")
    p.add_argument("--json", action="store_true")

    p = command("recur", "opsweek.cli.schedule:recur", "recurring work: add, list, drop")
    actions = p.add_subparsers(dest="recur_action", metavar="add|list|drop", parser_class=_Parser, required=True)
    r = actions.add_parser("add", help="a new recurring schedule under a workflow",
                           description="a new recurring schedule under a workflow")
    _global_options(r, suppress=True)
    r.add_argument("target", metavar="WF/KEY")
    r.add_argument("--title", required=True, metavar="T", help="may use {date} {week} {month} {year}")
    r.add_argument("--schedule", required=True, metavar="S",
                   help="'every monday 10:00', 'every 2 weeks on fri', 'every month on the 25th', or an RRULE")
    r.add_argument("--owner", metavar="H", help="default: the first stage's owner")
    r.add_argument("--due", metavar="DUR", help="due this long after the occurrence: +1d, 2bd, 48h")
    r.add_argument("--catch-up", dest="catch_up", choices=("latest", "all"), default="latest",
                   help="missed occurrences: open only the latest (default) or all")
    r = actions.add_parser("list", help="every recurring schedule", description="every recurring schedule")
    _global_options(r, suppress=True)
    r = actions.add_parser("drop", help="stop a recurring schedule", description="stop a recurring schedule")
    _global_options(r, suppress=True)
    r.add_argument("target", metavar="WF/KEY")
    p = command("schedule", "opsweek.cli.schedule:schedule_", "what will open, and sessions to come")
    p.add_argument("--days", type=_positive, default=14, metavar="N", help="how far ahead (default 14)")
    command("tick", "opsweek.cli.schedule:tick", "open every occurrence that is due (for cron or a systemd timer)")
    # keeping the system current (opsweek.cli.team)
    command("people", "opsweek.cli.team:people", "the team: roles, covers, away periods and what each owns")
    p = command("person", "opsweek.cli.team:person", "add a person, or change one")
    p.add_argument("verb", choices=("add", "set"), metavar="add|set")
    p.add_argument("handle", metavar="HANDLE")
    p.add_argument("--name", metavar="N")
    p.add_argument("--role", metavar="R")
    p.add_argument("--cover", metavar="H|none")
    p.add_argument("--active", choices=("yes", "no"), metavar="yes|no")
    p.add_argument("--reason", metavar="TEXT")
    p = command("away", "opsweek.cli.team:away", "mark someone away from FROM to TO (no TO: until back)")
    p.add_argument("handle", metavar="HANDLE")
    p.add_argument("start", metavar="FROM")
    p.add_argument("end", nargs="?", metavar="TO")
    p = command("back", "opsweek.cli.team:back", "someone is back: their current away period ends today")
    p.add_argument("handle", metavar="HANDLE")
    p = command("workflow", "opsweek.cli.team:workflow", "add a workflow, or change one")
    p.add_argument("verb", choices=("add", "set"), metavar="add|set")
    p.add_argument("key", metavar="KEY")
    p.add_argument("--name", metavar="N")
    p.add_argument("--owner", metavar="H")
    p.add_argument("--trigger", metavar="T")
    p.add_argument("--outcome", metavar="O")
    p.add_argument("--status", choices=("active", "paused", "retired"), metavar="active|paused|retired")
    p.add_argument("--reason", metavar="TEXT")
    p = command("stage", "opsweek.cli.team:stage", "add a stage to a workflow, or change one (none clears)")
    p.add_argument("verb", choices=("add", "set"), metavar="add|set")
    p.add_argument("target", metavar="WF/STAGE")
    p.add_argument("--name", metavar="N")
    p.add_argument("--after", metavar="STAGE|none")
    p.add_argument("--owner", metavar="H|none")
    p.add_argument("--sop", metavar="URL|none")
    p.add_argument("--max-days", dest="max_days", metavar="N|none")
    p.add_argument("--handoff-sla", dest="handoff_sla", metavar="DUR|none")
    p.add_argument("--reason", metavar="TEXT")
    p = command("set", "opsweek.cli.team:set_", "change a setting (meeting, handoff_sla, stale_after,"
                                                " escalate_after, step_minutes STEP=N)")
    p.add_argument("key", metavar="KEY")
    p.add_argument("value", metavar="VALUE")
    p = command("team", "opsweek.cli.team:team", "team export: the current system as a team file")
    p.add_argument("verb", choices=("export",), metavar="export")
    p.add_argument("-o", "--output", metavar="FILE")
    return parser


# Commands that change the database tick first, so that what is due has opened before
# the change (SPEC.md: "the TUI and every write command tick first"); reads never write.
TICKING = frozenset({"add", "handoff", "accept", "reassign", "block", "unblock", "done", "drop", "undo",
                     "import", "recur", "set", "action", "raise", "escalate", "person", "away", "back",
                     "workflow", "stage"})


class Context:
    """What every command gets: its parsed arguments, the database path and the actor."""

    def __init__(self, args: argparse.Namespace):
        self.args = args

    @property
    def db_path(self):
        from opsweek.store.db import resolve_db_path

        return resolve_db_path(getattr(self.args, "db", None))

    @property
    def me(self) -> str | None:
        me = getattr(self.args, "me", None) or os.environ.get("OPSWEEK_ME") or None
        return me.strip(" ").lower() if me else None  # handles are case-insensitive on input

    @property
    def actor(self) -> str:
        """Who is acting: ``--me``, ``OPSWEEK_ME``, else the login name."""
        from opsweek.store.db import resolve_actor

        return resolve_actor(self.me)

    def require_me(self) -> str:
        if not self.me:
            raise InputError("who are you? pass --me HANDLE or set OPSWEEK_ME")
        return self.me

    def open_store(self, *, create: bool = False):
        from opsweek.store.db import Store

        store = Store.open(self.db_path, create=create)
        if getattr(self.args, "command", None) in TICKING:
            try:
                self.tick(store)
            except BaseException:
                store.close()
                raise
        return store

    def tick(self, store) -> list[int]:
        """Open what is due (one indexed query when nothing is)."""
        from opsweek.store import recurring

        return recurring.tick(store)


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit code (0 ok, 1 --check found overdue, 2 bad input, 3 bad db)."""
    try:
        argv = _attach_values(sys.argv[1:] if argv is None else list(argv))
        args = _parser_for(argv).parse_args(argv)
        handler = getattr(args, "handler", None) or "opsweek.cli.tui:home"
        module, function = handler.split(":")
        code = getattr(import_module(module), function)(Context(args))
        return int(code or 0)
    except OpsweekError as error:
        _say(error)
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as error:  # never a traceback for the user; OPSWEEK_DEBUG shows it
        if os.environ.get("OPSWEEK_DEBUG"):
            raise
        import sqlite3

        if isinstance(error, sqlite3.Error):
            from opsweek.text import one_line

            print(f"{PROG}: the database cannot be used: {one_line(str(error))}", file=sys.stderr)
            return 3
        print(f"{PROG}: internal error: {type(error).__name__}: {error} (set OPSWEEK_DEBUG=1 for details)",
              file=sys.stderr)
        return INTERNAL_ERROR


# A bug of ours, not the user's: not 1, which scripts read as "--check found something".
INTERNAL_ERROR = 70

_VALUE_OPTIONS = frozenset({"--due", "--reason", "--note", "--to", "--owner", "--ref", "--away", "--volume",
                            "--me", "--db", "--format", "-o", "--output", "--limit", "--item", "--scale",
                            "--for", "--title", "--schedule", "--catch-up", "--days",
                            "--name", "--role", "--cover", "--active", "--trigger", "--outcome", "--status",
                            "--after", "--sop", "--max-days", "--handoff-sla", "--handoff", "--host", "--port",
                            "--workflow"})
_OPTION = re.compile(r"^--?[A-Za-z]")
_RELATIVE_WORD = re.compile(r"^-\d+(\.\d+)?(m|h|d|bd|w)$", re.IGNORECASE)


def _attach_values(argv: list[str]) -> list[str]:
    """``--due -2d`` → ``--due=-2d``: argparse takes a value starting with "-" for an option."""
    joined, index = [], 0
    while index < len(argv):
        word = argv[index]
        if (word in _VALUE_OPTIONS and index + 1 < len(argv) and argv[index + 1].startswith("-")
                and argv[index + 1] != "--" and not _OPTION.match(argv[index + 1])):
            joined.append(f"{word}={argv[index + 1]}")
            index += 2
            continue
        # a relative date typed as an argument ("away ana -3d"): argparse would read it as an
        # option; with a leading space it is a value, and the date parser strips the space
        joined.append(" " + word if _RELATIVE_WORD.match(word) else word)
        index += 1
    return joined


def _parser_for(argv: list[str]) -> argparse.ArgumentParser:
    """A parser holding only the command named in ``argv`` (all of them for help or typos)."""
    words = iter(argv)
    for word in words:
        if word in ("--db", "--me"):
            next(words, None)
        elif not word.startswith("-"):
            parser = build_parser(only=word)
            if word not in COMMANDS:
                from opsweek.text import unknown

                raise InputError(f"{unknown('command', word, [c for c in COMMANDS if c != 'tui'])}"
                                 f" (see '{PROG} --help')")
            return parser
        elif word in ("--", "-h", "--help"):
            break
    return build_parser()


def _say(error: OpsweekError) -> None:
    from opsweek.text import one_line

    text = one_line(str(error))  # messages quote what was typed: never a control on stderr
    print(f"{PROG}: {text}", file=sys.stderr)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
