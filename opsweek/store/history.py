"""The audit log read one way: which changes are live, the past state of rows, and a
change described in words.

Every change (:meth:`Store.change`) writes one ``events`` row per row edit, all with the
same ``change_id``: ``before`` is ``None`` for an insert, ``after`` is ``None`` for a
delete, and an update records only the fields it changed. An undo is a change of its own
(action ``undo``) whose rows carry ``undoes`` = the change it reverted.

**Live.** A change is *live* when no live undo reverts it. An undo is live by the same
rule, so an undo that was itself undone does not count, and the change it had reverted is
live again (its effect is back). Undos always come after what they revert, so this is
decided walking the undos newest first: :func:`undone_changes`. Ordinary changes in
effect (what undo may revert, what the notes and the wrap-up report) are the live ones
that are not undos.

**Rewinding.** The rows as they were at a past moment are the current rows with the
edits written since undone, newest first: an insert since means the row did not exist
then, a delete since puts the recorded row back, an update restores its ``before``
fields. "Since" is either after an event id (exact, for a session's start) or after a
time (``at`` later than the moment; edits stamped at the moment itself had happened).
Undo rows are edits like any other, so rewinding needs no liveness.

**Words.** :func:`describe` says what a change did as people say it ("reassigned #4
from ana to ben", "accepted handoff 3 for hana"), never an internal action name.

Standard library only: no pydantic, no Textual.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import NamedTuple

from opsweek import clock
from opsweek.agenda import STEPS
from opsweek.store.db import PRIMARY_KEYS, Store

UNDO = "undo"
_WHEN = "%a %d %b %H:%M"   # Wed 26 Nov 14:00, as the CLI shows times
_DAY = "%a %d %b"          # Mon 01 Dec
_STEP_TITLES = {s.key: s.title for s in STEPS}


# --- records -------------------------------------------------------------------------


class Edit(NamedTuple):
    """One row edit of the audit log (one ``events`` row), its JSON decoded."""

    id: int
    change_id: int
    at: str                    # UTC stamp
    actor: str
    meeting_id: int | None
    action: str
    entity: str                # the table
    entity_id: str
    before: dict | None        # None: the row was inserted
    after: dict | None         # None: the row was deleted
    reason: str | None
    undoes: int | None

    @property
    def key(self):
        """The row's primary key, typed as the table stores it."""
        return key_of(self.entity, self.entity_id)

    @property
    def moment(self) -> datetime:
        return clock.parse_stamp(self.at)


class ChangeRecord(NamedTuple):
    """One change: who did what when, and (some of) its row edits, in order."""

    id: int
    at: str
    actor: str
    action: str
    meeting_id: int | None
    reason: str | None
    undoes: int | None
    edits: tuple[Edit, ...]


def key_of(table: str, entity_id: str):
    """``entity_id`` (stored as text) as the table's key: text for handles and keys, else int."""
    return entity_id if PRIMARY_KEYS[table] in ("handle", "key") else int(entity_id)


def _json(text):
    return json.loads(text) if text else None


def edit_from(row) -> Edit:
    """An :class:`Edit` from a full ``events`` row."""
    return Edit(row["id"], row["change_id"], row["at"], row["actor"], row["meeting_id"], row["action"],
                row["entity"], row["entity_id"], _json(row["before"]), _json(row["after"]), row["reason"],
                row["undoes"])


def _edits(store: Store, where: str, params=(), order: str = "id") -> list[Edit]:
    return [edit_from(r) for r in store.query(f"SELECT * FROM events WHERE {where} ORDER BY {order}", params)]


def change(store: Store, change_id: int, *, limit: int | None = None) -> ChangeRecord | None:
    """The change ``change_id`` with its edits in order (the first ``limit`` of them)."""
    edits = _edits(store, "change_id = ?", (change_id,), "id" + (f" LIMIT {int(limit)}" if limit else ""))
    return _record(edits) if edits else None


def _record(edits: list[Edit]) -> ChangeRecord:
    first = edits[0]
    return ChangeRecord(first.change_id, first.at, first.actor, first.action, first.meeting_id, first.reason,
                        first.undoes, tuple(edits))


def edit_count(store: Store, change_id: int, *, item_id: int | None = None) -> int:
    """How many row edits the change made (of ``item_id``'s trail, when given)."""
    where, params = item_trail_sql(item_id) if item_id is not None else ("1", [])
    return store.scalar(f"SELECT count(*) FROM events WHERE change_id = ? AND ({where})", (change_id, *params))


# --- live or undone ------------------------------------------------------------------


def undone_changes(store: Store) -> frozenset[int]:
    """Ids of the changes reverted by a live undo (see the module doc: an undo undone
    does not count, and what it reverted is live again)."""
    # "+change_id": sorting the few undo rows found through the partial index events_undoes;
    # ordered by the bare column, SQLite walks every event by change (130 ms at 100,000 items)
    pairs = store.query("SELECT DISTINCT change_id, undoes FROM events WHERE undoes IS NOT NULL"
                        " ORDER BY +change_id DESC")
    return frozenset(_undone(pairs))


def _undone(pairs) -> set[int]:
    """From (undo change, change it reverts) pairs, newest undo first: the reverted ones."""
    dead: set[int] = set()
    for undo_id, target in pairs:
        if undo_id not in dead:   # every undo that could revert this one came later: already decided
            dead.add(target)
    return dead


def is_live(store: Store, change_id: int) -> bool:
    """True unless a live undo reverted ``change_id``."""
    return change_id not in undone_changes(store)


def live_sql(store: Store, column: str = "change_id") -> tuple[str, list]:
    """SQL condition (and its parameter) on ``events``: the row's change is live."""
    return f"{column} NOT IN (SELECT value FROM json_each(?))", [json.dumps(sorted(undone_changes(store)))]


def latest_undoable(store: Store, *, actor: str | None = None, skip: tuple[str, ...] = ()) -> ChangeRecord | None:
    """The newest change in effect (live, not an undo, not one of the ``skip`` actions),
    ``actor``'s own if named: what undo reverts next."""
    live, params = live_sql(store)
    who = "actor = ? AND " if actor is not None else ""
    marks = ",".join("?" * len(skip)) or "''"
    row = store.one(f"SELECT change_id FROM events WHERE {who}undoes IS NULL AND action != ?"
                    f" AND action NOT IN ({marks}) AND {live} ORDER BY change_id DESC LIMIT 1",
                    [*((actor,) if actor is not None else ()), UNDO, *skip, *params])
    return change(store, row["change_id"]) if row else None


def still_as_left(store: Store, edit: Edit) -> bool:
    """Is the row still as ``edit`` left it (gone after a delete, else its fields as written)?"""
    pk = PRIMARY_KEYS[edit.entity]
    current = store.one(f"SELECT * FROM {edit.entity} WHERE {pk} = ?", (edit.key,))
    if edit.after is None:
        return current is None
    if current is None:
        return False
    return all(_same(current[f], v) for f, v in edit.after.items())


def _same(stored, recorded) -> bool:
    if stored == recorded:
        return True
    return json.dumps(stored, default=str) == json.dumps(recorded, default=str)


def later_edit(store: Store, edit: Edit) -> Edit | None:
    """The newest edit of the same row by a later change (who changed it since)."""
    rows = _edits(store, "entity = ? AND entity_id = ? AND change_id > ?",
                  (edit.entity, edit.entity_id, edit.change_id), "id DESC LIMIT 1")
    return rows[0] if rows else None


# --- a meeting's changes -------------------------------------------------------------


def meeting_edits(store: Store, meeting_id: int, actions: tuple[str, ...] | None = None, *,
                  undos: bool = True) -> list[Edit]:
    """The row edits of the meeting's live changes (with these ``actions``), oldest first;
    without ``undos``, live undos are left out too (only what is in effect)."""
    live, params = live_sql(store)
    where = f"meeting_id = ? AND {live}"
    values = [meeting_id, *params]
    if actions is not None:
        where += f" AND action IN ({','.join('?' * len(actions))})"
        values += list(actions)
    if not undos:
        where += " AND undoes IS NULL"
    return _edits(store, where, values)


def carried_in(store: Store, meeting_id: int) -> set[int]:
    """Ids of the actions carried over (and not undone) in the meeting."""
    return {int(e.entity_id) for e in meeting_edits(store, meeting_id, ("action.carry",), undos=False)
            if e.entity == "entries"}


def meeting_start_event(store: Store, meeting_id: int) -> int:
    """Id of the meeting's first event (its creation); later events are "since" it started.
    With no history at all, the id the next event will get (nothing happened since)."""
    first = store.scalar("SELECT min(id) FROM events WHERE entity = 'meetings' AND entity_id = ?",
                         (str(meeting_id),))
    if first is None:
        first = store.scalar("SELECT min(id) FROM events WHERE meeting_id = ?", (meeting_id,))
    if first is None:
        first = next_event_id(store)
    return first


def next_event_id(store: Store) -> int:
    """The id the next event will have: "as of" it is as things stand now."""
    return (store.scalar("SELECT max(id) FROM events") or 0) + 1


def meeting_close_end(store: Store, meeting_id: int) -> int | None:
    """Id of the first event after the change that closed the meeting (the latest one that
    wrote its ``closed_at``): what "as the session closed" rewinds to. None when the log
    never recorded a close (the notes then read today's rows)."""
    change_id = store.scalar("SELECT max(change_id) FROM events WHERE entity = 'meetings' AND entity_id = ?"
                             " AND json_extract(after, '$.closed_at') IS NOT NULL", (str(meeting_id),))
    if change_id is None:
        return None
    return store.scalar("SELECT max(id) FROM events WHERE change_id = ?", (change_id,)) + 1


# --- an item's trail -----------------------------------------------------------------


def item_trail_sql(item_id: int) -> tuple[str, list]:
    """SQL condition on ``events`` for an item's trail: its row, its handoffs (also those
    since withdrawn) and the entries linked to it."""
    where = (
        "(entity = 'items' AND entity_id = ?)"
        " OR (entity = 'handoffs' AND (entity_id IN (SELECT CAST(id AS TEXT) FROM handoffs WHERE item_id = ?)"
        "     OR entity_id IN (SELECT entity_id FROM events WHERE entity = 'handoffs' AND after IS NULL"
        "                      AND json_extract(before, '$.item_id') = ?)))"
        " OR (entity = 'entries' AND entity_id IN (SELECT CAST(id AS TEXT) FROM entries WHERE item_id = ?))"
    )
    return where, [str(item_id), item_id, item_id, item_id]


def recent_changes(store: Store, *, item_id: int | None = None, limit: int = 20,
                   edits_each: int | None = None) -> list[ChangeRecord]:
    """The newest ``limit`` changes (those touching ``item_id``'s trail), newest first, each
    with its first ``edits_each`` edits (of that trail)."""
    where, params = item_trail_sql(item_id) if item_id is not None else ("1", [])
    ids = [r[0] for r in store.query(f"SELECT DISTINCT change_id FROM events WHERE {where}"
                                     " ORDER BY change_id DESC LIMIT ?", [*params, limit])]
    found = []
    for change_id in ids:
        edits = _edits(store, f"change_id = ? AND ({where})", [change_id, *params],
                       "id" + (f" LIMIT {int(edits_each)}" if edits_each else ""))
        found.append(_record(edits))
    return found


# --- rewinding -----------------------------------------------------------------------


def rewind(rows: dict, edits) -> dict:
    """Undo ``edits`` (newest first, all of one table) on ``rows`` (key -> row dict), in place."""
    for edit in edits:
        key = edit.key
        if edit.before is None:          # inserted since: did not exist then
            rows.pop(key, None)
        elif edit.after is None:         # deleted since: it was there
            rows[key] = dict(edit.before)
        elif key in rows:
            rows[key].update(edit.before)
    return rows


def edits_since(store: Store, table: str, *, since_id: int | None = None, at: str | datetime | None = None,
                keys=None) -> list[Edit]:
    """The edits of ``table`` from event ``since_id`` on, or stamped after the moment ``at``,
    newest first (of the rows ``keys`` only, if given)."""
    if (since_id is None) == (at is None):
        raise ValueError("give since_id or at")
    if since_id is not None:
        # "+entity": walk the id range (short for a recent meeting), not every event of the table
        where, params = "id >= ? AND +entity = ?", [since_id, table]
    else:
        where, params = "at > ? AND entity = ?", [at if isinstance(at, str) else clock.stamp(at), table]
    if keys is not None:
        where += " AND entity_id IN (SELECT value FROM json_each(?))"
        params.append(json.dumps([str(k) for k in keys]))
    return _edits(store, where, params, "id DESC")


def table_as_of(store: Store, table: str, *, since_id: int | None = None,
                at: str | datetime | None = None) -> dict:
    """Every row of a (small) table as it was before event ``since_id`` / at the moment ``at``."""
    pk = PRIMARY_KEYS[table]
    rows = {row[pk]: dict(row) for row in store.query(f"SELECT * FROM {table}")}
    return rewind(rows, edits_since(store, table, since_id=since_id, at=at))


def touched_as_of(store: Store, table: str, *, since_id: int | None = None,
                  at: str | datetime | None = None) -> dict:
    """The rows of a (big) table edited since, as they were then: key -> row, or None
    where the row did not exist yet. Rows not edited since are as they are now."""
    edits = edits_since(store, table, since_id=since_id, at=at)
    keys = sorted({e.key for e in edits})
    return _then(store, table, keys, edits)


def rows_as_of(store: Store, table: str, keys, at: str | datetime) -> dict:
    """The rows ``keys`` of ``table`` as they were at the moment ``at`` (None: not there)."""
    keys = list(keys)
    return _then(store, table, keys, edits_since(store, table, at=at, keys=keys))


def rows_before(store: Store, table: str, keys, since_id: int) -> dict:
    """The rows ``keys`` of ``table`` as they were before event ``since_id`` (None: not there)."""
    keys = list(keys)
    return _then(store, table, keys, edits_since(store, table, since_id=since_id, keys=keys)) if keys else {}


def _then(store: Store, table: str, keys: list, edits: list[Edit]) -> dict:
    pk = PRIMARY_KEYS[table]
    rows = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        marks = ",".join("?" * len(chunk))
        rows.update({r[pk]: dict(r) for r in store.query(f"SELECT * FROM {table} WHERE {pk} IN ({marks})", chunk)})
    rewind(rows, edits)
    return {key: rows.get(key) for key in keys}


def last_known(store: Store, table: str, key) -> dict | None:
    """A row as it is, or as it last was before it was deleted (None: never recorded)."""
    row = store.one(f"SELECT * FROM {table} WHERE {PRIMARY_KEYS[table]} = ?", (key,))
    if row is not None:
        return dict(row)
    gone = store.one("SELECT before FROM events WHERE entity = ? AND entity_id = ? AND after IS NULL"
                     " ORDER BY id DESC LIMIT 1", (table, str(key)))
    return _json(gone["before"]) if gone else None


# --- over the weeks (the trends) -----------------------------------------------------


def edits_of(store: Store, actions: tuple[str, ...], tables: tuple[str, ...]) -> list[Edit]:
    """Every edit of ``tables`` made by changes with these ``actions``, oldest first."""
    # found by their actions (events_action: a few rows), the tables filtered among them
    # (``+entity``: not by events_entity, which would walk every edit of every item)
    return _edits(store, f"action IN ({','.join('?' * len(actions))}) AND +entity IN ({','.join('?' * len(tables))})",
                  (*actions, *tables))


def value_spans(store: Store, edits: list[Edit], table: str, field: str, value) -> dict:
    """Per row of ``table``, the spans (UTC stamps, ``None`` = open-ended) in which ``field``
    held ``value``, replayed from ``edits`` (oldest first; those touching ``field`` count).

    A row whose first recorded edit of ``field`` leaves ``value``, or that holds it now
    with no recorded edit, held it from the start (arrived so: imported or generated).
    """
    spans: dict = {}
    for edit in edits:
        if edit.entity != table:
            continue
        before, after = edit.before, edit.after
        if not ((before and field in before) or (after and field in after)):
            continue
        row_spans = spans.setdefault(edit.key, [])
        if not row_spans and before and before.get(field) == value:
            row_spans.append([None, None])  # the log first knew it already so
        was = bool(row_spans) and row_spans[-1][1] is None
        now = bool(after) and after.get(field) == value
        if now and not was:
            row_spans.append([edit.at, None])
        elif was and not now:
            row_spans[-1][1] = edit.at
    pk = PRIMARY_KEYS[table]
    for (key,) in store.query(f"SELECT {pk} FROM {table} WHERE {field} = ?", (value,)):
        if not spans.get(key):
            spans[key] = [[None, None]]
    return {key: [tuple(s) for s in row_spans] for key, row_spans in spans.items() if row_spans}


def deleted_rows(store: Store, edits: list[Edit], table: str) -> list[tuple[dict, str]]:
    """(the row as it was, when it was deleted) for rows of ``table`` that ``edits`` delete
    and that are not back now; the latest deletion of each row."""
    deleted: dict = {}
    for edit in edits:
        if edit.entity == table and edit.after is None and edit.before:
            deleted[edit.key] = (edit.before, edit.at)
    if not deleted:
        return []
    pk = PRIMARY_KEYS[table]
    back = {r[0] for r in store.query(f"SELECT {pk} FROM {table} WHERE {pk} IN (SELECT value FROM json_each(?))",
                                      (json.dumps(list(deleted)),))}
    return [value for key, value in deleted.items() if key not in back]


def rows_at_moments(store: Store, table: str, keys, moments: list[str]) -> list[dict]:
    """The rows ``keys`` of ``table`` at each of ``moments`` (UTC stamps, oldest first):
    one dict key -> row (None: not there) per moment, rewound in one walk back through
    the edits since the first moment (the trends' escalated work of each week)."""
    keys = sorted(set(keys))
    if not keys or not moments:
        return [{} for _ in moments]
    rows = {key: row for key, row in _then(store, table, keys, []).items() if row is not None}
    edits = edits_since(store, table, at=moments[0], keys=keys)  # newest first
    found: list[dict] = [{} for _ in moments]
    position = 0
    for k in range(len(moments) - 1, -1, -1):
        later = []
        while position < len(edits) and edits[position].at > moments[k]:
            later.append(edits[position])
            position += 1
        rewind(rows, later)
        found[k] = {key: (dict(rows[key]) if key in rows else None) for key in keys}
    return found


def latest_at(store: Store, action: str, table: str) -> dict:
    """Per row of ``table``: when a change ``action`` last edited it (UTC stamp)."""
    return {key_of(table, r[0]): r[1] for r in store.query(
        "SELECT entity_id, max(at) FROM events WHERE entity = ? AND action = ? GROUP BY entity_id", (table, action))}


def earlier_values(store: Store, action: str, table: str, field: str, low: str, high: str) -> list:
    """The values ``field`` had before each ``action`` edit of ``table``, those in [low, high]."""
    path = f"$.{field}"
    return [r[0] for r in store.query(
        "SELECT json_extract(before, ?) FROM events WHERE entity = ? AND action = ?"
        " AND json_extract(before, ?) BETWEEN ? AND ?", (path, table, action, path, low, high))]


# --- in words ------------------------------------------------------------------------


def when(value: str | datetime | None) -> str:
    """A stored time for people, local: ``Wed 26 Nov 14:00``."""
    return clock.show(value, _WHEN) if value else ""


def _day(value) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return value.strftime(_DAY)


def _who(handle) -> str:
    return handle or "nobody"


def _fields_said(edit) -> str:
    """``owner ana → ben, sop set``: the fields an edit changed, old → new."""
    after = edit.after or {}
    before = edit.before or {}
    parts = [f"{name} {before.get(name) if before.get(name) is not None else '—'} → "
             f"{after[name] if after[name] is not None else '—'}" for name in sorted(after)]
    return ", ".join(parts) or "nothing"


def _quoted(text, limit: int = 60) -> str:
    text = " ".join(str(text or "").split())
    if len(text) > limit:
        text = text[:limit - 1] + "…"
    return f"“{text}”"


def describe(store: Store, change_id: int) -> str:
    """What change ``change_id`` did, in words ("reassigned #4 from ana to ben")."""
    found = change(store, change_id, limit=200)
    return describe_change(store, found) if found else f"change {change_id} (not in the log)"


_PLURAL = {"people": ("person", "people"), "away": ("away period", "away periods"),
           "workflows": ("workflow", "workflows"), "stages": ("stage", "stages"), "items": ("item", "items"),
           "handoffs": ("handoff", "handoffs"), "meetings": ("session", "sessions"),
           "attendance": ("attendance", "attendances"), "step_times": ("step time", "step times"),
           "entries": ("entry", "entries"), "reviews": ("review", "reviews"), "settings": ("setting", "settings"),
           "feeds": ("feed", "feeds"), "recurring": ("schedule", "schedules"),
           "occurrences": ("occurrence", "occurrences"), "outcomes": ("outcome", "outcomes"),
           "ratings": ("rating", "ratings"), "issues": ("issue", "issues"),
           "issue_ranks": ("issue rank", "issue ranks")}


def _count(n: int, table: str) -> str:
    one, many = _PLURAL.get(table, (table, table))
    return f"{n:,} {one if n == 1 else many}"


def describe_change(store: Store, ch: ChangeRecord, *, _depth: int = 0) -> str:
    """What the change did, in words (see :func:`describe`)."""
    edits = ch.edits
    action = ch.action

    def first(table: str) -> Edit | None:
        return next((e for e in edits if e.entity == table), None)

    def field(edit: Edit | None, name: str, side: str = "after"):
        if edit is None:
            return None
        values = edit.after if side == "after" else edit.before
        return (values or {}).get(name)

    item = first("items")
    handoff = first("handoffs")
    entry = first("entries")
    item_ref = f"#{item.entity_id}" if item else None

    if action == UNDO:
        target = change(store, ch.undoes, limit=200) if ch.undoes is not None else None
        if target is None or _depth > 5:
            return "undid an earlier change"
        return "undid: " + describe_change(store, target, _depth=_depth + 1)
    if action == "item.add" and item:
        return f"added {item_ref} {_quoted(field(item, 'title'))} to {field(item, 'workflow')}"
    if action == "item.reassign" and item:
        return f"reassigned {item_ref} from {_who(field(item, 'owner', 'before'))} to {_who(field(item, 'owner'))}"
    if action == "item.block" and item:
        return f"blocked {item_ref}"  # the reason is the change's own, shown beside it
    if action == "item.unblock" and item:
        return f"unblocked {item_ref}"
    if action in ("item.done", "item.drop") and item:
        text = f"marked {item_ref} done" if action == "item.done" else f"dropped {item_ref}"
        withdrawn = [e.entity_id for e in edits if e.entity == "handoffs" and e.after is None]
        if withdrawn:
            text += f", withdrawing handoff {', '.join(withdrawn)}"
        return text
    if action == "item.due" and item:
        due = field(item, "due")
        return f"set {item_ref} due {due}" if due else f"cleared the due date of {item_ref}"
    if action == "handoff.send" and handoff:
        row = handoff.after or {}
        return (f"handed #{row.get('item_id')} off to {row.get('to_stage')} for {_who(row.get('to_owner'))}"
                f" (handoff {handoff.entity_id})")
    if action == "handoff.accept" and handoff:
        row = last_known(store, "handoffs", handoff.key) or {}
        receiver = field(item, "owner") or row.get("to_owner") or ch.actor
        into = field(item, "stage") or row.get("to_stage")
        text = f"accepted handoff {handoff.entity_id} for {receiver}"
        if row.get("item_id") is not None:
            text += f": #{row['item_id']} into {into}"
        return text
    if action == "handoff.reassign" and handoff:
        row = last_known(store, "handoffs", handoff.key) or {}
        of = f" of #{row['item_id']}" if row.get("item_id") is not None else ""
        return (f"sent handoff {handoff.entity_id}{of} to {_who(field(handoff, 'to_owner'))}"
                f" instead of {_who(field(handoff, 'to_owner', 'before'))}")
    if action in ("handoff.escalate", "item.escalate"):
        record = first("escalations")  # the record names the person as they were then
        if action == "handoff.escalate" and handoff:
            row = last_known(store, "handoffs", handoff.key) or {}
            what = f"handoff {handoff.entity_id}" + (f" of #{row['item_id']}" if row.get("item_id") is not None else "")
        else:
            what = f"#{field(record, 'item_id')}" if record else "an item"
        if record is None:
            return f"escalated {what}"
        return f"escalated {what} to {field(record, 'to_handle')} (tier {field(record, 'tier')})"
    if action == "stage.owner" and (stage := first("stages")):
        row = last_known(store, "stages", stage.key) or {}
        name = f"{row['workflow']}/{row['key']}" if row else f"stage {stage.entity_id}"
        return f"made {_who(field(stage, 'owner'))} owner of stage {name} instead of {_who(field(stage, 'owner', 'before'))}"
    if action == "workflow.owner" and (wf := first("workflows")):
        return (f"made {_who(field(wf, 'owner'))} owner of workflow {wf.entity_id}"
                f" instead of {_who(field(wf, 'owner', 'before'))}")
    if action == "person.cover" and (person := first("people")):
        was = field(person, "cover", "before")
        return f"made {field(person, 'cover')} cover for {person.entity_id}" + (f" instead of {was}" if was else "")
    if action.startswith("recur.") and (schedule := first("recurring")):
        row = last_known(store, "recurring", schedule.key) or {}
        name = f"{row.get('workflow', '?')}/{row.get('key', schedule.entity_id)}"
        if action == "recur.add":
            return f"added the schedule {name} ({_quoted(row.get('schedule'))})"
        if action == "recur.drop":
            return f"stopped the schedule {name}"
        if action == "recur.owner":
            return f"gave the schedule {name} to {field(schedule, 'owner')}"
        if action == "recur.open":
            opened = sum(1 for e in edits if e.entity == "items" and e.before is None)
            return f"opened {_count(opened, 'items')} of the schedule {name}"
    if action in ("person.add", "person.set") and (person := first("people")):
        if action == "person.add":
            return f"added {person.entity_id} ({field(person, 'name')}) to the team"
        return f"changed {person.entity_id}: " + _fields_said(person)
    if action in ("person.away", "person.back"):
        away = first("away")
        who = (field(away, "handle") or field(away, "handle", "before")) if away else None
        if action == "person.back":
            return f"marked {who or 'someone'} back"
        period = (field(away, "start"), field(away, "end")) if away else (None, None)
        return f"marked {who or 'someone'} away" + (f" {_day(period[0])} – {_day(period[1])}" if period[0] else "")
    if action in ("workflow.add", "workflow.set") and (wf := first("workflows")):
        if action == "workflow.add":
            return f"added the workflow {wf.entity_id} ({field(wf, 'name')})"
        return f"changed the workflow {wf.entity_id}: " + _fields_said(wf)
    if action in ("stage.add", "stage.set") and (stage := first("stages")):
        row = last_known(store, "stages", stage.key) or {}
        name = f"{row.get('workflow', '?')}/{row.get('key', stage.entity_id)}"
        if action == "stage.add":
            return f"added the stage {name} ({field(stage, 'name')})"
        return f"changed the stage {name}: " + _fields_said(stage)
    if action == "setting.set" and (setting := first("settings")):
        return f"set {setting.entity_id} to {_quoted(field(setting, 'value'))}"
    if action.startswith("issue."):
        return _describe_issue(store, ch, first)
    if action.startswith("meeting."):
        return _describe_meeting(store, ch, first)
    if action.startswith("entry.") and entry:
        row = entry.after or {}
        kind = row.get("kind") or action.split(".", 1)[1]
        text = f"recorded {kind} {entry.entity_id} {_quoted(row.get('text'))}"
        if row.get("owner"):
            text += f" for {row['owner']}"
        if row.get("due"):
            text += f", due {_day(row['due'])}"
        return text
    if action.startswith("action.") and entry:
        ref = f"action {entry.entity_id}"
        if action == "action.carry":
            return f"carried {ref} over to {_day(field(entry, 'due'))}"
        if action == "action.due":
            return f"moved {ref} to {_day(field(entry, 'due'))}"
        return {"action.done": f"marked {ref} done", "action.dropped": f"dropped {ref}",
                "action.open": f"reopened {ref}"}.get(action, f"changed {ref}")
    return _describe_bulk(store, ch)


def _describe_meeting(store: Store, ch: ChangeRecord, first) -> str:
    meeting = first("meetings")
    week = None
    if ch.meeting_id is not None or meeting is not None:
        row = last_known(store, "meetings", meeting.key if meeting else ch.meeting_id) or {}
        week = row.get("week")
    session = f"the {week} session" if week else "the session"
    action = ch.action
    if action == "meeting.start":
        return f"started {session}"
    if action == "meeting.close":
        return f"closed {session}"
    if action == "meeting.rate_attendee" and (rated := first("ratings")):
        row = last_known(store, "ratings", rated.key) or rated.after or {}
        return f"{row.get('handle')} rated {session} {(rated.after or {}).get('rating', row.get('rating'))}/10"
    if action == "meeting.outcome" and (kept := first("outcomes")):
        row = kept.after or {}
        subject = row.get("subject_id")
        label = f"#{subject}" if row.get("subject") == "item" else f"{row.get('subject')} {subject}"
        return f"kept {label} as it is in {session}"
    if action == "meeting.rate" and meeting:
        return f"rated {session} {(meeting.after or {}).get('rating')}/10"
    if action == "meeting.step" and meeting:
        step = (meeting.after or {}).get("step")
        return f"moved {session} to {_STEP_TITLES.get(step, step)}"
    if action == "meeting.attendance":
        marks = []
        for e in ch.edits:
            if e.entity != "attendance":
                continue
            handle = (e.after or {}).get("handle") or (last_known(store, "attendance", e.key) or {}).get("handle")
            marks.append(f"{handle} {'present' if (e.after or {}).get('present') else 'absent'}")
        return f"marked {', '.join(marks)} in {session}" if marks else f"changed attendance in {session}"
    if action == "meeting.time":
        parts = []
        for e in ch.edits:
            if e.entity != "step_times":
                continue
            row = last_known(store, "step_times", e.key) or e.after or {}
            step = row.get("step")
            seconds = (e.after or {}).get("seconds", 0) - ((e.before or {}).get("seconds") or 0)
            parts.append(f"{_STEP_TITLES.get(step, step)} +{max(round(seconds / 60), 0)} min")
        return f"timed {session}: {', '.join(parts)}" if parts else f"timed {session}"
    if action == "meeting.review":
        workflows = [(e.after or {}).get("workflow") for e in ch.edits if e.entity == "reviews"]
        return f"reviewed {', '.join(w for w in workflows if w)} in {session}"
    return f"changed {session}"


def _describe_issue(store: Store, ch: ChangeRecord, first) -> str:
    """A raised issue's changes in words: raised, ranked, solved, dropped."""
    issue = first("issues")
    action = ch.action
    if action == "issue.raise" and issue:
        row = issue.after or {}
        about = (f" about #{row['item_id']}" if row.get("item_id") is not None
                 else f" about {row['workflow']}" if row.get("workflow") else "")
        return f"raised issue {issue.entity_id} {_quoted(row.get('text'))}{about}"
    if action in ("issue.rank", "issue.unrank") and (ranked := first("issue_ranks")):
        row = last_known(store, "issue_ranks", ranked.key) or ranked.before or {}
        meeting = last_known(store, "meetings", row.get("meeting_id")) if row.get("meeting_id") else None
        session = f"the {meeting['week']} session" if meeting else "the session"
        if action == "issue.unrank":
            return f"took issue {row.get('issue_id')} out of the top 3 of {session}"
        rank = (ranked.after or {}).get("rank", row.get("rank"))
        return f"ranked issue {row.get('issue_id')} number {rank} in {session}"
    if action == "issue.solve" and issue:
        entry = first("entries")
        row = (entry.after if entry else None) or {}
        how = f"{row.get('kind', 'entry')} {entry.entity_id} {_quoted(row.get('text'))}" if entry else "an entry"
        if row.get("owner"):
            how += f" for {row['owner']}"
        if row.get("due"):
            how += f", due {_day(row['due'])}"
        return f"solved issue {issue.entity_id} by {how}"
    if action == "issue.drop" and issue:
        return f"dropped issue {issue.entity_id}"  # the reason is the change's own, shown beside it
    return "changed an issue"


def _describe_bulk(store: Store, ch: ChangeRecord) -> str:
    """Imports, the demo, and anything without words of its own: what it touched, counted."""
    counts = store.query("SELECT entity, sum(before IS NULL), sum(after IS NULL), count(*) FROM events"
                         " WHERE change_id = ? GROUP BY entity ORDER BY min(id)", (ch.id,))
    added = [_count(r[1], r[0]) for r in counts if r[1]]
    removed = [_count(r[2], r[0]) for r in counts if r[2]]
    edited = [_count(r[3] - r[1] - r[2], r[0]) for r in counts if r[3] - r[1] - r[2]]
    verb = {"import": "imported", "demo": "set up the demo", "demo.generate": "generated the demo team"}
    parts = []
    if added:
        parts.append("added " + ", ".join(added))
    if edited:
        parts.append("changed " + ", ".join(edited))
    if removed:
        parts.append("removed " + ", ".join(removed))
    head = verb.get(ch.action, "changed the records")
    if ch.action == "demo" and not edited and not removed:
        return "marked the database as the demo"
    return f"{head}: {'; '.join(parts)}" if parts else head
