"""Ownership gap (SPEC.md): a stage or workflow with no owner, an inactive owner, or an
owner away during the meeting's week with no cover; an open item whose owner is away
(suggest the cover) or inactive; a pending handoff whose receiver is away with no cover or
inactive (``rules.receivers``).

``ownership_gaps`` is the rule; ``item_sql`` (and ``receivers.stranded_sql``) are its item
and handoff halves as SQL conditions (there can be thousands of such items at 100,000),
used by the gap count and the gap pages.
"""

from __future__ import annotations

import json

from collections.abc import Iterable
from collections import namedtuple
from datetime import date

from opsweek.rules.availability import is_away, owner_problem, unavailable
from opsweek.rules.receivers import waits_on_nobody
from opsweek.rules.common import OPEN_STATUSES

SUBJECTS = ("workflow", "stage", "recurring", "handoff", "item")


class Gap(namedtuple("Gap", "subject workflow stage item_id owner problem suggestion handoff_id",
                     defaults=(None,))):
    """An ownership gap: ``subject`` is "workflow", "stage", "handoff" or "item";
    ``suggestion`` who could take it (the cover), if anyone; ``handoff_id`` for a handoff."""

    __slots__ = ()

    @property
    def label(self) -> str:
        if self.subject == "workflow":
            return self.workflow
        if self.subject in ("stage", "recurring"):  # a recurring schedule's key is in ``stage``
            return f"{self.workflow}/{self.stage}"
        if self.subject == "handoff":
            return f"handoff {self.handoff_id} (#{self.item_id})"
        return f"#{self.item_id}"


def _active(workflow) -> bool:
    return getattr(workflow, "status", "active") == "active"


def structural_gaps(people: dict, workflows: Iterable, stages: Iterable, first: date, last: date) -> list[Gap]:
    """The workflow, stage and schedule half: no owner, inactive, or away with no cover."""
    workflows = list(workflows)
    gaps: list[Gap] = []
    for wf in workflows:
        if not _active(wf):
            continue
        problem, cover = owner_problem(wf.owner, people, first, last)
        if problem and not cover:
            gaps.append(Gap("workflow", wf.key, None, None, wf.owner, problem, None))
    active = {wf.key for wf in workflows if _active(wf)}
    for stage in stages:
        if stage.workflow not in active:
            continue
        problem, cover = owner_problem(stage.owner, people, first, last)
        if problem and not cover:
            gaps.append(Gap("stage", stage.workflow, stage.key, None, stage.owner, problem, None))
    from opsweek.rules.triggers import schedule_owner_gaps

    return gaps + schedule_owner_gaps(people, workflows, first, last)


def item_has_gap(item, people: dict, first: date, last: date) -> bool:
    """An open item whose owner is away in the period, inactive, or not on the team."""
    if item.status not in OPEN_STATUSES or not item.owner:
        return False
    person = people.get(item.owner)
    return person is None or not person.active or is_away(person, first, last)


def item_gap(item, people: dict, first: date, last: date) -> Gap:
    problem, cover = owner_problem(item.owner, people, first, last)
    return Gap("item", item.workflow, item.stage, item.id, item.owner, problem or "", cover)


def item_sql(people: dict, first: date, last: date, i: str = "i") -> tuple[str, list]:
    """:func:`item_has_gap` as an SQL condition on the items alias ``i``.

    The owners meant are the unusable ones and those who are nobody on the team; the latter
    are found by stepping through the owner index one owner at a time (a recursive loose
    index scan: a seek per distinct owner, not a look at every item), so that SQLite then
    reads only those owners' items from the same index."""
    bad = unavailable(people, first, last)
    owners = ("WITH RECURSIVE o(owner) AS (SELECT min(owner) FROM items"
              " UNION ALL SELECT (SELECT min(owner) FROM items WHERE owner > o.owner) FROM o"
              " WHERE o.owner IS NOT NULL)"
              " SELECT value FROM json_each(?) UNION ALL"
              " SELECT owner FROM o WHERE owner IS NOT NULL AND owner NOT IN (SELECT handle FROM people)")
    # (+status: never the status index, which would have every open item read to test its owner)
    return (f"+{i}.status IN ('open', 'blocked') AND {i}.owner IS NOT NULL AND {i}.owner IN ({owners})",
            [json.dumps(bad)])


ITEM_ORDER = "i.owner, i.id"  # how the item gaps are listed
HANDOFF_ORDER = "h.id"


def handoff_gap(handoff, people: dict, first: date, last: date) -> Gap:
    problem, _ = owner_problem(handoff.to_owner, people, first, last)
    problem = "waits on nobody" if not handoff.to_owner else f"waits on {problem}"
    return Gap("handoff", handoff.workflow or "", handoff.to_stage, handoff.item_id, handoff.to_owner, problem,
               None, handoff.id)


def ownership_gaps(people: dict, workflows: Iterable, stages: Iterable, items: Iterable,
                   first: date, last: date, handoffs: Iterable = ()) -> list[Gap]:
    """Stages and workflows with no owner, an inactive owner, or an owner away without
    cover in ``first``..``last``; open items whose owner is away (with the cover to suggest).

    A stage whose owner is away but covered is not a gap; an item of an away owner is
    listed either way, so that someone picks it up. Pending ``handoffs`` are listed when
    nobody can accept them; the order is structural gaps, handoffs, items.
    """
    gaps = structural_gaps(people, workflows, stages, first, last)
    gaps.extend(handoff_gap(h, people, first, last) for h in handoffs if waits_on_nobody(h, people, first, last))
    gaps.extend(item_gap(it, people, first, last) for it in items if item_has_gap(it, people, first, last))
    return gaps
