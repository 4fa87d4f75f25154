"""The "needs attention" summary of the home screen: per workflow its health (open,
stuck, overdue, audit score), and across the system the ownership gaps, the handoffs due
for escalation, open and late actions, who is away today (and who covers), this week's
session. Each figure is one of the other rules, counted by ``read.attention``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from opsweek.rules.availability import cover_for, is_away


@dataclass(slots=True)
class WorkflowHealth:
    workflow: object
    open: int
    stuck: int
    overdue: int
    audit: object


@dataclass(slots=True)
class AwayToday:
    handle: str
    cover: str | None  # who covers today, None when nobody

    def __str__(self) -> str:
        return f"{self.handle} ({self.cover} covers)" if self.cover else f"{self.handle} (no cover)"


@dataclass(slots=True)
class Attention:
    """Workflow health and what needs attention."""

    health: list[WorkflowHealth] = field(default_factory=list)
    reviews: dict = field(default_factory=dict)
    gaps: int = 0
    escalate: int = 0
    actions_open: int = 0
    actions_late: int = 0
    away: list[AwayToday] = field(default_factory=list)
    meeting: object = None            # this week's unfinished session
    closed_this_week: object = None   # this week's latest closed session
    next_session: object = None       # when the next session is, by the ``meeting`` setting
    unclosed: object = None           # a session of an earlier week that was never closed

    @property
    def stuck(self) -> int:
        return sum(h.stuck for h in self.health)

    @property
    def overdue(self) -> int:
        return sum(h.overdue for h in self.health)


def away_today(people: dict, today: date) -> list[AwayToday]:
    """Active people away today, each with the cover who takes over (if any)."""
    return [AwayToday(handle, cover_for(handle, people, today, today))
            for handle, person in people.items() if person.active and is_away(person, today, today)]
