"""The one clock of opsweek, and the durations and dates users type.

Everything that needs "now" calls :func:`now`; ``OPSWEEK_NOW`` freezes it for tests,
demos and reruns. Times are stored in UTC as ``YYYY-MM-DDTHH:MM:SSZ`` strings, which
sort in time order. This module imports only the standard library (python-dateutil is
imported lazily by :func:`parse_date`), so the quick CLI paths stay quick.
"""

from __future__ import annotations

import os
import re
from collections import namedtuple
from datetime import date, datetime, timedelta, timezone

from opsweek.errors import InputError

UTC = timezone.utc
_STAMP = "%Y-%m-%dT%H:%M:%SZ"

# What a date or a span may be, wherever it comes in (flags, files, dumps, OPSWEEK_NOW,
# the TUI): four-digit years, spans up to a century. Anything past these is a typo or an
# attack, and would overflow ``datetime`` (or loop for ever) later, far from the door.
MIN_YEAR, MAX_YEAR = 1000, 9999
MAX_SPAN = timedelta(days=36525)  # 100 years
_YEARS = f"years {MIN_YEAR}–{MAX_YEAR}"
# "now" itself leaves a century either side: every span from now stays on the calendar
NOW_YEARS = (MIN_YEAR + 100, MAX_YEAR - 100)


def check_year(value, field: str = "date", raw=None):
    """``value`` (a date or datetime) when its year is 1000–9999; InputError otherwise."""
    if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
        shown = raw if raw is not None else value.isoformat()
        raise InputError(f"{field}: {shown!r} is out of range (accepted: {_YEARS})")
    return value


def now() -> datetime:
    """Current time in UTC, to the second; ``OPSWEEK_NOW`` (ISO 8601) freezes it."""
    frozen = os.environ.get("OPSWEEK_NOW")
    if frozen:
        try:
            value = datetime.fromisoformat(frozen.strip())
        except ValueError:
            raise InputError(
                f"OPSWEEK_NOW={frozen!r} is not an ISO 8601 datetime "
                "(accepted: 2026-11-24T09:00:00Z, 2026-11-24T09:00+01:00, 2026-11-24)"
            ) from None
        if not NOW_YEARS[0] <= value.year <= NOW_YEARS[1]:
            raise InputError(f"OPSWEEK_NOW={frozen!r} is out of range (accepted: years {NOW_YEARS[0]}–"
                             f"{NOW_YEARS[1]}, so that a century either side of now is a date)")
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).replace(microsecond=0)
    return datetime.now(UTC).replace(microsecond=0)


def local_tz():
    """The local time zone (honours ``TZ``)."""
    return datetime.now().astimezone().tzinfo


def today() -> date:
    """Today's date in the local time zone, by the one clock."""
    return now().astimezone(local_tz()).date()


def stamp(value: datetime) -> str:
    """A UTC storage string for ``value`` (naive values are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime(_STAMP)


def parse_stamp(value: str | None) -> datetime | None:
    """The datetime of a stored UTC string, or None."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def show(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time for people: in the local time zone."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = parse_stamp(value)
    return value.astimezone(local_tz()).strftime(fmt)


def iso_week(value: datetime | date | None = None) -> str:
    """ISO week label such as ``2026-W48`` (of local today by default)."""
    if value is None:
        value = today()
    elif isinstance(value, datetime):
        value = value.astimezone(local_tz()).date()
    year, week, _ = value.isocalendar()
    return f"{year}-W{week:02d}"


def week_bounds(week: str) -> tuple[date, date]:
    """Monday and Sunday of an ISO week label."""
    match = re.fullmatch(r"(\d{4})-W(\d{2})", week)
    if not match:
        raise InputError(f"week {week!r} is not an ISO week (accepted: 2026-W48)")
    try:
        monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:  # W00, W54, W53 of a 52-week year
        raise InputError(f"week {week!r} does not exist (accepted: 2026-W01 to the year's last week)") from None
    return monday, monday + timedelta(days=6)


# --- durations -----------------------------------------------------------------------

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|h|d|bd|w)\s*$", re.IGNORECASE)
_UNIT_WORDS = {"m": "minutes", "h": "hours", "d": "days", "bd": "business days", "w": "weeks"}


class Duration(namedtuple("Duration", "amount unit")):
    """A span written ``30m``, ``48h``, ``2d`` (calendar), ``2bd`` (business days) or ``1w``
    (a named tuple, not a dataclass: see opsweek/store/records.py)."""

    __slots__ = ()

    def __str__(self) -> str:
        amount = int(self.amount) if self.amount == int(self.amount) else self.amount
        return f"{amount}{self.unit}"

    def after(self, start: datetime) -> datetime:
        """``start`` plus this duration; business days skip Saturday and Sunday.

        Past the end of the calendar (a century after 9950) it is the last representable
        moment: "never" for every rule, rather than an OverflowError far from the input.
        """
        try:
            if self.unit == "bd":
                return add_business_days(start, self.amount)
            return start + self.timedelta()
        except OverflowError:
            return datetime.max.replace(tzinfo=start.tzinfo)

    def timedelta(self) -> timedelta:
        """The calendar length (a business day counts as a day)."""
        unit = {"m": "minutes", "h": "hours", "d": "days", "bd": "days", "w": "weeks"}[self.unit]
        return timedelta(**{unit: self.amount})

    def exceeded(self, start: datetime, at: datetime) -> bool:
        """True when ``at`` is past ``start`` plus this duration."""
        return at > self.after(start)

    def before(self, end: datetime) -> datetime:
        """The threshold for :meth:`exceeded` seen from ``end``: for every ``start``,
        ``exceeded(start, end)`` is ``start < before(end)`` (whole business days).

        SQL compares stored times with this, so counts at scale match the rules exactly.
        """
        try:
            return self._before(end)
        except OverflowError:  # before the start of the calendar: nothing is that old
            return datetime.min.replace(tzinfo=end.tzinfo)

    def _before(self, end: datetime) -> datetime:
        if self.unit != "bd":
            return end - self.timedelta()
        current = end
        if current.weekday() >= 5:  # no business time passes at weekends: from Saturday 00:00
            current = (current - timedelta(days=current.weekday() - 5)).replace(
                hour=0, minute=0, second=0, microsecond=0)
        left = int(self.amount)
        while left:
            current -= timedelta(days=1)
            if current.weekday() < 5:
                left -= 1
        if current.weekday() == 0 and current.time() == datetime.min.time():
            # a weekend start counts from Monday 00:00, so it is not before Monday 00:00
            current -= timedelta(days=2)
        return current


# the longest amount of each unit: 100 years (a business day is 7/5 of a calendar one)
_MAX_AMOUNT = {"m": 36525 * 24 * 60, "h": 36525 * 24, "d": 36525, "bd": 36525 * 5 // 7, "w": 36525 // 7}


def checked_duration(amount: float, unit: str, field: str = "duration", raw=None) -> Duration:
    """A :class:`Duration` of a finite amount no longer than 100 years; InputError otherwise."""
    import math

    shown = raw if raw is not None else f"{amount:g}{unit}"
    if not math.isfinite(amount) or amount < 0:
        raise InputError(f"{field}: {shown!r} is not a duration (accepted: 30m, 48h, 2d, 2bd, 1w; up to 100 years)")
    if amount > _MAX_AMOUNT[unit]:
        raise InputError(f"{field}: {shown!r} is longer than 100 years (accepted: 30m, 48h, 2d, 2bd, 1w)")
    return Duration(float(amount), unit)


def parse_duration(text: str | int | float | Duration, field: str = "duration") -> Duration:
    """Parse ``48h`` / ``2d`` / ``2bd`` / ``30m`` / ``1w``; a bare number means days."""
    if isinstance(text, Duration):
        return text
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        if text < 0:
            raise InputError(f"{field}: {text} is negative (accepted: 48h, 2d, 2bd)")
        if text > _MAX_AMOUNT["d"]:  # before float(): an integer of 5000 digits overflows it
            raise InputError(f"{field}: the number is longer than 100 years of days"
                             " (accepted: 30m, 48h, 2d, 2bd, 1w)")
        return checked_duration(float(text), "d", field, text)
    match = _DURATION.match(str(text))
    if not match:
        raise InputError(
            f"{field}: {text!r} is not a duration (accepted: 30m, 48h, 2d, 2bd for business days, 1w)"
        )
    return checked_duration(float(match[1]), match[2].lower(), field, str(text).strip())


def add_business_days(start: datetime, amount: float) -> datetime:
    """Add business days (Mon–Fri), keeping the time of day.

    The clock does not run at weekends: a start on Saturday or Sunday counts from the
    following Monday 00:00, and each added day that lands on a weekend is skipped.
    A fraction adds that part of a day on the last business day.
    """
    current = start
    if current.weekday() >= 5:
        current = (current + timedelta(days=7 - current.weekday())).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
    whole = int(amount)
    added = 0
    while added < whole:
        current += timedelta(days=1)
        if current.weekday() < 5:
            added += 1
    rest = amount - whole
    if rest:
        current += timedelta(days=rest)
        while current.weekday() >= 5:
            current += timedelta(days=1)
    return current


def business_days_between(start: date, end: date) -> int:
    """Weekdays in (start, end]."""
    days = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days += 1
    return days


def humanize(delta: timedelta) -> str:
    """``3d 4h``, ``5h``, ``12m``: a compact span for tables."""
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes = seconds // 60
    if days:
        return f"{sign}{days}d {hours}h" if hours else f"{sign}{days}d"
    if hours:
        return f"{sign}{hours}h"
    return f"{sign}{minutes}m"


# --- dates and times typed by people --------------------------------------------------

_RELATIVE = re.compile(r"^\s*([+-])\s*(\d+(?:\.\d+)?)\s*(m|h|d|bd|w)\s*$", re.IGNORECASE)
_WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# "fri", "friday", "thur", "thurs"...: a prefix of a day's name, three letters or more
_WEEKDAY_WORDS = {
    full[:n]: index
    for index, full in enumerate(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])
    for n in range(3, len(full) + 1)
}


def parse_relative(text: str, base: datetime | None = None) -> datetime | None:
    """``-3d``, ``+36h``, ``+2bd`` relative to ``base`` (now); None if not of that form."""
    match = _RELATIVE.match(text)
    if not match:
        return None
    base = base or now()
    duration = checked_duration(float(match[2]), match[3].lower(), "time", text.strip())
    try:
        if match[1] == "+":  # not Duration.after, which stops at the end of the calendar
            value = (add_business_days(base, duration.amount) if duration.unit == "bd"
                     else base + duration.timedelta())
        elif duration.unit == "bd":
            value = _sub_business_days(base, duration.amount)
        else:
            value = base - duration.timedelta()
    except OverflowError:
        raise InputError(f"time: {text.strip()!r} is out of range (accepted: {_YEARS})") from None
    return check_year(value, "time", text.strip())


def _sub_business_days(start: datetime, amount: float) -> datetime:
    current, left = start, int(amount)
    while left:
        current -= timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


def parse_date(text: str | date, field: str = "date", base: datetime | None = None) -> date:
    """A date typed by a person: ``2026-12-01``, ``1 Dec``, ``+3d``, ``fri``, ``today``.

    Weekday names mean the next such day (today counts as ``0`` days ahead only for
    ``today``). Raises :class:`InputError` naming what is accepted.
    """
    if isinstance(text, datetime):
        return text.date()
    if isinstance(text, date):
        return text
    raw = str(text).strip()
    base = base or now()
    base_local = base.astimezone(local_tz())
    lowered = raw.lower()
    if not raw:
        raise InputError(f"{field}: empty (accepted: 2026-12-01, 1 Dec, +3d, fri)")
    if lowered == "today":
        return base_local.date()
    if lowered == "tomorrow":
        return base_local.date() + timedelta(days=1)
    try:
        relative = parse_relative(raw, base_local)
    except InputError as error:
        raise InputError(f"{field}: {str(error).split(': ', 1)[-1]}") from None
    if relative is not None:
        return relative.date()
    if lowered.rstrip(".") in _WEEKDAY_WORDS:
        target = _WEEKDAY_WORDS[lowered.rstrip(".")]
        ahead = (target - base_local.weekday()) % 7 or 7
        return base_local.date() + timedelta(days=ahead)
    if len(raw) > 64:  # no date is this long; dateutil would spend its time on it
        raise InputError(f"{field}: {raw[:20]!r}… is not a date (accepted: 2026-12-01, 1 Dec, +3d, fri)")
    try:
        from dateutil import parser as date_parser

        default = base_local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
        parsed = date_parser.parse(raw, default=default, dayfirst=False)
    except (ValueError, OverflowError):
        raise InputError(
            f"{field}: {raw!r} is not a date (accepted: 2026-12-01, 1 Dec, +3d, fri)"
        ) from None
    day = check_year(parsed.date(), field, raw)
    if not re.search(r"\d{4}", raw):
        if day.year != default.year and not default.year - 1 <= day.year <= default.year + 2:
            # dateutil reads a stray number as a year: "32 Dec" would be 2032
            raise InputError(f"{field}: {raw!r} is not a date (accepted: 2026-12-01, 1 Dec, +3d, fri)")
        if day.year == default.year and (default.date() - day).days > 183:
            # no year given: "1 Jan" in November means the coming January
            try:
                day = check_year(day.replace(year=day.year + 1), field, raw)
            except ValueError:  # 29 Feb of a year whose next is not a leap year
                raise InputError(f"{field}: {raw!r} is not a date (accepted: 2026-12-01, 1 Dec, +3d, fri)") from None
    return day


def parse_when(text: str | datetime, field: str = "time", base: datetime | None = None) -> datetime:
    """A point in time from a file or a person: ISO 8601 or relative (``-3d``, ``-36h``)."""
    if isinstance(text, datetime):
        return text if text.tzinfo else text.replace(tzinfo=UTC)
    raw = str(text).strip()
    try:
        relative = parse_relative(raw, base or now())
    except InputError as error:
        raise InputError(f"{field}: {str(error).split(': ', 1)[-1]}") from None
    if relative is not None:
        return relative.astimezone(UTC)
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise InputError(
            f"{field}: {raw!r} is not a time (accepted: ISO 8601 like 2026-11-20T09:00:00Z, or relative like -3d, -36h)"
        ) from None
    check_year(value, field, raw)
    if value.tzinfo is None:
        value = value.replace(tzinfo=local_tz())
    try:
        value = value.astimezone(UTC).replace(microsecond=0)
    except OverflowError:
        raise InputError(f"{field}: {raw!r} is out of range (accepted: {_YEARS})") from None
    return check_year(value, field, raw)
