"""Changing work from the shell, and the audit trail behind it: each command run as a
user runs it, then the database checked for what it now holds.

Clock frozen at Tuesday 2026-11-24 10:00 UTC (conftest.py); the sample team's numbers:
#31 is ben's, in complaints/triage; handoff 9 takes #33 to ana; gus is away (fay covers).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from opsweek.cli.main import main
from opsweek.store import Store


@pytest.fixture(autouse=True)
def _no_forced_colour(monkeypatch):
    """Output is compared as plain text: a developer's FORCE_COLOR must not leak in."""
    monkeypatch.delenv("FORCE_COLOR", raising=False)


def run(db: Path, capsys, *argv: str, me: str | None = "ben") -> tuple[int, str, str]:
    prefix = ["--db", str(db)] + (["--me", me] if me else [])
    code = main([*prefix, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def row(db: Path, sql: str, params=()) -> dict | None:
    with Store.open(db) as store:
        found = store.one(sql, params)
        return dict(found) if found else None


def last_event(db: Path) -> dict:
    return row(db, "SELECT * FROM events ORDER BY id DESC LIMIT 1")


# --- add -------------------------------------------------------------------------------


def test_add_puts_a_new_item_in_the_first_stage(demo_db, capsys):
    code, out, err = run(demo_db, capsys, "add", "complaints", "Parcel opened before delivery", "--due", "fri",
                         "--ref", "TCK-6000")
    assert (code, err) == (0, "")
    assert out == "#45 added to Customer complaints, stage Triage, owner ben, due Fri 27 Nov\n"
    item = row(demo_db, "SELECT * FROM items WHERE id = 45")
    assert item["stage"] == "triage" and item["owner"] == "ben" and item["due"] == "2026-11-27"
    assert item["ref"] == "TCK-6000" and item["status"] == "open"
    event = last_event(demo_db)
    assert (event["actor"], event["action"], event["entity"]) == ("ben", "item.add", "items")


def test_add_with_an_owner_and_a_date(demo_db, capsys):
    code, out, _ = run(demo_db, capsys, "add", "hiring", "Head of support", "--owner", "ivan", "--due", "1 Dec")
    assert code == 0 and "owner ivan" in out and "due Tue 01 Dec" in out
    assert row(demo_db, "SELECT due, owner FROM items WHERE id = 45") == {"due": "2026-12-01", "owner": "ivan"}


def test_add_to_a_stage_whose_owner_is_away_gives_it_to_the_cover(demo_db, capsys):
    # content/brief is fay's; make gus own it while he is away: his cover (fay) gets it
    with Store.open(demo_db) as store:
        store.conn.execute("UPDATE stages SET owner = 'gus' WHERE workflow = 'content' AND key = 'brief'")
    code, out, _ = run(demo_db, capsys, "add", "content", "Launch post")
    assert code == 0 and "owner fay" in out


# --- handoff and accept ----------------------------------------------------------------


def test_handoff_goes_to_the_next_stage_and_its_owner(demo_db, capsys):
    code, out, err = run(demo_db, capsys, "handoff", "31", "--note", "photos attached")
    assert (code, err) == (0, "")
    # complaints/investigate: owner ana, SLA 24h
    assert out == "#31 handed to Investigate (ana), due Wed 25 Nov 10:00 (handoff 11)\n"
    handoff = row(demo_db, "SELECT * FROM handoffs WHERE id = 11")
    assert handoff["to_stage"] == "investigate" and handoff["to_owner"] == "ana"
    assert handoff["from_owner"] == "ben" and handoff["note"] == "photos attached"
    assert handoff["sent_at"] == "2026-11-24T10:00:00Z" and handoff["due_at"] == "2026-11-25T10:00:00Z"
    assert row(demo_db, "SELECT stage FROM items WHERE id = 31")["stage"] == "triage"  # until accepted


def test_handoff_to_a_named_stage_and_owner(demo_db, capsys):
    code, out, _ = run(demo_db, capsys, "handoff", "#31", "--to", "resolve", "--owner", "ana")
    assert code == 0 and out.startswith("#31 handed to Resolve (ana)")


def test_handoff_to_a_stage_whose_owner_is_away_goes_to_the_cover(demo_db, capsys):
    # content/draft is gus's; he is away this week and fay covers
    code, out, _ = run(demo_db, capsys, "handoff", "22", me="fay")
    assert code == 0
    assert out.startswith("#22 handed to Draft (fay), due Wed 25 Nov 10:00") and "gus is away, fay covers" in out
    assert row(demo_db, "SELECT to_owner FROM handoffs WHERE item_id = 22")["to_owner"] == "fay"


def test_accept_moves_the_item_into_the_stage(demo_db, capsys):
    code, out, err = run(demo_db, capsys, "accept", "9", me="ana")
    assert (code, err) == (0, "")
    assert out == "handoff 9 accepted: #33 is now in Investigate, owned by ana\n"
    item = row(demo_db, "SELECT * FROM items WHERE id = 33")
    assert item["stage"] == "investigate" and item["owner"] == "ana"
    assert item["stage_entered_at"] == "2026-11-24T10:00:00Z"
    handoff = row(demo_db, "SELECT * FROM handoffs WHERE id = 9")
    assert handoff["accepted_by"] == "ana" and handoff["accepted_at"] == "2026-11-24T10:00:00Z"


def test_accept_on_someone_elses_behalf_says_so(demo_db, capsys):
    code, out, _ = run(demo_db, capsys, "accept", "9", "--for", "ana", me="ivan")
    assert code == 0 and "(accepted by ivan on behalf of ana)" in out
    assert last_event(demo_db)["reason"] == "on behalf of ana"


def test_only_the_receiver_their_cover_or_the_workflow_owner_accept(demo_db, capsys):
    before = demo_db.read_bytes()
    code, out, err = run(demo_db, capsys, "accept", "9", me="ivan")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "handoff 9 waits on ana; ana" in err and "--for ana" in err
    assert demo_db.read_bytes() == before
    code, _, err = run(demo_db, capsys, "accept", "9", "--for", "ben", me="ivan")
    assert code == 2 and "waits on ana, not ben" in err


def test_actor_comes_from_the_environment(demo_db, capsys, monkeypatch):
    monkeypatch.setenv("OPSWEEK_ME", "ana")
    code, _, _ = run(demo_db, capsys, "accept", "9", me=None)
    assert code == 0
    assert last_event(demo_db)["actor"] == "ana"


# --- reassign, block, unblock, done, drop ----------------------------------------------


def test_reassign(demo_db, capsys):
    code, out, _ = run(demo_db, capsys, "reassign", "31", "--to", "ana", "--reason", "she knows the client")
    assert (code, out) == (0, "#31 reassigned from ben to ana\n")
    assert row(demo_db, "SELECT owner FROM items WHERE id = 31")["owner"] == "ana"
    event = last_event(demo_db)
    assert event["action"] == "item.reassign" and event["reason"] == "she knows the client"
    assert json.loads(event["before"])["owner"] == "ben" and json.loads(event["after"])["owner"] == "ana"


def test_block_and_unblock(demo_db, capsys):
    code, out, _ = run(demo_db, capsys, "block", "31", "--reason", "waiting on [bold]courier[/]")
    assert (code, out) == (0, "#31 blocked: waiting on [bold]courier[/]\n")
    assert row(demo_db, "SELECT status, blocked_reason FROM items WHERE id = 31") == {
        "status": "blocked", "blocked_reason": "waiting on [bold]courier[/]"}
    code, out, _ = run(demo_db, capsys, "unblock", "31")
    assert (code, out) == (0, "#31 unblocked (was: waiting on [bold]courier[/])\n")
    assert row(demo_db, "SELECT status, blocked_reason FROM items WHERE id = 31") == {
        "status": "open", "blocked_reason": None}


def test_done_withdraws_a_waiting_handoff(demo_db, capsys):
    code, out, _ = run(demo_db, capsys, "done", "33")
    assert (code, out) == (0, "#33 done; withdrew handoff 9 to Investigate\n")
    assert row(demo_db, "SELECT status, closed_at FROM items WHERE id = 33") == {
        "status": "done", "closed_at": "2026-11-24T10:00:00Z"}
    assert row(demo_db, "SELECT * FROM handoffs WHERE id = 9") is None


def test_drop_with_a_reason(demo_db, capsys):
    code, out, _ = run(demo_db, capsys, "drop", "32", "--reason", "duplicate of #31")
    assert (code, out) == (0, "#32 dropped: duplicate of #31\n")
    assert row(demo_db, "SELECT status FROM items WHERE id = 32")["status"] == "dropped"
    assert last_event(demo_db)["reason"] == "duplicate of #31"


# --- log -------------------------------------------------------------------------------


def test_log_newest_first_with_before_and_after(demo_db, capsys):
    run(demo_db, capsys, "block", "31", "--reason", "courier")
    run(demo_db, capsys, "reassign", "32", "--to", "ana")
    code, out, _ = run(demo_db, capsys, "log", "--limit", "2")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("change ") and lines[0].endswith("ben  item.reassign")
    assert lines[1] == "  #32: owner ben → ana"
    assert "item.block  (courier)" in lines[2]
    assert lines[3] == "  #31: status open → blocked; blocked reason — → “courier”"
    assert len(lines) == 4  # --limit counts changes


def test_log_of_one_item_includes_its_handoffs(demo_db, capsys):
    run(demo_db, capsys, "handoff", "31")
    run(demo_db, capsys, "block", "32", "--reason", "other item")
    run(demo_db, capsys, "accept", "11", me="ana")
    code, out, _ = run(demo_db, capsys, "log", "--item", "31")
    assert code == 0
    headers = [line for line in out.splitlines() if line.startswith("change ")]
    assert [h.split()[-1] for h in headers[:2]] == ["handoff.accept", "handoff.send"]
    assert "#32" not in out
    assert "handoff 11 created: #31 triage → investigate, to ana, due Wed 25 Nov 10:00" in out
    assert "#31: owner ben → ana; stage triage → investigate" in out
    assert "import" in headers[-1]  # where #31 came from


def test_log_of_an_item_keeps_handoffs_withdrawn_since(demo_db, capsys):
    run(demo_db, capsys, "done", "33")  # deletes handoff 9
    _, out, _ = run(demo_db, capsys, "log", "--item", "33")
    assert "handoff 9 removed" in out and "handoff 9 created" in out


def test_log_shows_a_bulk_change_briefly(tmp_path, capsys, frozen_now):
    from opsweek import demo

    path = tmp_path / "big.db"
    demo.build(path, scale=300, now=frozen_now).close()
    code, out, _ = run(path, capsys, "log", "--limit", "200")
    assert code == 0
    assert "… and " in out and "more rows in this change" in out
    assert len(out.splitlines()) < 2000


# --- undo ------------------------------------------------------------------------------


def test_undo_reverts_and_walks_back(demo_db, capsys):
    run(demo_db, capsys, "block", "31", "--reason", "courier")
    run(demo_db, capsys, "reassign", "31", "--to", "ana")
    code, out, _ = run(demo_db, capsys, "undo")
    assert code == 0 and "undid: reassigned #31 from ben to ana (change " in out
    assert row(demo_db, "SELECT owner, status FROM items WHERE id = 31") == {"owner": "ben", "status": "blocked"}
    code, out, _ = run(demo_db, capsys, "undo")
    assert code == 0 and "undid: blocked #31 — courier (change " in out
    assert row(demo_db, "SELECT owner, status FROM items WHERE id = 31") == {"owner": "ben", "status": "open"}
    assert last_event(demo_db)["action"] == "undo"  # the undo is recorded
    _, log, _ = run(demo_db, capsys, "log", "--limit", "1")
    assert "undo" in log and "(undoes change" in log


def test_undo_refuses_to_clobber_someone_elses_later_change(demo_db, capsys):
    run(demo_db, capsys, "block", "31", "--reason", "courier", me="ben")
    run(demo_db, capsys, "unblock", "31", me="ana")
    before = row(demo_db, "SELECT * FROM items WHERE id = 31")
    code, out, err = run(demo_db, capsys, "undo", me="ben")
    assert code == 2 and out == ""
    assert "cannot undo" in err and "by ana" in err and "nothing undone" in err
    assert row(demo_db, "SELECT * FROM items WHERE id = 31") == before


# --- audit and whatif ------------------------------------------------------------------


def test_audit_scores_each_workflow(demo_db, capsys):
    code, out, _ = run(demo_db, capsys, "audit")
    assert code == 0
    lines = out.splitlines()
    assert any(line.split()[:1] == ["complaints"] and "5/5" in line for line in lines)
    assert any(line.split()[:1] == ["content"] and "3/5" in line for line in lines)
    assert "stage publish has no SOP" in out and "stage references has no owner" in out


def test_audit_json(demo_db, capsys):
    code, out, _ = run(demo_db, capsys, "audit", "--json")
    data = json.loads(out)
    scores = {w["workflow"]: w["score"] for w in data["workflows"]}
    assert scores == {"client-delivery": 4, "complaints": 5, "content": 3, "hiring": 4}
    content = next(w for w in data["workflows"] if w["workflow"] == "content")
    assert content["layers"]["visibility"] == {"ok": False, "missing": ["stage publish has no SOP"]}


def test_whatif_shows_who_loses_what(demo_db, capsys):
    code, out, _ = run(demo_db, capsys, "whatif", "--away", "ana,eve", "--volume", "2")
    assert code == 0
    assert out.startswith("What if ana, eve are away (Mon 23 Nov – Sun 29 Nov), volume ×2")
    stages = out[out.index("Stages that lose their owner"):out.index("Pending handoffs")]
    assert "complaints/investigate  ana    ben" in stages
    assert "hiring/sourcing" in stages and "nobody" in stages
    assert "would reach nobody" in out


def test_whatif_json(demo_db, capsys):
    code, out, _ = run(demo_db, capsys, "whatif", "--away", "ana", "--json")
    data = json.loads(out)
    assert data["away"] == ["ana"] and data["volume"] == 1.0
    assert [h["label"] for h in data["handoffs"]] == ["handoff 9 (#33)"]
    assert {i["cover"] for i in data["items"]} == {"ben"}


# --- the real console script -----------------------------------------------------------


def test_real_commands_in_a_subprocess(demo_db):
    env = {k: v for k, v in os.environ.items() if k not in ("OPSWEEK_ME",)}
    env["OPSWEEK_DB"] = str(demo_db)
    env["OPSWEEK_ME"] = "ben"

    def opsweek(*argv):
        return subprocess.run([sys.executable, "-m", "opsweek", *argv], capture_output=True, text=True,
                              timeout=60, env=env)

    sent = opsweek("handoff", "31")
    assert sent.returncode == 0 and sent.stdout.startswith("#31 handed to Investigate (ana)")
    accepted = opsweek("--me", "ana", "accept", "11")
    assert accepted.returncode == 0 and "now in Investigate" in accepted.stdout
    log = opsweek("log", "--item", "31", "--limit", "2")
    assert log.returncode == 0 and "handoff.accept" in log.stdout.splitlines()[0]
