"""Escalation due (SPEC.md): an overdue handoff more than ``escalate_after`` (default
``24h``) past its due time, not escalated yet, is due for escalation; it goes to the
workflow owner (the next tier above the receiver).

``due`` is the rule for one handoff, ``sql`` the same condition for SQLite, ``target``
who it goes to.
"""

from __future__ import annotations

from datetime import datetime

from opsweek.clock import stamp
from opsweek.rules.common import setting
from opsweek.rules.overdue import is_overdue


def escalation_due(handoff, now: datetime, settings: dict | None = None) -> bool:
    """Overdue by more than ``escalate_after`` and not escalated yet."""
    if not is_overdue(handoff, now) or handoff.escalated_at is not None:
        return False
    return now > setting(settings, "escalate_after").after(handoff.due_at)


def sql(now: datetime, settings: dict | None = None, h: str = "h") -> tuple[str, list]:
    """:func:`escalation_due` as an SQL condition on the handoffs alias ``h``
    (``Duration.before`` gives the exact threshold, business days included)."""
    before = setting(settings, "escalate_after").before(now)
    return (f"{h}.accepted_at IS NULL AND {h}.escalated_at IS NULL AND {h}.due_at < ?",
            [stamp(before)])


def target(workflow) -> str | None:
    """Who an escalated handoff goes to: the owner of the item's workflow."""
    return getattr(workflow, "owner", None) if workflow is not None else None
