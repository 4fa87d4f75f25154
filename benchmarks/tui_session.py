"""How quick the weekly session is on 100,000 items (issue 16, goal 3), headless.

    python benchmarks/tui_session.py                    # builds (or reuses) the database
    python benchmarks/tui_session.py --db /tmp/big.db   # reuse this one (env OPSWEEK_BENCH_DB)
    python benchmarks/tui_session.py --json             # the figures for benchmarks/all.py

In this week's session (on a copy of the database, so the original is untouched), with
Textual's ``run_test`` at 120x40, each time from the key press to the end of the first
frame drawn with its result in place (the step's first page filled, the filtered rows, the
next page, the updated row):

- **step**: ``n`` / ``p`` between Workflows, Stuck items, Overdue handoffs and Ownership
  gaps, to the new step with its list's first page (goal ≤ 150 ms);
- **filter**: one key typed into Stuck items' ``/`` filter, to its rows (goal ≤ 100 ms);
- **page**: ``down`` on a page's last row of Stuck items, to the next page (goal ≤ 50 ms);
- **change**: reassigning the highlighted stuck item (the last ``enter`` of the owner and
  reason dialogs), to its row showing the new owner (goal ≤ 100 ms).

How a key is timed: the key event is sent as Pilot sends it, and the clock stops at the
end of the first screen refresh after which the result is shown (a hook on the screen's
refresh checks it there). Pilot's own ``press`` also waits until the whole process has
been idle for 20 ms, twice, so it counts whatever the app does afterwards in the
background (the count of a filtered list, the pages read ahead, the stepper's counts):
``--idle`` prints that figure as well ("until idle"), for information.

The references, in the same run and timed the same way: one ``down`` on a bare 100-row
DataTable (what a key press costs in this harness at all), and one ``pagedown`` on a bare
7-column DataTable of plain text (a whole screen of rows drawn anew: the floor for any
figure that shows a new page). Medians, with the worst. Exit 1 when a median misses its
goal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from scale_db import busiest_handle, default_path, ensure_db, figure

GOALS_MS = {"step": 150, "filter": 100, "page": 50, "change": 100}
OUT = sys.stdout


async def until(pilot, done, limit: float = 30.0) -> None:
    started = time.perf_counter()
    while not done():
        await pilot.pause(0.001)
        if time.perf_counter() - started > limit:
            raise TimeoutError("the screen never showed it")


CHARACTERS = {"minus": "-", "slash": "/", "space": " "}


class Frames:
    """The end of the first screen refresh after which ``done()`` holds: the moment the
    terminal shows the result of a key (a hook on ``Screen._compositor_refresh``)."""

    def __init__(self) -> None:
        from textual.screen import Screen

        self.done = None
        self.shown_at: float | None = None
        original = Screen._compositor_refresh
        frames = self

        def refreshed(screen, *args, **kwargs):
            result = original(screen, *args, **kwargs)
            if frames.done is not None and frames.shown_at is None and frames.done():
                frames.shown_at = time.perf_counter()
            return result

        Screen._compositor_refresh = refreshed

    async def key(self, app, key: str, done, limit: float = 30.0) -> float:
        """Send ``key`` as Pilot does (without its waits); ms to the frame showing ``done``."""
        from textual import events

        self.done, self.shown_at = done, None
        event = events.Key(key, key if len(key) == 1 else CHARACTERS.get(key))
        event.set_sender(app)
        started = time.perf_counter()
        app._driver.send_message(event)
        while self.shown_at is None:
            await asyncio.sleep(0.0005)
            if time.perf_counter() - started > limit:
                raise TimeoutError("the screen never showed it")
        self.done = None
        return (self.shown_at - started) * 1000


async def timed(pilot, frames: Frames | None, key: str, done) -> float:
    """ms from ``key`` to its result on screen (``frames``), or until Pilot is idle (None)."""
    if frames is not None:
        return await frames.key(pilot.app, key, done)
    started = time.perf_counter()
    await pilot.press(key)
    await until(pilot, done)
    return (time.perf_counter() - started) * 1000


async def measure(path: Path, me: str, rounds: int, frames: Frames | None) -> dict[str, list[float]]:
    from opsweek.tui.app import make_app
    from opsweek.tui.widgets.paged_table import PagedTable

    times: dict[str, list[float]] = {key: [] for key in GOALS_MS}
    app = make_app(path, me=me, start="meeting")
    async with app.run_test(size=(120, 40)) as pilot:
        async def settle() -> None:
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()

        await settle()
        screen = app.screen
        await pilot.press("3")
        await settle()

        def shown(step: str):
            def done() -> bool:
                if screen.step != step:
                    return False
                tables = screen.current_step().query(PagedTable)
                return not tables or (not tables.first().loading_page and bool(tables.first().rows_data))
            return done

        # moving between steps: workflows → stuck → handoffs → gaps and back, a few times
        for _ in range(rounds):
            for key, step in (("n", "stuck"), ("n", "handoffs"), ("n", "gaps"), ("p", "handoffs"), ("p", "stuck"),
                              ("p", "workflows")):
                times["step"].append(await timed(pilot, frames, key, shown(step)))
                await settle()

        await pilot.press("n")
        await settle()
        table = screen.query_one("#stuck-table", PagedTable)

        # crossing a page boundary: down on the last row of a page, to the next page
        for _ in range(rounds * 2):
            table.move_cursor(row=len(table.rows_data) - 1)
            await settle()
            before = table.page_offset
            times["page"].append(await timed(pilot, frames, "down",
                                             lambda: table.page_offset != before and not table.loading_page))
            await settle()

        # a change: reassign the highlighted item, to its row with the new owner
        people = sorted(h for h, p in app.team.people.items() if p.active)
        for n in range(rounds):
            await pilot.press("home")
            await settle()
            row = table.current
            handle = next(h for h in people[n % len(people):] + people if h != row.data.owner)
            await pilot.press("r")
            await settle()
            picker = app.screen
            picker.query_one("Input").value = handle  # the picker's search
            await settle()
            await pilot.press("enter")  # the person
            await settle()
            key = row.key
            times["change"].append(await timed(  # no reason: the change is written
                pilot, frames, "enter",
                lambda: any(r.key == key and r.data.owner == handle for r in table.rows_data)
                and not table.loading_page))
            await settle()

        # a filter keystroke: typing into the stuck items' filter, one key at a time
        await pilot.press("slash")
        await settle()
        for _ in range(max(1, rounds // 2)):
            for key in ("f", "l", "o", "w", "minus", "0", "backspace", "backspace", "backspace", "backspace",
                        "backspace", "backspace"):
                generation = table.generation
                times["filter"].append(await timed(
                    pilot, frames, key, lambda: table.generation != generation and not table.loading_page))
                await settle()
    return times


async def measure_baseline(frames: Frames | None) -> tuple[float, float]:
    """Median ms per ``down`` on a bare 100-row DataTable (what a key press costs here at
    all), and per ``pagedown`` on a bare 7-column one (a screen of new rows drawn)."""
    from textual.app import App
    from textual.widgets import DataTable

    class Bare(App):
        def __init__(self, columns: int, rows: int):
            super().__init__()
            self.shape = columns, rows

        def compose(self):
            columns, rows = self.shape
            table = DataTable(cursor_type="row")
            table.add_columns(*"abcdefg"[:columns])
            table.add_rows([(str(n), "x" * 30, "y" * 20, "z" * 8, "w" * 30, "t0 → ben now", "flow-01 / s-02")[:columns]
                            for n in range(rows)])
            yield table

    found = []
    for columns, rows, key, presses in ((3, 100, "down", 60), (7, 2000, "pagedown", 20)):
        times = []
        async with Bare(columns, rows).run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            table = pilot.app.query_one(DataTable)
            for _ in range(presses):
                before = table.cursor_row
                times.append(await timed(pilot, frames, key, lambda: table.cursor_row != before))
                await pilot.pause()
        found.append(statistics.median(times))
    return found[0], found[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default=os.environ.get("OPSWEEK_BENCH_DB"))
    parser.add_argument("--rounds", type=int, default=4, help="times each figure is measured (x6 for steps)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON (for all.py)")
    parser.add_argument("--idle", action="store_true",
                        help="also time each key as Pilot's press does: until the process is idle")
    args = parser.parse_args()
    global OUT
    OUT = sys.stderr if args.json else sys.stdout
    source = Path(args.db) if args.db else default_path()
    ensure_db(source, quiet=args.json)
    work = Path(tempfile.mkdtemp(prefix="opsweek-session-bench-"))
    try:
        copy = work / "session.db"
        shutil.copy(source, copy)
        from opsweek.store import Store

        Store.open(copy).close()  # any pending schema upgrade happens here, not in a timed key
        frames = Frames()
        times = asyncio.run(measure(copy, busiest_handle(copy), args.rounds, frames))
        key_ms, repaint_ms = asyncio.run(measure_baseline(frames))
        idle = None
        if args.idle:
            shutil.copy(source, copy)
            Store.open(copy).close()
            idle = asyncio.run(measure(copy, busiest_handle(copy), args.rounds, None))
            idle_key_ms, idle_repaint_ms = asyncio.run(measure_baseline(None))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    names = {"step": "session: moving between steps (100,000 items)",
             "filter": "session: a filter keystroke in stuck items",
             "page": "session: crossing a page of stuck items",
             "change": "session: reassign, to the updated row"}
    figures, ok = [], True
    for key, goal in GOALS_MS.items():
        median, worst = statistics.median(times[key]), max(times[key])
        good = median <= goal
        ok = ok and good
        print(f"{names[key]}: median {median:.0f} ms, worst {worst:.0f} ms of {len(times[key])}"
              f" (goal {goal} ms: {'ok' if good else 'TOO SLOW'}); bare DataTable: a key {key_ms:.0f} ms,"
              f" a new screen of rows {repaint_ms:.0f} ms", file=OUT)
        if idle is not None:
            print(f"    until idle (Pilot's press): median {statistics.median(idle[key]):.0f} ms; bare DataTable:"
                  f" a key {idle_key_ms:.0f} ms, a new screen of rows {idle_repaint_ms:.0f} ms", file=OUT)
        figures.append(figure(names[key], f"<= {goal} ms", f"median {median:.0f} ms, worst {worst:.0f} ms",
                              f"bare DataTable key {key_ms:.0f} ms, new screen {repaint_ms:.0f} ms", good))
    if args.json:
        print(json.dumps(figures))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
