"""The fixed agenda of the weekly session (SPEC.md, "The session")."""

from __future__ import annotations

from typing import NamedTuple


class Step(NamedTuple):
    key: str
    title: str
    target_minutes: int
    # a step added to the agenda later: sessions closed before it came had no such step, so
    # their notes list it only when they spent time on it or had something on it
    added_later: bool = False


STEPS: tuple[Step, ...] = (
    Step("attendance", "Attendance", 3),
    Step("actions", "Last week's actions", 10),
    Step("workflows", "Workflows", 10),
    Step("stuck", "Stuck items", 15),
    Step("handoffs", "Overdue handoffs", 10),
    Step("gaps", "Ownership gaps", 5),
    Step("issues", "Issues", 10, added_later=True),
    Step("wrapup", "Wrap-up", 5),
)
STEP_KEYS = tuple(step.key for step in STEPS)


def step_targets(overrides: dict[str, int] | None = None) -> dict[str, int]:
    """Target minutes per step: the defaults above, with the team file's overrides."""
    targets = {step.key: step.target_minutes for step in STEPS}
    targets.update(overrides or {})
    return targets
