"""The rules of SPEC.md as pure functions: overdue handoffs, escalation, stuck items,
ownership gaps, the five-layer system audit and the what-if pressure test.

Inputs are any objects with the attributes of the models in ``opsweek.model``
(pydantic models, or the light records the quick CLI paths build); nothing here reads
the database, the clock or the environment — ``now`` is always passed in. Standard
library only, so ``opsweek mine`` can use it without importing pydantic.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from opsweek.clock import Duration, humanize, parse_duration
from opsweek.records import field, record  # not dataclasses: see opsweek/records.py

DEFAULT_SETTINGS = {"handoff_sla": "48h", "stale_after": "7d", "escalate_after": "24h"}
RHYTHM_DAYS = 14
OPEN_STATUSES = ("open", "blocked")


def setting(settings: dict | None, key: str) -> Duration:
    """A duration setting with its SPEC.md default."""
    value = (settings or {}).get(key) or DEFAULT_SETTINGS[key]
    return parse_duration(value, key)


# --- handoffs ------------------------------------------------------------------------


def handoff_due_at(sent_at: datetime, stage_sla: str | None, settings: dict | None = None) -> datetime:
    """``sent_at`` plus the receiving stage's ``handoff_sla`` (default from settings, 48h)."""
    sla = parse_duration(stage_sla) if stage_sla else setting(settings, "handoff_sla")
    return sla.after(sent_at)


def is_overdue(handoff, now: datetime) -> bool:
    """Not yet accepted, and now is past ``due_at``."""
    return handoff.accepted_at is None and now > handoff.due_at


def lateness(handoff, now: datetime) -> timedelta:
    """How far past its due time a handoff is (zero when not late)."""
    return max(now - handoff.due_at, timedelta(0))


def escalation_due(handoff, now: datetime, settings: dict | None = None) -> bool:
    """Overdue by more than ``escalate_after`` and not escalated yet."""
    if not is_overdue(handoff, now) or handoff.escalated_at is not None:
        return False
    return now > setting(settings, "escalate_after").after(handoff.due_at)


def overdue_handoffs(handoffs: Iterable, now: datetime) -> list:
    """Overdue handoffs, the latest (most overdue) first."""
    late = [h for h in handoffs if is_overdue(h, now)]
    late.sort(key=lambda h: (h.due_at, h.id or 0))
    return late


# --- stuck items ---------------------------------------------------------------------


@record(frozen=True)
class Reason:
    """Why an item is stuck: ``kind`` is blocked / in_stage / stale / past_due."""

    kind: str
    text: str

    def __str__(self) -> str:
        return self.text


def stuck_reasons(item, stage, now: datetime, today: date, settings: dict | None = None) -> list[Reason]:
    """Every reason an open or blocked item is stuck (empty when it is not).

    Time in stage counts from ``stage_entered_at`` (an edit does not reset it, a stage
    move does); staleness from ``last_activity_at``; a due date passes after its day.
    """
    if item.status not in OPEN_STATUSES:
        return []
    reasons: list[Reason] = []
    if item.status == "blocked":
        why = f"blocked: {item.blocked_reason}" if item.blocked_reason else "blocked"
        reasons.append(Reason("blocked", why))
    max_days = getattr(stage, "max_days", None) if stage is not None else None
    if max_days:
        in_stage = now - item.stage_entered_at
        if in_stage > timedelta(days=max_days):
            reasons.append(
                Reason("in_stage", f"{humanize(in_stage)} in {stage.name} (max {_days(max_days)})")
            )
    stale = setting(settings, "stale_after")
    if stale.exceeded(item.last_activity_at, now):
        reasons.append(Reason("stale", f"no activity for {humanize(now - item.last_activity_at)}"))
    if item.due is not None and item.due < today:
        reasons.append(Reason("past_due", f"due {item.due.isoformat()} passed"))
    return reasons


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _days(value: float) -> str:
    return f"{int(value)}d" if value == int(value) else f"{value}d"


def stuck_items(items: Iterable, stages: dict, now: datetime, today: date,
                settings: dict | None = None) -> list[tuple[object, list[Reason]]]:
    """``(item, reasons)`` for every stuck item, longest in its stage first.

    ``stages`` maps ``(workflow, stage key)`` to the stage.
    """
    found = []
    for item in items:
        reasons = stuck_reasons(item, stages.get((item.workflow, item.stage)), now, today, settings)
        if reasons:
            found.append((item, reasons))
    found.sort(key=lambda pair: (pair[0].stage_entered_at, pair[0].id or 0))
    return found


# --- availability and ownership gaps -------------------------------------------------


def is_away(person, first: date, last: date) -> bool:
    """Away at any point between ``first`` and ``last`` (inclusive)."""
    return any(p.start <= last and p.end >= first for p in (person.away or []))


def available(handle: str | None, people: dict, first: date, last: date,
              also_away: Iterable[str] = ()) -> bool:
    """A known, active person who is not away in the period nor in ``also_away``."""
    if not handle or handle not in people:
        return False
    person = people[handle]
    return bool(person.active) and handle not in set(also_away) and not is_away(person, first, last)


def cover_for(handle: str | None, people: dict, first: date, last: date,
              also_away: Iterable[str] = ()) -> str | None:
    """Who covers ``handle`` in the period: their named cover if that person is available."""
    person = people.get(handle) if handle else None
    if person is None or not person.cover:
        return None
    also_away = set(also_away)
    return person.cover if available(person.cover, people, first, last, also_away) else None


def owner_problem(handle: str | None, people: dict, first: date, last: date,
                  also_away: Iterable[str] = ()) -> tuple[str | None, str | None]:
    """``(problem, cover)`` for an owner: no problem → ``(None, None)``.

    problem is "no owner", "unknown owner x", "x is inactive", "x is away, no cover",
    or "x is away" (with the cover who takes over).
    """
    also_away = set(also_away)
    if not handle:
        return "no owner", None
    person = people.get(handle)
    if person is None:
        return f"unknown owner {handle}", None
    if not person.active:
        return f"{handle} is inactive", None
    if handle in also_away or is_away(person, first, last):
        cover = cover_for(handle, people, first, last, also_away)
        if cover:
            return f"{handle} is away", cover
        if person.cover:
            return f"{handle} is away, and cover {person.cover} is unavailable", None
        return f"{handle} is away, no cover", None
    return None, None


@record
class Gap:
    """An ownership gap: ``subject`` is "workflow", "stage" or "item"."""

    subject: str
    workflow: str
    stage: str | None
    item_id: int | None
    owner: str | None
    problem: str
    suggestion: str | None  # who could take it (the cover), if anyone

    @property
    def label(self) -> str:
        if self.subject == "workflow":
            return self.workflow
        if self.subject in ("stage", "recurring"):  # a recurring schedule's key is in ``stage``
            return f"{self.workflow}/{self.stage}"
        return f"#{self.item_id}"


def ownership_gaps(people: dict, workflows: Iterable, stages: Iterable, items: Iterable,
                   first: date, last: date) -> list[Gap]:
    """Stages and workflows with no owner, an inactive owner, or an owner away without
    cover in ``first``..``last``; open items whose owner is away (with the cover to suggest).

    A stage whose owner is away but covered is not a gap; an item of an away owner is
    listed either way, so that someone picks it up.
    """
    gaps: list[Gap] = []
    for wf in workflows:
        if getattr(wf, "status", "active") != "active":
            continue
        problem, cover = owner_problem(wf.owner, people, first, last)
        if problem and not cover:
            gaps.append(Gap("workflow", wf.key, None, None, wf.owner, problem, None))
    active = {wf.key for wf in workflows if getattr(wf, "status", "active") == "active"}
    for stage in stages:
        if stage.workflow not in active:
            continue
        problem, cover = owner_problem(stage.owner, people, first, last)
        if problem and not cover:
            gaps.append(Gap("stage", stage.workflow, stage.key, None, stage.owner, problem, None))
    for item in items:
        if item.status not in OPEN_STATUSES or not item.owner:
            continue
        person = people.get(item.owner)
        if person is None or not person.active or is_away(person, first, last):
            problem, cover = owner_problem(item.owner, people, first, last)
            gaps.append(Gap("item", item.workflow, item.stage, item.id, item.owner, problem, cover))
    return gaps


# --- system audit --------------------------------------------------------------------

LAYERS = ("ownership", "triggers", "connections", "visibility", "rhythm")


@record
class AuditResult:
    workflow: str
    missing: dict[str, list[str]] = field(default_factory=dict)  # layer -> what is missing

    @property
    def score(self) -> int:
        return sum(1 for layer in LAYERS if not self.missing.get(layer))

    def passed(self, layer: str) -> bool:
        return not self.missing.get(layer)

    def __str__(self) -> str:
        return f"{self.score}/5"


def audit_workflow(workflow, stages: list, people: dict, last_review: datetime | None,
                   now: datetime, *, feeders: list[str] | tuple = (), statuses: dict | None = None) -> AuditResult:
    """Score one workflow on the five layers, naming exactly what is missing.

    ``stages`` are the workflow's stages in order; ``last_review`` the latest time it was
    reviewed in a meeting; ``feeders`` the workflows that feed it, ``statuses`` every
    workflow's status (for feeds into paused or retired ones).
    """
    from opsweek import triggers

    result = AuditResult(workflow.key)
    ownership = []
    for stage in stages:
        owner = people.get(stage.owner) if stage.owner else None
        if not stage.owner:
            ownership.append(f"stage {stage.key} has no owner")
        elif owner is None:
            ownership.append(f"stage {stage.key} owner {stage.owner} is not on the team")
        elif not owner.active:
            ownership.append(f"stage {stage.key} owner {stage.owner} is inactive")
    if not stages:
        ownership.append("the workflow has no stages")
    result.missing["ownership"] = ownership
    result.missing["triggers"] = triggers.trigger_missing(workflow, feeders)
    result.missing["connections"] = [
        f"{before.key} → {after.key} has no handoff SLA"
        for before, after in zip(stages, stages[1:])
        if not after.handoff_sla
    ] + triggers.feed_problems(workflow, statuses or {})
    result.missing["visibility"] = [f"stage {s.key} has no SOP" for s in stages if not s.sop]
    if last_review is None:
        result.missing["rhythm"] = ["never reviewed in a meeting"]
    elif now - last_review > timedelta(days=RHYTHM_DAYS):
        result.missing["rhythm"] = [f"last reviewed {(now - last_review).days} days ago"]
    else:
        result.missing["rhythm"] = []
    return result


def audit(workflows: Iterable, stages_by_workflow: dict, people: dict,
          last_reviews: dict, now: datetime) -> list[AuditResult]:
    """The system audit of every workflow (retired ones left out)."""
    from opsweek import triggers

    workflows = list(workflows)
    feeders = triggers.fed_by(workflows)
    statuses = {wf.key: getattr(wf, "status", "active") for wf in workflows}
    return [
        audit_workflow(wf, stages_by_workflow.get(wf.key, []), people, last_reviews.get(wf.key), now,
                       feeders=feeders.get(wf.key, ()), statuses=statuses)
        for wf in workflows
        if getattr(wf, "status", "active") != "retired"
    ]


# --- what-if -------------------------------------------------------------------------


@record
class LostOwner:
    subject: str  # "workflow" / "stage" / "item" / "handoff"
    label: str
    workflow: str
    stage: str | None
    owner: str
    cover: str | None  # who would cover, None when nobody


@record
class Breach:
    workflow: str
    stage: str
    why: str


@record
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
        if lost and handoff.to_owner in gone:
            item_wf = getattr(handoff, "workflow", "")
            result.handoffs.append(
                LostOwner("handoff", f"handoff {handoff.id} (#{handoff.item_id})", item_wf,
                          handoff.to_stage, handoff.to_owner, new_owner)
            )
    result.load = {
        handle: (float(load_now.get(handle, 0)), float(load_then.get(handle, 0)))
        for handle in sorted(set(load_now) | set(load_then))
    }

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
                                          f"no owner, with {_count(len(items_here), 'item')} waiting and "
                                          f"{_count(len(into), 'handoff')} pending"))
            continue
        nobody = [h for h in into if takes_over(h.to_owner)[0] and not takes_over(h.to_owner)[1]]
        if nobody:
            result.breaches.append(Breach(stage.workflow, stage.key,
                                          f"{_count(len(nobody), 'pending handoff')} would reach nobody"))
            continue
        if stage.max_days and items_here:
            average = sum(((now - i.stage_entered_at).total_seconds() for i in items_here)) / len(items_here) / 86400
            before, after = result.load.get(owner, (0.0, 0.0))
            factor = (after / before) if before else volume
            projected = average * max(factor, volume if volume > 1 else factor)
            if projected > stage.max_days and (factor > 1 or volume > 1):
                result.breaches.append(Breach(
                    stage.workflow, stage.key,
                    f"projected {projected:.1f}d in stage vs max {_days(stage.max_days)} "
                    f"({owner} at {after:g} items, was {before:g})",
                ))
    if gone or volume != 1:
        normal = what_if([], 1.0, people, workflows, stages, open_items, pending, now, first, last)
        usual = {(b.workflow, b.stage) for b in normal.breaches}
        result.already = [b for b in result.breaches if (b.workflow, b.stage) in usual]
        result.breaches = [b for b in result.breaches if (b.workflow, b.stage) not in usual]
    return result
