"""Keeping the system current from the TUI (issue 11), by the keys a team lead presses on
the demo data with the clock frozen (Tuesday 2026-11-24): the Team screen (add, edit,
away, back, inactive), stage and workflow editing from the workflow map, and every audit
finding fixed in place from the audit screen until every workflow scores 5/5.
"""

from __future__ import annotations

from textual.widgets import DataTable, Input
from tui_support import press, screen_text, settle, type_text

from opsweek.store import Store
from opsweek.tui.app import make_app
from opsweek.tui.modal.confirm import Confirm
from opsweek.tui.modal.form_dialog import FormDialog
from opsweek.tui.modal.owner_picker import OwnerPicker
from opsweek.tui.modal.text_prompt import TextPrompt
from opsweek.tui.screens.audit import AuditScreen
from opsweek.tui.screens.team import TeamScreen
from opsweek.tui.screens.workflow_map import StageMap, WorkflowMapScreen

SIZE = (120, 40)


def cells(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(n)] for n in range(table.row_count)]


def one(db, sql: str, params=()):
    with Store.open(db) as store:
        found = store.one(sql, params)
        return dict(found) if found else None


async def fill(pilot, **values: str) -> None:
    """Type into the open form's fields by name (what was there is replaced)."""
    form = pilot.app.screen
    assert isinstance(form, FormDialog)
    for key, text in values.items():
        field = form.query_one(f"#form-{key}", Input)
        field.focus()
        field.value = ""
        await settle(pilot)
        if text:
            await type_text(pilot, text)


async def open_team(pilot, person: str | None = None) -> TeamScreen:
    await settle(pilot)
    await press(pilot, "t")
    screen = pilot.app.screen
    assert isinstance(screen, TeamScreen)
    if person:
        screen.select(person)
        await settle(pilot)
    return screen


# --- the Team screen ---------------------------------------------------------------------------


async def test_t_opens_the_team_with_roles_covers_away_periods_and_what_each_owns(demo_db):
    app = make_app(demo_db, me="ivan")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_team(pilot)
        rows = {row[0]: row for row in cells(screen.query_one("#team-table", DataTable))}
        assert list(rows) == ["ana", "ben", "carla", "dev", "eve", "fay", "gus", "hana", "ivan", "jo"]
        assert rows["gus"][1:5] == ["Gus Moreau", "yes", "fay", "22–27 Nov"]
        assert rows["gus"][9] == "Editor"
        assert rows["hana"][4] == "3–7 Dec"
        assert rows["ana"][5:9] == ["1", "1", "4", "1"]  # workflows, stages, items, handoffs
        assert rows["jo"][2] == "no" and rows["jo"][5:9] == ["·", "1", "1", "·"]
        assert rows["eve"][3] == "—"
        assert "away today: gus" in screen_text(app)


async def test_add_a_person_with_plus_then_edit_them_with_enter(demo_db):
    app = make_app(demo_db, me="ivan")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_team(pilot)
        await press(pilot, "plus")
        assert isinstance(app.screen, FormDialog)
        await fill(pilot, handle="Kai", name="[b]Kai[/] Lee", role="Support", cover="bne")
        await press(pilot, "enter")
        assert isinstance(app.screen, FormDialog)  # an unknown cover is named in place
        assert "unknown person 'bne' (did you mean: ben)" in screen_text(app)
        await fill(pilot, cover="ben")
        await press(pilot, "enter")
        assert isinstance(app.screen, TeamScreen)
        assert one(demo_db, "SELECT * FROM people WHERE handle = 'kai'") == {
            "handle": "kai", "name": "[b]Kai[/] Lee", "role": "Support", "cover": "ben", "active": 1}
        assert screen.current.handle == "kai"
        assert "[b]Kai[/] Lee" in screen_text(app)  # shown as typed, never markup

        await press(pilot, "enter")
        form = app.screen
        assert isinstance(form, FormDialog) and form.query_one("#form-handle", Input).disabled
        await fill(pilot, role="Support lead", cover="")
        await press(pilot, "enter")
        assert one(demo_db, "SELECT role, cover FROM people WHERE handle = 'kai'") == {
            "role": "Support lead", "cover": None}
        event = one(demo_db, "SELECT action, actor FROM events ORDER BY id DESC LIMIT 1")
        assert event == {"action": "person.set", "actor": "ivan"}
        await press(pilot, "ctrl+z")  # undo puts the cover back
        assert one(demo_db, "SELECT cover FROM people WHERE handle = 'kai'") == {"cover": "ben"}


async def test_mark_away_with_dates_as_typed_then_back(demo_db):
    app = make_app(demo_db, me="ivan")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_team(pilot, "ana")
        await press(pilot, "a")
        await fill(pilot, start="5 Dec", end="1 Dec")
        await press(pilot, "enter")
        assert isinstance(app.screen, FormDialog)
        assert "ends (2026-12-01) before it starts (2026-12-05)" in screen_text(app)
        await fill(pilot, start="1 Dec", end="+2w")
        await press(pilot, "enter")
        assert isinstance(app.screen, TeamScreen)
        with Store.open(demo_db) as store:
            assert [dict(r) for r in store.query("SELECT start, end FROM away WHERE handle = 'ana'")] == [
                {"start": "2026-12-01", "end": "2026-12-08"}]
        row = cells(screen.query_one("#team-table", DataTable))[0]
        assert row[4] == "1–8 Dec"

        screen.select("gus")
        await press(pilot, "b")
        assert one(demo_db, "SELECT end FROM away WHERE handle = 'gus'") == {"end": "2026-11-23"}
        await press(pilot, "b")  # not away any more: told so, nothing written
        assert any("gus is not away today" in str(n.message) for n in app._notifications)


async def test_i_makes_someone_inactive_after_saying_what_they_still_own(demo_db):
    app = make_app(demo_db, me="ivan")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_team(pilot, "dev")
        await press(pilot, "i")
        assert isinstance(app.screen, Confirm)
        assert "They still own 1 stage, 6 items, 1 handoff" in screen_text(app)
        await press(pilot, "y")
        assert one(demo_db, "SELECT active FROM people WHERE handle = 'dev'") == {"active": 0}
        assert cells(screen.query_one("#team-table", DataTable))[3][2] == "no"
        await press(pilot, "i", "y")  # and active again
        assert one(demo_db, "SELECT active FROM people WHERE handle = 'dev'") == {"active": 1}


async def test_the_team_screen_is_in_the_command_palette(demo_db):
    app = make_app(demo_db, me="ivan")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Open: Team: people, covers, away periods, what each owns" in titles


# --- the workflow map ------------------------------------------------------------------------


async def test_edit_a_stage_from_the_map_a_new_owner_with_a_reason(demo_db):
    app = make_app(demo_db, me="carla")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.show("workflows", workflow="client-delivery")
        await settle(pilot)
        await press(pilot, "right", "right")  # kickoff → build → qa
        screen = app.screen
        assert screen.selected_stage.key == "qa"
        await press(pilot, "e")
        assert isinstance(app.screen, FormDialog)
        await fill(pilot, owner="HANA", handoff_sla="2 days")
        await press(pilot, "enter")
        assert "is not a duration" in screen_text(app)
        await fill(pilot, handoff_sla="1bd", reason="jo left; hana checks releases now")
        await press(pilot, "enter")
        assert isinstance(app.screen, WorkflowMapScreen)
        assert one(demo_db, "SELECT owner, handoff_sla FROM stages WHERE key = 'qa'") == {
            "owner": "hana", "handoff_sla": "1bd"}
        event = one(demo_db, "SELECT action, actor, reason FROM events ORDER BY id DESC LIMIT 1")
        assert event == {"action": "stage.set", "actor": "carla", "reason": "jo left; hana checks releases now"}
        assert screen.query_one(StageMap).index == 2
        assert screen.load.stages[2].stage.owner == "hana"


async def test_edit_the_workflow_and_add_a_stage_from_the_map(demo_db):
    app = make_app(demo_db, me="carla")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.show("workflows", workflow="complaints")
        await settle(pilot)
        await press(pilot, "t")
        await fill(pilot, trigger="A complaint arrives by mail or phone", outcome="")
        await press(pilot, "enter")
        assert one(demo_db, "SELECT trigger, outcome FROM workflows WHERE key = 'complaints'") == {
            "trigger": "A complaint arrives by mail or phone", "outcome": ""}
        await press(pilot, "right", "plus")  # after investigate
        await fill(pilot, key="refund", name="Refund", owner="ana", max_days="1")
        await press(pilot, "enter")
        with Store.open(demo_db) as store:
            order = [r[0] for r in store.query("SELECT key FROM stages WHERE workflow = 'complaints'"
                                               " ORDER BY position")]
        assert order == ["triage", "investigate", "refund", "resolve"]
        assert app.screen.selected_stage.key == "refund"


# --- the audit: every finding fixed in place ----------------------------------------------------


async def test_every_audit_finding_of_the_demo_is_fixed_from_the_audit_screen(demo_db):
    from opsweek.cli.main import main

    # two more kinds of finding than the demo has: no trigger, and a handoff without an SLA
    assert main(["--db", str(demo_db), "workflow", "set", "hiring", "--trigger", "none"]) == 0
    assert main(["--db", str(demo_db), "stage", "set", "complaints/resolve", "--handoff-sla", "none"]) == 0
    app = make_app(demo_db, me="ivan")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "a")
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        assert {f.fix for f in screen.findings} == {"owner", "trigger", "handoff_sla", "sop", "review"}
        assert "team file" not in screen_text(app)
        fixed = []
        while screen.findings:
            finding = screen.findings[0]
            screen.query_one("#audit-table", DataTable).move_cursor(row=0)
            await press(pilot, "enter")
            dialog = app.screen
            if finding.fix == "owner":
                assert isinstance(dialog, OwnerPicker)
                await type_text(pilot, "hana" if finding.stage == "qa" else "ivan")
                await press(pilot, "enter")
            elif finding.fix == "review":
                assert isinstance(dialog, Confirm)
                await press(pilot, "y")
            else:
                assert isinstance(dialog, TextPrompt)
                if finding.fix == "handoff_sla":
                    await type_text(pilot, "soon")
                    await press(pilot, "enter")
                    assert "is not a duration" in screen_text(app)
                    app.screen.query_one(Input).value = ""
                    await settle(pilot)
                text = {"trigger": "The headcount plan approves a role", "handoff_sla": "24h",
                        "sop": "https://wiki.example.com/sop/content-publish"}[finding.fix]
                await type_text(pilot, text)
                await press(pilot, "enter")
            assert app.screen is screen, f"{finding} left {app.screen}"
            fixed.append((finding.workflow, finding.fix))
            assert len(fixed) < 10
        assert {r.workflow: r.score for r in screen.results} == {
            "client-delivery": 5, "complaints": 5, "content": 5, "hiring": 5}
        assert sorted(fixed) == [("client-delivery", "owner"), ("complaints", "handoff_sla"), ("content", "review"),
                                 ("content", "sop"), ("hiring", "owner"), ("hiring", "trigger")]
        assert "5/5: client-delivery, complaints, content, hiring" in screen_text(app)
    with Store.open(demo_db) as store:
        assert store.scalar("SELECT owner FROM stages WHERE key = 'qa'") == "hana"
        assert store.scalar("SELECT sop FROM stages WHERE key = 'publish'") == \
            "https://wiki.example.com/sop/content-publish"
        assert store.scalar("SELECT trigger FROM workflows WHERE key = 'hiring'") == "The headcount plan approves a role"
        # rhythm: this week's session was started and content noted as reviewed in it
        meeting = store.one("SELECT id, week, facilitator, closed_at FROM meetings ORDER BY id DESC LIMIT 1")
        assert (meeting["week"], meeting["facilitator"], meeting["closed_at"]) == ("2026-W48", "ivan", None)
        assert store.scalar("SELECT workflow FROM reviews WHERE meeting_id = ?", (meeting["id"],)) == "content"
        reasons = [r[0] for r in store.query("SELECT reason FROM events WHERE action IN ('stage.set', 'workflow.set')"
                                              " AND actor = 'ivan'")]
        assert "audit: stage publish has no SOP" in reasons
