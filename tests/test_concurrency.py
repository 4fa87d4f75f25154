"""Eight people changing items in the same database at the same moment all succeed: every
write is a short ``BEGIN IMMEDIATE`` transaction that waits its turn (busy timeout), so
nobody sees "database is locked"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from opsweek.store import Store

# eight people, each with one open item of their own in the sample team
WORKERS = [("ana", 34), ("ben", 31), ("carla", 11), ("dev", 13), ("eve", 1), ("fay", 22), ("hana", 27),
           ("ivan", 6)]
ROUNDS = 3

# Each worker waits for the same start signal, then runs the real CLI entry point for a
# series of changes: block, unblock, add a new item, reassign it to the next worker.
WORKER = r"""
import json, os, sys, time
from opsweek.cli.main import main
db, me, item, other, go = sys.argv[1:6]
while not os.path.exists(go):
    time.sleep(0.002)
codes = []
for round in range(int(os.environ["ROUNDS"])):
    codes.append(main(["--db", db, "--me", me, "block", item, "--reason", f"round {round} by {me}"]))
    codes.append(main(["--db", db, "--me", me, "unblock", item]))
    codes.append(main(["--db", db, "--me", me, "add", "complaints", f"{me} round {round}", "--owner", other]))
print(json.dumps(codes), file=sys.stderr)
"""


def test_eight_processes_change_items_at_once(demo_db, tmp_path):
    with Store.open(demo_db) as store:
        first_change = store.scalar("SELECT max(change_id) FROM events") + 1
    go = tmp_path / "go"
    env = {k: v for k, v in os.environ.items() if k not in ("OPSWEEK_ME", "OPSWEEK_DEBUG")}
    env["ROUNDS"] = str(ROUNDS)
    procs = []
    for index, (me, item) in enumerate(WORKERS):
        other = WORKERS[(index + 1) % len(WORKERS)][0]
        procs.append(subprocess.Popen(
            [sys.executable, "-c", WORKER, str(demo_db), me, str(item), other, str(go)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    time.sleep(1.0)  # let them all start and import; then release them together
    go.touch()
    results = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            results.append((proc.returncode, out, err))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()

    for returncode, out, err in results:
        assert returncode == 0, err
        assert "locked" not in err and "Traceback" not in err
        assert json.loads(err.strip().splitlines()[-1]) == [0] * (3 * ROUNDS)

    with Store.open(demo_db) as store:
        # every change landed, each with its own change id and audit events
        for me, item in WORKERS:
            actions = [r["action"] for r in store.query(
                "SELECT action FROM events WHERE actor = ? AND change_id >= ? GROUP BY change_id ORDER BY change_id",
                (me, first_change))]
            assert actions == ["item.block", "item.unblock", "item.add"] * ROUNDS
            assert store.one("SELECT status FROM items WHERE id = ?", (item,))["status"] == "open"
        added = store.query("SELECT title FROM items WHERE id > 44")
        assert sorted(r["title"] for r in added) == sorted(f"{me} round {n}" for me, _ in WORKERS
                                                           for n in range(ROUNDS))
        changes = store.scalar("SELECT count(DISTINCT change_id) FROM events WHERE change_id >= ?", (first_change,))
        assert changes == 3 * ROUNDS * len(WORKERS)
