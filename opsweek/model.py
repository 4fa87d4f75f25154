"""The vocabulary of SPEC.md as pydantic v2 models.

These validate everything that comes in (team files, CSV rows, dumps, what people type)
and carry data between the store, the rules, the notes and the screens. Validation
problems become one line for the user through :func:`explain`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    StrictBool,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from opsweek import clock, inputs
from opsweek.agenda import STEP_KEYS
from opsweek.errors import InputError
from opsweek.text import clean_text, is_slug


def _rule(check, value):
    """Apply an input rule of :mod:`opsweek.inputs`; pydantic reports its refusal, same words."""
    try:
        return check(value)
    except InputError as error:
        raise ValueError(str(error)) from None


def _slug(value: str) -> str:
    if not isinstance(value, str) or not is_slug(value):
        raise ValueError(
            f"{value!r} is not a slug (accepted: lowercase letters, digits, - and _, like 'ana' or 'client-delivery')"
        )
    return value


def _text(value):
    if value is None:
        return None
    if not isinstance(value, str):  # TOML types are strict: name = ["Zed"] is not a name
        raise ValueError(f"{_shown(value)} is not text (accepted: a quoted string)")
    return clean_text(value)


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _optional_text(value):
    value = _text(value)
    if value is None or value.strip() == "":
        return None
    return value


def _duration(value):
    if value is None or value == "":
        return None
    try:
        return str(clock.parse_duration(value))
    except Exception as error:  # InputError carries the accepted forms
        raise ValueError(str(error).split(": ", 1)[-1]) from None


def _date(value):
    if value is None or value == "":
        return None
    try:
        if isinstance(value, datetime):
            return clock.check_year(value.date())
        if isinstance(value, date):
            return clock.check_year(value)
        if not isinstance(value, str):
            raise ValueError(f"{_shown(value)} is not a date (accepted: 2026-12-01, 1 Dec, +3d, fri)")
        return clock.parse_date(value)
    except Exception as error:
        raise ValueError(str(error).split(": ", 1)[-1]) from None


def _when(value):
    if value is None or value == "":
        return None
    if not isinstance(value, (str, datetime)):
        raise ValueError(f"{_shown(value)} is not a time (accepted: ISO 8601 like 2026-11-20T09:00:00Z)")
    try:
        return clock.check_year(clock.parse_when(value))
    except Exception as error:
        raise ValueError(str(error).split(": ", 1)[-1]) from None


Slug = Annotated[str, AfterValidator(_slug)]
# a row id: what SQLite can hold (an INTEGER PRIMARY KEY is a signed 64-bit number)
Id = Annotated[int, Field(ge=0, lt=2**63, strict=True)]
Text = Annotated[str, BeforeValidator(_text)]
OptText = Annotated[str | None, BeforeValidator(_optional_text)]
OptSlug = Annotated[str | None, BeforeValidator(lambda v: None if v in ("", None) else v),
                    AfterValidator(lambda v: None if v is None else _slug(v))]
DurationText = Annotated[str | None, BeforeValidator(_duration)]
Day = Annotated[date | None, BeforeValidator(_date)]
When = Annotated[datetime | None, BeforeValidator(_when)]


def _required(value: str) -> str:
    if not value or not value.strip():
        raise ValueError("is empty (accepted: any text)")
    return value


RequiredText = Annotated[str, BeforeValidator(_text), AfterValidator(_required)]


class Record(BaseModel):
    # each model's validator is built when it first validates: an import of a team file
    # and a CSV builds the few it uses, not all of them at start-up
    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_assignment=False, defer_build=True)


class Away(Record):
    start: Day = Field(alias="from")
    end: Day = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self):
        if self.start is None or self.end is None:
            raise ValueError("an away period needs both from and to dates")
        if self.end < self.start:
            raise ValueError(f"away period ends ({self.end}) before it starts ({self.start})")
        return self


class Person(Record):
    handle: Slug
    name: RequiredText
    role: Text = ""
    cover: OptSlug = None
    away: list[Away] = []
    active: StrictBool = True  # "yes" is not true: the TOML says true or false

    @model_validator(mode="after")
    def _not_own_cover(self):
        if self.cover == self.handle:
            raise ValueError(f"{self.handle} cannot cover for themselves")
        return self


def _schedule(value):
    if value is None:
        return None
    from opsweek import schedule

    try:
        schedule.to_rrule(str(value))
    except Exception as error:  # InputError names what is accepted
        raise ValueError(str(error)) from None
    return " ".join(str(value).split())


def _title_template(value):
    from opsweek import schedule

    try:
        schedule.check_title(value)
    except Exception as error:
        raise ValueError(str(error)) from None
    return value


def _due_offset(value):
    if value is None or value == "":
        return None
    from opsweek.schedule import check_due

    try:
        return check_due(value)
    except Exception as error:
        raise ValueError(str(error).split(": ", 1)[-1]) from None


class Recurring(Record):
    """``[[workflows.recurring]]``: work that opens by itself at each occurrence."""

    key: Slug
    title: Annotated[str, BeforeValidator(_text), AfterValidator(_required), AfterValidator(_title_template)]
    schedule: Annotated[str, BeforeValidator(_text), AfterValidator(_required), AfterValidator(_schedule)]
    owner: OptSlug = None
    due: Annotated[str | None, BeforeValidator(_due_offset)] = None
    catch_up: Literal["latest", "all"] = "latest"


class Workflow(Record):
    key: Slug
    name: RequiredText
    outcome: Text = ""
    owner: OptSlug = None
    trigger: Text = ""
    status: Literal["active", "paused", "retired"] = "active"
    # the workflows an item finished here starts (team file ``feeds``; reads fill it in)
    feeds: list[Slug] = []
    recurring: list[Recurring] = []


class Stage(Record):
    workflow: Slug
    key: Slug
    name: RequiredText
    position: int = 0
    owner: OptSlug = None
    sop: OptText = None
    max_days: Annotated[float | None, Field(gt=0, le=36525, allow_inf_nan=False, strict=True)] = None
    handoff_sla: DurationText = None
    retired: bool = False


class Item(Record):
    id: Id | None = None
    workflow: Slug
    stage: Slug
    title: RequiredText
    owner: OptSlug = None
    status: Literal["open", "blocked", "done", "dropped"] = "open"
    opened_at: When = None
    stage_entered_at: When = None
    last_activity_at: When = None
    due: Day = None
    ref: OptText = None
    blocked_reason: OptText = None
    closed_at: When = None

    @model_validator(mode="after")
    def _blocked_has_reason(self):
        if self.status == "blocked":
            _rule(inputs.check_block_reason, self.blocked_reason)
        return self


class Handoff(Record):
    id: Id | None = None
    item_id: Id
    from_stage: Slug
    from_owner: OptSlug = None
    to_stage: Slug
    to_owner: OptSlug = None
    sent_at: When
    due_at: When
    accepted_at: When = None
    accepted_by: OptSlug = None
    note: OptText = None
    escalated_at: When = None
    # filled in by reads (joined from the item), never stored on the handoff row
    workflow: OptSlug = None


class Meeting(Record):
    id: Id | None = None
    week: str
    facilitator: OptSlug = None
    started_at: When
    closed_at: When = None
    rating: int | None = None
    step: str = "attendance"

    @field_validator("rating", mode="before")
    @classmethod
    def _rating(cls, value) -> int | None:
        # before pydantic's own int parsing, so "ten" gets the rule's words too
        return None if value is None else _rule(inputs.check_rating, value)

    @field_validator("week")
    @classmethod
    def _week(cls, value: str) -> str:
        clock.week_bounds(value)
        return value

    @field_validator("step")
    @classmethod
    def _step(cls, value: str) -> str:
        if value not in STEP_KEYS:
            raise ValueError(f"{value!r} is not a step (accepted: {', '.join(STEP_KEYS)})")
        return value


class Entry(Record):
    id: Id | None = None
    meeting_id: Id | None = None
    kind: Literal["decision", "action", "note"]
    text: RequiredText
    owner: OptSlug = None
    due: Day = None
    item_id: Id | None = None
    workflow: OptSlug = None
    status: Literal["open", "done", "dropped"] | None = None
    closed_meeting_id: Id | None = None
    created_at: When = None

    @model_validator(mode="after")
    def _action_rules(self):
        if self.kind == "action":
            _rule(inputs.check_action_owner, self.owner)
            if self.status is None:
                self.status = "open"
        return self


class Event(Record):
    id: Id | None = None
    change_id: Id
    at: When
    actor: str
    meeting_id: Id | None = None
    action: str
    entity: str
    entity_id: str
    before: dict | None = None
    after: dict | None = None
    reason: OptText = None
    undoes: Id | None = None


class Settings(Record):
    handoff_sla: DurationText = "48h"
    stale_after: DurationText = "7d"
    escalate_after: DurationText = "24h"
    # the weekly session's schedule, e.g. "every monday 10:00"
    meeting: Annotated[str | None, BeforeValidator(lambda v: None if v in ("", None) else _schedule(v))] = None
    step_minutes: dict[str, Annotated[int, Field(gt=0, le=240, strict=True)]] = {}

    @field_validator("step_minutes")
    @classmethod
    def _steps(cls, value: dict) -> dict:
        for key in value:
            if key not in STEP_KEYS:
                raise ValueError(f"{key!r} is not a step (accepted: {', '.join(STEP_KEYS)})")
        return value


def explain(error: ValidationError, where: str = "") -> str:
    """One line for the first problem of a ValidationError: where, what, what is accepted."""
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"] if part != "__root__")
    message = first["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix):]
    value = first.get("input")
    kind = first["type"]
    if kind == "literal_error":
        message = f"{value!r} is not allowed ({message.lower()})"
    elif kind == "missing" or (kind == "string_type" and value is None):
        message = "is required"
    elif kind == "extra_forbidden":
        message = "is not a known field"
    elif kind == "string_type":
        message = f"{value!r} is not text (accepted: a quoted string)"
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        message = f"{value!r} is not a table (accepted: key = value pairs)"
    elif kind == "list_type":
        message = f"{value!r} is not a list (accepted: [ ... ])"
    elif kind in ("bool_parsing", "bool_type"):
        message = f"{_shown(value)} is not true/false (accepted: true or false, unquoted)"
    elif kind in ("int_parsing", "float_parsing", "int_type", "float_type", "int_from_float"):
        message = f"{_shown(value)} is not a number"
    elif kind == "finite_number":
        message = f"{_shown(value)} is not a finite number"
    elif kind.startswith(("greater_than", "less_than")):
        message = f"{_shown(value)}: {message.lower()}"
    parts = [part for part in (where, location) if part]
    prefix = " ".join(parts[:1]) + (f" {parts[1]}" if len(parts) > 1 else "")
    return f"{prefix}: {message}" if prefix else message
