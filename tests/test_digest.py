"""``opsweek digest``: only what needs someone now; silent (exit 0) when nothing does, so
cron mails nothing; exit 1 when something is overdue (issue 13)."""

from __future__ import annotations

from pathlib import Path

from opsweek.cli.main import main
from opsweek.store import Store


def run(db: Path, capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["--db", str(db), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_quiet_database_gives_no_output_and_exit_0(tmp_path, capsys, frozen_now):
    db = tmp_path / "quiet.db"
    assert run(db, capsys, "init")[0] == 0
    with Store.open(db) as store, store.change("test.person", actor="test") as change:
        change.insert("people", {"handle": "ana", "name": "Ana Ruiz", "role": "", "cover": None, "active": 1})
    assert run(db, capsys, "digest", "--me", "ana") == (0, "", "")
    assert run(db, capsys, "digest", "--everyone") == (0, "", "")


def test_the_demo_digest_lists_the_sections_in_order_and_exits_1(demo_db, capsys):
    from opsweek.store import Store, changes, read

    with Store.open(demo_db) as store:  # handoff 5 waits on dev, so it escalates to carla, the workflow owner
        changes.reassign_handoff(store, read.team(store), 5, "dev", actor="ivan")
    assert run(demo_db, capsys, "escalate", "--handoff", "5", "--me", "ivan")[0] == 0
    code, out, err = run(demo_db, capsys, "digest", "--me", "carla")
    assert code == 1 and err == ""
    assert out.startswith("opsweek digest for carla (Carla Jensen), Tue 24 Nov 10:00\n")
    headings = [line for line in out.splitlines() if line and not line.startswith(" ")]
    assert [h.split(" (")[0] for h in headings[1:]] == ["Handoffs to accept", "Escalated to you",
                                                        "Your overdue work", "Actions due"]
    assert "  handoff 5  #16  Stark — intranet search  held by dev  tier 2 by ivan  3d late\n" in out
    assert "\x1b" not in out  # not a terminal: no colour codes in the mail


def test_everyone_gets_a_section_and_people_with_nothing_are_left_out(demo_db, capsys):
    code, out, _ = run(demo_db, capsys, "digest", "--everyone")
    assert code == 1
    sections = [line for line in out.splitlines() if line.startswith("== ")]
    assert sections and "== ana (Ana Ruiz) ==" in sections
    assert out.splitlines()[0].endswith(f"{len(sections)} people with something to do")
    assert not any(line.startswith("== jo ") for line in sections)  # inactive


def test_late_work_that_is_not_overdue_is_listed_with_exit_0(demo_db, capsys):
    # hana's stuck item is past its stage's max_days but has no due date: listed, not overdue
    code, out, _ = run(demo_db, capsys, "digest", "--me", "hana")
    assert code == 0 == run(demo_db, capsys, "mine", "--me", "hana", "--check")[0]
    assert "Your overdue work (1 item)" in out and "#27" in out
