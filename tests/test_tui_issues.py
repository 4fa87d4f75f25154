"""Raised issues in the session, as a facilitator runs them: people raise issues between
sessions (and with ``i`` from any step), the Issues step lists them, the team ranks a top
3 and solves each by a decision or an action, or drops it saying why; the open ones carry
over to next week's session. Checked in the database and in the exported notes, which
stay as they were once the session is closed."""

from __future__ import annotations

from datetime import date

from tui_support import cursor_to, press, screen_text, settle, type_text

from opsweek import notes
from opsweek.store import Store, changes, read
from opsweek.tui.app import make_app
from opsweek.tui.modal.entry_dialog import EntryDialog
from opsweek.tui.modal.issue_dialog import IssueDialog
from opsweek.tui.modal.text_prompt import TextPrompt

SIZE = (160, 45)
NEXT_WEEK = "2026-12-01T10:00:00Z"  # Tuesday of 2026-W49
HIRING_OWNER = "ivan"  # the demo's hiring workflow owner


def raise_between_sessions(path) -> dict[str, int]:
    """What three people raised before the session (as ``opsweek raise`` does)."""
    with Store.open(path) as store:
        team = read.team(store)
        return {
            "courier": changes.raise_issue(store, team, "The courier keeps losing parcels", item_id=13, actor="ana"),
            "interviews": changes.raise_issue(store, team, "Hiring needs a second interviewer", workflow="hiring",
                                              actor="ben"),
            "standups": changes.raise_issue(store, team, "Stand-ups run long", actor="eve"),
        }


def section(text: str, title: str) -> str:
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def row_of(text: str, start: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(start))


def export(path, meeting_id: int) -> str:
    with Store.open(path) as store:
        return notes.render(store, meeting_id)


async def run_this_weeks_session(pilot, raised: dict[str, int]) -> tuple[int, int]:
    """Raise one more with i, rank three, solve two, drop one, leave one open, close."""
    app = pilot.app
    await settle(pilot)
    session = app.screen
    # in Stuck items, i raises an issue about the highlighted item (#1), prefilled
    await press(pilot, "4", "i")
    dialog = app.screen
    assert isinstance(dialog, IssueDialog)
    assert dialog.values["about"] == "#1"
    await press(pilot, "enter")  # no text yet: the dialog says so and stays
    assert app.screen is dialog and "Type the issue first" in screen_text(app)
    await type_text(pilot, "Dev is overloaded")
    await press(pilot, "enter")
    assert app.screen is session
    dev = max(i.id for i in read.open_issues(app.store))

    await press(pilot, "7")
    assert session.step == "issues"
    table = session.query_one("#issues-table")
    assert [row.value for row in table.rows] == [str(i) for i in (*raised.values(), dev)]
    shown = screen_text(app)
    assert "The courier keeps losing parcels" in shown and "#13 Initech" in shown and "hiring" in shown
    assert "4 open of 4 · 0 of 3 ranked" in shown

    # the top 3: the courier, the stand-ups, the interviews; a fourth does not fit
    for name in ("courier", "standups", "interviews"):
        await cursor_to(pilot, table, str(raised[name]))
        await press(pilot, "t")
    await cursor_to(pilot, table, str(dev))
    await press(pilot, "t")
    assert read.issue_ranks(app.store, session.meeting_id) == {
        1: raised["courier"], 2: raised["standups"], 3: raised["interviews"]}
    assert [row.value for row in table.rows][:3] == [str(raised[n]) for n in ("courier", "standups", "interviews")]

    # the courier is solved by a decision, the interviews by an action (owner and due)
    await cursor_to(pilot, table, str(raised["courier"]))
    await press(pilot, "d")
    assert isinstance(app.screen, EntryDialog)
    await type_text(pilot, "Switch to the backup courier")
    await press(pilot, "enter")
    await cursor_to(pilot, table, str(raised["interviews"]))
    await press(pilot, "a")
    assert app.screen.draft.owner == HIRING_OWNER  # the hiring workflow's owner is suggested
    await type_text(pilot, "Find a second interviewer")
    await press(pilot, "tab", "end", "ctrl+u", "shift+tab")  # the team gives it to someone else: cleared
    await press(pilot, "enter")  # an action needs an owner: the dialog stays, on the owner field
    assert isinstance(app.screen, EntryDialog) and "an action needs an owner" in screen_text(app)
    await type_text(pilot, "carla")
    await press(pilot, "tab")
    await type_text(pilot, "fri")
    await press(pilot, "enter")
    assert app.screen is session
    # the stand-ups are dropped, saying why (no reason: the prompt says so)
    await cursor_to(pilot, table, str(raised["standups"]))
    await press(pilot, "x")
    assert isinstance(app.screen, TextPrompt)
    await press(pilot, "enter")
    assert isinstance(app.screen, TextPrompt) and "needs a reason" in screen_text(app)
    await type_text(pilot, "Shorter since Monday")
    await press(pilot, "enter")
    # a solved issue is solved: d on it again says so and opens nothing
    await cursor_to(pilot, table, str(raised["courier"]))
    await press(pilot, "d")
    assert app.screen is session
    shown = screen_text(app)
    assert "1 open of 4 · 3 of 3 ranked" in shown and "✓ decision" in shown and "✗ dropped" in shown
    assert session.counts["issues"] == "3/4"

    # wrap-up lists them, ranked, with how each was solved; then the session closes
    await press(pilot, "8")
    shown = screen_text(app)
    assert "1. The courier keeps losing parcels  — decision: Switch to the backup courier" in shown
    assert "Dev is overloaded  — carries over" in shown
    await press(pilot, "c", "y")
    assert session.closed
    return session.meeting_id, dev


async def test_the_session_ranks_solves_and_drops_raised_issues(demo_db):
    raised = raise_between_sessions(demo_db)
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        meeting_id, dev = await run_this_weeks_session(pilot, raised)

    with Store.open(demo_db) as store:
        courier, interviews, standups, overloaded = (read.issue(store, i, meeting_id) for i in
                                                     (*raised.values(), dev))
        decision, action = read.entries_by_id(store, [courier.entry_id, interviews.entry_id])
        assert (courier.status, courier.closed_meeting_id, courier.rank) == ("solved", meeting_id, 1)
        assert (decision.kind, decision.text, decision.meeting_id, decision.item_id, decision.workflow) == (
            "decision", "Switch to the backup courier", meeting_id, 13, "client-delivery")
        assert (interviews.status, interviews.rank) == ("solved", 3)
        assert (action.kind, action.text, action.owner, action.due, action.status, action.workflow) == (
            "action", "Find a second interviewer", "carla", date(2026, 11, 27), "open", "hiring")
        assert (standups.status, standups.reason, standups.rank) == ("dropped", "Shorter since Monday", 2)
        assert (overloaded.status, overloaded.item_id, overloaded.meeting_id, overloaded.raised_by) == (
            "open", 1, meeting_id, "ivan")
        # each solution is one change with its entry: the log says it in words
        assert store.scalar("SELECT count(DISTINCT change_id) FROM events WHERE action = 'issue.solve'") == 2

    text = export(demo_db, meeting_id)
    issues = section(text, "Issues")
    assert "4 on the list (4 raised for this session, 0 carried over from earlier ones); 3 ranked" in issues
    rows = [line for line in issues.splitlines() if line.startswith("| ") and "Rank" not in line]
    assert rows == [
        "| 1 | The courier keeps losing parcels | ana, 2026-11-24 | #13 Initech — billing portal |"
        " decision: Switch to the backup courier |",
        "| 2 | Stand-ups run long | eve, 2026-11-24 |  | dropped: Shorter since Monday |",
        "| 3 | Hiring needs a second interviewer | ben, 2026-11-24 | hiring |"
        " action: Find a second interviewer (carla, due 2026-11-27) |",
        "|  | Dev is overloaded | ivan, 2026-11-24 | #1 Senior backend engineer | carried over |",
    ]


async def test_open_issues_carry_over_and_last_weeks_notes_stay_put(demo_db, monkeypatch):
    raised = raise_between_sessions(demo_db)
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        last_week, dev = await run_this_weeks_session(pilot, raised)
    before = export(demo_db, last_week)

    # a week later: only the open one is on the list, carried from 2026-W48, unranked
    monkeypatch.setenv("OPSWEEK_NOW", NEXT_WEEK)
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        session = app.screen
        assert session.meeting_id != last_week and session.meeting.week == "2026-W49"
        await press(pilot, "7")
        table = session.query_one("#issues-table")
        assert [row.value for row in table.rows] == [str(dev)]
        shown = screen_text(app)
        assert "carried from 2026-W48" in shown and "1 open of 1 · 0 of 3 ranked" in shown
        await press(pilot, "t", "d")
        await type_text(pilot, "Carla takes the migration")
        await press(pilot, "enter")
        this_week = session.meeting_id
        # and the action that solved an issue last week moves: that is this week's business
        interviews = read.issue(app.store, raised["interviews"])
        changes.set_action_due(app.store, interviews.entry_id, date(2026, 12, 11), actor="carla")

    with Store.open(demo_db) as store:
        assert read.issue_ranks(store, this_week) == {1: dev}
        assert read.issue_ranks(store, last_week) == {1: raised["courier"], 2: raised["standups"],
                                                     3: raised["interviews"]}
        assert read.issue(store, dev).closed_meeting_id == this_week
    # last week's notes are the same bytes: the issue it carried over still says so, the
    # action it decided keeps its due date of then
    assert export(demo_db, last_week) == before
    now = section(export(demo_db, this_week), "Issues")
    assert "1 on the list (0 raised for this session, 1 carried over from earlier ones); 1 ranked" in now
    assert row_of(now, "| 1 | Dev is overloaded | ivan, 2026-11-24 (from 2026-W48) |").endswith(
        "| decision: Carla takes the migration |")


async def test_ranking_and_solving_are_undone_with_ctrl_z(demo_db):
    raised = raise_between_sessions(demo_db)
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        session = app.screen
        await press(pilot, "7")
        table = session.query_one("#issues-table")
        await cursor_to(pilot, table, str(raised["standups"]))
        await press(pilot, "t", "t")  # in, and out again
        assert read.issue_ranks(app.store, session.meeting_id) == {}
        await press(pilot, "t", "x")
        await type_text(pilot, "Not a problem")
        await press(pilot, "enter")
        assert read.issue(app.store, raised["standups"]).status == "dropped"
        await press(pilot, "ctrl+z")  # the drop is undone: open again, still ranked
        found = read.issue(app.store, raised["standups"], session.meeting_id)
        assert (found.status, found.reason, found.rank) == ("open", None, 1)
        await press(pilot, "ctrl+z")
        assert read.issue_ranks(app.store, session.meeting_id) == {}
        assert "open" in screen_text(app)
