"""Raise an issue from any step of the session: its text, and what it is about (the
highlighted row's item or workflow, prefilled; empty: nothing in particular)."""

from __future__ import annotations

from dataclasses import dataclass

from opsweek.errors import OpsweekError
from opsweek.store import read
from opsweek.text import unknown
from opsweek.tui.modal.form_dialog import FormDialog, FormField


@dataclass(frozen=True)
class NewIssue:
    """A checked issue, ready for ``changes.raise_issue``."""

    text: str
    item_id: int | None = None
    workflow: str | None = None


def about_text(item_id: int | None, workflow: str | None) -> str:
    """What the "about" field shows for an item (``#42``) or a workflow (its key)."""
    if item_id is not None:
        return f"#{item_id}"
    return workflow or ""


def parse_about(typed: str, team: read.Team) -> tuple[int | None, str | None]:
    """``(item_id, workflow)`` from the "about" field: ``#42`` / ``42``, a workflow key, or nothing.

    Whether the item exists is the change's to say (it reads it inside its write)."""
    value = typed.strip()
    if not value:
        return None, None
    digits = value.removeprefix("#")
    if digits.isascii() and digits.isdigit() and len(digits) <= 18:
        return int(digits), None
    keys = [w.key for w in team.workflows]
    if value.lower() in keys:
        return None, value.lower()
    raise OpsweekError(unknown("workflow", value, keys) + " (accepted: an item like #42, a workflow key, or nothing)")


class IssueDialog(FormDialog):
    """Dismisses with ``{"text": …, "about": …}`` (see :func:`parse_about`), or None on escape."""

    def __init__(self, team: read.Team, *, text: str = "", about: str = "", problem: str = ""):
        def check(values: dict) -> str | None:
            if not values["text"]:
                return "Type the issue first (what is in the way, in a sentence)"
            parse_about(values["about"], team)  # raises with what is accepted
            return None

        super().__init__("Raise an issue for this session", [
            FormField("text", "The issue", text, "e.g. The courier keeps losing parcels"),
            FormField("about", "About (optional): an item like #42, or a workflow", about,
                      "empty: nothing in particular", suggestions=sorted(w.key for w in team.workflows)),
        ], check=check, dialog_id="issue-dialog",
            hint="enter raises it · tab moves between fields · escape cancels")
        self.first_problem = problem

    def on_mount(self) -> None:
        super().on_mount()
        if self.first_problem:
            self.problem(self.first_problem)
