"""Regenerate ``docs/session.svg``, the README's picture of a session in progress.

    python docs/session_svg.py

Builds the demo team in a temporary directory with the clock frozen (Tuesday 24 November
2026, 10:00 UTC), runs part of a session through the keys a facilitator presses, and saves
the screen as SVG.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
OUT = Path(__file__).resolve().parent / "session.svg"


async def main() -> None:
    from opsweek import demo
    from opsweek.store import changes, read
    from opsweek.tui.app import make_app
    from opsweek.tui.screens import session

    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "demo.db"
        with demo.build(path, now=NOW) as store:  # a session already 22 minutes in
            meeting_id = changes.start_meeting(store, read.team(store), facilitator="ivan", actor="ivan", now=NOW)
            for step, minutes in (("attendance", 2), ("actions", 8), ("workflows", 7), ("stuck", 5)):
                changes.add_step_time(store, meeting_id, step, minutes * 60 + 12, actor="ivan")
            changes.set_step(store, meeting_id, "stuck", actor="ivan")
        session.monotonic = lambda: 1000.0  # the live timer stands still for the picture
        app = make_app(path, me="ivan", start="meeting")
        async with app.run_test(size=(120, 34)) as pilot:
            async def settle() -> None:
                await pilot.pause()
                await app.workers.wait_for_complete()
                await pilot.pause()

            await settle()
            await pilot.press("down")
            await pilot.press("r")
            await settle()
            await pilot.press(*"carla", "enter")
            await settle()
            app.focused.insert_text_at_cursor("dev is on the migration")
            await pilot.press("enter")
            await settle()
            await pilot.press("down", "down")
            await settle()
            app.clear_notifications()
            await settle()
            OUT.write_text(app.export_screenshot(title="opsweek meeting"), encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    os.environ["OPSWEEK_NOW"] = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    asyncio.run(main())
