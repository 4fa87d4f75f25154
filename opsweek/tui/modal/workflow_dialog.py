"""Edit a workflow: name, owner, trigger, outcome, status."""

from __future__ import annotations

from opsweek.errors import InputError
from opsweek.store.changes import WORKFLOW_STATUSES
from opsweek.store.records import Person, Workflow
from opsweek.tui.modal.form_dialog import FormDialog, FormField
from opsweek.tui.modal.stage_dialog import check_owner


def check_workflow(values: dict, people: dict[str, Person]) -> None:
    if not values.get("name"):
        raise InputError("name is empty (accepted: the workflow's name)")
    check_owner(values.get("owner", ""), people)
    if values.get("status", "active").lower() not in WORKFLOW_STATUSES:
        raise InputError(f"status {values['status']!r} is not a status (accepted: {', '.join(WORKFLOW_STATUSES)})")
    return None


def workflow_values(wf: Workflow) -> dict[str, str]:
    return {"name": wf.name, "owner": wf.owner or "", "trigger": wf.trigger or "", "outcome": wf.outcome or "",
            "status": wf.status}


class WorkflowDialog(FormDialog):
    """Dismisses with the typed fields, or None."""

    def __init__(self, wf: Workflow, people: dict[str, Person]):
        current = workflow_values(wf)
        fields = [
            FormField("name", "Name", current["name"]),
            FormField("owner", "Owner (accountable for the whole workflow)", current["owner"],
                      "a handle (empty: nobody)", suggestions=[h for h, p in people.items() if p.active]),
            FormField("trigger", "Trigger (what starts it)", current["trigger"],
                      "e.g. A complaint arrives in the support inbox"),
            FormField("outcome", "Outcome (what the system is for)", current["outcome"],
                      "e.g. Every complaint resolved within 5 days"),
            FormField("status", "Status", current["status"], ", ".join(WORKFLOW_STATUSES),
                      suggestions=list(WORKFLOW_STATUSES)),
        ]
        super().__init__(f"Workflow {wf.key}", fields, check=lambda values: check_workflow(values, people),
                         dialog_id="workflow-dialog")
