"""Overdue handoff (SPEC.md): not yet accepted, and now is past ``due_at``, where
``due_at = sent_at + handoff_sla`` of the receiving stage (default ``48h``).

``is_overdue`` is the rule for one handoff; ``sql`` is the same condition for SQLite (on
a ``handoffs`` alias), used by every count and page of overdue handoffs. Stored times are
UTC strings that sort in time order, so ``due_at < now`` is a string comparison.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from opsweek.clock import parse_duration, stamp
from opsweek.rules.common import setting


def handoff_due_at(sent_at: datetime, stage_sla: str | None, settings: dict | None = None) -> datetime:
    """``sent_at`` plus the receiving stage's ``handoff_sla`` (default from settings, 48h)."""
    sla = parse_duration(stage_sla) if stage_sla else setting(settings, "handoff_sla")
    return sla.after(sent_at)


def is_overdue(handoff, now: datetime) -> bool:
    """Not yet accepted, and now is past ``due_at``."""
    return handoff.accepted_at is None and now > handoff.due_at


def sql(now: datetime, h: str = "h") -> tuple[str, list]:
    """:func:`is_overdue` as an SQL condition on the handoffs alias ``h``."""
    return f"{h}.accepted_at IS NULL AND {h}.due_at < ?", [stamp(now)]


def lateness(handoff, now: datetime) -> timedelta:
    """How far past its due time a handoff is (zero when not late)."""
    return max(now - handoff.due_at, timedelta(0))


def overdue_handoffs(handoffs: Iterable, now: datetime) -> list:
    """Overdue handoffs, the most overdue first."""
    late = [h for h in handoffs if is_overdue(h, now)]
    late.sort(key=lambda h: (h.due_at, h.id or 0))
    return late


def past_sql(k: int) -> str:
    """Overdue at the past moment ``:t{k}`` (the trends of ended weeks): sent by then,
    due before then, and not accepted by then. A row accepted later is counted as it was."""
    t = f":t{k}"
    return f"due_at < {t} AND sent_at <= {t} AND (accepted_at IS NULL OR accepted_at > {t})"
