"""Opening another screen from a key press, without ever crashing the session."""

from __future__ import annotations


def open_screen(app, name: str, **kwargs) -> None:
    """``app.show(name, ...)``; a screen that cannot open becomes a notification."""
    try:
        app.show(name, **kwargs)
    except Exception as error:  # a missing or broken screen must not end the meeting
        app.notify(f"the {name} screen could not open: {error}", severity="error", markup=False)
