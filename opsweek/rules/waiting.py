"""What is waiting on a person (SPEC.md ``opsweek mine``): handoffs to them that wait to
be accepted, handoffs they sent that wait on others, their stuck items, their open
actions, and the same for each person they cover for while that person is away this week.

"Overdue" for ``--check``: a handoff to me (or to someone I cover for) past its due time,
an item of mine past its due date, or an open action of mine past its due date; handoffs
I sent that wait on others do not count. ``read.my_work`` fills :class:`MyWork` with the
SQL conditions below.
"""

from __future__ import annotations

from collections import namedtuple
from datetime import date, datetime, timedelta

from opsweek.rules import actions, overdue
from opsweek.rules.availability import away_periods, cover_for, is_away

SECTIONS = ("incoming", "sent", "stuck", "actions", "covering")


def incoming_sql(h: str = "h") -> str:
    """Pending handoffs to the person given as the parameter (the partial index
    ``handoffs_pending_to`` answers it)."""
    return f"{h}.to_owner = ? AND {h}.accepted_at IS NULL"


def sent_sql(h: str = "h") -> str:
    """Pending handoffs from the person given as the parameter to someone else."""
    return f"{h}.from_owner = ? AND {h}.accepted_at IS NULL AND ({h}.to_owner IS NULL OR {h}.to_owner != {h}.from_owner)"


def owned_open_sql(i: str = "i") -> str:
    """Open or blocked items of the person given as the parameter."""
    return f"{i}.owner = ? AND {i}.status IN ('open', 'blocked')"


def item_overdue(item, today: date) -> bool:
    """An item past its due date."""
    return item.due is not None and item.due < today


def week_end(today: date) -> date:
    return today + timedelta(days=6 - today.weekday())


def covered_people(me: str, people: dict, today: date) -> list[tuple[object, list]]:
    """``(person, away periods)`` for each person ``me`` covers for: away at some point
    from today to Sunday, and ``me`` able to cover today (not away or inactive)."""
    last = week_end(today)
    found = []
    for handle in sorted(people):
        person = people[handle]
        if handle == me or person.cover != me or not is_away(person, today, last):
            continue
        if cover_for(handle, people, today, today) != me:
            continue  # I am away or inactive myself: the cover falls through
        found.append((person, away_periods(person, today, last)))
    return found


# ``person`` and the away periods, their pending handoffs, their stuck (item, reasons)
Covering = namedtuple("Covering", "person away incoming stuck")


class MyWork(namedtuple("MyWork", "me now today settings people stages incoming sent stuck actions covering"
                                  " escalated_to_me escalated_work", defaults=((), ()))):
    """Everything waiting on one person, as the rules see it: ``stages`` maps (workflow,
    key) to the stage; ``stuck`` holds (item, reasons), longest in stage first;
    ``covering`` a :data:`Covering` per person covered for; ``escalated_to_me`` the
    escalations that reached me and still stand, ``escalated_work`` my own late work that
    was escalated (``EscalatedWork`` records, latest first)."""

    __slots__ = ()

    def handoff_overdue(self, handoff) -> bool:
        return overdue.is_overdue(handoff, self.now)

    def item_overdue(self, item) -> bool:
        return item_overdue(item, self.today)

    def action_overdue(self, action) -> bool:
        return action.due is not None and action.due < self.today

    def overdue(self) -> dict[str, int]:
        """What ``--check`` answers: the overdue rows per section, and their total."""
        counts = {
            "incoming": sum(self.handoff_overdue(h) for h in self.incoming),
            "items": sum(self.item_overdue(item) for item, _ in self.stuck),
            "actions": sum(self.action_overdue(a) for a in self.actions),
            "covering": sum(self.handoff_overdue(h) for c in self.covering for h in c.incoming)
            + sum(self.item_overdue(item) for c in self.covering for item, _ in c.stuck),
            # what reached me is late by definition; of my escalated work, handoffs to me are
            # already counted under incoming, and items past their due date under items
            "escalated": len(self.escalated_to_me),
            "escalated_work": sum(1 for w in self.escalated_work if w.kind == "item" and not any(
                item.id == w.item_id and self.item_overdue(item) for item, _ in self.stuck)),
        }
        return {"total": sum(counts.values()), **counts}

    def empty(self) -> bool:
        return not (self.incoming or self.sent or self.stuck or self.actions or self.escalated_to_me
                    or self.escalated_work or any(c.incoming or c.stuck for c in self.covering))


__all__ = ["Covering", "MyWork", "SECTIONS", "actions", "covered_people", "incoming_sql", "item_overdue",
           "owned_open_sql", "sent_sql", "week_end"]
