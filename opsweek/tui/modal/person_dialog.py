"""Add a person, or edit one: handle (new people only), name, role, cover."""

from __future__ import annotations

from opsweek.errors import InputError
from opsweek.store.records import Person
from opsweek.text import is_slug, unknown
from opsweek.tui.modal.form_dialog import FormDialog, FormField


def check_person(values: dict, people: dict[str, Person], *, new: bool) -> str | None:
    """The problem with what was typed, or None (the core checks again when it writes)."""
    handle = values.get("handle", "").lower()
    if new:
        if not is_slug(handle):
            return f"handle {values.get('handle', '')!r} is not a slug (accepted: lowercase letters, digits, - and _)"
        if handle in people:
            return f"{handle} is already on the team"
    if not values.get("name"):
        return "name is empty (accepted: the person's name)"
    cover = values.get("cover", "").lower()
    if cover:
        if cover == handle:
            return f"{handle} cannot cover for themselves"
        if cover not in people:
            raise InputError("cover: " + unknown("person", cover, people))
        if not people[cover].active:
            return f"cover: {cover} is inactive (accepted: an active person's handle, or empty for none)"
    return None


class PersonDialog(FormDialog):
    """Dismisses with ``{handle, name, role, cover}`` (cover "" for none), or None."""

    def __init__(self, people: dict[str, Person], person: Person | None = None):
        new = person is None
        fields = [
            FormField("handle", "Handle (lowercase, unique)", "" if new else person.handle, "e.g. kai",
                      disabled=not new),
            FormField("name", "Name", "" if new else person.name, "e.g. Kai Lee"),
            FormField("role", "Role", "" if new else person.role, "e.g. Support specialist (optional)"),
            FormField("cover", "Cover (who covers when they are away)", "" if new else (person.cover or ""),
                      "a handle, or empty for none",
                      suggestions=[h for h, p in people.items() if p.active]),
        ]
        title = "Add a person to the team" if new else f"Edit {person.handle}"
        super().__init__(title, fields, check=lambda values: check_person(values, people, new=new),
                         dialog_id="person-dialog")
