"""Receivers can accept (SPEC.md): a handoff always waits on someone who can accept it.

A handoff into a stage whose owner is inactive or away goes to their cover (said in the
note); with no cover, one to an inactive (or unknown, or missing) owner is refused, and
one to an away owner is sent with a warning and listed as an ownership gap. The
receiver, their cover while they are away, and the workflow owner may accept; anyone else
accepts only on the receiver's behalf (``--for``), and the change records it.

``receiver`` decides who a new handoff goes to; ``may_accept`` / ``who_may_accept`` who
can take it; ``waits_on_nobody`` (and its SQL, ``stranded_sql``) which pending handoffs
wait on someone who cannot act on them — the ownership gaps list those.
"""

from __future__ import annotations

from collections import namedtuple
from datetime import date

from opsweek.rules.availability import available, cover_for, is_away

# handle: who receives it (None when refused); note: said in the handoff's note;
# warning: sent, but nobody can act on it soon; refused: why it cannot be sent
Receiver = namedtuple("Receiver", "handle note warning refused")


def receiver(stage, people: dict, on: date, workflow: str = "") -> Receiver:
    """Who a handoff into ``stage`` goes to when sent on ``on``."""
    owner = stage.owner
    where = f"{workflow}/{stage.key}" if workflow else stage.key
    if not owner:
        return Receiver(None, None, None, f"stage {where} has no owner")
    person = people.get(owner)
    if person is None or not person.active:
        state = "is not on the team" if person is None else "is inactive"
        cover = cover_for(owner, people, on, on)
        if cover:
            return Receiver(cover, f"{owner} {state}, {cover} covers", None, None)
        return Receiver(None, None, None, f"the owner of stage {where}, {owner}, {state} and has no cover")
    if is_away(person, on, on):
        cover = cover_for(owner, people, on, on)
        if cover:
            return Receiver(cover, f"{owner} is away, {cover} covers", None, None)
        return Receiver(owner, None, f"{owner} is away with no cover: it waits until they are back", None)
    return Receiver(owner, None, None, None)


def who_may_accept(handoff, people: dict, workflow_owner: str | None, on: date) -> list[str]:
    """The receiver, their cover while they are away, and the workflow owner (in that order)."""
    found = []
    if handoff.to_owner:
        found.append(handoff.to_owner)
        person = people.get(handoff.to_owner)
        if person is not None and person.cover and not available(handoff.to_owner, people, on, on):
            found.append(person.cover)
    if workflow_owner and workflow_owner not in found:
        found.append(workflow_owner)
    return found


def may_accept(handoff, actor: str, people: dict, workflow_owner: str | None, on: date) -> bool:
    return actor in who_may_accept(handoff, people, workflow_owner, on)


def stranded(people: dict, first: date, last: date) -> list[str]:
    """Handles nobody can act for in the period: inactive, or away with no available cover."""
    return sorted(h for h, p in people.items()
                  if not p.active or (is_away(p, first, last) and not cover_for(h, people, first, last)))


def waits_on_nobody(handoff, people: dict, first: date, last: date) -> bool:
    """A pending handoff whose receiver is missing, unknown, inactive, or away in the period
    with no cover."""
    if handoff.accepted_at is not None:
        return False
    return not handoff.to_owner or handoff.to_owner not in people or handoff.to_owner in stranded(people, first, last)


def stranded_sql(people: dict, first: date, last: date, h: str = "h") -> tuple[str, list]:
    """:func:`waits_on_nobody` as an SQL condition on the handoffs alias ``h``."""
    bad = stranded(people, first, last)
    marks = ",".join("?" * len(bad)) or "NULL"
    return (f"{h}.accepted_at IS NULL AND ({h}.to_owner IS NULL OR {h}.to_owner IN ({marks})"
            f" OR {h}.to_owner NOT IN (SELECT handle FROM people))", bad)
