"""``opsweek init``, ``import`` and ``demo``."""

from __future__ import annotations

from pathlib import Path

from opsweek.cli.output import say
from opsweek.errors import InputError


def init(ctx) -> int:
    from opsweek.store import Store

    path = ctx.db_path
    if path.exists() and path.stat().st_size > 0:
        with Store.open(path):
            pass  # checks it is a usable opsweek database (exit 3 otherwise)
        say(f"opsweek database already exists at {path}")
        return 0
    with Store.open(path, create=True, shared=True if getattr(ctx.args, "shared", False) else None):
        pass
    say(f"created an empty opsweek database at {path}")
    say("next: opsweek import team.toml items.csv")
    return 0


def import_(ctx) -> int:
    from opsweek.importing import import_files
    from opsweek.store import Store

    paths = [Path(f) for f in ctx.args.files]
    for path in paths:  # before creating anything: a missing file writes nothing
        if not path.is_file():
            raise InputError(f"{path}: no such file" if not path.exists() else f"{path}: is not a file")
    args = ctx.args
    if args.dry_run:
        return _preview(ctx, paths)
    created = not ctx.db_path.exists()
    try:
        with Store.open(ctx.db_path, create=True) as store:
            ctx.tick(store)
            counts = import_files(store, paths, actor=ctx.actor, replace=args.replace, force=args.force,
                                  prune=args.prune)
            # imported items bring their history: the weeks that ended before it are
            # recorded now, as the first tick would (and not by a later, failing command)
            from opsweek import trends

            trends.freeze_ended_weeks(store)
    except BaseException:
        if created:  # leave no empty database behind a failed first import
            for suffix in ("", "-wal", "-shm"):
                Path(f"{ctx.db_path}{suffix}").unlink(missing_ok=True)
        raise
    changed = counts.pop("changes", None)
    done = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
    line = f"imported {done or 'nothing'} into {ctx.db_path}"
    if changed is not None and any(p.suffix.lower() == ".toml" for p in paths):
        line += f" ({changed} row change{'s' if changed != 1 else ''})" if changed else \
            " (no change: the database already matched the team file)"
    say(line)
    backup = getattr(counts, "backup", None)
    if backup is not None:
        say(f"the database it replaced is kept at {backup}")
    return 0


def _preview(ctx, paths) -> int:
    """``import --dry-run``: print what would change; write nothing (not even a new file)."""
    from opsweek.importing import preview_files
    from opsweek.store import Store

    if ctx.db_path.exists():
        with Store.open(ctx.db_path) as store:
            lines = preview_files(store, paths, prune=ctx.args.prune)
    else:  # compared with an empty team, in memory: no file is created
        with Store.memory() as store:
            lines = preview_files(store, paths, prune=ctx.args.prune)
    for line in lines:
        say(line)
    say("dry run: nothing written")
    return 0


def _demo_path(ctx) -> Path:
    import os

    if getattr(ctx.args, "db", None) or os.environ.get("OPSWEEK_DB"):
        return ctx.db_path
    # never build the demo over the user's real database
    return ctx.db_path.with_name("demo.db")


def demo(ctx) -> int:
    import time

    from opsweek import demo as demo_data

    path = _demo_path(ctx)
    started = time.perf_counter()
    store = demo_data.build(path, scale=ctx.args.scale)
    elapsed = time.perf_counter() - started
    try:
        if ctx.args.no_tui:
            what = f"{ctx.args.scale} synthetic items" if ctx.args.scale else "the sample team"
            say(f"built the demo database ({what}) at {path} in {elapsed:.1f} s")
            say()
            for line in demo_data.summary(store):
                say(line)
            say()
            say(f"try: opsweek --db {path} mine --me ben")
            return 0
    finally:
        store.close()
    from opsweek.cli.tui import launch

    return launch(ctx, path, screen="home")
