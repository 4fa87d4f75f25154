"""How fast the TUI is on a 100,000-item database: home screen up, and moving through lists.

    python benchmarks/tui_home.py                    # builds (or reuses) the database
    python benchmarks/tui_home.py --db /tmp/big.db   # reuse this one (env OPSWEEK_BENCH_DB)
    python benchmarks/tui_home.py --json             # the figures for benchmarks/all.py

Measures, headless (Textual's ``run_test``, 120x40), in a fresh process:

- **home**: from the start of the process (before opsweek and Textual are imported) to
  the home screen painted with its health table and "needs attention" filled, launched
  the way ``opsweek`` launches it. Targets (issues 4 and 16): within 1 s, and at most
  1.5x the reference: a minimal Textual app showing one label, launched and timed the
  same way in the same run (interleaved with the home's launches).
- **lists**: in this week's session (on a copy of the database, so the original is
  untouched), the first page of stuck items, overdue handoffs and ownership gaps, then
  200 presses of ``down`` through each list (across a page boundary: the next page is
  read from SQL in a worker) — the median and worst time per key press.

The home screen and the reference are each timed in 5 fresh processes, from the moment
the parent starts the process (Python's own start, imports included, as at a real
launch: ``perf_counter`` is the system's monotonic clock, shared by both processes), and
the medians are reported. Exit status 1 when the home's median is over a target.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()  # before anything of opsweek or Textual is imported

import argparse  # noqa: E402
import json  # noqa: E402
import asyncio  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import sqlite3  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

from scale_db import SCALE, busiest_handle, default_path, ensure_db, figure, item_count  # noqa: E402

TARGET_HOME_S = 1.0
TARGET_RATIO = 1.5
TARGET_MILLION_S = 2.0  # issue 16: home with counts at 1,000,000 items (no ratio asked there)
TARGET_RSS_MB = 250.0   # issue 16: the TUI's memory at 1,000,000 items
OUT = sys.stdout  # stderr with --json, so that stdout is the JSON only
PRESSES = 200


async def measure_bare(since: float) -> float:
    """The reference: a minimal Textual app showing one label, painted."""
    from textual.app import App
    from textual.widgets import Label

    class Bare(App):
        painted = 0.0

        def compose(self):
            yield Label("opsweek")

        def on_mount(self) -> None:
            self.call_after_refresh(self.done)

        def done(self) -> None:
            self.painted = time.perf_counter()
            self.exit()

    app = Bare()
    await app.run_async(headless=True, size=(120, 40))
    return app.painted - since


async def measure_home(path: Path, since: float = STARTED) -> float:
    """The home screen, launched as ``opsweek`` launches it, to the frame showing its counts."""
    # as ``opsweek`` launches (opsweek.cli.tui.launch): check the database, start reading the
    # dashboard's numbers, import Textual and the app meanwhile, then run it
    from opsweek.cli.tui import make_app
    from opsweek.store import Store

    Store.open(path).close()
    app = make_app(path)
    from opsweek.tui.screens.home import HomeScreen

    painted = []
    show_attention = HomeScreen.show_attention

    def shown(screen, *args, **kwargs) -> None:
        # the counts are in the widgets: the time is that of the next frame painted
        show_attention(screen, *args, **kwargs)

        def done() -> None:
            painted.append(time.perf_counter())
            screen.app.exit()

        screen.call_after_refresh(done)

    HomeScreen.show_attention = shown  # this process only launches this once
    await app.run_async(headless=True, size=(120, 40))
    return painted[0] - since


async def measure_lists(path: Path, me: str) -> dict[str, tuple[float, float, float]]:
    """Per list: (first page s, median ms per key, worst ms per key)."""
    from opsweek.tui.app import make_app
    from opsweek.tui.widgets.paged_table import PagedTable

    results = {}
    app = make_app(path, me=me, start="meeting")  # with no one named, the session asks who facilitates
    async with app.run_test(size=(120, 40)) as pilot:
        async def settle() -> None:
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()

        await settle()
        for number, name in (("4", "stuck"), ("5", "handoffs"), ("6", "gaps")):
            started = time.perf_counter()
            await pilot.press(number)
            table = app.screen.query_one(f"#{name}-table", PagedTable)
            while table.loading_page or not table.rows_data:
                await pilot.pause(0.002)
                if time.perf_counter() - started > 30:
                    break
            first = time.perf_counter() - started
            await settle()
            times, crossings = [], []
            for _ in range(min(PRESSES, max(0, table.total - 1))):
                before = (table.page_offset, table.cursor_row)
                started = time.perf_counter()
                await pilot.press("down")
                # a key that crosses a page waits for the next page (read ahead, or from the worker)
                while (table.page_offset, table.cursor_row) == before or table.loading_page:
                    await pilot.pause(0.001)
                spent = (time.perf_counter() - started) * 1000
                (crossings if table.page_offset != before[0] else times).append(spent)
            results[name] = (first, statistics.median(times) if times else 0.0, max(times) if times else 0.0)
            print(f"  {name:<9} {table.total:>7,} rows · first page {first * 1000:5.0f} ms · down within a page:"
                  f" median {results[name][1]:4.0f} ms, worst {results[name][2]:4.0f} ms · into the next page:"
                  f" {', '.join(f'{c:.0f}' for c in crossings) or '-'} ms", file=OUT)
    return results


async def measure_baseline() -> float:
    """Median ms per ``down`` on a bare 100-row DataTable: what a key press costs here at all."""
    from textual.app import App
    from textual.widgets import DataTable

    class Bare(App):
        def compose(self):
            table = DataTable(cursor_type="row")
            table.add_columns("a", "b", "c")
            table.add_rows([(str(n), "x" * 30, "y" * 20) for n in range(100)])
            yield table

    app = Bare()
    times = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for _ in range(60):
            started = time.perf_counter()
            await pilot.press("down")
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def launch_env() -> dict:
    """As an installed opsweek runs: with bytecode (``.pyc``) caches, here in a private
    ``PYTHONPYCACHEPREFIX`` (nothing written beside the sources), even where the
    environment sets ``PYTHONDONTWRITEBYTECODE``; both the home and the reference get it."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("OPSWEEK_NOW", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "opsweek-bench-pycache")
    return env


def launch_once(kind: str, source: Path) -> tuple[float, float]:
    """Seconds from starting a fresh process to its screen painted (``kind``: home, bare),
    and the most memory the process held by then with its prefetch child (MB, max RSS)."""
    since = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--db", str(source), f"--{kind}-once", "--since", repr(since)],
                          capture_output=True, text=True, check=True, env=launch_env())
    seconds, rss = done.stdout.strip().splitlines()[-1].split()
    return float(seconds), float(rss)


def max_rss_mb() -> float:
    """The most memory this process held, plus that of the child that read the home
    screen's numbers at launch (``tui.attention.prefetch``; reaped by then), in MB."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) / 1024  # KB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default=os.environ.get("OPSWEEK_BENCH_DB"))
    parser.add_argument("--runs", type=int, default=5, help="fresh processes timing the home screen")
    parser.add_argument("--scale", type=int, default=SCALE,
                        help="items in the demo database built when --db is not given (default 100,000)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON (for all.py)")
    parser.add_argument("--no-lists", action="store_true", help="time the home screen only")
    parser.add_argument("--home-once", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bare-once", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--since", type=float, default=STARTED, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.home_once:  # one launch, in this fresh process: print seconds and max RSS
        print(asyncio.run(measure_home(Path(args.db), args.since)), max_rss_mb())
        return 0
    if args.bare_once:
        print(asyncio.run(measure_bare(args.since)), max_rss_mb())
        return 0
    global OUT
    OUT = sys.stderr if args.json else sys.stdout

    def say(*parts) -> None:
        print(*parts, file=OUT)

    work = Path(tempfile.mkdtemp(prefix="opsweek-tui-bench-"))
    try:
        source = Path(args.db) if args.db else default_path(args.scale)
        ensure_db(source, scale=args.scale, quiet=args.json)
        items = item_count(source)
        million = items >= 1_000_000
        subprocess.run([sys.executable, "-m", "opsweek", "--db", str(source), "mine", "--me", "nobody-bench"],
                       capture_output=True)  # any pending schema upgrade happens here, not in a timed run
        launch_once("home", source)  # warm the page cache and the bytecode cache
        launch_once("bare", source)
        runs, bare_runs, rss = [], [], []
        for _ in range(args.runs):
            seconds, memory = launch_once("home", source)
            runs.append(seconds)
            rss.append(memory)
            bare_runs.append(launch_once("bare", source)[0])
        home, bare = statistics.median(runs), statistics.median(bare_runs)
        if million:  # issue 16 at 1,000,000 items: within 2 s, and the TUI within 250 MB
            ok = home <= TARGET_MILLION_S
            goal = f"<= {TARGET_MILLION_S:g} s"
        else:
            ok = home <= TARGET_HOME_S and home <= TARGET_RATIO * bare
            goal = f"<= {TARGET_HOME_S:g} s and <= {TARGET_RATIO:g}x ref"
        say(f"home screen painted with its tables filled, from launch: median {home * 1000:.0f} ms of"
            f" {len(runs)} launches ({', '.join(f'{r * 1000:.0f}' for r in runs)}); a minimal Textual app"
            f" with one label: median {bare * 1000:.0f} ms ({', '.join(f'{r * 1000:.0f}' for r in bare_runs)});"
            f" {home / bare:.1f}x; goal {goal}: {'ok' if ok else 'TOO SLOW'}; memory at that frame:"
            f" max RSS {max(rss):.0f} MB (with the child that read its numbers)")
        figures = [figure(f"home with its counts ({items:,} items)", goal,
                          f"{home * 1000:.0f} ms ({home / bare:.1f}x)", f"minimal Textual app {bare * 1000:.0f} ms",
                          ok)]
        if million:
            memory_ok = max(rss) <= TARGET_RSS_MB
            figures.append(figure(f"TUI memory, home shown ({items:,} items)", f"<= {TARGET_RSS_MB:g} MB RSS",
                                  f"{max(rss):.0f} MB", f"minimal Textual app {launch_once('bare', source)[1]:.0f} MB",
                                  memory_ok))
            ok = ok and memory_ok
        if not args.no_lists:
            copy = work / "session.db"
            shutil.copy(source, copy)
            say("moving through the session's lists (a copy of the database):")
            lists = asyncio.run(measure_lists(copy, busiest_handle(copy)))
            baseline = asyncio.run(measure_baseline())
            say(f"for scale: one key press on a bare 100-row DataTable takes {baseline:.0f} ms"
                " here (the test harness's own cost)")
            for name, (first, median, worst) in lists.items():
                figures.append(figure(f"session: {name}, key within a page", "",
                                      f"median {median:.0f} ms, worst {worst:.0f} ms (first page {first * 1000:.0f} ms)",
                                      f"bare DataTable key {baseline:.0f} ms", None))
        if args.json:
            print(json.dumps(figures))
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
