"""What-if, the pressure test (SPEC.md): with a set of people marked away (and optionally
the volume multiplied), list the stages, items and pending handoffs that lose their owner,
who would cover them, and which stages would breach their SLA.

``what_if`` is the rule; it runs on the team and the open work in memory (the screen
and ``opsweek whatif`` read them through ``read.whatif_inputs``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from opsweek.rules.availability import available, cover_for
from opsweek.rules.common import OPEN_STATUSES, count, days



@dataclass(slots=True)
class LostOwner:
    subject: str  # "workflow" / "stage" / "item" / "handoff"
    label: str
    workflow: str
    stage: str | None
    owner: str
    cover: str | None  # who would cover, None when nobody


@dataclass(slots=True)
class Breach:
    workflow: str
    stage: str
    why: str


@dataclass(slots=True)
class LoadMove:
    """Open items one person holds this week (``usual``: those already away or inactive
    have handed theirs to their cover) and in the scenario (``then``, × volume).
    ``who`` None is nobody: work whose owner is gone with no one to cover it."""

    who: str | None
    usual: float
    then: float


@dataclass(slots=True)
class WhatIf:
    away: list[str]
    volume: float
    stages: list[LostOwner] = field(default_factory=list)
    workflows: list[LostOwner] = field(default_factory=list)
    items: list[LostOwner] = field(default_factory=list)
    handoffs: list[LostOwner] = field(default_factory=list)
    breaches: list[Breach] = field(default_factory=list)
    already: list[Breach] = field(default_factory=list)  # breaching in a normal week too
    load: dict[str, tuple[float, float]] = field(default_factory=dict)  # handle -> (now, then)
    # the load the scenario moves, biggest gain first, nobody last (see :class:`LoadMove`)
    moves: list[LoadMove] = field(default_factory=list)

    @property
    def to_nobody(self) -> list[LostOwner]:
        return [h for h in self.handoffs if h.cover is None]


def what_if(away: Iterable[str], volume: float, people: dict, workflows: Iterable,
            stages: Iterable, items: Iterable, handoffs: Iterable, now: datetime,
            first: date, last: date) -> WhatIf:
    """The pressure test: with ``away`` out (and work × ``volume``), who loses what.

    Work of an away person goes to their cover when that cover is available, else to
    nobody. A stage breaches when it would have no owner while work waits there, when
    pending handoffs into it would reach nobody, or when the projected time in stage
    (the current average, scaled by volume and by the load its owner takes on) passes
    ``max_days``. ``breaches`` are the stages the scenario breaks; those that breach in
    a normal week too (nobody away, volume 1) are listed apart, in ``already``.
    """
    away = sorted(set(away))
    gone = set(away)
    result = WhatIf(away=away, volume=volume)

    def takes_over(handle: str | None) -> tuple[bool, str | None]:
        """(loses owner?, new owner) for work owned by ``handle``."""
        if handle and (handle in gone or not available(handle, people, first, last)):
            return True, cover_for(handle, people, first, last, gone)
        return False, handle

    workflows = list(workflows)
    stages = list(stages)
    open_items = [i for i in items if i.status in OPEN_STATUSES]
    pending = [h for h in handoffs if h.accepted_at is None]

    for wf in workflows:
        lost, cover = takes_over(wf.owner)
        if lost and wf.owner in gone:
            result.workflows.append(LostOwner("workflow", wf.key, wf.key, None, wf.owner, cover))
    stage_owner = {}
    for stage in stages:
        lost, cover = takes_over(stage.owner)
        stage_owner[(stage.workflow, stage.key)] = cover if lost else stage.owner
        if lost and stage.owner in gone:
            result.stages.append(
                LostOwner("stage", f"{stage.workflow}/{stage.key}", stage.workflow, stage.key, stage.owner, cover)
            )

    load_now: Counter = Counter()
    load_then: Counter = Counter()
    for item in open_items:
        if item.owner:
            load_now[item.owner] += 1
        lost, new_owner = takes_over(item.owner)
        if new_owner:
            load_then[new_owner] += volume
        if lost and item.owner in gone:
            result.items.append(
                LostOwner("item", f"#{item.id} {item.title}", item.workflow, item.stage, item.owner, new_owner)
            )
    for handoff in pending:
        lost, new_owner = takes_over(handoff.to_owner)
        # the scenario's people, and anyone it already waits on who cannot accept it
        if lost and (handoff.to_owner in gone or new_owner is None):
            item_wf = getattr(handoff, "workflow", "")
            result.handoffs.append(
                LostOwner("handoff", f"handoff {handoff.id} (#{handoff.item_id})", item_wf,
                          handoff.to_stage, handoff.to_owner, new_owner)
            )
    result.load = {
        handle: (float(load_now.get(handle, 0)), float(load_then.get(handle, 0)))
        for handle in sorted(set(load_now) | set(load_then))
    }
    result.moves = load_moves(open_items, volume, people, gone, first, last)

    waiting = defaultdict(list)
    for item in open_items:
        waiting[(item.workflow, item.stage)].append(item)
    pending_into = defaultdict(list)
    for handoff in pending:
        pending_into[(getattr(handoff, "workflow", ""), handoff.to_stage)].append(handoff)
    for stage in stages:
        key = (stage.workflow, stage.key)
        items_here = waiting.get(key, [])
        owner = stage_owner.get(key)
        into = pending_into.get(key, [])
        if not owner and (items_here or into):
            result.breaches.append(Breach(stage.workflow, stage.key,
                                          f"no owner, with {count(len(items_here), 'item')} waiting and "
                                          f"{count(len(into), 'handoff')} pending"))
            continue
        nobody = [h for h in into if takes_over(h.to_owner)[0] and not takes_over(h.to_owner)[1]]
        if nobody:
            result.breaches.append(Breach(stage.workflow, stage.key,
                                          f"{count(len(nobody), 'pending handoff')} would reach nobody"))
            continue
        if stage.max_days and items_here:
            average = sum(((now - i.stage_entered_at).total_seconds() for i in items_here)) / len(items_here) / 86400
            before, after = result.load.get(owner, (0.0, 0.0))
            factor = (after / before) if before else volume
            projected = average * max(factor, volume if volume > 1 else factor)
            if projected > stage.max_days and (factor > 1 or volume > 1):
                result.breaches.append(Breach(
                    stage.workflow, stage.key,
                    f"projected {projected:.1f}d in stage vs max {days(stage.max_days)} "
                    f"({owner} at {after:g} items, was {before:g})",
                ))
    if gone or volume != 1:
        normal = what_if([], 1.0, people, workflows, stages, open_items, pending, now, first, last)
        usual = {(b.workflow, b.stage) for b in normal.breaches}
        result.already = [b for b in result.breaches if (b.workflow, b.stage) in usual]
        result.breaches = [b for b in result.breaches if (b.workflow, b.stage) not in usual]
    return result


def load_moves(open_items: list, volume: float, people: dict, gone: set, first: date, last: date) -> list[LoadMove]:
    """Who holds the open work this week and who would with ``gone`` away (and × ``volume``):
    the rows that differ. Both sides hand the work of people already away or inactive to
    their cover, so only what the scenario itself moves shows; work that would reach
    nobody is counted under ``who=None`` rather than lost."""

    def holder(owner: str | None, out: set) -> str | None:
        if owner and (owner in out or not available(owner, people, first, last)):
            return cover_for(owner, people, first, last, out)
        return owner

    usual: Counter = Counter()
    then: Counter = Counter()
    for item in open_items:
        usual[holder(item.owner, set())] += 1
        then[holder(item.owner, gone)] += volume
    moves = [LoadMove(who, float(usual.get(who, 0)), float(then.get(who, 0)))
             for who in set(usual) | set(then) if usual.get(who, 0) != then.get(who, 0)]
    return sorted(moves, key=lambda m: (m.who is None, -(m.then - m.usual), m.who or ""))
