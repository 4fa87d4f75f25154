"""The 100,000-item demo database every benchmark runs on: reused when it is there, else built.

Its default file name carries the schema (a hash of the migration step names in
``opsweek.store.db.MIGRATIONS``): a database built by a branch with a newer schema is
refused by older code, so every schema gets a file of its own and branches never clash,
e.g. ``/tmp/opsweek-bench-1a2b3c4d-100000.db``.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # this checkout's opsweek, whatever is installed
    sys.path.insert(0, str(ROOT))

from opsweek.store.db import MIGRATIONS  # noqa: E402  (standard library only)

SCALE = 100_000


def schema_key() -> str:
    """Eight hex digits naming this checkout's schema steps."""
    return hashlib.sha1("\n".join(MIGRATIONS).encode()).hexdigest()[:8]


def default_path(scale: int = SCALE) -> Path:
    """The benchmark database of this schema and size, in the temp directory."""
    return Path(tempfile.gettempdir()) / f"opsweek-bench-{schema_key()}-{scale}.db"


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


def ensure_db(path: Path, command: list[str] | None = None, env: dict | None = None, *,
              scale: int = SCALE, quiet: bool = False) -> None:
    """Reuse ``path`` if it holds the scale demo, else build it with ``opsweek demo --scale``.

    First, opsweek's modules are compiled to bytecode, as an installed wheel has them (pip
    compiles at install): with ``PYTHONDONTWRITEBYTECODE`` set, as on these machines, a
    checkout would compile every module at every launch (120 ms before home's first frame,
    15 ms of ``mine``), and each figure would time the compiler, not opsweek."""
    import compileall

    import opsweek

    compileall.compile_dir(str(Path(opsweek.__file__).parent), quiet=2)
    say = (lambda *a, **k: print(*a, **k, file=sys.stderr)) if quiet else print
    held = item_count(path) if path.exists() else 0
    if held == scale or (held and path != default_path(scale)):
        # a database named with --db is used as it is, whatever it holds: never rebuilt over
        say(f"reusing {path} ({held:,} items)")
        return
    say(f"building {path} with demo --scale {scale} (about 8 s per 100,000 items) ...", flush=True)
    started = time.perf_counter()
    command = command or [sys.executable, "-m", "opsweek"]
    subprocess.run([*command, "--db", str(path), "demo", "--no-tui", "--scale", str(scale)],
                   env=env or dict(os.environ), check=True, stdout=subprocess.DEVNULL)
    say(f"built in {time.perf_counter() - started:.1f} s")


def busiest_handle(path: Path) -> str:
    """The person with the most waiting on them (pending handoffs to them + open items)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT handle, (SELECT count(*) FROM handoffs h WHERE h.to_owner = p.handle AND h.accepted_at IS NULL)"
            " + (SELECT count(*) FROM items i WHERE i.owner = p.handle AND i.status IN ('open', 'blocked')) AS n"
            " FROM people p ORDER BY n DESC, handle LIMIT 1").fetchone()
    finally:
        conn.close()
    return row[0]


def figure(name: str, goal: str, value: str, reference: str, ok: bool | None) -> dict:
    """One row of ``benchmarks/all.py``'s table (what each script's ``--json`` prints)."""
    return {"figure": name, "goal": goal, "value": value, "reference": reference, "ok": ok}
