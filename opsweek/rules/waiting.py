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

SECTIONS = ("incoming", "sent", "stuck", "actions", "opened", "covering")
# "items opened for me since I last looked": with no look recorded yet, the last week
OPENED_DAYS = 7


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


def opened_sql(i: str = "i") -> str:
    """Items opened for the person given as the first and third parameters since the time
    given as the second: theirs, open or blocked, opened after that time by someone or
    something else (a schedule, a feed, a teammate, an import) -- not the ones they added
    themselves."""
    return (f"{owned_open_sql(i)} AND {i}.opened_at > ? AND NOT EXISTS (SELECT 1 FROM events e"
            f" WHERE e.entity = 'items' AND e.entity_id = CAST({i}.id AS TEXT) AND e.before IS NULL"
            f" AND e.actor = ?)")


# an item opened for me and what opened it: ``schedule`` (the recurring key), ``fed_from``
# (the item whose finishing opened it, and its workflow), else ``by`` (who added it)
Opened = namedtuple("Opened", "item schedule fed_from fed_workflow by")


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


# ``person`` and the away periods, their pending handoffs, their stuck (item, reasons);
# ``counts`` as in :class:`MyWork` (None: the lists are complete)
Covering = namedtuple("Covering", "person away incoming stuck counts", defaults=(None,))


def _size(rows: list, counts: dict | None, section: str, late) -> tuple[int, int]:
    """``(total, overdue)`` of one section: from ``counts`` when the rows are only the
    first of them, else counted from the rows."""
    if counts and section in counts:
        return counts[section]
    return len(rows), sum(1 for row in rows if late(row))


class MyWork(namedtuple("MyWork", "me now today settings people stages incoming sent stuck actions covering"
                                  " escalated_to_me escalated_work counts opened opened_since looked",
                        defaults=((), (), None, (), None, False))):
    """Everything waiting on one person, as the rules see it: ``stages`` maps (workflow,
    key) to the stage; ``stuck`` holds (item, reasons), longest in stage first;
    ``covering`` a :data:`Covering` per person covered for; ``escalated_to_me`` the
    escalations that reached me and still stand, ``escalated_work`` my own late work that
    was escalated (``EscalatedWork`` records, latest first); ``opened`` the items opened
    for me after ``opened_since`` (:data:`Opened`, newest first) -- since I last looked
    when ``looked``, else over the last :data:`OPENED_DAYS` days.

    ``counts`` is None when every list is complete; when the lists hold only the most
    urgent rows of each section (``read.my_work(..., limit=N)``), it maps each section
    whose list was cut (``incoming``, ``sent``, ``stuck``, ``actions``) to its
    ``(total, overdue)``, so that totals and ``--check`` still count every row."""

    __slots__ = ()

    def size(self, section: str) -> tuple[int, int]:
        """``(total, overdue)`` of ``incoming``, ``sent``, ``stuck``, ``actions`` or ``opened``."""
        rows, late = {
            "incoming": (self.incoming, self.handoff_overdue),
            "sent": (self.sent, self.handoff_overdue),
            "stuck": (self.stuck, lambda pair: self.item_overdue(pair[0])),
            "actions": (self.actions, self.action_overdue),
            "opened": (self.opened, lambda o: self.item_overdue(o.item)),
        }[section]
        return _size(rows, self.counts, section, late)

    def covering_size(self, covering, section: str) -> tuple[int, int]:
        """``(total, overdue)`` of a :data:`Covering`'s ``incoming`` or ``stuck``."""
        if section == "incoming":
            return _size(covering.incoming, covering.counts, section, self.handoff_overdue)
        return _size(covering.stuck, covering.counts, section, lambda pair: self.item_overdue(pair[0]))

    def handoff_overdue(self, handoff) -> bool:
        return overdue.is_overdue(handoff, self.now)

    def item_overdue(self, item) -> bool:
        return item_overdue(item, self.today)

    def action_overdue(self, action) -> bool:
        return action.due is not None and action.due < self.today

    def overdue(self) -> dict[str, int]:
        """What ``--check`` answers: the overdue rows per section, and their total."""
        counts = {
            "incoming": self.size("incoming")[1],
            "items": self.size("stuck")[1],
            "actions": self.size("actions")[1],
            "covering": sum(self.covering_size(c, "incoming")[1] + self.covering_size(c, "stuck")[1]
                            for c in self.covering),
            # what reached me is late by definition; of my escalated work, handoffs to me are
            # already counted under incoming, and items past their due date under items
            "escalated": len(self.escalated_to_me),
            "escalated_work": sum(1 for w in self.escalated_work if w.kind == "item" and not any(
                item.id == w.item_id and self.item_overdue(item) for item, _ in self.stuck)),
        }
        return {"total": sum(counts.values()), **counts}

    def empty(self) -> bool:
        return not (self.incoming or self.sent or self.stuck or self.actions or self.opened or self.escalated_to_me
                    or self.escalated_work or any(c.incoming or c.stuck for c in self.covering))


__all__ = ["Covering", "MyWork", "OPENED_DAYS", "Opened", "SECTIONS", "actions", "covered_people", "incoming_sql",
           "item_overdue", "opened_sql", "owned_open_sql", "sent_sql", "week_end"]
