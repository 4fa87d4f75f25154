"""User text is shown exactly as typed on the home screen, in every step of the session and
in its dialogs: never read as markup (``Label("[/]")`` would crash, ``[@click=app.quit]``
would be a live action), and terminal control sequences never reach the terminal."""

from __future__ import annotations

import pytest
from tui_support import cursor_to, press, screen_text, settle, type_text

from opsweek.store import Store, read
from opsweek.tui.app import make_app
from opsweek.tui.modal.entry_dialog import EntryDialog
from opsweek.tui.modal.item_details import ItemDetails
from opsweek.tui.modal.owner_picker import OwnerPicker
from opsweek.tui.modal.stage_picker import StagePicker
from opsweek.tui.screens.session import SessionScreen

SIZE = (160, 50)
ESC = "\x1b[31mred\x1b[0m"

# stored straight into the database, as an older version or another tool might have
# written it: so the screens themselves are tested, not only the cleaning on the way in
RAW = [
    ("UPDATE people SET name = ?, role = ? WHERE handle = 'ana'", ("Ana [/] Ruiz", "[bold lead")),
    ("UPDATE people SET name = ? WHERE handle = 'ben'", ("[@click=app.quit]Ben[/]",)),
    ("UPDATE people SET name = ? WHERE handle = 'carla'", (f"Carla {ESC}",)),
    ("UPDATE workflows SET name = ? WHERE key = 'complaints'", ("[TODO] x complaints",)),
    ("UPDATE stages SET name = ? WHERE workflow = 'hiring' AND key = 'screening'", ("[TODO] Screening",)),
    ("UPDATE items SET title = ? WHERE id = 1", (f"[/] backend {ESC}",)),
    ("UPDATE items SET title = ?, ref = ? WHERE id = 13", ("[@click=app.quit]x[/] Ini", "[bold REF")),
    ("UPDATE items SET blocked_reason = ? WHERE id = 14", ("[bold waiting",)),
    ("UPDATE items SET title = ? WHERE id = 16", ("[TODO] x Stark",)),
    ("UPDATE entries SET text = ? WHERE id = 5", ("[/] chase [TODO] x",)),
    ("UPDATE handoffs SET note = ? WHERE id = 5", ("[bold note",)),
]


def poison(path) -> None:
    with Store.open(path) as store, store.transaction():
        for sql, params in RAW:
            store.conn.execute(sql, params)


def shows(app, *texts: str) -> str:
    text = screen_text(app)
    assert "\x1b" not in text.replace("\n", "")  # no escape sequence reaches the terminal
    for wanted in texts:
        assert wanted in text, f"{wanted!r} not shown literally on {app.screen!r}"
    return text


async def test_user_text_is_shown_literally_everywhere(demo_db):
    poison(demo_db)
    app = make_app(demo_db, me="ivan")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shows(app, "[TODO] x complaints")  # home: workflow health

        await press(pilot, "m")
        session = app.screen
        assert isinstance(session, SessionScreen)
        shows(app, "Ana [/] Ruiz", "[bold lead", "[@click=app.quit]Ben[/]", "Carla [31mred[0m")

        await press(pilot, "n")
        shows(app, "[/] chase [TODO] x")
        await press(pilot, "d")  # a decision about that action: the dialog names it
        assert isinstance(app.screen, EntryDialog)
        shows(app, "[/] chase [TODO] x")
        await type_text(pilot, "[@click=app.quit]x[/] decided [bold")
        await press(pilot, "enter")

        await press(pilot, "n")
        shows(app, "[TODO] x complaints")

        await press(pilot, "n")
        shows(app, "[/] backend [31mred[0m", "[@click=app.quit]x[/] Ini", "[bold waiting")
        await cursor_to(pilot, session.query_one("#stuck-table"), "13")
        await press(pilot, "enter")
        assert isinstance(app.screen, ItemDetails)
        shows(app, "[@click=app.quit]x[/] Ini", "[bold REF")
        await press(pilot, "escape")
        await press(pilot, "r")
        assert isinstance(app.screen, OwnerPicker)
        shows(app, "[@click=app.quit]x[/] Ini", "Ana [/] Ruiz", "[bold lead")
        await type_text(pilot, "ana")
        await press(pilot, "enter")
        await type_text(pilot, "[TODO] x because [/]")  # the reason
        await press(pilot, "enter")
        await cursor_to(pilot, session.query_one("#stuck-table"), "4")
        await press(pilot, "h")
        assert isinstance(app.screen, StagePicker)
        shows(app, "[TODO] Screening")
        await press(pilot, "escape")

        await press(pilot, "n")
        shows(app, "[TODO] x Stark")
        await press(pilot, "enter")  # the most overdue handoff: #16, with its note
        shows(app, "[TODO] x Stark", "[bold note")
        await press(pilot, "escape")

        await press(pilot, "n")
        await press(pilot, "n")  # issues: one raised with markup in it is listed as typed
        await press(pilot, "i")
        await type_text(pilot, "[@click=app.quit]x[/] issue [bold")
        await press(pilot, "enter")
        shows(app, "[@click=app.quit]x[/] issue [bold")
        await press(pilot, "n")
        shows(app, "[@click=app.quit]x[/] decided [bold", "[TODO] x because [/]", "[@click=app.quit]x[/] issue [bold")
        assert app.is_running

    with Store.open(demo_db) as store:
        assert read.item(store, 13).owner == "ana"
        assert store.scalar("SELECT text FROM entries WHERE kind = 'decision' ORDER BY id DESC LIMIT 1") == \
            "[@click=app.quit]x[/] decided [bold"


async def test_typed_escape_sequences_are_stored_without_control_characters(demo_db):
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "d")
        await type_text(pilot, f"x{ESC} [/]")  # pasted from a terminal, colour codes and all
        await press(pilot, "enter")
        shown = [e.text for e in read.entries(app.store, "kind = 'decision' AND meeting_id = ?",
                                              (app.screen.meeting_id,))]
        assert shown == ["x[31mred[0m [/]"]
        await press(pilot, "8")
        shows(app, "x[31mred[0m [/]")


async def test_notifications_never_read_markup(demo_db):
    """A handle or title in a notification is shown literally, whoever calls notify."""
    from opsweek.tui.app import make_app

    app = make_app(demo_db, me="ivan")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.pause()
        app.screen.notify("[/] [bold [@click=app.quit]x[/]")  # a widget's notify, markup left on
        await pilot.pause()
        await pilot.pause()
        assert app.is_running
        from textual.widgets._toast import Toast

        shown = [str(toast.render()) for toast in app.screen.query(Toast)]
        assert any("[/] [bold [@click=app.quit]x[/]" in text for text in shown), shown


@pytest.mark.parametrize("start,key", [("meeting", "4"), ("meeting", "5"), ("meeting", "2"), ("team", None)],
                         ids=["stuck items", "overdue handoffs", "last week's actions", "team"])
async def test_a_filter_typed_with_markup_is_shown_as_typed(demo_db, start, key):
    """The position line says the filter a person typed ('filter "[/] [TODO] |x|"'):
    literally, never read as markup (a typed "[/]" crashed the session)."""
    app = make_app(demo_db, me="ivan", start=start)
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(pilot)
        if key:
            await press(pilot, key)
        await press(pilot, "slash")
        await type_text(pilot, "[/] [TODO] |x|")
        await settle(pilot)
        assert app.crash is None
        shows(app, 'filter "[/] [TODO] |x|"')
