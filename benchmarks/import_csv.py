"""Time ``opsweek import team.toml items.csv`` of 100,000 CSV items into a fresh database.

The whole process is timed (start-up, parsing and checking every row, the one write
transaction with its events), ``--runs`` times (default 3), each interleaved with its
reference; the medians are reported, with the process's CPU time beside the wall time
(on a busy machine the difference is mostly waiting for a core).

    .venv/bin/python benchmarks/import_csv.py [--rows N] [--runs N] [--keep DIR] [--profile] [--phases] [--json] [--as-is]

Each process runs as an installed opsweek does, with bytecode caches (a private
``PYTHONPYCACHEPREFIX``, warmed first, even where the environment sets
``PYTHONDONTWRITEBYTECODE``); ``--as-is`` keeps the environment untouched.

Targets (issue 16): import at most 3 s, and the dump round trip (``opsweek dump`` of the
imported database, and ``opsweek import`` of that dump into a fresh one) at most 5 s each
way. The reference measured in the same run is ``python -c "import csv"`` reading the
same file row by row (what merely reading the CSV costs here).

``--phases`` prints where the CPU time of one CSV import and one import of its dump goes
instead: each in a fresh process doing what ``opsweek import`` does (open, tick, import,
freeze the ended weeks), the Python steps (reading and checking the files) timed as they
run and every SQL statement from its start to the next step (SQLite's trace callback),
statements of one kind added up. Unlike ``--profile`` (cProfile), it adds nothing to a
function called once per row.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scale_db import figure

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
                handoff = [stages[position + 1], rng.choice(people) if named else "", f"-{rng.randint(1, min(72, entered * 24 - 1))}h"]
                handoffs += 1
            due = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" if rng.random() < 0.3 else ""
            out.writerow([
                workflow, stages[position], f"Item {n}: follow up with client, \"batch\" {n % 97}",
                rng.choice(people), status, f"-{opened}d", f"-{entered}d", f"-{max(activity * 24 - 1, 1)}h", due,
                f"T-{n}", "Waiting on a decision" if status == "blocked" else "", *handoff,
            ])
    return handoffs


TARGET_IMPORT_S = 3.0
TARGET_DUMP_S = 5.0


def timed(command: list[str], env: dict) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall seconds, CPU seconds and the finished process."""
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return elapsed, cpu, result


def phases(db: str, files: list[str]) -> None:
    """``--phases``, in the child process: one import as ``opsweek import`` runs it, and
    its CPU time (``time.process_time``) step by step, largest first."""
    import functools
    import re

    started = time.process_time()
    from opsweek import dump, importing, trends
    from opsweek.store import Store, db as store_db, recurring

    timeline: list[tuple[float, str]] = []  # (CPU time, what runs from then on)
    conn = None

    def statement(sql: str) -> None:
        words = re.sub(r"\s+", " ", sql).split(" ")
        timeline.append((time.process_time(), "SQL " + " ".join(words[:3 if words[0] in ("INSERT", "CREATE") else 2])))

    def timed(module, name: str, label) -> None:
        """``module.name`` timed as one step (the statements it runs are part of it: not
        traced, as tracing a statement of 500 rows would write out its 7,000 values)."""
        function = getattr(module, name)

        @functools.wraps(function)
        def step(*args, **kwargs):
            conn.set_trace_callback(None)
            timeline.append((time.process_time(), label(*args) if callable(label) else label))
            try:
                return function(*args, **kwargs)
            finally:
                timeline.append((time.process_time(), "Python between statements"))
                conn.set_trace_callback(statement)
        setattr(module, name, step)

    timed(importing, "parse_team", "read and check the team file")
    timed(importing, "parse_items", "read and check the CSV rows")
    timed(dump, "load", "read the dump (json.loads)")
    timed(dump, "check", "check the dump")
    inserts = lambda conn, table, *_: f"SQL INSERT INTO {table} (500 rows a statement)"  # noqa: E731
    timed(store_db, "insert_rows", inserts)
    timed(dump, "insert_rows", inserts)
    timed(store_db.Change, "_record_range", "SQL INSERT INTO events SELECT (the rows' events)")
    imported = time.process_time()
    store = Store.open(db, create=True)
    conn = store.conn
    opened = time.process_time()
    recurring.tick(store)
    conn.set_trace_callback(statement)
    timeline.append((time.process_time(), "Python between statements"))
    importing.import_files(store, [Path(f) for f in files], actor="bench")
    timeline.append((time.process_time(), "end"))
    conn.set_trace_callback(None)
    frozen = time.process_time()
    trends.freeze_ended_weeks(store)
    store.close()
    done = time.process_time()
    spent: dict[str, float] = {}
    for (at, what), (until, _) in zip(timeline, timeline[1:]):
        spent[what] = spent.get(what, 0.0) + until - at
    spent["importing opsweek's import modules"] = imported - started
    spent["open and create the database"] = opened - imported
    spent["trends.freeze_ended_weeks"] = done - frozen
    for what, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        if seconds >= 0.01:
            print(f"  {seconds:6.2f} s  {what}")
    print(f"  {done - started:6.2f} s  CPU in all (this process, from its first import)")


def main() -> int:
    if sys.argv[1:2] == ["--phases-of"]:
        phases(sys.argv[2], sys.argv[3:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", metavar="DIR", help="write the files and database here and keep them")
    parser.add_argument("--profile", action="store_true", help="run the import under cProfile and print the top")
    parser.add_argument("--phases", action="store_true",
                        help="print where the CPU time of one CSV import and one dump import goes")
    parser.add_argument("--no-dump", action="store_true", help="time the CSV import only")
    parser.add_argument("--runs", type=int, default=3, help="times each is run (medians), interleaved with its reference")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON (for all.py)")
    parser.add_argument("--as-is", action="store_true", help="do not touch the bytecode settings")
    args = parser.parse_args()
    say = (lambda *a: print(*a, file=sys.stderr)) if args.json else print

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="opsweek-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        team, items, db = work / "team.toml", work / "items.csv", work / "bench.db"
        shutil.copyfile(TEAM, team)
        started = time.perf_counter()
        handoffs = write_items(items, args.rows)
        say(f"wrote {args.rows:,} rows ({handoffs:,} with a pending handoff) in "
            f"{time.perf_counter() - started:.1f} s: {items} ({items.stat().st_size / 1e6:.1f} MB)")
        env = {**os.environ, "OPSWEEK_DB": str(db), "OPSWEEK_ME": "bench"}
        if not args.as_is:  # as an installed opsweek runs: with bytecode caches (as mine.py, tui_home.py)
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "opsweek-bench-pycache")
            subprocess.run([sys.executable, "-c", "import opsweek.cli.main, opsweek.importing, opsweek.dump,"
                            " opsweek.model, opsweek.trends"], env=env, check=True)
        command = [sys.executable, "-m", "opsweek", "import", str(team), str(items)]
        if args.profile:
            command = [sys.executable, "-m", "cProfile", "-s", "cumulative", "-m", "opsweek", "import",
                       str(team), str(items)]

        def fresh(path: Path) -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

        if args.phases:
            fresh(db)
            here = [sys.executable, str(Path(__file__).resolve()), "--phases-of"]
            say(f"CPU of `opsweek import team.toml items.csv` ({args.rows:,} rows), step by step:")
            subprocess.run([*here, str(db), str(team), str(items)], env=env, check=True)
            dump, restored = work / "dump.json", work / "restored.db"
            subprocess.run([sys.executable, "-m", "opsweek", "dump", "-o", str(dump)], env=env, check=True,
                           capture_output=True)
            fresh(restored)
            say("CPU of `opsweek import dump.json` into a new database, step by step:")
            subprocess.run([*here, str(restored), str(dump)], env=env, check=True)
            return 0

        floors, walls, cpus = [], [], []
        for _ in range(1 if args.profile else args.runs):
            floors.append(timed([sys.executable, "-c", "import csv, sys\n"
                                 "with open(sys.argv[1], newline='') as f: sum(1 for _ in csv.reader(f))", str(items)],
                                env)[0])
            fresh(db)
            elapsed, cpu, result = timed(command, env)
            if result.returncode != 0:
                print(f"import failed (exit {result.returncode}): {result.stderr.strip()}", file=sys.stderr)
                return 1
            walls.append(elapsed)
            cpus.append(cpu)
        if args.profile:
            print("\n".join(result.stdout.splitlines()[:60]))
            return 0
        floor, elapsed, cpu = statistics.median(floors), statistics.median(walls), statistics.median(cpus)
        say(result.stdout.strip())
        ok = elapsed <= TARGET_IMPORT_S
        say(f"import of {args.rows:,} items: median {elapsed:.2f} s whole process of {len(walls)} runs"
            f" ({', '.join(f'{w:.2f}' for w in walls)}), {args.rows / elapsed:,.0f} rows/s"
            f" ({'ok' if ok else f'SLOWER than the {TARGET_IMPORT_S:g} s target'}); CPU time {cpu:.2f} s, so"
            f" {elapsed - cpu:.2f} s waiting (I/O or a busy machine); reading the CSV alone: {floor:.2f} s")
        figures = [figure(f"import of {args.rows:,} CSV items", f"<= {TARGET_IMPORT_S:g} s",
                          f"{elapsed:.2f} s (CPU {cpu:.2f} s)", f"csv.reader over the file {floor:.2f} s", ok)]
        worst_ok = ok
        if not args.no_dump:
            dump, restored = work / "dump.json", work / "restored.db"
            outs, out_cpus, ins, in_cpus, json_floors = [], [], [], [], []
            for _ in range(args.runs):
                out_s, out_cpu, result = timed([sys.executable, "-m", "opsweek", "dump", "-o", str(dump)], env)
                if result.returncode != 0:
                    print(f"dump failed (exit {result.returncode}): {result.stderr.strip()}", file=sys.stderr)
                    return 1
                json_floors.append(timed([sys.executable, "-c", "import json, sys; json.load(open(sys.argv[1]))",
                                          str(dump)], env)[0])
                fresh(restored)
                in_s, in_cpu, result = timed([sys.executable, "-m", "opsweek", "import", str(dump)],
                                             {**env, "OPSWEEK_DB": str(restored)})
                if result.returncode != 0:
                    print(f"import of the dump failed (exit {result.returncode}): {result.stderr.strip()}",
                          file=sys.stderr)
                    return 1
                outs.append(out_s)
                out_cpus.append(out_cpu)
                ins.append(in_s)
                in_cpus.append(in_cpu)
            out_s, in_s, json_floor = statistics.median(outs), statistics.median(ins), statistics.median(json_floors)
            out_cpu, in_cpu = statistics.median(out_cpus), statistics.median(in_cpus)
            say(f"dump: median {out_s:.2f} s (CPU {out_cpu:.2f} s; {dump.stat().st_size / 1e6:.1f} MB); import of"
                f" the dump into a fresh database: median {in_s:.2f} s (CPU {in_cpu:.2f} s); json.load of the dump"
                f" alone: {json_floor:.2f} s; {len(outs)} runs each; target {TARGET_DUMP_S:g} s each way")
            figures.append(figure("dump of it (opsweek dump)", f"<= {TARGET_DUMP_S:g} s",
                                  f"{out_s:.2f} s (CPU {out_cpu:.2f} s)", f"json.load of the dump {json_floor:.2f} s",
                                  out_s <= TARGET_DUMP_S))
            figures.append(figure("import of that dump", f"<= {TARGET_DUMP_S:g} s",
                                  f"{in_s:.2f} s (CPU {in_cpu:.2f} s)", f"json.load of the dump {json_floor:.2f} s",
                                  in_s <= TARGET_DUMP_S))
            worst_ok = worst_ok and out_s <= TARGET_DUMP_S and in_s <= TARGET_DUMP_S
        if args.json:
            print(json.dumps(figures))
        return 0 if worst_ok else 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
