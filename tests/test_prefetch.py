"""The home screen's numbers read at launch in a child process (``tui.attention.prefetch``):
the same numbers as read in this process, the same opsweek whatever the working directory
holds, and a child that fails costs nothing but a read of the home screen's own."""

from __future__ import annotations

from concurrent.futures import Future

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
        here = attention.read_attention(store, read.team(store), now, now.date(), demo_db)
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
