"""``opsweek mine``: what is waiting on me, run as a user runs it against the demo team.

The demo is built at the frozen time (Tuesday 2026-11-24 10:00 UTC, see conftest.py), so
the sample team's handoffs, stuck items and actions are always the same.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from opsweek.cli.main import main
from opsweek.cli.output import Cell, Printer, width
from opsweek.store import Store


@pytest.fixture(autouse=True)
def _no_forced_colour(monkeypatch):
    """Output is compared as plain text: a developer's FORCE_COLOR must not leak in."""
    monkeypatch.delenv("FORCE_COLOR", raising=False)


def run(db: Path, capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["--db", str(db), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def add_person(db: Path, handle: str, name: str, cover: str | None = None) -> None:
    with Store.open(db) as store, store.change("test.person", actor="test") as change:
        change.insert("people", {"handle": handle, "name": name, "role": "", "cover": cover, "active": 1})


# --- the sections, in the order ------------------------------------------------


def test_sections_come_in_order_with_what_each_needs(demo_db, capsys):
    code, out, err = run(demo_db, capsys, "mine", "--me", "ana")
    assert code == 0 and err == ""
    headings = ["Handoffs waiting for you to accept (1, 1 overdue)",
                "Handoffs you sent, not yet accepted (1, 1 overdue)",
                "Your stuck items (2, 1 overdue)",
                "Your open actions (1, 1 overdue)"]
    positions = [out.index(h) for h in headings]
    assert positions == sorted(positions)

    incoming = out[positions[0]:positions[1]]
    row = next(line for line in incoming.splitlines() if line.strip().startswith("9 "))
    # handoff 9: #33 sent by ben into complaints/investigate, due 08:00, now 10:00
    assert "#33" in row and "Delivery left at wrong address" in row and " ben " in row
    assert "complaints/investigate" in row and "2h late" in row
    assert "https://wiki.example.com/sop/complaint-investigation" in row
    assert "opsweek accept 9" in incoming

    sent = out[positions[1]:positions[2]]
    assert "#36" in sent and "ben" in sent and "complaints/resolve" in sent and "16h late" in sent

    stuck = out[positions[2]:positions[3]]
    assert "#35" in stuck and "blocked: Courier has not answered our query" in stuck
    assert "#34" in stuck and "due 2026-11-23 passed" in stuck

    actions = out[positions[3]:]
    assert "Chase the courier about the rude-reply complaint" in actions and "3d late" in actions
    assert "Covering for" not in out


def test_overdue_handoffs_come_first_most_late_first(demo_db, capsys):
    # send ana a second handoff, due in 24h: it must list after the overdue one
    assert main(["--db", str(demo_db), "--me", "ben", "handoff", "31"]) == 0
    capsys.readouterr()
    code, out, _ = run(demo_db, capsys, "mine", "--me", "ana", "--json")
    incoming = json.loads(out)["incoming"]
    assert [h["item_id"] for h in incoming] == [33, 31]
    assert [h["overdue"] for h in incoming] == [True, False]


def test_covering_for_someone_away_lists_their_waiting_work(demo_db, capsys):
    # gus is away this week (sample data: -2d..+3d) and fay is his cover
    code, out, _ = run(demo_db, capsys, "mine", "--me", "fay")
    assert code == 0
    covering = out[out.index("Covering for gus (Gus Moreau, away Sun 22 Nov – Fri 27 Nov)"):]
    assert "Handoffs waiting for gus to accept (1, 1 overdue)" in covering
    assert "#23" in covering and "Customer story: Initech" in covering
    assert "Their stuck items (2)" in covering and "#24" in covering and "#26" in covering
    # ... and it is the last section
    assert out.index("Your open actions") < out.index("Covering for gus")


def test_the_cover_sees_nothing_about_people_who_are_here(demo_db, capsys):
    _, out, _ = run(demo_db, capsys, "mine", "--me", "ben")  # ben covers ana, who is not away
    assert "Covering for" not in out


def test_empty_state_says_so_plainly(demo_db, capsys):
    add_person(demo_db, "zoe", "Zoe Quiet")
    code, out, err = run(demo_db, capsys, "mine", "--me", "zoe")
    assert code == 0 and err == ""
    assert "Nothing is waiting on you" in out
    assert "HANDOFF" not in out  # no empty tables


def test_empty_sections_say_none(demo_db, capsys):
    _, out, _ = run(demo_db, capsys, "mine", "--me", "gus")
    assert "Handoffs you sent, not yet accepted: none" in out
    assert "Your open actions: none" in out


def test_columns_are_aligned(demo_db, capsys):
    _, out, _ = run(demo_db, capsys, "mine", "--me", "fay")
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.lstrip().startswith("HANDOFF"))
    due_column = lines[header].index("DUE")
    sop_column = lines[header].index("SOP")
    row = lines[header + 1]
    assert row[due_column:due_column + 3] == "Mon"  # handoff 8 was due Mon 23 Nov 08:00
    assert row[sop_column:].startswith("no SOP")  # content/publish links no SOP
    assert not any(line != line.rstrip() for line in lines)  # no trailing blanks


def test_wide_characters_keep_columns_aligned():
    import io

    stream = io.StringIO()
    Printer(stream, colour=False).table([["数据分析", "x"], ["ab", "y"]])
    first, second = stream.getvalue().splitlines()
    assert width(first[: first.index("x")]) == width(second[: second.index("y")])


# --- colour: only on a terminal, never with NO_COLOR ------------------------------------


def test_plain_when_piped(demo_db, capsys):
    _, out, _ = run(demo_db, capsys, "mine", "--me", "ana")
    assert "\x1b" not in out


def test_colour_when_forced_and_no_color_wins(demo_db, capsys, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    _, coloured, _ = run(demo_db, capsys, "mine", "--me", "ana")
    assert "\x1b[31m" in coloured  # overdue in red
    monkeypatch.setenv("NO_COLOR", "1")
    _, plain, _ = run(demo_db, capsys, "mine", "--me", "ana")
    assert "\x1b" not in plain


def test_colour_on_a_terminal_only(monkeypatch):
    class Tty:
        def isatty(self):
            return True

    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert Printer(Tty()).colour is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert Printer(Tty()).colour is False
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert Printer(Tty()).colour is False


def test_user_text_cannot_drive_the_terminal(demo_db, capsys, monkeypatch):
    # an old database could hold raw control characters: the output never passes them on
    with Store.open(demo_db) as store:
        store.conn.execute("UPDATE items SET title = ? WHERE id = 33",
                           ("Evil \x1b[2J\x1b]0;pwned\x07 [bold]title[/]\nsecond line",))
    monkeypatch.setenv("FORCE_COLOR", "1")
    _, out, _ = run(demo_db, capsys, "mine", "--me", "ana")
    assert "\x1b[2J" not in out and "\x07" not in out and "\x1b]0" not in out
    row = next(line for line in out.splitlines() if "#33" in line)
    assert "Evil [2J]0;pwned [bold]title[/] se…" in row  # as typed, on one line, cut to fit
    assert not any(line.startswith("second") for line in out.splitlines())


def test_cell_folds_lines_and_strips_controls():
    assert Cell("a\nb\tc\x1b[31m").text == "a b c[31m"


# --- --json ----------------------------------------------------------------------------


def test_json_has_the_documented_shape(demo_db, capsys):
    code, out, _ = run(demo_db, capsys, "mine", "--me", "fay", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["version"] == 1 and data["me"] == "fay"
    assert data["now"] == "2026-11-24T10:00:00Z" and data["today"] == "2026-11-24"
    assert set(data) == {"version", "me", "now", "today", "overdue", "incoming", "sent", "stuck", "actions",
                         "escalated_to_me", "escalated_work", "opened_since", "looked", "opened", "covering"}
    assert data["overdue"] == {"total": 3, "incoming": 1, "items": 1, "actions": 0, "covering": 1,
                               "escalated": 0, "escalated_work": 0}
    handoff = data["incoming"][0]
    assert set(handoff) == {"id", "item_id", "title", "workflow", "from_stage", "from_owner", "to_stage",
                            "to_stage_name", "to_owner", "sop", "note", "sent_at", "due_at", "overdue",
                            "late_seconds", "escalation_due", "escalated_at"}
    assert handoff["id"] == 8 and handoff["to_owner"] == "fay" and handoff["late_seconds"] == 26 * 3600
    item = data["stuck"][0]
    assert set(item) == {"id", "title", "workflow", "stage", "stage_name", "status", "owner", "due", "sop",
                         "overdue", "reasons"}
    assert all(set(r) == {"kind", "text"} for r in item["reasons"])
    action = data["actions"][0]
    assert set(action) == {"id", "text", "due", "overdue", "item_id", "workflow", "week"}
    assert action == {"id": 4, "text": "Write the SOP for publishing (checklist + tools)", "due": "2026-11-26",
                      "overdue": False, "item_id": None, "workflow": "content", "week": "2026-W47"}
    (covering,) = data["covering"]
    assert covering["for"] == "gus" and covering["away"] == [{"from": "2026-11-22", "to": "2026-11-27"}]
    assert [h["id"] for h in covering["incoming"]] == [7]
    assert [i["id"] for i in covering["stuck"]] == [24, 26]


def test_json_sent_leaves_out_handoffs_to_myself(demo_db, capsys):
    # eve hands #1 to screening, which she owns herself (the demo has no such handoff)
    code = main(["--db", str(demo_db), "--me", "eve", "handoff", "1", "--owner", "eve"])
    assert code == 0
    capsys.readouterr()
    _, out, _ = run(demo_db, capsys, "mine", "--me", "eve", "--json")
    data = json.loads(out)
    to_myself = max(h["id"] for h in data["incoming"])
    assert [h["id"] for h in data["incoming"]] == [1, 3, to_myself]
    assert [h["id"] for h in data["sent"]] == [2]


# --- --check ---------------------------------------------------------------------------


def test_check_exits_1_with_one_line_when_something_is_overdue(demo_db, capsys):
    code, out, err = run(demo_db, capsys, "mine", "--me", "ana", "--check")
    assert code == 1 and err == ""
    assert out.splitlines() == ["ana: 3 overdue (1 handoff to accept; 1 item past due; 1 action); "
                                "see 'opsweek mine'"]


def test_check_is_quiet_and_exits_0_when_nothing_is_overdue(demo_db, capsys):
    # hana's only late handoff is one she sent (it waits on fay), and her stuck item has no due date
    code, out, err = run(demo_db, capsys, "mine", "--me", "hana", "--check")
    assert (code, out, err) == (0, "", "")


def test_check_with_json_prints_json_and_sets_the_status(demo_db, capsys):
    code, out, _ = run(demo_db, capsys, "mine", "--me", "ana", "--check", "--json")
    assert code == 1 and json.loads(out)["overdue"]["total"] == 3


# --- who is asking ---------------------------------------------------------------------


def test_me_from_the_environment(demo_db, capsys, monkeypatch):
    monkeypatch.setenv("OPSWEEK_ME", "gus")
    code, out, _ = run(demo_db, capsys, "mine")
    assert code == 0 and "What is waiting on gus" in out


def test_unknown_me_names_near_matches(demo_db, capsys):
    code, out, err = run(demo_db, capsys, "mine", "--me", "anna")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "unknown person 'anna'" in err and "ana" in err


def test_no_me_says_how_to_say_who_you_are(demo_db, capsys):
    code, _, err = run(demo_db, capsys, "mine")
    assert code == 2 and "--me" in err and "OPSWEEK_ME" in err


# --- the real command, in its own process ----------------------------------------------


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "OPSWEEK_ME")}
    env.update(extra)
    return env


def test_real_command_in_a_subprocess(demo_db):
    result = subprocess.run([sys.executable, "-m", "opsweek", "--db", str(demo_db), "mine", "--me", "ana",
                             "--check"], capture_output=True, text=True, timeout=60, env=_env())
    assert result.returncode == 1 and result.stderr == ""
    assert result.stdout.startswith("ana: 3 overdue")
    result = subprocess.run([sys.executable, "-m", "opsweek", "--db", str(demo_db), "mine"], capture_output=True,
                            text=True, timeout=60, env=_env(OPSWEEK_ME="ana"))
    assert result.returncode == 0 and "Your stuck items" in result.stdout and "\x1b" not in result.stdout


HEAVY = ("pydantic", "textual", "sqlite_utils", "rich", "dateutil")


def test_mine_imports_nothing_heavy(demo_db):
    """The quick path: checked on the modules loaded when the command has run."""
    code = (
        "import json, sys\n"
        "from opsweek.cli.main import main\n"
        f"status = main(['--db', {str(demo_db)!r}, 'mine', '--me', 'ana', '--json'])\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})\n"
        "print(json.dumps({'status': status, 'heavy': heavy}), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=_env())
    report = json.loads(result.stderr.strip().splitlines()[-1])
    assert report == {"status": 0, "heavy": []}
    assert json.loads(result.stdout)["me"] == "ana"


def test_mine_imports_nothing_heavy_by_importtime(demo_db):
    """The same, as ``python -X importtime`` sees the whole process (console entry point)."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "opsweek", "--db", str(demo_db), "mine",
                             "--me", "ana"], capture_output=True, text=True, timeout=60, env=_env())
    assert result.returncode == 0
    imported = {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines()
                if line.startswith("import time:") and "|" in line}
    assert imported and not {m for m in imported if m.split(".")[0] in HEAVY}
    assert "dataclasses" not in imported  # it brings inspect, ast, dis: ~25 ms


@pytest.mark.parametrize("me", ["ana", "ben", "fay"])
def test_human_and_json_agree(demo_db, capsys, me):
    _, out, _ = run(demo_db, capsys, "mine", "--me", me)
    _, raw, _ = run(demo_db, capsys, "mine", "--me", me, "--json")
    data = json.loads(raw)
    for handoff in data["incoming"]:
        assert f"#{handoff['item_id']}" in out
    for item in data["stuck"]:
        assert f"#{item['id']}" in out


# --- long sections: the 20 most urgent, how many more, --all ----------------------------


def pile_up_stuck_items(db: Path, count: int) -> list[int]:
    """``count`` blocked items for ana in complaints/investigate, each entered a minute after
    the last (all after her own two stuck items), every other one past its due date; opened
    weeks before (so they are not news for "opened for you")."""
    ids = []
    with Store.open(db) as store, store.change("test.items", actor="test") as change:
        for n in range(count):
            at = f"2026-11-20T00:{n:02d}:00Z"
            ids.append(change.insert("items", {
                "workflow": "complaints", "stage": "investigate", "title": f"Piled-up complaint {n}",
                "owner": "ana", "status": "blocked", "opened_at": "2026-11-02T09:00:00Z", "stage_entered_at": at,
                "last_activity_at": at, "due": "2026-11-20" if n % 2 == 0 else None,
                "blocked_reason": "Waiting on the courier"}))
    return ids


def stuck_rows(out: str) -> list[str]:
    section = out[out.index("Your stuck items"):out.index("Your open actions")]
    return [line.split()[0] for line in section.splitlines() if line.strip().startswith("#")]


def test_a_long_section_shows_its_20_most_urgent_and_says_how_many_more(demo_db, capsys):
    piled = pile_up_stuck_items(demo_db, 30)
    code, out, _ = run(demo_db, capsys, "mine", "--me", "ana")
    assert code == 0
    # every stuck item is counted, 16 of them past due (her #34 and every other piled one)
    assert "Your stuck items (32, 16 overdue)" in out
    # the 20 longest in their stage: her own two, then the first 18 piled up
    assert stuck_rows(out) == ["#35", "#34", *[f"#{i}" for i in piled[:18]]]
    assert "  and 12 more (opsweek mine --all shows every row)" in out
    # the sections that fit say nothing more
    assert out.count("more (opsweek mine --all") == 1


def test_all_shows_every_row_and_json_always_has_them(demo_db, capsys):
    piled = pile_up_stuck_items(demo_db, 30)
    _, out, _ = run(demo_db, capsys, "mine", "--me", "ana", "--all")
    assert "Your stuck items (32, 16 overdue)" in out
    assert stuck_rows(out) == ["#35", "#34", *[f"#{i}" for i in piled]]
    assert "more (opsweek mine --all" not in out
    _, raw, _ = run(demo_db, capsys, "mine", "--me", "ana", "--json")
    data = json.loads(raw)
    assert [item["id"] for item in data["stuck"]] == [35, 34, *piled]
    assert data["overdue"]["items"] == 16


def test_check_counts_the_rows_a_short_listing_leaves_out(demo_db, capsys):
    pile_up_stuck_items(demo_db, 30)
    code, out, _ = run(demo_db, capsys, "mine", "--me", "ana", "--check")
    assert code == 1
    assert out.splitlines() == ["ana: 18 overdue (1 handoff to accept; 16 items past due; 1 action); "
                                "see 'opsweek mine'"]


# --- items opened for me since I last looked ------------------------------------------


def add_item_for(db: Path, owner: str, title: str, *, actor: str, at: str = "2026-11-24T09:30:00Z") -> int:
    with Store.open(db) as store, store.change("item.add", actor=actor) as change:
        return change.insert("items", {"workflow": "complaints", "stage": "triage", "title": title, "owner": owner,
                                       "status": "open", "opened_at": at, "stage_entered_at": at,
                                       "last_activity_at": at})


def opened_rows(out: str) -> list[str]:
    lines = out.splitlines()
    start = next((n for n, line in enumerate(lines) if line.startswith("Opened for you")), None)
    if start is None:
        return []
    rows = []
    for line in lines[start + 2:]:
        if not line.strip():
            break
        rows.append(line)
    return rows


def test_the_first_look_lists_what_opened_for_me_in_the_last_week(demo_db, capsys):
    _, out, _ = run(demo_db, capsys, "mine", "--me", "ben")
    assert "Opened for you in the last 7 days (4)" in out
    rows = opened_rows(out)
    # newest first, with where each sits and who opened it (the demo's import)
    assert [row.split()[0] for row in rows] == ["32", "33", "39", "31"]
    assert "Charged twice for subscription" in rows[0] and "complaints/triage" in rows[0] and "demo" in rows[0]
    # the section comes after the open actions
    assert out.index("Your open actions") < out.index("Opened for you")


def test_the_next_look_lists_only_what_opened_since(demo_db, capsys, monkeypatch):
    run(demo_db, capsys, "mine", "--me", "ben")          # ben looks at 10:00
    _, again, _ = run(demo_db, capsys, "mine", "--me", "ben")
    assert "Opened for you" not in again                  # nothing new since

    monkeypatch.setenv("OPSWEEK_NOW", "2026-11-24T12:00:00Z")
    new = add_item_for(demo_db, "ben", "Parcel stuck at the depot", actor="ana", at="2026-11-24T11:00:00Z")
    add_item_for(demo_db, "ben", "A note to myself", actor="ben", at="2026-11-24T11:05:00Z")
    _, out, _ = run(demo_db, capsys, "mine", "--me", "ben")
    assert "Opened for you since you last looked (Tue 24 Nov 10:00) (1)" in out
    (row,) = opened_rows(out)
    assert row.split()[0] == str(new) and "Parcel stuck at the depot" in row and row.rstrip().endswith("ana")
    _, later, _ = run(demo_db, capsys, "mine", "--me", "ben")
    assert "Opened for you" not in later


def test_scripts_read_the_mark_but_never_move_it(demo_db, capsys):
    for argv in (["--json"], ["--check"], ["--json", "--check"]):
        run(demo_db, capsys, "mine", "--me", "ben", *argv)
    _, raw, _ = run(demo_db, capsys, "mine", "--me", "ben", "--json")
    data = json.loads(raw)
    assert data["looked"] is False and data["opened_since"] == "2026-11-17T10:00:00Z"
    assert [o["id"] for o in data["opened"]] == [32, 33, 39, 31]
    opened = data["opened"][0]
    assert set(opened) == {"id", "title", "workflow", "stage", "stage_name", "status", "owner", "due", "sop",
                           "overdue", "reasons", "opened_at", "schedule", "fed_from", "fed_workflow", "by"}
    assert opened["opened_at"] == "2026-11-24T07:00:00Z" and opened["by"] == "demo"

    run(demo_db, capsys, "mine", "--me", "ben")           # a person looks
    _, raw, _ = run(demo_db, capsys, "mine", "--me", "ben", "--json")
    data = json.loads(raw)
    assert data["looked"] is True and data["opened_since"] == "2026-11-24T10:00:00Z" and data["opened"] == []


def test_each_person_and_each_database_has_its_own_mark(demo_db, capsys, tmp_path):
    run(demo_db, capsys, "mine", "--me", "ben")
    _, out, _ = run(demo_db, capsys, "mine", "--me", "ana")
    assert "Opened for you in the last 7 days" in out     # ben's look is not ana's
    other = tmp_path / "copy.db"
    other.write_bytes(demo_db.read_bytes())
    _, out, _ = run(other, capsys, "mine", "--me", "ben")
    assert "Opened for you in the last 7 days (4)" in out  # nor is it the other database's


def test_mine_never_writes_the_database(demo_db, capsys):
    with Store.open(demo_db) as store:
        before = store.data_version(), store.scalar("SELECT count(*) FROM events")
    run(demo_db, capsys, "mine", "--me", "ben")
    with Store.open(demo_db) as store:
        assert store.scalar("SELECT count(*) FROM events") == before[1]


def test_a_schedule_says_it_opened_the_item(demo_db, capsys, monkeypatch):
    run(demo_db, capsys, "mine", "--me", "ana")
    monkeypatch.setenv("OPSWEEK_NOW", "2026-11-28T10:00:00Z")  # after Friday 09:00, when the weekly review opens
    assert run(demo_db, capsys, "tick")[0] == 0
    _, out, _ = run(demo_db, capsys, "mine", "--me", "ana")
    rows = opened_rows(out)
    assert any("schedule weekly-review" in row for row in rows), out
