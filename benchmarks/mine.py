"""How long ``opsweek mine`` takes, whole process, on a 100,000-item database.

    python benchmarks/mine.py                    # builds (or reuses) the database, 20 runs
    python benchmarks/mine.py --db /tmp/big.db   # reuse this one (env OPSWEEK_BENCH_DB)
    python benchmarks/mine.py --runs 40 --me nia3
    python benchmarks/mine.py --heavy            # a person owning ~2,000 open items
    python benchmarks/mine.py --json             # the figures for benchmarks/all.py

Targets (issues 3 and 16): median at most 120 ms, and at most 3x the floor below. The
script runs the installed console script
(``opsweek``, else ``python -m opsweek``) as a user would, interleaved with
``python -c "import sqlite3"`` -- the floor any Python tool touching SQLite pays --
so both see the same machine load, and prints both medians. Exit status 1 when the
median is over the target.

Bytecode: a normal install writes ``.pyc`` files, so Python does not recompile
opsweek's modules on every start. When ``PYTHONDONTWRITEBYTECODE`` is set (as in some
sandboxes) every run would pay ~25 ms of compiling; the runs here therefore use a
private ``PYTHONPYCACHEPREFIX`` under the temp directory (nothing is written beside the
sources) and warm it up first. ``--as-is`` keeps the environment untouched.

``--heavy`` times it on a copy of the database (kept beside it, ``...-heavy.db``) in which
the busiest person also owns every 20th open item: about 2,000 open items, 900 of them
stuck, the shape issue 16 measured (a 60-person team, each owning ~1,600 items).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scale_db import SCALE, busiest_handle, default_path, ensure_db, figure, item_count

TARGET_MS = 120.0
TARGET_MILLION_MS = 150.0  # issue 16, at 1,000,000 items (no ratio asked there)
TARGET_RATIO = 3.0
FORBIDDEN = ("pydantic", "textual", "sqlite_utils", "dateutil", "rich")


def opsweek_command() -> list[str]:
    """The console script beside this Python, else ``python -m opsweek``."""
    script = Path(sys.executable).with_name("opsweek")
    if script.exists():
        return [str(script)]
    found = shutil.which("opsweek")
    return [found] if found else [sys.executable, "-m", "opsweek"]


def heavy_copy(path: Path, me: str) -> Path:
    """A copy of ``path`` where ``me`` also owns every 20th open item (made once)."""
    copy = path.with_name(path.stem + "-heavy.db")
    if copy.exists() and copy.stat().st_mtime >= path.stat().st_mtime:
        return copy
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    target = sqlite3.connect(copy)
    try:
        source.backup(target)
        target.execute("UPDATE items SET owner = ? WHERE status IN ('open', 'blocked') AND id % 20 = 0", (me,))
        target.commit()
    finally:
        source.close()
        target.close()
    return copy


def timed(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = (time.perf_counter() - started) * 1000
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.decode().strip()}")
    return elapsed


def imported_modules(command: list[str], env: dict) -> set[str]:
    """Top-level packages the command imports (``-X importtime``)."""
    if command[0] != sys.executable:
        command = [sys.executable, "-m", "opsweek", *command[1:]]
    done = subprocess.run([command[0], "-X", "importtime", *command[1:]], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def measure(path: Path, me: str, runs: int, env: dict) -> dict:
    """Medians (ms) of ``opsweek mine --me ME`` and the floor, interleaved run by run."""
    mine = [*opsweek_command(), "--db", str(path), "mine", "--me", me]
    floor = [sys.executable, "-c", "import sqlite3"]
    lines = subprocess.run(mine, env=env, capture_output=True, text=True).stdout.count("\n")
    for _ in range(3):  # warm the page cache and the bytecode cache
        timed(mine, env)
        timed(floor, env)
    mine_ms, floor_ms = [], []
    for _ in range(runs):
        mine_ms.append(timed(mine, env))
        floor_ms.append(timed(floor, env))
    return {"me": me, "lines": lines, "runs": runs, "mine": mine_ms, "floor": floor_ms,
            "heavy": sorted(set(FORBIDDEN) & imported_modules(mine, env)),
            "open_items": open_items(path, me), "items": item_count(path)}


def open_items(path: Path, me: str) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM items WHERE owner = ? AND status IN ('open', 'blocked')",
                            (me,)).fetchone()[0]
    finally:
        conn.close()


def verdict(result: dict) -> tuple[bool, str]:
    median, floor = statistics.median(result["mine"]), statistics.median(result["floor"])
    ratio_ok = median <= TARGET_RATIO * floor or TARGET_MS == TARGET_MILLION_MS
    ok = median <= TARGET_MS and ratio_ok and not result["heavy"]
    return ok, ("ok" if ok else "HEAVY IMPORTS" if result["heavy"] else "TOO SLOW")


def figures(result: dict, label: str) -> list[dict]:
    """The rows of benchmarks/all.py's table."""
    median, floor = statistics.median(result["mine"]), statistics.median(result["floor"])
    ok, _ = verdict(result)
    return [figure(f"mine, {label} of {result['items']:,} items ({result['open_items']:,} open, {result['lines']} lines)",
                   f"<= {TARGET_MS:.0f} ms" + ("" if TARGET_MS == TARGET_MILLION_MS else f" and <= {TARGET_RATIO:g}x floor"),
                   f"{median:.0f} ms ({median / floor:.1f}x)",
                   f"python -c 'import sqlite3' {floor:.0f} ms", ok)]


def report(result: dict) -> None:
    mine_ms, floor_ms = result["mine"], result["floor"]
    median, floor = statistics.median(mine_ms), statistics.median(floor_ms)
    print(f"opsweek mine --me {result['me']} on {result['items']:,} items ({result['open_items']:,} open items of theirs,"
          f" {result['lines']} lines of output), {result['runs']} runs:")
    print(f"  opsweek mine              median {median:6.1f} ms   min {min(mine_ms):6.1f}   max {max(mine_ms):6.1f}")
    print(f"  python -c 'import sqlite3' median {floor:6.1f} ms   "
          f"min {min(floor_ms):6.1f}   max {max(floor_ms):6.1f}")
    own = statistics.median(m - f for m, f in zip(mine_ms, floor_ms))
    print(f"  opsweek's own share        median {own:6.1f} ms   (mine minus the floor, run by run)")
    print(f"  heavy imports on the path: {', '.join(result['heavy']) if result['heavy'] else 'none'}")
    print(f"  target: median <= {TARGET_MS:.0f} ms and <= {TARGET_RATIO:g}x the floor ({median / floor:.1f}x)"
          f" -> {verdict(result)[1]}")


def main() -> int:
    global TARGET_MS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("OPSWEEK_BENCH_DB"),
                        help="database to use (built if missing); default: a file in the temp dir"
                             " named by the schema")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--scale", type=int, default=SCALE,
                        help="items in the demo database built when --db is not given (default 100,000)")
    parser.add_argument("--me", help="whose 'mine' to time (default: the busiest person)")
    parser.add_argument("--heavy", action="store_true", help="also time a person owning ~2,000 open items")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON (for all.py)")
    parser.add_argument("--as-is", action="store_true", help="do not touch the bytecode settings")
    args = parser.parse_args()

    if args.scale >= 1_000_000:
        TARGET_MS = TARGET_MILLION_MS
    path = Path(args.db) if args.db else default_path(args.scale)
    env = dict(os.environ)
    env.pop("OPSWEEK_NOW", None)
    if not args.as_is:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "opsweek-bench-pycache")
    ensure_db(path, opsweek_command(), env, scale=args.scale, quiet=args.json)
    me = args.me or busiest_handle(path)
    results = [(measure(path, me, args.runs, env), "busiest person")]
    if args.heavy:
        results.append((measure(heavy_copy(path, me), me, args.runs, env), "heavy copy"))
    if args.json:
        print(json.dumps([row for result, label in results for row in figures(result, label)]))
    else:
        for result, _ in results:
            report(result)
    return 0 if all(verdict(result)[0] for result, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
