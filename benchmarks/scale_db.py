"""The 100,000-item demo database every benchmark runs on: reused when it is there, else built."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

SCALE = 100_000


def item_count(path: Path) -> int:
    """Items in the database at ``path`` (0 when it is missing or not a database)."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute("SELECT count(*) FROM items").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def ensure_db(path: Path, command: list[str] | None = None, env: dict | None = None) -> None:
    """Reuse ``path`` if it holds the scale demo, else build it with ``opsweek demo --scale``."""
    if path.exists() and item_count(path) == SCALE:
        print(f"reusing {path} ({SCALE:,} items)")
        return
    print(f"building {path} with demo --scale {SCALE} (about 20 s) ...", flush=True)
    started = time.perf_counter()
    command = command or [sys.executable, "-m", "opsweek"]
    subprocess.run([*command, "--db", str(path), "demo", "--no-tui", "--scale", str(SCALE)],
                   env=env or dict(os.environ), check=True, stdout=subprocess.DEVNULL)
    print(f"built in {time.perf_counter() - started:.1f} s")
