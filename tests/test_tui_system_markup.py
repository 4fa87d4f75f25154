"""User text on the system screens is shown exactly as typed: never markup, no control characters."""

from __future__ import annotations

from textual.widgets import DataTable, Label, SelectionList, Static
from tui_support import settle

from opsweek.store import Store
from opsweek.tui.app import make_app
from opsweek.tui.widgets.trends import TrendPanel

NASTY = ["[/]", "[bold", "[TODO] x", "[@click=app.quit]x[/]", "\x1b[31mred\x1b[0m"]
SHOWN = ["[/]", "[bold", "[TODO] x", "[@click=app.quit]x[/]", "[31mred[0m"]  # ESC removed, the rest literal


def plant(path) -> None:
    """Put the nasty strings where people type text (straight into the file, as an old or
    hand-edited database could hold them)."""
    with Store.open(path) as store:
        conn = store.conn
        conn.execute("UPDATE workflows SET name = ?, trigger = ? WHERE key = 'hiring'", (NASTY[0] + " Hiring", NASTY[1]))
        conn.execute("UPDATE stages SET name = ?, sop = ? WHERE workflow = 'hiring' AND key = 'interview'",
                     (NASTY[2], NASTY[3]))
        conn.execute("UPDATE people SET name = ? WHERE handle = 'eve'", (NASTY[4],))
        ids = [row[0] for row in conn.execute("SELECT id FROM items WHERE workflow = 'hiring' ORDER BY id")]
        for item_id, text in zip(ids, NASTY * 2):
            conn.execute("UPDATE items SET title = ? WHERE id = ?", (text, item_id))
        conn.execute("UPDATE items SET blocked_reason = ? WHERE status = 'blocked'", (NASTY[3],))
        conn.execute("UPDATE entries SET text = ? WHERE owner = 'ivan'", (NASTY[2],))


def visible_text(screen) -> str:
    parts = []
    for widget in screen.query("*"):
        if isinstance(widget, (Label, Static)):
            parts.append(str(widget.render()))
        if isinstance(widget, DataTable):
            for n in range(widget.row_count):
                parts.extend(str(c) for c in widget.get_row_at(n))
        if isinstance(widget, SelectionList):
            parts.extend(str(widget.get_option_at_index(n).prompt) for n in range(widget.option_count))
        title = getattr(widget, "_border_title", None)
        if title is not None:
            parts.append(str(title))
    return "\n".join(parts)


def assert_literal(text: str, expected: list[str]) -> None:
    assert "\x1b" not in text
    for shown in expected:
        assert shown in text, f"{shown!r} not shown literally"


async def test_user_text_is_literal_on_every_system_screen(demo_db):
    plant(demo_db)
    app = make_app(demo_db, me="ivan")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        assert app.screen.query_one(TrendPanel).trends is not None

        app.show("workflows", workflow="hiring")
        await settle(pilot)
        await pilot.press("right", "right")  # the interview stage, with its odd name and SOP
        await settle(pilot)
        assert_literal(visible_text(app.screen), SHOWN[:4])

        app.pop_screen()
        app.show("audit")
        await settle(pilot)
        assert_literal(visible_text(app.screen), ["[/] Hiring"])

        app.pop_screen()
        app.show("whatif", away=["eve", "ivan"])
        await settle(pilot)
        assert_literal(visible_text(app.screen), SHOWN)

        app.pop_screen()
        app.show("mine")
        await settle(pilot)
        text = visible_text(app.screen)
        assert_literal(text, ["[TODO] x"])
        # clicking the [@click=...] text runs nothing: the app is still here
        assert app.is_running
