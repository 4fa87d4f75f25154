"""Writing the team file (SPEC.md "Files"): the current system as TOML that diffs well.

``export(store)`` writes settings, people (with their away periods), workflows and their
stages in a fixed order and layout — settings in the order of ``inputs.SETTINGS``,
people by handle, workflows by key, stages in position order, fields in the order SPEC
shows them, fields at their default and settings never set left out — so the same system always gives the same
bytes, and importing the file right after changes nothing (``opsweek.importing``).

Standard library only. ``tomllib`` reads TOML but does not write it, so the few value
kinds a team file holds (strings, numbers, booleans, dates as strings, small tables)
are written here, strings as TOML basic strings with every character TOML forbids
escaped.
"""

from __future__ import annotations

import json
import math

from opsweek import inputs
from opsweek.store import Store, read

HEADER = ("# opsweek team file, written by 'opsweek team export'.\n"
          "# Edit it and 'opsweek import' it; 'opsweek import --dry-run' shows what would change.\n")

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def string(value: str) -> str:
    """``value`` as a TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        elif 0xD800 <= ord(char) <= 0xDFFF:  # a lone surrogate cannot be written as UTF-8
            out.append("\\uFFFD")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def value(item) -> str:
    """A TOML value for the kinds a team file holds."""
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int):
        return str(item)
    if isinstance(item, float):
        if math.isinf(item):
            return "inf" if item > 0 else "-inf"
        if item == int(item) and abs(item) < 1e15:
            return str(int(item))
        return repr(item)
    if isinstance(item, str):
        return string(item)
    if isinstance(item, dict):
        if not item:
            return "{}"
        return "{ " + ", ".join(f"{key(k)} = {value(v)}" for k, v in item.items()) + " }"
    if isinstance(item, (list, tuple)):
        return "[" + ", ".join(value(v) for v in item) + "]"
    raise TypeError(f"cannot write {type(item).__name__} to a team file")


def key(name: str) -> str:
    """A bare key when TOML allows one, else a quoted key."""
    if name and all(c.isascii() and (c.isalnum() or c in "-_") for c in name):
        return name
    return string(name)


def _fields(pairs) -> list[str]:
    return [f"{key(k)} = {value(v)}" for k, v in pairs]


def settings_pairs(store: Store) -> list[tuple[str, object]]:
    """The settings the database holds, in the order of ``inputs.SETTINGS`` (a setting
    never set is at its default, and left out so that importing the file changes nothing)."""
    stored = read.stored_settings(store)
    pairs = []
    for name in inputs.SETTINGS:
        if name not in stored:
            continue
        if name == "step_minutes":
            minutes = json.loads(stored[name] or "{}")
            pairs.append((name, {k: minutes[k] for k in sorted(minutes)}))
        else:
            pairs.append((name, stored[name]))
    return pairs


def export(store: Store) -> str:
    """The whole system as team-file text (ends in a newline)."""
    blocks: list[list[str]] = []
    pairs = settings_pairs(store)
    if pairs:
        blocks.append(["[settings]", *_fields(pairs)])
    for person in read.people(store).values():
        pairs = [("handle", person.handle), ("name", person.name)]
        if person.role:
            pairs.append(("role", person.role))
        if person.cover:
            pairs.append(("cover", person.cover))
        if person.away:
            pairs.append(("away", [{"from": a.start.isoformat(), "to": a.end.isoformat()} for a in person.away]))
        if not person.active:
            pairs.append(("active", False))
        blocks.append(["[[people]]", *_fields(pairs)])
    stages: dict[str, list] = {}
    for stage in read.all_stages(store):
        stages.setdefault(stage.workflow, []).append(stage)
    for wf in read.workflows(store):
        pairs = [("key", wf.key), ("name", wf.name)]
        for field in ("outcome", "owner", "trigger"):
            if getattr(wf, field):
                pairs.append((field, getattr(wf, field)))
        if wf.status != "active":
            pairs.append(("status", wf.status))
        if wf.feeds:
            pairs.append(("feeds", list(wf.feeds)))
        blocks.append(["[[workflows]]", *_fields(pairs)])
        for schedule in wf.recurring:
            pairs = [("key", schedule.key), ("title", schedule.title), ("schedule", schedule.schedule)]
            if schedule.owner:
                pairs.append(("owner", schedule.owner))
            if schedule.due:
                pairs.append(("due", f"+{schedule.due}" if not schedule.due.startswith(("+", "-")) else schedule.due))
            if schedule.catch_up != "latest":
                pairs.append(("catch_up", schedule.catch_up))
            blocks.append(["[[workflows.recurring]]", *_fields(pairs)])
        for stage in stages.get(wf.key, []):
            pairs = [("key", stage.key), ("name", stage.name)]
            for field in ("owner", "sop", "max_days", "handoff_sla"):
                if getattr(stage, field) is not None:
                    pairs.append((field, getattr(stage, field)))
            if stage.retired:
                pairs.append(("retired", True))
            blocks.append(["[[workflows.stages]]", *_fields(pairs)])
    return HEADER + "".join("\n" + "\n".join(block) + "\n" for block in blocks)
