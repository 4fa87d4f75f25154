"""How long a tick costs when nothing is due, on a 100,000-item database.

    python benchmarks/tick.py                    # builds (or reuses) the database, 500 ticks
    python benchmarks/tick.py --db /tmp/big.db   # reuse this one (env OPSWEEK_BENCH_DB)
    python benchmarks/tick.py --json             # the figures for benchmarks/all.py

Target (issue 12): at most 5 ms, since the TUI and every write command tick first. The
script copies the scale database (the shared one is left as it is), adds recurring
schedules to it whose next occurrence is still to come, and times ``recurring.tick``
in-process, interleaved with a reference measured in the same run: ``SELECT 1`` on the
same connection, the floor of any query. It prints both medians, and the cost of a tick
that does open an item, for scale. Exit status 1 when the no-op median is over target.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scale_db import SCALE, default_path, ensure_db, figure  # noqa: E402

TARGET_MS = 5.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("OPSWEEK_BENCH_DB"))
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON (for all.py)")
    args = parser.parse_args()
    shared = Path(args.db) if args.db else default_path()
    ensure_db(shared, quiet=args.json)

    from opsweek import clock
    from opsweek.store import Store, read, recurring

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tick.db"
        source = sqlite3.connect(f"file:{shared}?mode=ro", uri=True)
        target = sqlite3.connect(path)
        source.backup(target)
        source.close()
        target.close()
        store = Store.open(path)
        now = clock.now()
        team = read.team(store)
        workflows = [w.key for w in team.workflows if w.status == "active" and team.stages_by_workflow.get(w.key)]
        for n, workflow in enumerate(workflows[:20]):
            recurring.add_schedule(store, team, workflow, f"bench-{n}", title="Bench {date}",
                                   schedule_text="every monday 09:00", actor="bench", now=now)
        items = store.scalar("SELECT count(*) FROM items")
        schedules = store.scalar("SELECT count(*) FROM recurring WHERE status = 'active'")
        for _ in range(20):  # warm the page cache and the statement cache
            recurring.tick(store, now)
        ticks, floor = [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            opened = recurring.tick(store, now)
            ticks.append((time.perf_counter() - started) * 1000)
            assert opened == []
            started = time.perf_counter()
            store.scalar("SELECT 1")
            floor.append((time.perf_counter() - started) * 1000)
        # for scale: a tick that opens one occurrence of every schedule
        later = now + timedelta(days=8)
        started = time.perf_counter()
        opened = recurring.tick(store, later)
        opening = (time.perf_counter() - started) * 1000
        store.close()
    median = statistics.median(ticks)
    if args.json:
        print(json.dumps([figure(f"tick, nothing due ({schedules} schedules)", f"<= {TARGET_MS:g} ms",
                                 f"{median:.2f} ms", f"SELECT 1 {statistics.median(floor):.3f} ms",
                                 median <= TARGET_MS)]))
        return 0 if median <= TARGET_MS else 1
    print(f"{items:,} items, {schedules} schedules, {args.runs} ticks with nothing due")
    print(f"  tick, nothing due:   median {median:.3f} ms  (p95 {sorted(ticks)[int(len(ticks) * 0.95)]:.3f} ms)")
    print(f"  reference SELECT 1:  median {statistics.median(floor):.3f} ms")
    print(f"  tick opening {len(opened)} items: {opening:.1f} ms (once)")
    print(f"  target: at most {TARGET_MS:.0f} ms -> {'ok' if median <= TARGET_MS else 'OVER'}")
    if items != SCALE:
        print(f"  (note: the database holds {items:,} items, not {SCALE:,})")
    return 0 if median <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
