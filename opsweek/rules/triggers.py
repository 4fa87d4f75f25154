"""The audit's view of triggers that fire (SPEC.md "System audit", issue 12): a workflow's
trigger may be a schedule or a workflow that feeds it, and feeding a paused or retired
workflow is a broken connection; a schedule whose owner is unavailable is an ownership gap.
Standard library only; ``rules.audit_layers`` and ``rules.gaps`` call these.
"""

from __future__ import annotations


def fed_by(workflows) -> dict[str, list[str]]:
    """workflow key -> the keys of the workflows that feed it."""
    out: dict[str, list[str]] = {}
    for workflow in workflows:
        for target in getattr(workflow, "feeds", None) or []:
            out.setdefault(target, []).append(workflow.key)
    return out


def trigger_missing(workflow, feeders: list[str] | tuple = ()) -> list[str]:
    """What the triggers layer misses: nothing when the workflow has a schedule, a workflow
    that feeds it, or at least a described trigger."""
    if getattr(workflow, "recurring", None) or feeders or (workflow.trigger or "").strip():
        return []
    return ["no trigger"]


def feed_problems(workflow, statuses: dict[str, str]) -> list[str]:
    """Connections to workflows that cannot take the work: fed ones that are paused or retired."""
    problems = []
    for target in getattr(workflow, "feeds", None) or []:
        status = statuses.get(target)
        if status in ("paused", "retired"):
            problems.append(f"feeds {target}, which is {status}")
    return problems


def schedule_owner_gaps(people: dict, workflows, first, last) -> list:
    """Recurring schedules of active workflows whose owner is inactive, unknown, or away
    in ``first``..``last`` with no cover (SPEC "Ownership gap"); as ``rules.Gap`` with
    subject "recurring" and the schedule's key in ``stage``. A schedule with no owner of
    its own takes the first stage's, which the stage's own gap already covers."""
    from opsweek.rules.availability import owner_problem
    from opsweek.rules.gaps import Gap

    gaps = []
    for workflow in workflows:
        if getattr(workflow, "status", "active") != "active":
            continue
        for schedule in getattr(workflow, "recurring", None) or []:
            if not schedule.owner:
                continue
            problem, cover = owner_problem(schedule.owner, people, first, last)
            if problem and not cover:
                gaps.append(Gap("recurring", workflow.key, schedule.key, None, schedule.owner, problem, None))
    return gaps
