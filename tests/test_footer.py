"""The footer changes its keys in place (opsweek.tui.widgets.footer): on every step of a
session, and on a closed one, it shows what Textual's Footer shows when built anew."""

from __future__ import annotations

from textual.widgets._footer import FooterKey

from opsweek.agenda import STEPS
from opsweek.tui.app import make_app
from opsweek.tui.widgets.footer import KeysFooter
from tui_support import press, screen_text, settle


def keys(footer: KeysFooter) -> list[tuple]:
    return [(key.key, key.key_display, key.description, key.action, key._disabled, key.has_class("-disabled"),
             key.has_class("-command-palette")) for key in footer.query_children(FooterKey)]


async def assert_as_built_anew(pilot) -> list[tuple]:
    footer = pilot.app.screen.query_one(KeysFooter)
    changed_in_place, drawn = keys(footer), screen_text(pilot.app).splitlines()[-1]
    widgets = set(footer.query_children(FooterKey))
    footer.call_later(footer.recompose)  # Footer's own way, in the footer's context
    await settle(pilot)
    await settle(pilot)
    assert not widgets & set(footer.query_children(FooterKey))  # built anew, every key
    assert keys(footer) == changed_in_place
    assert screen_text(pilot.app).splitlines()[-1] == drawn
    return changed_in_place


async def test_every_step_shows_the_keys_a_new_footer_shows(demo_db):
    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        seen = []
        for number in range(1, len(STEPS) + 1):  # forward, then back: each footer changed in place
            await press(pilot, str(number))
            seen.append(await assert_as_built_anew(pilot))
        for number in (4, 1):  # back to where it was: the same keys again
            await press(pilot, str(number))
            assert await assert_as_built_anew(pilot) == seen[number - 1]
        assert len({tuple(k) for k in seen}) > 3  # the steps' keys differ: the footer did change
        assert all(k[-1][-1] for k in seen)  # the palette's key stays, last


async def test_a_closed_sessions_footer_drops_the_changing_keys_in_place(demo_db):
    from opsweek.store import changes

    app = make_app(demo_db, me="ivan", start="meeting")
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await press(pilot, "4")
        open_keys = [description for _, _, description, *_ in await assert_as_built_anew(pilot)]
        assert {"Reassign", "Done", "Drop"} <= set(open_keys)
        changes.close_meeting(app.store, app.screen.meeting_id, actor="ivan")  # closed elsewhere
        app.screen.reload()
        await settle(pilot)
        closed_keys = [description for _, _, description, *_ in await assert_as_built_anew(pilot)]
        assert not {"Reassign", "Done", "Drop"} & set(closed_keys)
        assert len(closed_keys) < len(open_keys)
