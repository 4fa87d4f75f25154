"""A team on one database at once: eight people's terminals write through the real CLI
while two live screens stay open on the same file. Every change lands, no writer ever
sees "database is locked", and both screens end on the final counts without a key press.

The writers run for ``OPSWEEK_LOAD_SECONDS`` (10 s here; the issue's full minute with
``OPSWEEK_LOAD_SECONDS=60``): each one adds an item, marks its previous one done, and so
on, through ``python -m opsweek`` processes, as eight shells in a loop would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time

from tui_support import settle, within

from opsweek.store import Store
from opsweek.tui.app import make_app
from opsweek.tui.screens.home import HomeScreen
from opsweek.tui.widgets.health_table import HealthTable

WRITERS = 8
SECONDS = float(os.environ.get("OPSWEEK_LOAD_SECONDS", "10"))
PEOPLE = ["ana", "ben", "carla", "dev", "eve", "fay", "hana", "ivan"]


class Writer(threading.Thread):
    """One person's shell: add an item, finish the one before, again, until time is up."""

    def __init__(self, db, n: int, until: float):
        super().__init__(daemon=True)
        self.db, self.n, self.until = db, n, until
        self.added: list[int] = []
        self.done: list[int] = []
        self.failures: list[str] = []

    def opsweek(self, *args: str) -> str | None:
        run = subprocess.run([sys.executable, "-m", "opsweek", "--db", str(self.db), "--me", PEOPLE[self.n], *args],
                             capture_output=True, text=True, timeout=120)
        if run.returncode != 0 or run.stderr:
            self.failures.append(f"{args}: rc={run.returncode} {run.stderr.strip()}")
            return None
        return run.stdout

    def run(self) -> None:
        step = 0
        while time.monotonic() < self.until:
            out = self.opsweek("add", "complaints", f"load w{self.n} #{step}", "--owner", PEOPLE[self.n])
            if out is not None:
                self.added.append(int(re.match(r"#(\d+) added", out).group(1)))
            if len(self.added) >= 2 and self.added[-2] not in self.done:
                if self.opsweek("done", str(self.added[-2])) is not None:
                    self.done.append(self.added[-2])
            step += 1


def open_complaints(app) -> int:
    table = app.screen.query_one(HealthTable)
    return int(str(table.get_row("complaints")[2]).replace(",", ""))


async def test_eight_writers_and_two_live_screens_share_one_database(demo_db):
    with Store.open(demo_db) as store:
        open_before = store.scalar("SELECT count(*) FROM items WHERE workflow = 'complaints'"
                                   " AND status IN ('open', 'blocked')")
    first, second = make_app(demo_db, me="ivan"), make_app(demo_db, me="ana")
    async with first.run_test(size=(120, 40)) as one, second.run_test(size=(120, 40)) as two:
        await settle(one)
        await settle(two)
        assert isinstance(first.screen, HomeScreen) and isinstance(second.screen, HomeScreen)
        assert open_complaints(first) == open_complaints(second) == open_before

        until = time.monotonic() + SECONDS
        writers = [Writer(demo_db, n, until) for n in range(WRITERS)]
        for writer in writers:
            writer.start()
        while any(w.is_alive() for w in writers):  # both screens stay live while the writers write
            await one.pause(0.2)
            await two.pause(0.2)
        for writer in writers:
            writer.join()

        failures = [f for w in writers for f in w.failures]
        assert failures == []  # no "database is locked", no error of any kind
        added = [i for w in writers for i in w.added]
        done = [i for w in writers for i in w.done]
        assert len(added) >= WRITERS * 2, "the writers hardly wrote"
        print(f"\n{WRITERS} writers, {SECONDS:g} s: {len(added)} items added, {len(done)} done, no failure")

        with Store.open(demo_db) as store:
            # every change landed, once
            titles = store.query("SELECT id, title, status, owner FROM items WHERE title LIKE 'load w%'")
            assert sorted(r["id"] for r in titles) == sorted(added)
            assert sorted(r["id"] for r in titles if r["status"] == "done") == sorted(done)
            for writer in writers:
                assert {r["owner"] for r in titles if r["id"] in writer.added} == {PEOPLE[writer.n]}
            events = store.scalar("SELECT count(*) FROM events WHERE action IN ('item.add', 'item.done')"
                                  " AND entity = 'items' AND actor IN (%s)" % ",".join("?" * WRITERS), PEOPLE)
            assert events >= len(added) + len(done)
            final = store.scalar("SELECT count(*) FROM items WHERE workflow = 'complaints'"
                                 " AND status IN ('open', 'blocked')")
        assert final == open_before + len(added) - len(done)

        # both screens show the final counts, with no key pressed
        await within(one, 5.0, lambda: open_complaints(first) == final)
        await within(two, 5.0, lambda: open_complaints(second) == final)
