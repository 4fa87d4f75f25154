"""The input rules, each defined once: what a value must be, and the one line that says so.

The CLI's argument types, the core's changes, the TUI's dialogs and the import all check
through these, so a bad value is refused with the same words wherever it is typed.
Standard library only (the quick CLI paths import it). Each ``check_*`` returns the value
in the form the core stores and raises :class:`InputError` — "what was wrong (accepted:
…)" — otherwise. Pydantic models turn that error into a ``ValueError`` with the same text.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

from opsweek.errors import InputError
from opsweek.text import clean_text

# An action is due this many days after it is recorded (or carried over), unless a date is given.
ACTION_DUE_DAYS = 7
# A session's rating: a whole number in this range.
RATING_MIN, RATING_MAX = 1, 10
# The what-if volume multiplier: 1 is this week's work, 2 is twice as much.
VOLUME_MIN, VOLUME_MAX = 0.1, 100.0

ACTION_OWNER_MISSING = "an action needs an owner (accepted: a person's handle)"
RATING_ACCEPTED = f"accepted: a whole number {RATING_MIN}–{RATING_MAX}"
VOLUME_ACCEPTED = f"accepted: a number from {VOLUME_MIN:g} to {VOLUME_MAX:g}, like 1.5 or 2x"


def action_due(today: date, due: date | None = None) -> date:
    """``due`` if given, else :data:`ACTION_DUE_DAYS` days after ``today``."""
    return due or today + timedelta(days=ACTION_DUE_DAYS)


def check_action_owner(owner: str | None) -> str:
    """An action needs an owner: the handle, stripped (whether it names a person is the team's to say)."""
    owner = (owner or "").strip()
    if not owner:
        raise InputError(ACTION_OWNER_MISSING)
    return owner


def check_rating(value: int | str) -> int:
    """A session's rating: a whole number 1–10, given as a number or as typed text."""
    if isinstance(value, int) and not isinstance(value, bool):
        rating, shown = value, str(value)
    else:
        shown = value.strip() if isinstance(value, str) else repr(value)
        rating = int(shown) if shown.isascii() and shown.isdigit() and len(shown) <= 2 else None
    if rating is None or not RATING_MIN <= rating <= RATING_MAX:
        raise InputError(f"{shown!r} is not a rating ({RATING_ACCEPTED})")
    return rating


def check_volume(value: float | str) -> float:
    """The what-if volume multiplier, 0.1–100, given as a number or as typed text ("1.5", "2x", "x2")."""
    if isinstance(value, str):
        shown = value.strip()
        text = shown.lower().removeprefix("x").removesuffix("x").strip()
        try:
            volume = float(text)
        except ValueError:
            raise InputError(f"{shown!r} is not a multiplier ({VOLUME_ACCEPTED})") from None
    else:
        shown, volume = f"{value:g}", float(value)
    if not math.isfinite(volume):
        raise InputError(f"{shown!r} is not a multiplier ({VOLUME_ACCEPTED})")
    if not VOLUME_MIN <= volume <= VOLUME_MAX:
        raise InputError(f"{shown!r} is out of range ({VOLUME_ACCEPTED})")
    return volume


def _reason(text: str | None, what: str) -> str:
    reason = (clean_text(text) or "").strip()
    if not reason:
        raise InputError(f"reason is empty: {what} needs a reason (accepted: any text saying why)")
    return reason


def check_block_reason(text: str | None) -> str:
    """A block needs a reason (what the item is waiting on); returns it cleaned and stripped."""
    return _reason(text, "a block")


def check_drop_reason(text: str | None) -> str:
    """Dropping an item needs a reason; returns it cleaned and stripped."""
    return _reason(text, "a drop")


def problem(check, value) -> str | None:
    """What ``check`` says is wrong with ``value``, or None when it passes (for inline dialogs)."""
    try:
        check(value)
    except InputError as error:
        return str(error)
    return None
