"""System audit (SPEC.md): each workflow scored on the five layers that make a process a
system — ownership (every stage has an active owner), triggers (the workflow has a
trigger: a schedule, a workflow that feeds it, or a described one; rules.triggers), connections (every stage but the last hands off somewhere with an SLA),
visibility (every stage links its SOP), rhythm (reviewed in a meeting in the last 14
days). The score is n/5 with what is missing.

Every finding is a structured :class:`Finding` (workflow, layer, stage, what to set to fix
it), so screens and commands never parse its text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from opsweek.rules import triggers
from opsweek.rules.gaps import handoff_gap, structural_gaps
from opsweek.rules.receivers import waits_on_nobody

LAYERS = ("ownership", "triggers", "connections", "visibility", "rhythm")
RHYTHM_DAYS = 14


@dataclass(slots=True)
class Finding:
    """One thing missing from a workflow's system, and how it is fixed.

    ``subject`` ("stage" or "workflow") and ``fix`` (the field to set: owner, trigger,
    handoff_sla, sop, or "review" for a session's review) say what fixes it; ``scored`` is
    False for a gap of this week only (an owner away with no cover), not in the score.
    """

    workflow: str
    layer: str
    text: str
    stage: str | None = None
    subject: str = "workflow"
    fix: str = ""
    owner: str | None = None
    scored: bool = True
    handoff_id: int | None = None  # for a handoff nobody can accept

    @property
    def fixable(self) -> bool:
        return self.fix in ("owner", "receiver")


@dataclass(slots=True)
class AuditResult:
    workflow: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def missing(self) -> dict[str, list[str]]:
        """Layer -> the texts of what is missing (every layer present)."""
        found: dict[str, list[str]] = {layer: [] for layer in LAYERS}
        for f in self.findings:
            if f.scored:
                found[f.layer].append(f.text)
        return found

    @property
    def score(self) -> int:
        return sum(1 for layer in LAYERS if self.passed(layer))

    def passed(self, layer: str) -> bool:
        return not any(f.layer == layer and f.scored for f in self.findings)

    def __str__(self) -> str:
        return f"{self.score}/5"


def audit_workflow(workflow, stages: list, people: dict, last_review: datetime | None,
                   now: datetime, *, feeders: list[str] | tuple = (), statuses: dict | None = None) -> AuditResult:
    """Score one workflow on the five layers, naming exactly what is missing.

    ``stages`` are the workflow's stages in order; ``last_review`` the latest time it was
    reviewed in a meeting; ``feeders`` the workflows that feed it, ``statuses`` every
    workflow's status (for feeds into paused or retired ones).
    """
    key = workflow.key
    result = AuditResult(key)
    add = result.findings.append
    for stage in stages:
        owner = people.get(stage.owner) if stage.owner else None
        text = None
        if not stage.owner:
            text = f"stage {stage.key} has no owner"
        elif owner is None:
            text = f"stage {stage.key} owner {stage.owner} is not on the team"
        elif not owner.active:
            text = f"stage {stage.key} owner {stage.owner} is inactive"
        if text:
            add(Finding(key, "ownership", text, stage.key, "stage", "owner", stage.owner))
    if not stages:
        add(Finding(key, "ownership", "the workflow has no stages", None, "workflow", "stages"))
    for text in triggers.trigger_missing(workflow, feeders):
        add(Finding(key, "triggers", text, None, "workflow", "trigger"))
    for before, after in zip(stages, stages[1:]):
        if not after.handoff_sla:
            add(Finding(key, "connections", f"{before.key} → {after.key} has no handoff SLA",
                        after.key, "stage", "handoff_sla"))
    for text in triggers.feed_problems(workflow, statuses or {}):
        add(Finding(key, "connections", text, None, "workflow", "feeds"))
    for stage in stages:
        if not stage.sop:
            add(Finding(key, "visibility", f"stage {stage.key} has no SOP", stage.key, "stage", "sop"))
    if last_review is None:
        add(Finding(key, "rhythm", "never reviewed in a meeting", None, "workflow", "review"))
    elif now - last_review > timedelta(days=RHYTHM_DAYS):
        add(Finding(key, "rhythm", f"last reviewed {(now - last_review).days} days ago", None, "workflow",
                    "review"))
    return result


def audit(workflows: Iterable, stages_by_workflow: dict, people: dict,
          last_reviews: dict, now: datetime) -> list[AuditResult]:
    """The system audit of every workflow (retired ones left out)."""
    workflows = list(workflows)
    feeders = triggers.fed_by(workflows)
    statuses = {wf.key: getattr(wf, "status", "active") for wf in workflows}
    return [
        audit_workflow(wf, stages_by_workflow.get(wf.key, []), people, last_reviews.get(wf.key), now,
                       feeders=feeders.get(wf.key, ()), statuses=statuses)
        for wf in workflows
        if getattr(wf, "status", "active") != "retired"
    ]


def this_week_findings(results: list[AuditResult], people: dict, workflows: Iterable, stages: Iterable,
                       first: date, last: date, handoffs: Iterable = ()) -> list[Finding]:
    """Ownership gaps of this week (an owner away with no cover, a pending handoff nobody
    can accept) that the score does not already name, as unscored findings beside each
    workflow's own."""
    gaps = structural_gaps(people, workflows, stages, first, last)
    gaps += [handoff_gap(h, people, first, last) for h in handoffs if waits_on_nobody(h, people, first, last)]
    out: list[Finding] = []
    for result in results:
        scored = {f.stage for f in result.findings if f.layer == "ownership" and f.stage}
        for gap in gaps:
            if gap.workflow != result.workflow or (gap.subject == "stage" and gap.stage in scored):
                continue
            if gap.subject == "handoff":
                out.append(Finding(result.workflow, "ownership",
                                   f"{gap.label} into {gap.stage} {gap.problem}", gap.stage, "handoff",
                                   "receiver", gap.owner, scored=False, handoff_id=gap.handoff_id))
                continue
            where = f"stage {gap.stage}" if gap.subject == "stage" else "the workflow"
            out.append(Finding(result.workflow, "ownership", f"{where}: {gap.problem} this week",
                               gap.stage, gap.subject, "owner", gap.owner, scored=False))
    return out
