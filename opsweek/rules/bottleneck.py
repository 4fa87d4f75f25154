"""The bottleneck of a workflow: the stage where work piles up.

Per stage the map counts the items waiting (open or blocked), the stuck ones (the stuck
rule), the handoffs coming in and the late ones (the overdue rule); the bottleneck is the
busy stage with the most stuck work and late handoffs, then the most volume, then the
oldest wait. ``read.stage_loads`` fills the loads with those rules' SQL conditions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)
class StageLoad:
    """One stage as the workflow map shows it."""

    stage: object
    waiting: int = 0                # open or blocked items in the stage
    stuck: int = 0
    oldest: datetime | None = None  # stage_entered_at of the item waiting longest
    incoming: int = 0               # pending handoffs into the stage
    incoming_late: int = 0
    owner_problem: str | None = None
    cover: str | None = None
    away: list = field(default_factory=list)  # the owner's away periods this week (no problem today)

    @property
    def away_note(self) -> str:
        """``away 11-22→11-27`` when the owner is away this week (and not today)."""
        if not self.away:
            return ""
        return "away " + ", ".join(f"{p.start:%m-%d}→{p.end:%m-%d}" for p in self.away)

    @property
    def pressure(self) -> tuple:
        """What makes a bottleneck: stuck work and late handoffs, then volume, then age."""
        return (self.stuck + self.incoming_late, self.waiting + self.incoming,
                -(self.oldest.timestamp()) if self.oldest else 0)


@dataclass(slots=True)
class WorkflowLoad:
    key: str
    stages: list[StageLoad] = field(default_factory=list)

    @property
    def bottleneck(self) -> StageLoad | None:
        return bottleneck(self.stages)


def bottleneck(loads: list[StageLoad]) -> StageLoad | None:
    """The busy stage under the most pressure, or None when nothing waits anywhere."""
    busy = [s for s in loads if s.waiting or s.incoming]
    return max(busy, key=lambda s: s.pressure) if busy else None
