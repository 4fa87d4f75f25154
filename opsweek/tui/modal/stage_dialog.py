"""Edit a stage of a workflow: name, owner, SOP, max days, handoff SLA — and why, when the
owner changes (as when an item is reassigned). An empty field clears it (not the name)."""

from __future__ import annotations

from opsweek import inputs
from opsweek.errors import InputError
from opsweek.store.records import Person, Stage
from opsweek.text import unknown
from opsweek.tui.modal.form_dialog import FormDialog, FormField


def check_owner(typed: str, people: dict[str, Person], field: str = "owner") -> None:
    handle = typed.strip().lower()
    if not handle:
        return
    if handle not in people:
        raise InputError(f"{field}: " + unknown("person", handle, people))
    if not people[handle].active:
        raise InputError(f"{field}: {handle} is inactive (accepted: an active person's handle)")


def check_stage(values: dict, people: dict[str, Person]) -> None:
    if "name" in values and not values["name"]:
        raise InputError("name is empty (accepted: the stage's name)")
    check_owner(values.get("owner", ""), people)
    if values.get("max_days"):
        inputs.check_max_days(values["max_days"])
    if values.get("handoff_sla"):
        inputs.check_duration(values["handoff_sla"], "handoff SLA")
    return None


def stage_values(stage: Stage) -> dict[str, str]:
    """The stage's fields as the form shows them."""
    max_days = "" if stage.max_days is None else f"{stage.max_days:g}"
    return {"name": stage.name, "owner": stage.owner or "", "sop": stage.sop or "", "max_days": max_days,
            "handoff_sla": stage.handoff_sla or ""}


class StageDialog(FormDialog):
    """Dismisses with the typed fields (and ``reason``), or None."""

    def __init__(self, stage: Stage, people: dict[str, Person]):
        current = stage_values(stage)
        fields = [
            FormField("name", "Name", current["name"]),
            FormField("owner", "Owner", current["owner"], "a handle (empty: nobody)",
                      suggestions=[h for h, p in people.items() if p.active]),
            FormField("sop", "SOP (URL or path)", current["sop"], "https://wiki.example.com/sop/…"),
            FormField("max_days", "Max days in stage before an item is stuck", current["max_days"], "e.g. 3"),
            FormField("handoff_sla", "Handoff SLA (time to accept a handoff into it)", current["handoff_sla"],
                      "48h, 2d, 2bd (empty: the default)"),
            FormField("reason", "Reason, if the owner changes (optional, kept in the log)", "",
                      "e.g. agreed in the session"),
        ]
        super().__init__(f"Stage {stage.workflow}/{stage.key}", fields,
                         check=lambda values: check_stage(values, people), dialog_id="stage-dialog")
