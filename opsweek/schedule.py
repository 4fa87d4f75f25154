"""Schedules: the words people write (``every monday 10:00``) or RRULE text, as RRULEs
expanded by dateutil in the team's local time zone, and the titles they open items with.

A schedule is anchored at the local midnight of the day it was created and only its
occurrences after the moment of creation count, so a new schedule never opens its past.
Occurrences are computed on the local wall clock (a weekly 09:00 stays 09:00 across
daylight-saving changes) and stored in UTC. Standard library and python-dateutil only.
"""

from __future__ import annotations

import os
import re
import string
from datetime import date, datetime, timedelta, tzinfo

from opsweek import clock
from opsweek.errors import InputError

ACCEPTED = ("every day, every weekday 09:00, every monday, every mon and thu, every 2 weeks on fri,"
            " every month on the 25th, every month on the last day, every monday 10:00,"
            " or an RRULE such as FREQ=WEEKLY;BYDAY=MO")
PLACEHOLDERS = ("date", "week", "month", "year")

_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_WORDS = {name[:n]: code for name, code in zip(_DAY_NAMES, _DAYS) for n in range(3, len(name) + 1)}
_DAY_WORDS.update({f"{name}s": code for name, code in zip(_DAY_NAMES, _DAYS)})  # "every mondays"
_UNITS = {"day": "DAILY", "days": "DAILY", "week": "WEEKLY", "weeks": "WEEKLY",
          "month": "MONTHLY", "months": "MONTHLY", "year": "YEARLY", "years": "YEARLY"}
_TIME_HM = re.compile(r"(?:\s+at)?\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})$")
_TIME_AMPM = re.compile(r"(?:\s+at)?\s+(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<half>am|pm)$")
_TIME_AT = re.compile(r"\s+at\s+(?P<hour>\d{1,2})$")
_ORDINAL = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?$")
_FREQS = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")


def zone() -> tzinfo:
    """The team's time zone, with its daylight-saving rules: ``TZ`` if it names a zone,
    else the system's local zone (``clock.local_tz`` is a fixed offset, which is right
    for showing a time but wrong for repeating one across a DST change)."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            from zoneinfo import ZoneInfo

            return ZoneInfo(name)
        except (ValueError, OSError, KeyError):
            pass  # a POSIX TZ string such as CET-1CEST: the system's reading of it
    from dateutil import tz

    return tz.tzlocal()


def _refuse(text: str, why: str = "is not a schedule") -> InputError:
    return InputError(f"schedule {text!r} {why} (accepted: {ACCEPTED})")


def to_rrule(text: str) -> str:
    """The RRULE of a schedule written in words or as RRULE text; refuses, naming what is
    accepted, anything it cannot read or that repeats more often than daily."""
    raw = " ".join(str(text or "").split())
    if not raw:
        raise _refuse(raw, "is empty")
    lowered = raw.lower()
    if lowered.startswith(("freq=", "rrule:")):
        rule = raw.split(":", 1)[1] if lowered.startswith("rrule:") else raw
        rule = rule.upper().replace(" ", "")
        _check_rrule(raw, rule)
        return rule
    return _words(raw, lowered)


def _check_rrule(raw: str, rule: str) -> None:
    parts = dict(part.split("=", 1) for part in rule.split(";") if "=" in part)
    if "DTSTART" in rule or "\n" in rule:
        raise _refuse(raw, "sets DTSTART; a schedule starts when it is added")
    freq = parts.get("FREQ")
    if freq not in _FREQS:
        raise _refuse(raw, "repeats more often than daily" if freq in ("HOURLY", "MINUTELY", "SECONDLY")
                      else "has no FREQ of DAILY, WEEKLY, MONTHLY or YEARLY")
    for key in ("BYHOUR", "BYMINUTE", "BYSECOND"):
        if key in parts and "," in parts[key]:
            raise _refuse(raw, "repeats more often than daily")
    from dateutil.rrule import rrulestr

    try:
        rule_object = rrulestr(rule, dtstart=datetime(2026, 1, 1, tzinfo=zone()))
        rule_object.after(datetime(2026, 1, 1, tzinfo=zone()))
    except (ValueError, TypeError, KeyError, IndexError):
        raise _refuse(raw, "is not an RRULE dateutil can read") from None


def _words(raw: str, text: str) -> str:
    if not text.startswith("every "):
        raise _refuse(raw)
    body = text[len("every "):].strip()
    time_part = ""
    match = _TIME_HM.search(body) or _TIME_AMPM.search(body) or _TIME_AT.search(body)
    if match:
        hour, minute = int(match["hour"]), int(match.groupdict().get("minute") or 0)
        half = match.groupdict().get("half")
        if half:
            if not 1 <= hour <= 12:
                raise _refuse(raw, f"has no time {match[0].strip()!r}")
            hour = hour % 12 + (12 if half == "pm" else 0)
        if hour > 23 or minute > 59:
            raise _refuse(raw, f"has no time {match[0].strip()!r}")
        time_part = f";BYHOUR={hour};BYMINUTE={minute};BYSECOND=0"
        body = body[:match.start()].strip()
    interval = 1
    number = re.match(r"^(\d+)\s+(.*)$", body)
    if number:
        interval = int(number[1])
        body = number[2]
        if interval < 1:
            raise _refuse(raw, "repeats every 0")
    rule = _body(raw, body, interval)
    return rule + time_part


def _body(raw: str, body: str, interval: int) -> str:
    every = f";INTERVAL={interval}" if interval > 1 else ""
    if body in ("weekday", "weekdays", "working day", "business day"):
        if interval > 1:
            raise _refuse(raw)
        return "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    days = _day_list(body)
    if days:
        if interval > 1:
            raise _refuse(raw, "repeats a day of the week by a number (write: every 2 weeks on fri)")
        return f"FREQ=WEEKLY;BYDAY={','.join(days)}"
    unit, _, rest = body.partition(" ")
    freq = _UNITS.get(unit)
    if freq is None:
        raise _refuse(raw)
    rest = rest.strip()
    if not rest:
        return f"FREQ={freq}{every}"
    if not rest.startswith("on "):
        raise _refuse(raw)
    rest = rest[3:].strip()
    if freq == "WEEKLY":
        days = _day_list(rest)
        if not days:
            raise _refuse(raw, f"has no day of the week {rest!r}")
        return f"FREQ=WEEKLY{every};BYDAY={','.join(days)}"
    if freq == "MONTHLY":
        rest = rest.removeprefix("the ").strip()
        if rest in ("last day", "last"):
            return f"FREQ=MONTHLY{every};BYMONTHDAY=-1"
        ordinal = _ORDINAL.match(rest)
        if ordinal and 1 <= int(ordinal[1]) <= 31:
            return f"FREQ=MONTHLY{every};BYMONTHDAY={int(ordinal[1])}"
        nth = re.match(r"^(first|second|third|fourth|last)\s+(\w+)$", rest)
        if nth and nth[2] in _DAY_WORDS:
            position = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}[nth[1]]
            return f"FREQ=MONTHLY{every};BYDAY={position}{_DAY_WORDS[nth[2]]}"
        raise _refuse(raw, f"has no day of the month {rest!r}")
    raise _refuse(raw)


def _day_list(text: str) -> list[str]:
    words = [w for w in re.split(r"\s*(?:,|\band\b|&)\s*|\s+", text) if w]
    if not words or any(w not in _DAY_WORDS for w in words):
        return []
    codes = []
    for w in words:
        if _DAY_WORDS[w] not in codes:
            codes.append(_DAY_WORDS[w])
    return codes


# --- expansion -------------------------------------------------------------------------


def _anchor(created: datetime) -> datetime:
    """The local midnight of the creation day: the DTSTART every expansion uses."""
    local = created.astimezone(zone())
    return datetime(local.year, local.month, local.day, tzinfo=zone())


def _rule(rrule: str, created: datetime):
    from dateutil.rrule import rrulestr

    return rrulestr(rrule, dtstart=_anchor(created))


def occurrences(rrule: str, created: datetime, after: datetime, until: datetime) -> list[datetime]:
    """Occurrences (UTC) in ``(after, until]`` that also come after ``created``."""
    after = max(after, created)
    if until <= after:
        return []
    rule = _rule(rrule, created)
    zone_ = zone()
    found = rule.between(after.astimezone(zone_), until.astimezone(zone_), inc=True)
    return [o.astimezone(clock.UTC) for o in found if after < o <= until]


def next_after(rrule: str, created: datetime, after: datetime) -> datetime | None:
    """The first occurrence (UTC) after ``after`` (and after ``created``), or None."""
    after = max(after, created)
    following = _rule(rrule, created).after(after.astimezone(zone()), inc=False)
    return None if following is None else following.astimezone(clock.UTC)


def upcoming(rrule: str, created: datetime, after: datetime, days: int) -> list[datetime]:
    """Occurrences in the ``days`` days after ``after``."""
    return occurrences(rrule, created, after, after + timedelta(days=days))


def check(text: str) -> str:
    """``to_rrule`` that also refuses a schedule with no occurrence left to come."""
    rule = to_rrule(text)
    now = clock.now()
    if next_after(rule, now, now) is None:
        raise _refuse(text, "has no occurrence after today")
    return rule


def check_due(value: str | None, field_name: str = "due") -> str | None:
    """A due offset from the occurrence (``+1d``, ``2bd``, ``48h``), stored as ``1d``."""
    if value is None or str(value).strip() == "":
        return None
    raw = str(value).strip().removeprefix("+")
    try:
        return str(clock.parse_duration(raw, field_name))
    except InputError:
        raise InputError(f"{field_name}: {value!r} is not a time after the occurrence"
                         " (accepted: +1d, 2bd, 48h, 1w)") from None


# --- titles ----------------------------------------------------------------------------


def check_title(template: str) -> str:
    """The template as given, if every placeholder is one of {date} {week} {month} {year}."""
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError as error:
        raise InputError(f"title {template!r}: {error} (accepted placeholders: "
                         f"{', '.join('{' + p + '}' for p in PLACEHOLDERS)}; write {{{{ for a brace)") from None
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise InputError(f"title {template!r}: unknown placeholder {shown}"
                             f" (accepted: {', '.join('{' + p + '}' for p in PLACEHOLDERS)})")
    return template


def title_for(template: str, occurrence: datetime) -> str:
    """The title of the item an occurrence opens: ``Review, {week}`` → ``Review, 2026-W49``."""
    local = occurrence.astimezone(zone())
    day: date = local.date()
    return template.format(date=day.isoformat(), week=clock.iso_week(day),
                           month=local.strftime("%B"), year=str(day.year))


def describe(when: datetime, fmt: str = "%a %Y-%m-%d %H:%M") -> str:
    """An occurrence for people, on the team's wall clock."""
    return when.astimezone(zone()).strftime(fmt)
