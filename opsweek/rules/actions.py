"""Actions recorded in a session: open until done or dropped; overdue when the due day
has passed (SPEC.md Entry). ``is_overdue`` and ``overdue_sql`` are the rule and its SQL;
``open_sql`` is "an open action" on an entries alias."""

from __future__ import annotations

from datetime import date


def is_open(entry) -> bool:
    return entry.kind == "action" and entry.status == "open"


def is_overdue(entry, today: date) -> bool:
    """An open action whose due day is before ``today``."""
    return is_open(entry) and entry.due is not None and entry.due < today


def open_sql(e: str = "e") -> str:
    return f"{e}.kind = 'action' AND {e}.status = 'open'"


def overdue_sql(today: date, e: str = "e") -> tuple[str, list]:
    """:func:`is_overdue` on the entries alias ``e``."""
    return f"{open_sql(e)} AND {e}.due IS NOT NULL AND {e}.due < ?", [today.isoformat()]


ORDER = "e.due IS NULL, e.due, e.id"  # earliest due first, undated last
