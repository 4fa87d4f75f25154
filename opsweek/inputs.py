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


def past_due_warning(due: date, today: date) -> str | None:
    """A due date before ``today`` is allowed (an action agreed late, written down late)
    but is most often a slip of the keyboard: the line that says so, or None."""
    if due >= today:
        return None
    ago = (today - due).days
    return f"due {due.isoformat()} is {ago} day{'s' if ago != 1 else ''} in the past"


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


def check_issue_drop_reason(text: str | None) -> str:
    """Dropping a raised issue needs a reason (why the team will not act on it)."""
    return _reason(text, "dropping an issue")


# A session ranks its raised issues into a top 3.
ISSUE_TOP = 3


def check_issue_rank(value: int | str) -> int:
    """A place in the session's top 3: a whole number 1–3."""
    shown = value.strip() if isinstance(value, str) else str(value)
    rank = int(shown) if shown.isascii() and shown.isdigit() and len(shown) <= 2 else None
    if rank is None or not 1 <= rank <= ISSUE_TOP:
        raise InputError(f"{shown!r} is not a rank (accepted: 1, 2 or 3)")
    return rank


def problem(check, value) -> str | None:
    """What ``check`` says is wrong with ``value``, or None when it passes (for inline dialogs)."""
    try:
        check(value)
    except InputError as error:
        return str(error)
    return None


# --- the team and the system (issue 11) ------------------------------------------------

# An away period typed without an end lasts until the person is back ("opsweek back").
OPEN_END = date.max


def check_away_period(start: date, end: date | None) -> tuple[date, date]:
    """An away period: ``end`` defaults to "until back"; an end before the start is refused."""
    end = OPEN_END if end is None else end
    if end < start:
        raise InputError(f"the away period ends ({end.isoformat()}) before it starts ({start.isoformat()})"
                         " (accepted: FROM then a TO on or after it)")
    return start, end


def away_text(start: date, end: date) -> str:
    """``2026-12-01 → 2026-12-05``, ``from 2026-12-01 until back``, ``2026-12-01``."""
    if end == OPEN_END:
        return f"from {start.isoformat()} until back"
    if end == start:
        return start.isoformat()
    return f"{start.isoformat()} → {end.isoformat()}"


def check_max_days(value: float | int | str) -> float:
    """A stage's time limit in days: a number above 0."""
    shown = value.strip() if isinstance(value, str) else f"{value:g}"
    try:
        number = float(shown)
    except ValueError:
        raise InputError(f"max days: {shown!r} is not a number (accepted: a number of days above 0, like 3 or 1.5)") from None
    if not math.isfinite(number) or number <= 0:
        raise InputError(f"max days: {shown!r} must be above 0 (accepted: a number of days, like 3 or 1.5)")
    return number


def check_duration(value: str, field: str) -> str:
    """A duration as stored: ``48h``, ``2d``, ``2bd`` (normalised, ``2.0d`` → ``2d``)."""
    from opsweek.clock import parse_duration

    return str(parse_duration((value or "").strip(), field))


def _duration_setting(key: str):
    def parse(text: str, stored: str | None) -> str:
        return check_duration(text, key)
    return parse


def _step_minutes(text: str, stored: str | None) -> str:
    """``STEP=N`` sets one agenda step's target minutes; ``STEP=default`` removes it."""
    import json

    from opsweek.agenda import STEP_KEYS

    accepted = f"accepted: STEP=N with STEP one of {', '.join(STEP_KEYS)} and N 1–240, or STEP=default"
    step, sep, minutes = (text or "").partition("=")
    step, minutes = step.strip().lower(), minutes.strip().lower()
    if not sep or step not in STEP_KEYS:
        raise InputError(f"step_minutes: {text!r} is not STEP=N ({accepted})")
    values = json.loads(stored) if stored else {}
    if minutes == "default":
        values.pop(step, None)
    elif minutes.isdigit() and 1 <= int(minutes) <= 240:
        values[step] = int(minutes)
    else:
        raise InputError(f"step_minutes: {minutes!r} is not a number of minutes ({accepted})")
    return json.dumps(values, sort_keys=True)


# The settings ``opsweek set KEY VALUE`` accepts, in the order the team file writes them:
# key -> parse(typed text, the stored value or None) -> the value to store. A new setting
# is one more entry here (and a field of ``opsweek.model.Settings`` for the team file).
def _meeting(text: str, stored: str | None) -> str:
    """The weekly session's schedule (``every monday 10:00``), checked as a schedule."""
    from opsweek import schedule

    value = " ".join((text or "").split())
    schedule.check(value)
    return value


SETTINGS = {
    "meeting": _meeting,
    "handoff_sla": _duration_setting("handoff_sla"),
    "stale_after": _duration_setting("stale_after"),
    "escalate_after": _duration_setting("escalate_after"),
    "step_minutes": _step_minutes,
}
