"""Time ``opsweek import team.toml items.csv`` of 100,000 CSV items into a fresh database.

The whole process is timed (start-up, parsing and checking every row, the one write
transaction with its events). Target: under 10 s on a 2-core machine.

    .venv/bin/python benchmarks/import_csv.py [--rows N] [--keep DIR] [--profile]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEAM = ROOT / "sample_data" / "team.toml"
HEADER = ["workflow", "stage", "title", "owner", "status", "opened", "stage_entered", "last_activity", "due",
          "ref", "blocked_reason", "handoff_to", "handoff_owner", "handoff_sent"]


def write_items(path: Path, rows: int, seed: int = 48) -> int:
    """A valid items CSV for the sample team: relative times, a few blocked, some handoffs."""
    import tomllib

    team = tomllib.loads(TEAM.read_text(encoding="utf-8"))
    people = [p["handle"] for p in team["people"] if p.get("active", True)]
    flows = [(w["key"], [s["key"] for s in w.get("stages", [])]) for w in team["workflows"]]
    owned = {(w["key"], s["key"]) for w in team["workflows"] for s in w.get("stages", []) if s.get("owner")}
    rng = random.Random(seed)
    handoffs = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        for n in range(1, rows + 1):
            workflow, stages = flows[n % len(flows)]
            position = rng.randrange(len(stages))
            opened = rng.randint(2, 90)
            entered = rng.randint(1, opened)
            activity = rng.randint(0, entered)
            roll = rng.random()
            status = "open" if roll < 0.6 else "blocked" if roll < 0.65 else "done" if roll < 0.95 else "dropped"
            handoff = ["", "", ""]
            if status == "open" and position + 1 < len(stages) and rng.random() < 0.2:
                # a stage with no owner needs the receiver named (as `opsweek handoff --owner` does)
                named = rng.random() < 0.3 or (workflow, stages[position + 1]) not in owned
                handoff = [stages[position + 1], rng.choice(people) if named else "", f"-{rng.randint(1, 72)}h"]
                handoffs += 1
            due = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" if rng.random() < 0.3 else ""
            out.writerow([
                workflow, stages[position], f"Item {n}: follow up with client, \"batch\" {n % 97}",
                rng.choice(people), status, f"-{opened}d", f"-{entered}d", f"-{activity * 24 + 1}h", due,
                f"T-{n}", "Waiting on a decision" if status == "blocked" else "", *handoff,
            ])
    return handoffs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", metavar="DIR", help="write the files and database here and keep them")
    parser.add_argument("--profile", action="store_true", help="run the import under cProfile and print the top")
    args = parser.parse_args()

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="opsweek-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        team, items, db = work / "team.toml", work / "items.csv", work / "bench.db"
        shutil.copyfile(TEAM, team)
        started = time.perf_counter()
        handoffs = write_items(items, args.rows)
        print(f"wrote {args.rows:,} rows ({handoffs:,} with a pending handoff) in "
              f"{time.perf_counter() - started:.1f} s: {items} ({items.stat().st_size / 1e6:.1f} MB)")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        env = {**os.environ, "OPSWEEK_DB": str(db), "OPSWEEK_ME": "bench"}
        command = [sys.executable, "-m", "opsweek", "import", str(team), str(items)]
        if args.profile:
            command = [sys.executable, "-m", "cProfile", "-s", "cumulative", "-m", "opsweek", "import",
                       str(team), str(items)]
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        result = subprocess.run(command, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
        if result.returncode != 0:
            print(f"import failed (exit {result.returncode}): {result.stderr.strip()}", file=sys.stderr)
            return 1
        if args.profile:
            print("\n".join(result.stdout.splitlines()[:60]))
        else:
            print(result.stdout.strip())
        verdict = "OK" if elapsed < 10 else "SLOWER than the 10 s target"
        print(f"import of {args.rows:,} items: {elapsed:.2f} s whole process, {args.rows / elapsed:,.0f} rows/s "
              f"({verdict}); CPU time {cpu:.2f} s, so {elapsed - cpu:.2f} s waiting (I/O or a busy machine)")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
