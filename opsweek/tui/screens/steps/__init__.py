"""The seven steps of the weekly session (``opsweek.agenda``), one widget each."""

from opsweek.tui.screens.steps.actions import ActionsStep
from opsweek.tui.screens.steps.attendance import AttendanceStep
from opsweek.tui.screens.steps.gaps import OwnershipGapsStep
from opsweek.tui.screens.steps.handoffs import OverdueHandoffsStep
from opsweek.tui.screens.steps.stuck import StuckItemsStep
from opsweek.tui.screens.steps.workflows import WorkflowsStep
from opsweek.tui.screens.steps.wrapup import WrapUpStep

STEP_WIDGETS = {
    "attendance": AttendanceStep,
    "actions": ActionsStep,
    "workflows": WorkflowsStep,
    "stuck": StuckItemsStep,
    "handoffs": OverdueHandoffsStep,
    "gaps": OwnershipGapsStep,
    "wrapup": WrapUpStep,
}

__all__ = ["STEP_WIDGETS", "ActionsStep", "AttendanceStep", "OwnershipGapsStep", "OverdueHandoffsStep",
           "StuckItemsStep", "WorkflowsStep", "WrapUpStep"]
