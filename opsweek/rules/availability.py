"""Who is there to own work: away periods, covers, and what is wrong with an owner.

Shared by the ownership gaps, the what-if, the escalation path and the personal check.
A person is *available* in a period when they are on the team, active and not away at
any point of it; their *cover* takes over when the cover is available.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date


def is_away(person, first: date, last: date) -> bool:
    """Away at any point between ``first`` and ``last`` (inclusive)."""
    return any(p.start <= last and p.end >= first for p in (person.away or []))


def away_periods(person, first: date, last: date) -> list:
    """The person's away periods that touch ``first``..``last``."""
    return [p for p in (person.away or []) if p.start <= last and p.end >= first]


def available(handle: str | None, people: dict, first: date, last: date,
              also_away: Iterable[str] = ()) -> bool:
    """A known, active person who is not away in the period nor in ``also_away``."""
    if not handle or handle not in people:
        return False
    person = people[handle]
    return bool(person.active) and handle not in set(also_away) and not is_away(person, first, last)


def unavailable(people: dict, first: date, last: date) -> list[str]:
    """Handles of the people who are inactive or away at some point of the period."""
    return sorted(h for h, p in people.items() if not p.active or is_away(p, first, last))


def cover_for(handle: str | None, people: dict, first: date, last: date,
              also_away: Iterable[str] = ()) -> str | None:
    """Who covers ``handle`` in the period: their named cover if that person is available."""
    person = people.get(handle) if handle else None
    if person is None or not person.cover:
        return None
    return person.cover if available(person.cover, people, first, last, set(also_away)) else None


def owner_problem(handle: str | None, people: dict, first: date, last: date,
                  also_away: Iterable[str] = ()) -> tuple[str | None, str | None]:
    """``(problem, cover)`` for an owner: no problem → ``(None, None)``.

    problem is "no owner", "unknown owner x", "x is inactive", "x is away, no cover",
    or "x is away" (with the cover who takes over).
    """
    also_away = set(also_away)
    if not handle:
        return "no owner", None
    person = people.get(handle)
    if person is None:
        return f"unknown owner {handle}", None
    if not person.active:
        return f"{handle} is inactive", None
    if handle in also_away or is_away(person, first, last):
        cover = cover_for(handle, people, first, last, also_away)
        if cover:
            return f"{handle} is away", cover
        if person.cover:
            return f"{handle} is away, and cover {person.cover} is unavailable", None
        return f"{handle} is away, no cover", None
    return None, None
