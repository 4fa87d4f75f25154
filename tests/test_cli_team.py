"""Keeping the system current from the shell (issue 11): a team lead adds people, marks
them away and back, changes covers, owners, SOPs and SLAs, and sets the settings — each
change recorded, undoable, and bad input refused with one line, exit 2 and the database
byte-identical.

Clock frozen at Tuesday 2026-11-24 10:00 UTC (conftest.py). The sample team: ten people
(jo inactive, gus away 22–27 Nov, eve with no cover), four workflows, 16 stages.
"""

from __future__ import annotations

import json

import hashlib
from pathlib import Path

import pytest

from opsweek.cli.main import main
from opsweek.store import Store


@pytest.fixture(autouse=True)
def _no_forced_colour(monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)


def run(db: Path, capsys, *argv: str, me: str | None = "ivan") -> tuple[int, str, str]:
    prefix = ["--db", str(db)] + (["--me", me] if me else [])
    code = main([*prefix, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def row(db: Path, sql: str, params=()) -> dict | None:
    with Store.open(db) as store:
        found = store.one(sql, params)
        return dict(found) if found else None


def rows(db: Path, sql: str, params=()) -> list[dict]:
    with Store.open(db) as store:
        return [dict(r) for r in store.query(sql, params)]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def last_change(db: Path) -> list[dict]:
    return rows(db, "SELECT * FROM events WHERE change_id = (SELECT max(change_id) FROM events) ORDER BY id")


# --- people ------------------------------------------------------------------------------------


def test_people_lists_everyone_with_what_they_own(demo_db, capsys):
    code, out, err = run(demo_db, capsys, "people")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["HANDLE", "NAME", "ROLE", "COVER", "AWAY", "ACTIVE", "OWNS"]
    gus = next(line for line in lines if line.strip().startswith("gus"))
    assert "2026-11-22 → 2026-11-27" in gus and "fay" in gus and "yes" in gus
    ana = next(line for line in lines if line.strip().startswith("ana"))
    assert "1 workflow, 1 stage, 4 items, 1 handoff" in ana
    jo = next(line for line in lines if line.strip().startswith("jo "))
    assert " no " in jo and "1 stage" in jo


def test_person_add_then_set_each_field_recorded_and_undoable(demo_db, capsys):
    code, out, err = run(demo_db, capsys, "person", "add", "Kai", "--name", "Kai Lee", "--role", "Support",
                         "--cover", "BEN")
    assert (code, err) == (0, ""), err
    assert out == "person kai added (Kai Lee, Support, cover ben)\n"
    assert row(demo_db, "SELECT * FROM people WHERE handle = 'kai'") == {
        "handle": "kai", "name": "Kai Lee", "role": "Support", "cover": "ben", "active": 1}
    [event] = last_change(demo_db)
    assert (event["action"], event["actor"], event["entity"]) == ("person.add", "ivan", "people")

    code, out, err = run(demo_db, capsys, "person", "set", "KAI", "--cover", "none", "--role", "Support lead")
    assert (code, err) == (0, "")
    assert out == "person kai: role Support → Support lead; cover ben → —\n"
    code, out, _ = run(demo_db, capsys, "person", "set", "kai", "--active", "no")
    assert out == "person kai: active yes → no\n"
    assert row(demo_db, "SELECT active, cover, role FROM people WHERE handle = 'kai'") == {
        "active": 0, "cover": None, "role": "Support lead"}
    _, log, _ = run(demo_db, capsys, "log", "--limit", "3")
    assert "person.set" in log and "person kai: active 1 → 0" in log

    assert run(demo_db, capsys, "undo")[0] == 0
    assert row(demo_db, "SELECT active FROM people WHERE handle = 'kai'") == {"active": 1}


def test_making_someone_inactive_says_what_they_still_own(demo_db, capsys):
    code, out, _ = run(demo_db, capsys, "person", "set", "dev", "--active", "no")
    assert code == 0
    assert out.splitlines()[1] == ("dev still owns 1 stage, 6 items, 1 handoff: give them new owners"
                                   " (opsweek audit lists the gaps)")


@pytest.mark.parametrize("argv, fragment", [
    (["person", "set", "anna", "--role", "x"], "unknown person 'anna' (did you mean: ana, hana, ivan)"),
    (["person", "set", "ana", "--cover", "ana"], "ana cannot cover for themselves"),
    (["person", "set", "ana", "--cover", "jo"], "--cover: jo is inactive"),
    (["person", "set", "ana", "--cover", "bne"], "unknown person 'bne' (did you mean: ben)"),
    (["person", "add", "zed", "--name", "Zed", "--cover", "zed"], "zed cannot cover for themselves"),
    (["person", "add", "ana", "--name", "Another Ana"], "ana is already on the team"),
    (["person", "add", "Zed Z", "--name", "Zed"], "is not a slug"),
    (["person", "add", "zed"], "--name is required"),
    (["person", "add", "zed", "--name", "  "], "--name is empty"),
    (["person", "set", "ana"], "nothing to change"),
    (["person", "set", "ana", "--role", "Support lead"], "person ana already has those values"),
    (["person", "set", "ana", "--active", "maybe"], "invalid choice"),
    (["away", "ana", "5 Dec", "1 Dec"], "ends (2026-12-01) before it starts (2026-12-05)"),
    (["away", "ana", "someday"], "FROM: 'someday' is not a date"),
    (["away", "ana", "1 Dec", "32 Dec"], "TO: '32 Dec' is not a date"),
    (["away", "anna", "1 Dec"], "unknown person 'anna'"),
    (["away", "gus", "23 Nov", "25 Nov"], "gus is already away 2026-11-22 → 2026-11-27"),
    (["back", "ana"], "ana is not away today"),
    (["back", "hana"], "hana is not away today (next away: 2026-12-03 → 2026-12-07)"),
    (["workflow", "add", "onboarding", "--name", "Onboarding"], "--owner is required"),
    (["workflow", "add", "onboarding", "--name", "Onboarding", "--owner", "jo"], "--owner: jo is inactive"),
    (["workflow", "add", "hiring", "--name", "Hiring", "--owner", "ivan"], "workflow hiring already exists"),
    (["workflow", "set", "hirng", "--owner", "ana"], "unknown workflow 'hirng' (did you mean: hiring)"),
    (["workflow", "set", "hiring", "--owner", "ivn"], "unknown person 'ivn' (did you mean: ivan)"),
    (["workflow", "set", "hiring", "--status", "closed"], "invalid choice"),
    (["stage", "add", "hiring/intake", "--name", "Intake", "--after", "sorcing"],
     "unknown stage of hiring 'sorcing' (did you mean: sourcing, screening)"),
    (["stage", "add", "hiring/offer", "--name", "Offer"], "stage hiring/offer already exists"),
    (["stage", "add", "hiring-offer", "--name", "Offer"], "is not WF/STAGE"),
    (["stage", "set", "hiring/refs", "--owner", "ivan"], "unknown stage of hiring 'refs'"),
    (["stage", "set", "hiring/references", "--max-days", "0"], "max days: '0' must be above 0"),
    (["stage", "set", "hiring/references", "--max-days", "soon"], "max days: 'soon' is not a number"),
    (["stage", "set", "hiring/references", "--handoff-sla", "2 days"], "is not a duration"),
    (["stage", "set", "hiring/references", "--owner", "jo"], "--owner: jo is inactive"),
    (["stage", "set", "hiring/offer", "--after", "offer"], "cannot come after itself"),
    (["stage", "set", "hiring/offer"], "nothing to change"),
    (["set", "handoff_sla", "soon"], "is not a duration"),
    (["set", "stale_afer", "3d"], "unknown setting 'stale_afer'; did you mean stale_after"),
    (["set", "colour", "blue"], "(accepted: meeting, handoff_sla, stale_after, escalate_after, step_minutes)"),
    (["set", "step_minutes", "stuck"], "is not STEP=N"),
    (["set", "step_minutes", "lunch=10"], "is not STEP=N"),
    (["set", "step_minutes", "stuck=999"], "is not a number of minutes"),
    (["set", "handoff_sla", "48h"], "handoff_sla is already 48h"),
])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(demo_db, capsys, argv, fragment):
    before = digest(demo_db)
    code, out, err = run(demo_db, capsys, *argv)
    assert code == 2, (out, err)
    assert out == ""
    assert fragment in err and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert digest(demo_db) == before


# --- away and back -----------------------------------------------------------------------------


def test_away_periods_as_typed_merge_when_they_overlap_or_touch(demo_db, capsys):
    code, out, _ = run(demo_db, capsys, "away", "ANA", "1 Dec", "fri")  # Friday 27 Nov: before 1 Dec
    assert code == 2
    code, out, err = run(demo_db, capsys, "away", "ana", "1 Dec", "5 Dec")
    assert (code, err) == (0, "")
    assert out == "ana is away 2026-12-01 → 2026-12-05\n"
    code, out, _ = run(demo_db, capsys, "away", "ana", "2026-12-06", "+14d")  # touches it: one absence
    assert out == "ana is away 2026-12-01 → 2026-12-08 (merged with a period it overlaps or touches)\n"
    assert rows(demo_db, "SELECT start, end FROM away WHERE handle = 'ana'") == [
        {"start": "2026-12-01", "end": "2026-12-08"}]
    run(demo_db, capsys, "away", "ana", "20 Dec", "22 Dec")
    code, out, _ = run(demo_db, capsys, "away", "ana", "7 Dec", "21 Dec")  # bridges both
    assert out == "ana is away 2026-12-01 → 2026-12-22 (merged with a period it overlaps or touches)\n"
    assert rows(demo_db, "SELECT start, end FROM away WHERE handle = 'ana'") == [
        {"start": "2026-12-01", "end": "2026-12-22"}]
    _, log, _ = run(demo_db, capsys, "log", "--limit", "1")
    assert "person.away" in log and "away period" in log


def test_away_without_an_end_lasts_until_back_which_ends_it_today(demo_db, capsys):
    code, out, _ = run(demo_db, capsys, "away", "ben", "-3d")
    assert (code, out) == (0, "ben is away from 2026-11-21 until back\n")
    _, people, _ = run(demo_db, capsys, "people")
    assert "from 2026-11-21 until back" in people
    code, out, _ = run(demo_db, capsys, "back", "Ben")
    assert (code, out) == (0, "ben is back; away period now 2026-11-21 → 2026-11-23\n")
    # an absence that began today is simply gone
    run(demo_db, capsys, "away", "carla", "today")
    code, out, _ = run(demo_db, capsys, "back", "carla")
    assert out == "carla is back (the away period that began today is removed)\n"
    assert rows(demo_db, "SELECT * FROM away WHERE handle = 'carla'") == []


def test_back_ends_gus_absence_and_mine_no_longer_routes_to_his_cover(demo_db, capsys):
    assert run(demo_db, capsys, "back", "gus")[0] == 0
    assert row(demo_db, "SELECT end FROM away WHERE handle = 'gus'") == {"end": "2026-11-23"}
    _, out, _ = run(demo_db, capsys, "mine", "--json", me="fay")
    import json

    assert json.loads(out)["covering"] == []


# --- workflows and stages ----------------------------------------------------------------------


def test_workflow_add_and_set_each_field(demo_db, capsys):
    code, out, err = run(demo_db, capsys, "workflow", "add", "Onboarding", "--name", "Client onboarding",
                         "--owner", "Carla", "--trigger", "A contract is signed")
    assert (code, err) == (0, "")
    assert out.startswith("workflow onboarding added (Client onboarding, owner carla)")
    assert row(demo_db, "SELECT * FROM workflows WHERE key = 'onboarding'") == {
        "key": "onboarding", "name": "Client onboarding", "outcome": "", "owner": "carla",
        "trigger": "A contract is signed", "status": "active"}
    code, out, _ = run(demo_db, capsys, "workflow", "set", "onboarding", "--owner", "dev", "--outcome",
                       "Live in a week", "--status", "paused", "--reason", "carla is on leave")
    assert out == "workflow onboarding: outcome — → Live in a week; owner carla → dev; status active → paused\n"
    [event] = last_change(demo_db)
    assert (event["action"], event["reason"]) == ("workflow.set", "carla is on leave")
    code, out, _ = run(demo_db, capsys, "workflow", "set", "onboarding", "--trigger", "none")
    assert out == "workflow onboarding: trigger A contract is signed → —\n"
    _, audit, _ = run(demo_db, capsys, "audit")
    assert "onboarding" in audit and "no trigger" in audit


def test_stage_add_after_renumbers_and_set_none_clears(demo_db, capsys):
    code, out, err = run(demo_db, capsys, "stage", "add", "complaints/refund", "--name", "Refund",
                         "--after", "investigate", "--owner", "ana", "--sop", "https://wiki/refunds",
                         "--max-days", "2", "--handoff-sla", "1bd")
    assert (code, err) == (0, "")
    assert out == "stage complaints/refund added (Refund, after investigate)\n"
    order = rows(demo_db, "SELECT key, position FROM stages WHERE workflow = 'complaints' ORDER BY position")
    assert order == [{"key": "triage", "position": 1}, {"key": "investigate", "position": 2},
                     {"key": "refund", "position": 3}, {"key": "resolve", "position": 4}]
    assert row(demo_db, "SELECT owner, sop, max_days, handoff_sla FROM stages WHERE key = 'refund'") == {
        "owner": "ana", "sop": "https://wiki/refunds", "max_days": 2.0, "handoff_sla": "1bd"}
    # one change: the new stage and the stage it pushed down, undone together
    assert {e["action"] for e in last_change(demo_db)} == {"stage.add"}
    assert len(last_change(demo_db)) == 2

    code, out, _ = run(demo_db, capsys, "stage", "set", "complaints/refund", "--sop", "none", "--max-days",
                       "1.5", "--after", "none")
    assert out == "stage complaints/refund: position 3 → 1; sop https://wiki/refunds → —; max days 2.0 → 1.5\n"
    order = [r["key"] for r in rows(demo_db, "SELECT key FROM stages WHERE workflow = 'complaints'"
                                             " ORDER BY position")]
    assert order == ["refund", "triage", "investigate", "resolve"]
    assert run(demo_db, capsys, "undo")[0] == 0
    order = [r["key"] for r in rows(demo_db, "SELECT key FROM stages WHERE workflow = 'complaints'"
                                             " ORDER BY position")]
    assert order == ["triage", "investigate", "refund", "resolve"]


def test_changing_a_stage_owner_keeps_the_reason_and_fixes_the_audit(demo_db, capsys):
    code, out, _ = run(demo_db, capsys, "stage", "set", "Hiring/References", "--owner", "IVAN",
                       "--reason", "agreed in the session")
    assert (code, out) == (0, "stage hiring/references: owner — → ivan\n")
    stage_edit, moved = last_change(demo_db)  # the pending handoff into references goes to ivan too
    assert (stage_edit["action"], stage_edit["reason"], stage_edit["actor"]) == ("stage.set", "agreed in the session",
                                                                                  "ivan")
    assert moved["entity"] == "handoffs" and json.loads(moved["after"]) == {"to_owner": "ivan"}
    _, audit, _ = run(demo_db, capsys, "audit")
    assert "references has no owner" not in audit
    code, out, _ = run(demo_db, capsys, "stage", "set", "hiring/references", "--owner", "eve")
    assert "say why next time with --reason" in out


def test_settings_are_validated_and_recorded(demo_db, capsys):
    code, out, err = run(demo_db, capsys, "set", "handoff_sla", "2bd")
    assert (code, out, err) == (0, "handoff_sla: 48h → 2bd\n", "")
    code, out, _ = run(demo_db, capsys, "set", "Stale_After", "10d")
    assert out == "stale_after: 7d → 10d\n"
    code, out, _ = run(demo_db, capsys, "set", "step_minutes", "stuck=20")
    assert out == 'step_minutes: — → {"stuck": 20}\n'
    run(demo_db, capsys, "set", "step_minutes", "gaps=8")
    assert row(demo_db, "SELECT value FROM settings WHERE key = 'step_minutes'") == {
        "value": '{"gaps": 8, "stuck": 20}'}
    code, out, _ = run(demo_db, capsys, "set", "step_minutes", "stuck=default")
    assert row(demo_db, "SELECT value FROM settings WHERE key = 'step_minutes'") == {"value": '{"gaps": 8}'}
    [event] = last_change(demo_db)
    assert (event["action"], event["entity"]) == ("setting.set", "settings")


def test_me_is_case_insensitive_and_checked(demo_db, capsys):
    code, _, err = run(demo_db, capsys, "back", "gus", me="FAY")
    assert (code, err) == (0, "")
    assert last_change(demo_db)[0]["actor"] == "fay"
    code, _, err = run(demo_db, capsys, "back", "hana", me="fya")
    assert code == 2 and "--me: unknown person 'fya' (did you mean: fay)" in err


def test_handles_are_case_insensitive_in_the_other_commands_too(demo_db, capsys):
    code, out, err = run(demo_db, capsys, "reassign", "31", "--to", "ANA", me="Ben")
    assert (code, err) == (0, "") and out == "#31 reassigned from ben to ana\n"
    code, out, err = run(demo_db, capsys, "add", "complaints", "Parcel lost", "--owner", "Ben")
    assert (code, err) == (0, "") and "owner ben" in out
    code, _, err = run(demo_db, capsys, "whatif", "--away", "EVE")
    assert (code, err) == (0, "")
