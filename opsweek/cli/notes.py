"""``opsweek export`` (meeting notes) and ``opsweek dump`` (everything, losslessly)."""

from __future__ import annotations


def _emit(ctx, text: str, *, what: str, private: bool = False) -> None:
    """To ``-o FILE`` (written whole, then renamed into place) or to stdout as UTF-8."""
    from opsweek.cli.output import say
    from opsweek.files import STDOUT, write_output

    output = getattr(ctx.args, "output", None) or STDOUT
    path = write_output(output, text, mode=0o600 if private else None)
    if path is not None:
        say(f"wrote {what} to {path}")


def export(ctx) -> int:
    """``opsweek export [MEETING|latest] [--format md|json] [-o FILE]``."""
    from opsweek import notes

    with ctx.open_store() as store:
        meeting = notes.find_meeting(store, ctx.args.meeting)
        text = notes.render(store, meeting.id, ctx.args.format)
    _emit(ctx, text, what=f"the notes of {meeting.week} (meeting {meeting.id})")
    return 0


def dump(ctx) -> int:
    """``opsweek dump [-o FILE]``: restore it with ``opsweek import FILE``."""
    from opsweek.dump import dump as dump_all

    with ctx.open_store() as store:
        text = dump_all(store)
    # a dump holds everything: readable by its owner only, like the database itself
    _emit(ctx, text, what="the dump", private=True)
    return 0
