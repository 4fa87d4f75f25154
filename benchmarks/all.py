"""Every benchmark of opsweek, as one table: figure, goal, value, reference.

    python benchmarks/all.py                 # all of them (a few minutes on a busy machine)
    python benchmarks/all.py --quick         # fewer runs, no session lists, no dump round trip
    python benchmarks/all.py --db /tmp/big.db
    python benchmarks/all.py --million       # also mine, home and the TUI's memory at 1,000,000 items

Each script in ``benchmarks/`` (``mine.py``, ``tui_home.py``, ``tui_session.py``,
``tick.py``, ``import_csv.py``) runs in a fresh process with ``--json`` and prints its figures; each
figure is measured beside its reference in the same run (so both see the same load).
This script only gathers them, prints the machine's load before and after, and exits 1
when any figure misses its goal. See ``benchmarks/README.md`` for what each one means.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from scale_db import default_path, ensure_db  # noqa: E402


def load() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def run(script: str, *extra: str) -> list[dict]:
    """The figures ``script --json`` prints (one row saying it failed, if it did)."""
    done = subprocess.run([sys.executable, str(HERE / script), "--json", *extra],
                          capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        error = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return [{"figure": script, "goal": "", "value": f"FAILED: {error}", "reference": "", "ok": False}]


def table(rows: list[dict]) -> str:
    header = {"figure": "FIGURE", "goal": "GOAL", "value": "VALUE", "reference": "REFERENCE (same run)", "ok": None}
    grid = [header, *rows]
    widths = {key: max(len(str(r[key])) for r in grid) for key in ("figure", "goal", "value")}
    lines = []
    for row in grid:
        mark = "    " if row is header else {True: "ok  ", False: "MISS", None: "    "}[row["ok"]]
        lines.append(f"{mark} {row['figure']:<{widths['figure']}}  "
                     f"{row['goal']:<{widths['goal']}}  {row['value']:<{widths['value']}}  {row['reference']}")
    return "\n".join(line.rstrip() for line in lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("OPSWEEK_BENCH_DB"),
                        help="the 100,000-item database (default: one in the temp dir named by the schema)")
    parser.add_argument("--quick", action="store_true", help="fewer runs; no session lists or session keys, no dump round trip")
    parser.add_argument("--million", action="store_true",
                        help="also at 1,000,000 items (the demo database is built once and kept, minutes)")
    args = parser.parse_args()
    path = Path(args.db) if args.db else default_path()
    ensure_db(path, quiet=True)
    db = ["--db", str(path)]
    before = load()
    print(f"load average before: {before}", flush=True)
    rows = []
    rows += run("mine.py", *db, "--heavy", "--runs", "8" if args.quick else "20")
    rows += run("tui_home.py", *db, "--runs", "7" if args.quick else "11", *(["--no-lists"] if args.quick else []))
    if not args.quick:
        rows += run("tui_session.py", *db)
    rows += run("tick.py", *db, "--runs", "100" if args.quick else "500")
    rows += run("import_csv.py", *(["--no-dump", "--runs", "1"] if args.quick else ["--runs", "3"]))
    if args.million:
        rows += run("mine.py", "--scale", "1000000", "--runs", "8" if args.quick else "20")
        rows += run("tui_home.py", "--scale", "1000000", "--no-lists", "--runs", "3")
    print(table(rows))
    print(f"load average after: {load()}")
    return 0 if all(row["ok"] is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
