"""The team file round-trips (issue 11): ``team export`` writes the system as it stands,
importing that file changes nothing, and an import tells before it changes — ``--dry-run``
prints every change, a plain import refuses to revert what the app changed since the
last import (``--force`` applies it), and ``--prune`` retires what the file no longer
lists, never deleting it.

Clock frozen at Tuesday 2026-11-24 10:00 UTC (conftest.py).
"""

from __future__ import annotations

import hashlib
import tempfile
import tomllib
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsweek import inputs, teamfile
from opsweek.cli.main import main
from opsweek.demo import sample_dir
from opsweek.importing import import_files
from opsweek.store import Store, changes

SAMPLE_TEAM = sample_dir() / "team.toml"


def run(db: Path, capsys, *argv, me: str | None = "carla") -> tuple[int, str, str]:
    prefix = ["--db", str(db)] + (["--me", me] if me else [])
    code = main([*prefix, *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def events(db: Path) -> int:
    with Store.open(db) as store:
        return store.scalar("SELECT count(*) FROM events")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def value(db: Path, sql: str, params=()):
    with Store.open(db) as store:
        return store.scalar(sql, params)


# --- export, and importing it right after ---------------------------------------------------------


def test_demo_exported_then_imported_records_no_event(demo_db, tmp_path, capsys):
    exported = tmp_path / "team.toml"
    code, out, err = run(demo_db, capsys, "team", "export", "-o", exported)
    assert (code, err) == (0, "") and out == f"team file written to {exported}\n"
    before = events(demo_db)
    code, out, err = run(demo_db, capsys, "import", exported)
    assert (code, err) == (0, "")
    assert "no change: the database already matched the team file" in out
    assert events(demo_db) == before
    # and the sample file the demo came from matches it too (same frozen day)
    assert run(demo_db, capsys, "import", SAMPLE_TEAM)[0] == 0
    assert events(demo_db) == before


def test_export_is_the_system_in_a_stable_diffable_layout(demo_db, capsys):
    code, out, _ = run(demo_db, capsys, "team", "export")
    assert code == 0
    data = tomllib.loads(out)
    assert data["settings"] == {"meeting": "every monday 10:00", "handoff_sla": "48h", "stale_after": "7d",
                                "escalate_after": "24h"}
    assert [p["handle"] for p in data["people"]] == sorted(p["handle"] for p in data["people"])
    gus = next(p for p in data["people"] if p["handle"] == "gus")
    assert gus["away"] == [{"from": "2026-11-22", "to": "2026-11-27"}]
    jo = next(p for p in data["people"] if p["handle"] == "jo")
    assert jo["active"] is False
    complaints = next(w for w in data["workflows"] if w["key"] == "complaints")
    assert [s["key"] for s in complaints["stages"]] == ["triage", "investigate", "resolve"]
    assert complaints["stages"][0] == {"key": "triage", "name": "Triage", "owner": "ben",
                                       "sop": "https://wiki.example.com/sop/complaint-triage", "max_days": 1,
                                       "handoff_sla": "24h"}
    assert "\n[[workflows.stages]]\nkey = \"triage\"\nname = \"Triage\"\nowner = \"ben\"\n" in out
    # the same system gives the same bytes
    assert run(demo_db, capsys, "team", "export") == (0, out, "")


def test_export_after_app_changes_imports_with_no_change(demo_db, tmp_path, capsys):
    run(demo_db, capsys, "person", "add", "kai", "--name", 'Kai "K" Lee \\ ops', "--cover", "ana")
    run(demo_db, capsys, "away", "kai", "1 Dec")
    run(demo_db, capsys, "stage", "add", "complaints/refund", "--name", "Refund", "--after", "triage",
        "--max-days", "1.5")
    run(demo_db, capsys, "workflow", "set", "content", "--status", "paused")
    run(demo_db, capsys, "set", "step_minutes", "stuck=20")
    exported = tmp_path / "team.toml"
    run(demo_db, capsys, "team", "export", "-o", exported)
    text = exported.read_text(encoding="utf-8")
    assert 'name = "Kai \\"K\\" Lee \\\\ ops"' in text
    assert 'away = [{ from = "2026-12-01", to = "9999-12-31" }]' in text
    assert "step_minutes = { stuck = 20 }" in text
    before = events(demo_db)
    assert run(demo_db, capsys, "import", exported)[0] == 0
    assert events(demo_db) == before


def test_strings_are_escaped_so_toml_reads_them_back_exactly():
    for text in ['plain', 'quote " and \\ backslash', "tab\tnew\nline", "del\x7f bell\x07", "ünï ✓ 日本",
                 "[[people]]", '"""', "a = 'b'"]:
        assert tomllib.loads(f"x = {teamfile.string(text)}")["x"] == text


# --- a property: any team survives export → import → export ---------------------------------------

HANDLES = ["ana", "ben", "c-3", "d_4", "eve", "fay"]
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12).filter(
    lambda t: t.strip() and (inputs.clean_text(t) or "").strip())
DAY = st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31))


@st.composite
def teams(draw):
    handles = draw(st.lists(st.sampled_from(HANDLES), min_size=1, max_size=6, unique=True))
    people = []
    for handle in handles:
        periods = []
        for start in draw(st.lists(DAY, max_size=3)):
            end = draw(st.one_of(st.none(), st.integers(0, 20).map(lambda n, s=start: s + timedelta(days=n))))
            periods.append((start, end))
        people.append({"handle": handle, "name": draw(TEXT), "role": draw(st.one_of(st.none(), TEXT)),
                       "cover": draw(st.one_of(st.none(), st.sampled_from(handles))), "away": periods,
                       "inactive": draw(st.booleans())})
    workflows = []
    for n in range(draw(st.integers(0, 3))):
        stages = [{"key": f"s{m}", "name": draw(TEXT), "owner": draw(st.one_of(st.none(), st.sampled_from(handles))),
                   "sop": draw(st.one_of(st.none(), TEXT)),
                   "max_days": draw(st.one_of(st.none(), st.floats(0.01, 1000, allow_nan=False))),
                   "sla": draw(st.one_of(st.none(), st.sampled_from(["24h", "2d", "1.5bd", "90m", "1w"]))),
                   "after": draw(st.one_of(st.none(), st.integers(0, m)))}
                  for m in range(draw(st.integers(0, 4)))]
        workflows.append({"key": f"wf-{n}", "name": draw(TEXT), "owner": draw(st.sampled_from(handles)),
                          "trigger": draw(st.one_of(st.none(), TEXT)), "outcome": draw(st.one_of(st.none(), TEXT)),
                          "status": draw(st.sampled_from(["active", "paused", "retired"])), "stages": stages})
    settings_given = draw(st.dictionaries(st.sampled_from(["handoff_sla", "stale_after", "escalate_after"]),
                                          st.sampled_from(["12h", "3d", "2bd", "1w"])))
    steps = draw(st.dictionaries(st.sampled_from(["stuck", "gaps", "actions"]), st.integers(1, 240), max_size=2))
    return people, workflows, settings_given, steps


def build(store: Store, team) -> None:
    """The team made in the app, command by command."""
    people, workflows, settings_given, steps = team
    for p in people:
        changes.add_person(store, p["handle"], p["name"], role=p["role"], actor="t")
    for p in people:
        if p["cover"] and p["cover"] != p["handle"]:
            changes.update_person(store, p["handle"], cover=p["cover"], actor="t")
        for start, end in p["away"]:
            try:
                changes.add_away(store, p["handle"], start, end, actor="t")
            except Exception:  # already inside a merged period: nothing to add
                pass
    for wf in workflows:
        changes.add_workflow(store, wf["key"], wf["name"], owner=wf["owner"], trigger=wf["trigger"],
                             outcome=wf["outcome"], actor="t")
        for stage in wf["stages"]:
            after = None if stage["after"] is None else (
                changes.AFTER_FIRST if stage["after"] == 0 else f"s{stage['after'] - 1}")
            changes.add_stage(store, wf["key"], stage["key"], stage["name"], after=after, owner=stage["owner"],
                              sop=stage["sop"], max_days=stage["max_days"], handoff_sla=stage["sla"], actor="t")
        if wf["status"] != "active":
            changes.update_workflow(store, wf["key"], status=wf["status"], actor="t")
    for key, text in settings_given.items():
        try:
            changes.set_setting(store, key, text, actor="t")
        except Exception:  # the default already
            pass
    for step, minutes in steps.items():
        changes.set_setting(store, "step_minutes", f"{step}={minutes}", actor="t")
    for p in people:
        if p["inactive"]:
            changes.update_person(store, p["handle"], active=False, actor="t")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(teams())
def test_any_team_round_trips_byte_for_byte(team):
    with Store.memory() as first:
        build(first, team)
        text = teamfile.export(first)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "team.toml"
            path.write_text(text, encoding="utf-8")
            before = first.scalar("SELECT count(*) FROM events")
            counts = import_files(first, [path], actor="t")
            assert counts["changes"] == 0
            assert first.scalar("SELECT count(*) FROM events") == before
            with Store.memory() as fresh:
                import_files(fresh, [path], actor="t")
                assert teamfile.export(fresh) == text


# --- drift: a plain import never silently reverts what the app changed ----------------------------


def test_reimporting_the_old_file_after_a_session_decision_refuses_naming_the_fields(demo_db, capsys):
    # in the session: qa to hana, references to ivan (issue 11's story)
    run(demo_db, capsys, "stage", "set", "client-delivery/qa", "--owner", "hana", "--reason", "jo left")
    run(demo_db, capsys, "stage", "set", "hiring/references", "--owner", "ivan")
    before = digest(demo_db)
    code, out, err = run(demo_db, capsys, "import", SAMPLE_TEAM)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert 'stage client-delivery/qa owner ("hana", set by stage.set; the file: "jo")' in err
    assert 'stage hiring/references owner ("ivan", set by stage.set; the file: (none))' in err
    assert "opsweek team export" in err and "--force" in err
    assert digest(demo_db) == before

    code, out, err = run(demo_db, capsys, "import", SAMPLE_TEAM, "--dry-run")
    assert (code, err) == (0, "")
    assert 'change stage client-delivery/qa owner: "hana" → "jo"' in out
    assert 'change stage hiring/references owner: "ivan" → (none)' in out
    assert "2 of these would revert what was changed in the app" in out
    assert out.rstrip().endswith("dry run: nothing written")
    assert digest(demo_db) == before

    code, out, err = run(demo_db, capsys, "import", SAMPLE_TEAM, "--force")
    assert (code, err) == (0, "")
    assert value(demo_db, "SELECT owner FROM stages WHERE key = 'qa'") == "jo"
    assert value(demo_db, "SELECT owner FROM stages WHERE key = 'references'") is None
    # now the file is what was last imported: importing it again is quiet
    assert run(demo_db, capsys, "import", SAMPLE_TEAM)[0] == 0


def test_a_value_the_app_changed_and_then_undid_is_not_drift(demo_db, capsys):
    run(demo_db, capsys, "person", "set", "ana", "--cover", "carla")
    run(demo_db, capsys, "undo")
    edited = SAMPLE_TEAM.read_text(encoding="utf-8").replace('role = "Support lead"', 'role = "Head of support"')
    path = demo_db.with_name("edited.toml")
    path.write_text(edited, encoding="utf-8")
    code, out, err = run(demo_db, capsys, "import", path)
    assert (code, err) == (0, "")
    assert "1 row change" in out
    assert value(demo_db, "SELECT role FROM people WHERE handle = 'ana'") == "Head of support"


def test_an_away_period_marked_in_the_app_is_not_dropped_by_an_old_file(demo_db, capsys):
    run(demo_db, capsys, "away", "ana", "1 Dec", "3 Dec")
    before = digest(demo_db)
    code, _, err = run(demo_db, capsys, "import", SAMPLE_TEAM)
    assert code == 2 and "person ana away 2026-12-01 → 2026-12-03 (set by person.away; the file drops it)" in err
    assert digest(demo_db) == before


def test_dry_run_lists_additions_changes_and_what_only_the_database_has(demo_db, tmp_path, capsys):
    run(demo_db, capsys, "person", "add", "kai", "--name", "Kai Lee")
    text = SAMPLE_TEAM.read_text(encoding="utf-8")
    text = text.replace('name = "Ben Okafor"', 'name = "Benjamin Okafor"')
    text += '\n[[people]]\nhandle = "lou"\nname = "Lou Park"\n'
    path = tmp_path / "team.toml"
    path.write_text(text, encoding="utf-8")
    before = digest(demo_db)
    code, out, err = run(demo_db, capsys, "import", path, "--dry-run")
    assert (code, err) == (0, "")
    lines = [line.strip() for line in out.splitlines()]
    assert lines[0] == "team.toml: 2 changes"
    assert 'change person ben name: "Ben Okafor" → "Benjamin Okafor"' in lines
    assert 'add person lou ("Lou Park")' in lines
    assert "not in the file: person kai (left alone; --prune makes it inactive)" in lines
    assert digest(demo_db) == before


def test_dry_run_into_no_database_creates_none(tmp_path, capsys, frozen_now):
    db = tmp_path / "new.db"
    code, out, _ = run(db, capsys, "import", SAMPLE_TEAM, "--dry-run", me=None)
    assert code == 0 and "add person ana" in out and "add stage hiring/sourcing" in out
    assert not db.exists()


# --- prune: retire, never delete --------------------------------------------------------------------


def test_prune_retires_what_the_file_no_longer_lists(demo_db, tmp_path, capsys):
    text = SAMPLE_TEAM.read_text(encoding="utf-8")
    # the file no longer lists hiring's references stage, the complaints workflow or hana
    text = text.replace('[[workflows.stages]]\nkey = "references"\nname = "Reference checks"\n'
                        'sop = "https://wiki.example.com/sop/hiring-references"\nmax_days = 3\nhandoff_sla = "48h"\n',
                        "")
    text = text[:text.index('[[workflows]]\nkey = "complaints"')]
    text = text.replace('[[people]]\nhandle = "hana"\nname = "Hana Sato"\nrole = "Designer"\ncover = "fay"\n'
                        'away = [{ from = "+9d", to = "+13d" }]\n', "")
    path = tmp_path / "smaller.toml"
    path.write_text(text, encoding="utf-8")

    code, out, _ = run(demo_db, capsys, "import", path)  # without --prune: left alone
    assert code == 0
    assert value(demo_db, "SELECT status FROM workflows WHERE key = 'complaints'") == "active"

    code, out, _ = run(demo_db, capsys, "import", path, "--dry-run", "--prune")
    assert "retire person hana (no longer in the file; --prune)" in out
    assert "retire workflow complaints (no longer in the file; --prune)" in out
    assert "retire stage hiring/references (no longer in the file; --prune)" in out

    code, out, err = run(demo_db, capsys, "import", path, "--prune")
    assert (code, err) == (0, "")
    assert value(demo_db, "SELECT active FROM people WHERE handle = 'hana'") == 0
    assert value(demo_db, "SELECT status FROM workflows WHERE key = 'complaints'") == "retired"
    assert value(demo_db, "SELECT retired FROM stages WHERE key = 'references'") == 1
    # nothing deleted: history and items still refer to them
    assert value(demo_db, "SELECT count(*) FROM stages") == 16
    assert value(demo_db, "SELECT count(*) FROM people") == 10
    _, audit, _ = run(demo_db, capsys, "audit")
    assert "references" not in audit and "complaints" not in audit
    # the retired stage goes out with the file, and comes back as it was
    _, exported, _ = run(demo_db, capsys, "team", "export")
    assert 'key = "references"' in exported and "retired = true" in exported
    assert run(demo_db, capsys, "undo")[0] == 0
    assert value(demo_db, "SELECT retired FROM stages WHERE key = 'references'") == 0


@pytest.mark.parametrize("flag", ["--dry-run", "--force", "--prune"])
def test_import_flags_are_listed_in_help(flag, capsys):
    with pytest.raises(SystemExit):
        main(["import", "--help"])
    assert flag in capsys.readouterr().out
