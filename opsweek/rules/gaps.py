"""Ownership gap (SPEC.md): a stage or workflow with no owner, an inactive owner, or an
owner away during the meeting's week with no cover; an open item whose owner is away
(suggest the cover) or inactive.

``ownership_gaps`` is the rule; ``item_sql`` is its item half as an SQL condition (there
can be thousands of such items at 100,000), used by the gap count and the gap pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections import namedtuple
from datetime import date

from opsweek.rules.availability import is_away, owner_problem, unavailable
from opsweek.rules.common import OPEN_STATUSES

SUBJECTS = ("workflow", "stage", "item")


class Gap(namedtuple("Gap", "subject workflow stage item_id owner problem suggestion")):
    """An ownership gap: ``subject`` is "workflow", "stage" or "item"; ``suggestion`` who
    could take it (the cover), if anyone."""

    __slots__ = ()

    @property
    def label(self) -> str:
        if self.subject == "workflow":
            return self.workflow
        if self.subject == "stage":
            return f"{self.workflow}/{self.stage}"
        return f"#{self.item_id}"


def _active(workflow) -> bool:
    return getattr(workflow, "status", "active") == "active"


def structural_gaps(people: dict, workflows: Iterable, stages: Iterable, first: date, last: date) -> list[Gap]:
    """The workflow and stage half: no owner, inactive, or away with no cover."""
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
    return gaps


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
    """:func:`item_has_gap` as an SQL condition on the items alias ``i``."""
    bad = unavailable(people, first, last)
    marks = ",".join("?" * len(bad)) or "NULL"
    return (f"{i}.status IN ('open', 'blocked') AND {i}.owner IS NOT NULL AND ({i}.owner IN ({marks})"
            f" OR {i}.owner NOT IN (SELECT handle FROM people))", bad)


ITEM_ORDER = "i.owner, i.id"  # how the item gaps are listed


def ownership_gaps(people: dict, workflows: Iterable, stages: Iterable, items: Iterable,
                   first: date, last: date) -> list[Gap]:
    """Stages and workflows with no owner, an inactive owner, or an owner away without
    cover in ``first``..``last``; open items whose owner is away (with the cover to suggest).

    A stage whose owner is away but covered is not a gap; an item of an away owner is
    listed either way, so that someone picks it up.
    """
    gaps = structural_gaps(people, workflows, stages, first, last)
    gaps.extend(item_gap(it, people, first, last) for it in items if item_has_gap(it, people, first, last))
    return gaps
