"""How quick the weekly session is on 100,000 items (issue 16, goal 3), headless.

    python benchmarks/tui_session.py                    # builds (or reuses) the database
    python benchmarks/tui_session.py --db /tmp/big.db   # reuse this one (env OPSWEEK_BENCH_DB)
    python benchmarks/tui_session.py --json             # the figures for benchmarks/all.py

In this week's session (on a copy of the database, so the original is untouched), with
Textual's ``run_test`` at 120x40, each time from the key press to the screen showing its
result (the step's first page filled, the filtered rows, the next page, the updated row):

- **step**: ``n`` / ``p`` between Workflows, Stuck items, Overdue handoffs and Ownership
  gaps, to the new step with its list's first page (goal ≤ 150 ms);
- **filter**: one key typed into Stuck items' ``/`` filter, to its rows (goal ≤ 100 ms);
- **page**: ``down`` on a page's last row of Stuck items, to the next page (goal ≤ 50 ms);
- **change**: reassigning the highlighted stuck item (the last ``enter`` of the owner and
  reason dialogs), to its row showing the new owner (goal ≤ 100 ms).

The references, in the same run: one ``down`` on a bare 100-row DataTable (what a key
press costs in this harness at all), and one ``pagedown`` on a bare 7-column DataTable of
plain text (a whole screen of rows drawn anew: the floor for any figure that shows a new
page). Medians, with the worst. Exit 1 when a median misses its goal.
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


async def measure(path: Path, me: str, rounds: int) -> dict[str, list[float]]:
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
                started = time.perf_counter()
                await pilot.press(key)
                await until(pilot, shown(step))
                times["step"].append((time.perf_counter() - started) * 1000)
                await settle()

        await pilot.press("n")
        await settle()
        table = screen.query_one("#stuck-table", PagedTable)

        # crossing a page boundary: down on the last row of a page, to the next page
        for _ in range(rounds * 2):
            table.move_cursor(row=len(table.rows_data) - 1)
            await settle()
            before = table.page_offset
            started = time.perf_counter()
            await pilot.press("down")
            await until(pilot, lambda: table.page_offset != before and not table.loading_page)
            times["page"].append((time.perf_counter() - started) * 1000)
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
            started = time.perf_counter()
            await pilot.press("enter")  # no reason: the change is written
            key = row.key
            await until(pilot, lambda: any(r.key == key and r.data.owner == handle for r in table.rows_data)
                        and not table.loading_page)
            times["change"].append((time.perf_counter() - started) * 1000)
            await settle()

        # a filter keystroke: typing into the stuck items' filter, one key at a time
        await pilot.press("slash")
        await settle()
        for _ in range(max(1, rounds // 2)):
            for key in ("f", "l", "o", "w", "minus", "0", "backspace", "backspace", "backspace", "backspace",
                        "backspace", "backspace"):
                generation = table.generation
                started = time.perf_counter()
                await pilot.press(key)
                await until(pilot, lambda: table.generation != generation and not table.loading_page)
                times["filter"].append((time.perf_counter() - started) * 1000)
                await settle()
    return times


async def measure_baseline() -> tuple[float, float]:
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
            for _ in range(presses):
                started = time.perf_counter()
                await pilot.press(key)
                await pilot.pause()
                times.append((time.perf_counter() - started) * 1000)
        found.append(statistics.median(times))
    return found[0], found[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default=os.environ.get("OPSWEEK_BENCH_DB"))
    parser.add_argument("--rounds", type=int, default=4, help="times each figure is measured (x6 for steps)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON (for all.py)")
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
        times = asyncio.run(measure(copy, busiest_handle(copy), args.rounds))
        key_ms, repaint_ms = asyncio.run(measure_baseline())
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
        figures.append(figure(names[key], f"<= {goal} ms", f"median {median:.0f} ms, worst {worst:.0f} ms",
                              f"bare DataTable key {key_ms:.0f} ms, new screen {repaint_ms:.0f} ms", good))
    if args.json:
        print(json.dumps(figures))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
