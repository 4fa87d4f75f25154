"""The home screen's numbers read at launch in a child process (``tui.attention.prefetch``):
the same numbers as read in this process, the same opsweek whatever the working directory
holds, and a child that fails costs nothing but a read of the home screen's own."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from concurrent.futures import Future

import pytest
from tui_support import settle

from opsweek import clock
from opsweek.store import Store, read
from opsweek.tui import attention
from opsweek.tui.app import make_app


def figures(a: attention.Attention) -> dict:
    return {
        "health": [(h.workflow.key, h.open, h.stuck, h.overdue, h.audit.score) for h in a.health],
        "counts": (a.stuck, a.overdue, a.escalate, a.gaps, a.actions_open, a.actions_late),
        "away": a.away, "meeting": a.meeting, "closed": a.closed_this_week,
        "next": a.next_session, "unclosed": a.unclosed, "reviews": a.reviews,
    }


def test_the_child_reads_the_numbers_this_process_would_read(demo_db):
    attention.prefetch(demo_db)
    early = attention.take_prefetched(demo_db).result(timeout=60)
    with Store.open(demo_db, migrate=False) as store:
        now = clock.now()
        today = now.astimezone(clock.local_tz()).date()  # the day prefetch reads for
        here = attention.read_attention(store, read.team(store), now, today, demo_db)
    assert figures(early) == figures(here)
    assert early.stuck and early.overdue  # the demo has both: a comparison of something


def test_the_child_imports_this_opsweek_whatever_the_working_directory_holds(demo_db, tmp_path, monkeypatch):
    shadow = tmp_path / "elsewhere"
    (shadow / "opsweek").mkdir(parents=True)
    (shadow / "opsweek" / "__init__.py").write_text("raise SystemExit(9)\n")
    (shadow / "sqlite3.py").write_text("raise SystemExit(9)\n")
    monkeypatch.chdir(shadow)
    attention.prefetch(demo_db)
    assert attention.take_prefetched(demo_db).result(timeout=60).stuck


def test_a_child_that_fails_says_so_in_its_future_and_nothing_on_the_terminal(tmp_path, capfd):
    bad = tmp_path / "not-a-database.db"
    bad.write_text("this is not SQLite\n" * 100)
    attention.prefetch(bad)
    early = attention.take_prefetched(bad)
    assert early.exception(timeout=60) is not None
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # no traceback of the child reaches the user


async def test_the_home_screen_reads_its_numbers_itself_when_the_early_read_failed(demo_db):
    failed: Future = Future()
    failed.set_exception(RuntimeError("the child could not start"))
    attention._prefetched[demo_db] = failed
    app = make_app(demo_db, me="ana")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        home = app.screen
        assert home.ready
        assert "stuck items" in str(home.query_one("#attention").render())
    assert attention.take_prefetched(demo_db) is None


def test_a_child_that_writes_garbage_fails_its_future(demo_db, monkeypatch):
    monkeypatch.setattr(attention, "_CHILD", "import sys; sys.stdout.write('not a pickle')")
    attention.prefetch(demo_db)
    assert attention.take_prefetched(demo_db).exception(timeout=60) is not None


def test_a_child_that_hangs_is_ended_and_its_future_fails(demo_db, monkeypatch):
    monkeypatch.setattr(attention, "_CHILD", "import time; time.sleep(600)")
    monkeypatch.setattr(attention, "PREFETCH_TIMEOUT_S", 0.5)
    attention.prefetch(demo_db)
    children = list(attention._children)
    error = attention.take_prefetched(demo_db).exception(timeout=60)
    assert "took over 0.5 s" in str(error)
    assert children and all(child.poll() is not None for child in children)  # ended, not left running
    assert not attention._children


def test_a_frozen_interpreter_starts_no_child_and_the_home_screen_reads_itself(demo_db, monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    started = []
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: started.append(a))
    attention.prefetch(demo_db)
    assert attention.take_prefetched(demo_db).exception(timeout=1) is not None
    assert not started


def test_a_child_still_reading_when_the_command_ends_is_ended_with_it(demo_db):
    script = (
        "import sys; from opsweek.tui import attention;"
        " attention._CHILD = 'import time; time.sleep(600)';"
        " attention.prefetch(sys.argv[1]);"
        " print(next(iter(attention._children)).pid, flush=True)"
    )
    done = subprocess.run([sys.executable, "-c", script, str(demo_db)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    pid = int(done.stdout)
    with pytest.raises(ProcessLookupError):  # killed and reaped by the exiting command
        os.kill(pid, 0)


def test_the_collector_runs_again_when_the_app_ends_before_its_first_screen(demo_db, monkeypatch):
    from types import SimpleNamespace

    from opsweek.cli import tui
    from opsweek.tui.app import OpsweekApp

    def fails(self, *args, **kwargs):
        raise RuntimeError("the terminal went away")

    monkeypatch.setattr(OpsweekApp, "run", fails)
    ctx = SimpleNamespace(db_path=demo_db, me="ana", tick=lambda store: None)
    with pytest.raises(RuntimeError):
        tui.launch(ctx, screen="meeting", read_only=True)
    assert gc.isenabled()
