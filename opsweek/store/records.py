"""Light records of what the store holds, as the read layer returns them.

Named tuples (``collections.namedtuple``, standard library): reading builds them without
validation, since the store only holds validated data; pydantic (``opsweek.model``) stays
where input comes in (team file, CSV, dumps, dialogs). The fields match ``opsweek.model``.

Why named tuples and not dataclasses: ``dataclasses`` imports ``inspect`` (and with it
``ast``, ``dis``, ``tokenize``), measured at 17–20 ms per start, a sixth of the 120 ms
budget of ``opsweek mine``, which reads through this layer; ``collections`` is already
loaded at start. Records are read-only views of rows, which named tuples fit. The rules'
own results that are built up step by step (audit, what-if, map loads) are dataclasses:
they are off the quick path.
"""

from __future__ import annotations

from collections import namedtuple

Away = namedtuple("Away", "start end")
Person = namedtuple("Person", "handle name role cover away active", defaults=("", None, (), True))
# feeds: the workflows an item finished here starts; recurring: its active schedules
Workflow = namedtuple("Workflow", "key name outcome owner trigger status feeds recurring",
                      defaults=("", None, "", "active", (), ()))
Stage = namedtuple("Stage", "workflow key name position owner sop max_days handoff_sla retired",
                   defaults=(0, None, None, None, None, False))
Item = namedtuple("Item", "id workflow stage title owner status opened_at stage_entered_at last_activity_at"
                  " due ref blocked_reason closed_at", defaults=(None, None, None, None))
Handoff = namedtuple("Handoff", "id item_id from_stage from_owner to_stage to_owner sent_at due_at accepted_at"
                     " accepted_by note escalated_at workflow title",
                     defaults=(None, None, None, None, None, None))  # workflow, title: the item's
Meeting = namedtuple("Meeting", "id week facilitator started_at closed_at rating step",
                     defaults=(None, None, "attendance"))
Entry = namedtuple("Entry", "id meeting_id kind text owner due item_id workflow status closed_meeting_id"
                   " created_at week", defaults=(None,) * 8)  # week: of the session that recorded it
Event = namedtuple("Event", "id change_id at actor meeting_id action entity entity_id before after reason undoes",
                   defaults=(None, None, None, None))
# What one person owns (the Team screen and ``opsweek people``): counts of workflows,
# stages, open or blocked items, and pending handoffs waiting for them.
Owns = namedtuple("Owns", "workflows stages items handoffs", defaults=(0, 0, 0, 0))
# an escalation as it was recorded: ``to_handle`` / ``to_name`` the person it went to, as
# they were then (never looked up again); ``handoff_id`` or ``item_id`` says what was late
Escalation = namedtuple("Escalation", "id handoff_id item_id tier to_handle to_name at by reason meeting_id",
                        defaults=(None, None, None))
# an escalation that is still live, with what it is about: ``kind`` "handoff" or "item",
# ``holder`` whose work it is, ``late_since`` when the work became late (a handoff's
# due time, the moment an item went past its stage's max_days)
EscalatedWork = namedtuple("EscalatedWork", "escalation kind item_id title workflow stage holder late_since")
# what a session did about a row it reviewed (SPEC "Outcome"); subject_id is text (an
# item or handoff id, or a gap's label)
Outcome = namedtuple("Outcome", "meeting_id step subject subject_id outcome")
# an issue raised for the weekly session (SPEC "Issue"); ``rank`` is its place in one
# session's top 3 (None: not ranked there), ``first_meeting`` / ``first_week`` the first
# session it was on the list of (the one it was raised in, else the next one to start)
Issue = namedtuple("Issue", "id text raised_by raised_at meeting_id item_id workflow status entry_id reason"
                   " closed_meeting_id closed_at rank first_meeting first_week", defaults=(None,) * 11)
# how a screen asks for a long list (issue 14): only the rows matching ``text`` (each word
# in the title, owner, workflow or stage), sorted by ``sort`` (a column of that list; None:
# the list's own order), ``descending`` (that order reversed), ``group``: by workflow first
ListView = namedtuple("ListView", "text sort descending group", defaults=("", None, False, False))
# an action the session's "Last week's actions" step lists: the entry (``week``: of the
# session that recorded it), the title of the item it is on (None: on no item), and the
# workflow it belongs to (its own, else its item's)
CarriedAction = namedtuple("CarriedAction", "entry title workflow")
# a row of the Team screen: the person and what they own (``Owns``)
Member = namedtuple("Member", "person owns")
