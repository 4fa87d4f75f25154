"""Lossless dumps: the whole database as JSON, and restoring one.

``dump(store)`` writes every row of every table (the audit log included) ordered by
primary key, with sorted keys, one row per line, and no time of its own: the same
database always gives the same bytes, and a dump diffs well.

``restore_file(store, path)`` checks the whole dump first (shape, format version,
schema, columns, value types, keys, references) and then writes it in one transaction.
The rows are written verbatim, audit events included, and **a restore records no event
of its own**: it reproduces the dumped database, history and all, so that dump → import →
dump is byte-identical. It refuses a database that already holds data unless
``replace=True``, which empties that database in the same transaction.
"""

from __future__ import annotations

import itertools
import json
import json.encoder
import json.scanner
import math
import operator
import re
import sqlite3
from contextlib import contextmanager, nullcontext
from datetime import date
from pathlib import Path

from opsweek.errors import InputError
from opsweek.store.db import INDEX_STEPS, MIGRATIONS, PRIMARY_KEYS, Store, defer_indexes, insert_rows

FORMAT = "opsweek-dump"
SCHEMA_VERSION = 1  # of the dump format; the database schema is in "migrations"

# Parents before children, so that foreign keys hold at every insert.
TABLES = ("settings", "people", "away", "workflows", "feeds", "stages", "items", "recurring", "occurrences",
          "handoffs", "meetings", "attendance", "step_times", "entries", "reviews", "escalations", "outcomes", "ratings",
          "issues", "issue_ranks", "week_figures", "events")
KEYS = {**PRIMARY_KEYS, "events": "id"}

# (table, columns) -> (parent table, parent columns): the schema's foreign keys, checked
# before writing so that a bad dump is named in words rather than by SQLite.
REFERENCES = (
    ("away", ("handle",), "people", ("handle",)),
    ("stages", ("workflow",), "workflows", ("key",)),
    ("items", ("workflow",), "workflows", ("key",)),
    ("items", ("workflow", "stage"), "stages", ("workflow", "key")),
    ("items", ("fed_from",), "items", ("id",)),
    ("feeds", ("workflow",), "workflows", ("key",)),
    ("feeds", ("target",), "workflows", ("key",)),
    ("recurring", ("workflow",), "workflows", ("key",)),
    ("occurrences", ("recurring_id",), "recurring", ("id",)),
    ("occurrences", ("item_id",), "items", ("id",)),
    ("handoffs", ("item_id",), "items", ("id",)),
    ("attendance", ("meeting_id",), "meetings", ("id",)),
    ("step_times", ("meeting_id",), "meetings", ("id",)),
    ("entries", ("meeting_id",), "meetings", ("id",)),
    ("entries", ("item_id",), "items", ("id",)),
    ("entries", ("closed_meeting_id",), "meetings", ("id",)),
    ("reviews", ("meeting_id",), "meetings", ("id",)),
    ("outcomes", ("meeting_id",), "meetings", ("id",)),
    ("ratings", ("meeting_id",), "meetings", ("id",)),
    ("issues", ("meeting_id",), "meetings", ("id",)),
    ("issues", ("item_id",), "items", ("id",)),
    ("issues", ("entry_id",), "entries", ("id",)),
    ("issues", ("closed_meeting_id",), "meetings", ("id",)),
    ("issue_ranks", ("meeting_id",), "meetings", ("id",)),
    ("issue_ranks", ("issue_id",), "issues", ("id",)),
)


def _columns(store: Store, table: str) -> dict[str, str]:
    """Column name -> declared type, in table order."""
    return {row["name"]: (row["type"] or "").upper() for row in store.query(f"PRAGMA table_info({table})")}


# one encoder for every row; the columns are put in sorted order once per table
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, check_circular=False)


def _row_encoder():
    """``_ENCODER.encode`` of one row, without making the C encoder again for each row
    as ``JSONEncoder.encode`` does (a fifth of a large dump's time): the same C encoder,
    with the same settings, made once; the same text, and the same errors (TypeError,
    ValueError)."""
    make = json.encoder.c_make_encoder
    if make is None or json.encoder.c_encode_basestring is None:  # a Python without _json
        return _ENCODER.encode
    e = _ENCODER
    chunks = make(None, e.default, json.encoder.c_encode_basestring, None, e.key_separator, e.item_separator,
                  e.sort_keys, e.skipkeys, e.allow_nan)
    join = "".join
    return lambda row: join(chunks(row, 0))


def dump(store: Store) -> str:
    """Everything in the database as JSON text (UTF-8 safe, ends in a newline)."""
    parts = [
        "{",
        f' "format": {json.dumps(FORMAT)},',
        f' "migrations": {json.dumps(store.applied_migrations())},',
        f' "schema_version": {SCHEMA_VERSION},',
        ' "tables": {',
    ]
    names = sorted(TABLES)
    encode = _row_encoder()
    for index, table in enumerate(names):
        columns = sorted(_columns(store, table))
        cursor = store.conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {KEYS[table]}")
        try:
            lines = ["   " + encode(dict(zip(columns, values))) for values in cursor]
        except TypeError:  # a BLOB, which opsweek never writes
            raise InputError(f"cannot dump: table {table} holds binary data, which opsweek never writes") from None
        except ValueError:  # an infinite or NaN number: JSON has no way to carry it
            raise InputError(f"cannot dump: table {table} holds an infinite or NaN number") from None
        end = "," if index < len(names) - 1 else ""
        if lines:
            parts.append(f"  {json.dumps(table)}: [")
            parts.append(",\n".join(lines))
            parts.append(f"  ]{end}")
        else:
            parts.append(f"  {json.dumps(table)}: []{end}")
    parts += [" }", "}"]
    return "\n".join(parts) + "\n"


# --- restoring -----------------------------------------------------------------------


def _bad(path, message: str) -> InputError:
    return InputError(f"{path}: not a usable opsweek dump: {message}")


def load(path: str | Path) -> dict:
    """Read and parse a dump file (no checks beyond JSON)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a file") from None
    except UnicodeDecodeError as error:
        raise _bad(path, f"not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from None
    try:
        return json.loads(text, parse_constant=lambda name: _reject_constant(path, name))
    except json.JSONDecodeError as error:
        raise _bad(path, f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})") from None
    except RecursionError:  # [[[[…]]]] 100,000 deep: no dump nests more than three
        raise _bad(path, "nested too deeply (a dump is an object of tables of flat rows)") from None
    except ValueError as error:  # an integer of thousands of digits (Python refuses to read it)
        raise _bad(path, f"holds a number too large to read ({str(error).split(';')[0]})") from None


def _reject_constant(path, name):
    raise _bad(path, f"{name} is not a value a dump can hold")


def check(store: Store, data, where="dump") -> dict[str, list[dict]]:
    """Check a parsed dump against this database's schema; returns its tables.

    Raises :class:`InputError` naming the first problem (table, row, column).
    """
    return _check(store, data, where, aside=False)[0]


def _check(store: Store, data, where, *, aside: bool) -> tuple[dict[str, list[dict]], _EventRows]:
    """:func:`check`, and the check of the events' rows, done (``aside`` False) or, for a
    large dump, still running in a child process (:class:`_EventRows`): every problem
    but one in those rows is found before this returns."""
    if not isinstance(data, dict):
        raise _bad(where, "the top level must be a JSON object")
    if data.get("format") != FORMAT:
        raise _bad(where, f"\"format\" must be {FORMAT!r} (is this a file from 'opsweek dump'?)")
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _bad(where, "\"schema_version\" is missing or not a whole number")
    if version > SCHEMA_VERSION:
        raise _bad(where, f"schema_version {version} was written by a newer opsweek; upgrade opsweek to import it")
    if version != SCHEMA_VERSION:
        raise _bad(where, f"schema_version {version} is not supported (accepted: {SCHEMA_VERSION})")
    migrations = data.get("migrations")
    if not isinstance(migrations, list) or not all(isinstance(m, str) for m in migrations):
        raise _bad(where, "\"migrations\" must be a list of schema step names")
    newer = [m for m in migrations if m not in MIGRATIONS]
    if newer:
        raise _bad(where, f"its schema step {newer[-1]} comes from a newer opsweek; upgrade opsweek to import it")
    # a step that changes indexes only changes nothing a dump holds: one written before it restores
    if [m for m in migrations if m not in INDEX_STEPS] != [m for m in MIGRATIONS if m not in INDEX_STEPS] \
            or migrations != [m for m in MIGRATIONS if m in migrations]:
        missing = [m for m in MIGRATIONS if m not in migrations and m not in INDEX_STEPS]
        raise _bad(where, f"its schema lacks step {missing[0]}; restore it with the opsweek that wrote it"
                   if missing else "its schema steps are out of order")
    extra = set(data) - {"format", "schema_version", "migrations", "tables"}
    if extra:
        raise _bad(where, f"unknown top-level key {sorted(extra)[0]!r}")
    tables = data.get("tables")
    if not isinstance(tables, dict):
        raise _bad(where, "\"tables\" must be an object of table name -> rows")
    unknown = sorted(set(tables) - set(TABLES))
    if unknown:
        raise _bad(where, f"unknown table {unknown[0]!r} (accepted: {', '.join(TABLES)})")
    missing_tables = [t for t in TABLES if t not in tables]
    if missing_tables:
        raise _bad(where, f"table {missing_tables[0]!r} is missing")
    for table in TABLES:
        _check_rows(store, table, tables[table], where)
    for table in TABLES[:-1]:
        _check_values(table, tables[table], where)
    events = _EventRows(tables["events"], where, aside=aside)  # the last table
    try:
        with events.first():
            _check_references(tables, where)
            _check_handoff_stages(tables, where)
    except BaseException:
        events.close()
        raise
    return tables, events


def _check_references(tables: dict, where) -> None:
    keys: dict = {}
    for child, columns, parent, parent_columns in REFERENCES + PEOPLE_REFERENCES:
        # the whole column at once; row by row only to name the first row that is wrong
        if (parent, parent_columns) not in keys:
            keys[parent, parent_columns] = set(map(operator.itemgetter(*parent_columns), tables[parent]))
        named = set(map(operator.itemgetter(*columns), tables[child])) - keys[parent, parent_columns]
        if all(v is None or (type(v) is tuple and None in v) for v in named):
            continue
        wanted = {tuple(r[c] for c in parent_columns) for r in tables[parent]}
        for index, row in enumerate(tables[child]):
            value = tuple(row[c] for c in columns)
            if None in value or value in wanted:
                continue
            shown = value[0] if len(value) == 1 else "/".join(str(v) for v in value)
            raise _bad(where, f"{child}[{index + 1}]: {'/'.join(columns)} {shown!r} is not in {parent}")


_ALLOWED = {"TEXT": (str,), "INTEGER": (int,), "REAL": (int, float)}

# Who a row names must be on the team (the team file's rule; the schema cannot say so).
PEOPLE_REFERENCES = tuple(
    (table, (column,), "people", ("handle",))
    for table, column in (("people", "cover"), ("workflows", "owner"), ("stages", "owner"), ("items", "owner"),
                          ("handoffs", "to_owner"), ("entries", "owner"))
)

# The meaning of each column, checked value by value: a dump is checked as deeply as a
# team file, so nothing it brings in can break a screen, a rule or an undo later.
_SLUGS = {
    "people": ("handle", "cover"), "away": ("handle",), "workflows": ("key", "owner"),
    "stages": ("workflow", "key", "owner"), "items": ("workflow", "stage", "owner"),
    "handoffs": ("from_stage", "from_owner", "to_stage", "to_owner", "accepted_by"),
    "meetings": ("facilitator",), "attendance": ("handle",), "entries": ("owner", "workflow"),
    "reviews": ("workflow",), "ratings": ("handle",), "issues": ("workflow",),
}
_STAMPS = {
    "items": ("opened_at", "stage_entered_at", "last_activity_at", "closed_at"),
    "handoffs": ("sent_at", "due_at", "accepted_at", "escalated_at"),
    "meetings": ("started_at", "closed_at"), "entries": ("created_at",), "reviews": ("at",), "outcomes": ("at",), "ratings": ("at",), "issues": ("raised_at", "closed_at"),
    "week_figures": ("week_end", "frozen_at"), "events": ("at",),
}
_DAYS = {"away": ("start", "end"), "items": ("due",), "entries": ("due",)}
_DURATIONS = {"stages": ("handoff_sla",)}
_DURATION_SETTINGS = ("handoff_sla", "stale_after", "escalate_after")
_STAMP_FORM = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_DAY_FORM = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ACTION_FORM = re.compile(r"[a-z][a-z0-9._-]{0,63}")


def _check_values(table: str, rows: list[dict], where) -> None:
    """What each value means: slugs, times, dates, durations, text (the events' rows
    themselves: :class:`_EventRows`). Text is cleaned of terminal controls on the way in,
    like every other way in.

    Checked column by column, each distinct value once (a dump repeats its handles,
    stages and times); only a table in which something is wrong is checked again row by
    row (:func:`_check_values_by_row`), which names the first problem as it always did.
    """
    if table in ("settings", "stages", "meetings") or not rows or not _values_plainly_valid(table, rows):
        _check_values_by_row(table, rows, where)


def _flagged_events(rows: list[dict]) -> list[int]:
    """The indexes of the events whose rows are not plainly valid (:meth:`_EventCheck.plain`)."""
    quick = _EventCheck()
    return [index for index, row in enumerate(rows) if not quick.plain(row)]


def _check_flagged_events(rows: list[dict], flagged, where) -> None:
    """Every check of the events at ``flagged`` (in order), with its message; the rows'
    text cleaned of terminal controls."""
    def bad(index: int, column: str, problem: str):
        return _bad(where, f"events[{index + 1}], column {column}: {problem}")

    for index in flagged:
        _check_event(rows[index], index, bad)


# From this many events, a restore has their rows looked at in a child process (a core
# of its own, no lock shared with this one) while it checks and writes everything else.
_ASIDE_FROM = 20_000


class _EventRows:
    """The check of a dump's events (:func:`_check_values` of its last table), done now
    or, with ``aside``, for a large dump whose other values are plainly valid, partly in a
    child process: the child finds which rows its quick check does not pass (most of the
    events' check: each row's before and after parsed), and :meth:`settle` checks those
    here, with every message, as :func:`_check_values` does. Where the child cannot run
    (:func:`opsweek.aside.fork`: no ``fork``, threads running) or fails, the rows are
    looked at here.

    The outcome is the check's: a problem in the events' rows is named before any problem
    :func:`_check` and the restore would find after it (:meth:`first`). :meth:`close`
    ends a child not waited for."""

    def __init__(self, rows: list[dict], where, *, aside: bool):
        self.rows, self.where = rows, where
        self.child = None  # an aside.Child
        self.settled = False
        if not rows or not _values_plainly_valid("events", rows):
            _check_values_by_row("events", rows, where)
            self.settled = True
        elif aside and len(rows) >= _ASIDE_FROM:
            from opsweek import aside as beside

            self.child = beside.fork(lambda send: send(_flagged_events(rows)))
        if self.child is None:
            self.settle()

    def settle(self) -> None:
        """Finish the events' check: raises its first problem, as :func:`check` would."""
        if self.settled:
            return
        self.settled = True
        flagged = self._from_child() if self.child is not None else None
        _check_flagged_events(self.rows, _flagged_events(self.rows) if flagged is None else flagged, self.where)

    @contextmanager
    def first(self):
        """Whatever fails in this block fails after the events' check: a problem in the
        events' rows is raised instead (it comes first in the dump's order of checks)."""
        try:
            yield
        except Exception:
            self.settle()
            raise

    def close(self) -> None:
        if self.child is not None:
            self.child.end()
            self.child = None

    def _from_child(self) -> list[int] | None:
        child, self.child = self.child, None
        flagged = next(child.messages(), None)
        if child.wait() != 0:
            return None
        ok = type(flagged) is list and all(type(i) is int and 0 <= i < len(self.rows) for i in flagged)
        return flagged if ok else None


def _values_plainly_valid(table: str, rows: list[dict]) -> bool:
    """Whether every value of ``rows`` passes :func:`_check_values_by_row`'s checks of
    values, cleaning text of terminal controls in place as it would (the events' rows
    themselves are left to their own check). False when anything is wrong."""
    from opsweek import clock
    from opsweek.text import clean_text, is_slug

    slugs, stamps, days = _SLUGS.get(table, ()), _STAMPS.get(table, ()), _DAYS.get(table, ())
    durations = _DURATIONS.get(table, ())
    cleaned: dict[str, dict] = {}
    for column in rows[0]:
        if table == "events" and column in ("before", "after"):
            continue  # text or null (_check_rows), checked by the events' own check
        distinct = set(map(operator.itemgetter(column), rows))
        distinct.discard(None)
        types = set(map(type, distinct))
        if float in types and not all(math.isfinite(v) for v in distinct if type(v) is float):
            return False
        texts = [v for v in distinct if type(v) is str] if types != {str} else distinct
        try:
            if column in slugs:
                if not all(map(is_slug, texts)):
                    return False
            elif column in stamps:
                for value in texts:
                    if not _STAMP_FORM.fullmatch(value):
                        return False
                    clock.check_year(clock.parse_stamp(value))
            elif column in days:
                for value in texts:
                    if not _DAY_FORM.fullmatch(value):
                        return False
                    clock.check_year(date.fromisoformat(value))
            elif column in durations:
                for value in texts:
                    clock.parse_duration(value)
            elif not (table == "events" and column in ("before", "after")):
                # nothing clean_text removes is printable: most text is clean as it is (one
                # look at all of it; a space between the values keeps it printable)
                changed = {} if " ".join(texts).isprintable() else \
                    {v: clean_text(v) for v in texts if not v.isprintable()}
                changed = {v: c for v, c in changed.items() if c != v}
                if changed:
                    cleaned[column] = changed
        except (ValueError, InputError):
            return False
    for column, changed in cleaned.items():
        for row in rows:
            if row[column] in changed:
                row[column] = changed[row[column]]
    return True


def _check_values_by_row(table: str, rows: list[dict], where) -> None:
    from opsweek import clock
    from opsweek.text import clean_text, is_slug

    def bad(index: int, column: str, problem: str):
        return _bad(where, f"{table}[{index + 1}], column {column}: {problem}")

    slugs, stamps, days = _SLUGS.get(table, ()), _STAMPS.get(table, ()), _DAYS.get(table, ())
    durations = _DURATIONS.get(table, ())
    for index, row in enumerate(rows):
        for column, value in row.items():
            if value is None:
                continue
            if isinstance(value, float) and not math.isfinite(value):
                raise bad(index, column, "is not a finite number")
            if not isinstance(value, str):
                continue
            if column in slugs:
                if not is_slug(value):
                    raise bad(index, column, f"{_short(value)} is not a slug (accepted: lowercase letters,"
                                             " digits, - and _)")
            elif column in stamps:
                try:
                    if not _STAMP_FORM.fullmatch(value):
                        raise ValueError
                    clock.check_year(clock.parse_stamp(value))
                except (ValueError, InputError):
                    raise bad(index, column, f"{_short(value)} is not a stored time"
                                             " (accepted: 2026-11-24T09:00:00Z, years 1000–9999)") from None
            elif column in days:
                try:
                    if not _DAY_FORM.fullmatch(value):
                        raise ValueError
                    clock.check_year(date.fromisoformat(value))
                except (ValueError, InputError):
                    raise bad(index, column, f"{_short(value)} is not a date (accepted: 2026-11-24)") from None
            elif column in durations or (table == "settings" and column == "value"
                                         and row.get("key") in _DURATION_SETTINGS):
                try:
                    clock.parse_duration(value)
                except InputError as error:
                    raise bad(index, column, str(error).split(": ", 1)[-1]) from None
            elif not (table == "events" and column in ("before", "after")):
                cleaned = clean_text(value)
                if cleaned != value:
                    row[column] = cleaned
        if table == "stages" and row.get("max_days") is not None and not 0 < row["max_days"] <= 36525:
            raise bad(index, "max_days", f"{row['max_days']!r} is out of range (accepted: more than 0,"
                                         " up to 36525 days)")
        if table == "meetings":
            _check_meeting(row, index, bad)
        if table == "events":
            _check_event(row, index, bad)


def _check_meeting(row: dict, index: int, bad) -> None:
    from opsweek import clock
    from opsweek.agenda import STEP_KEYS

    try:
        clock.week_bounds(row["week"] if isinstance(row["week"], str) else "")
    except InputError:
        raise bad(index, "week", f"{_short(row['week'])} is not an ISO week (accepted: 2026-W48)") from None
    if row["step"] not in STEP_KEYS:
        raise bad(index, "step", f"{_short(row['step'])} is not a step (accepted: {', '.join(STEP_KEYS)})")


def _check_event(row: dict, index: int, bad) -> None:
    """An event names a known table, a plain action, and rows of that table's columns."""
    from opsweek.store.db import COLUMNS
    from opsweek.text import clean_text

    entity = row["entity"]
    if entity not in COLUMNS or entity == "events":
        raise bad(index, "entity", f"{_short(entity)} is not a table (accepted: {', '.join(sorted(PRIMARY_KEYS))})")
    if not isinstance(row["action"], str) or not _ACTION_FORM.fullmatch(row["action"]):
        raise bad(index, "action", f"{_short(row['action'])} is not an action (accepted: names like item.add)")
    if row["before"] is None and row["after"] is None:
        raise bad(index, "after", "an event changes a row: before or after must be set")
    columns = set(COLUMNS[entity])
    for column in ("before", "after"):
        text = row[column]
        if text is None:
            continue
        try:
            value = json.loads(text, parse_constant=_no_constant)
        except (ValueError, RecursionError):
            raise bad(index, column, "is not valid JSON of a row") from None
        if not isinstance(value, dict):
            raise bad(index, column, "is not a JSON object of column: value")
        unknown = [key for key in value if key not in columns]
        if unknown:
            raise bad(index, column, f"{_short(unknown[0])} is not a column of {entity}")
        changed = False
        for key, field in value.items():
            if isinstance(field, bool) or not isinstance(field, (str, int, float, type(None))):
                raise bad(index, column, f"{key}: {_short(field)} is not a text, number or null")
            if isinstance(field, int) and not -2**63 <= field < 2**63:
                raise bad(index, column, f"{key}: the number is too large for SQLite")
            if isinstance(field, float) and not math.isfinite(field):
                raise bad(index, column, f"{key}: is not a finite number")
            if isinstance(field, str) and clean_text(field) != field:
                value[key], changed = clean_text(field), True
        if changed:  # the same encoding opsweek writes events with (store/db.py)
            row[column] = json.dumps(value, sort_keys=True, default=str)


def _no_constant(name):
    raise ValueError(name)


class _EventCheck:
    """The quick check of an event (:func:`_check_event` for plainly valid ones): its
    entity and action, and its rows parsed by the JSON scanner itself, their columns
    those of the entity, their values text, whole numbers (in SQLite's range), finite
    numbers or null, their text clean."""

    def __init__(self):
        from opsweek.store.db import COLUMNS

        decoder = json.JSONDecoder(parse_constant=_no_constant)
        self.scan = json.scanner.make_scanner(decoder)
        self.columns = {entity: frozenset(columns) for entity, columns in COLUMNS.items() if entity != "events"}
        self.actions: set[str] = set()
        self.plain_types = {str, int, float, type(None)}  # a float when it is finite

    def plain(self, row: dict) -> bool:
        columns = self.columns.get(row["entity"])
        if columns is None:
            return False
        action = row["action"]
        if action not in self.actions:
            if not (isinstance(action, str) and _ACTION_FORM.fullmatch(action)):
                return False
            self.actions.add(action)
        before, after = row["before"], row["after"]
        if before is None and after is None:
            return False
        return (before is None or self._plain_row(before, columns)) and (after is None or self._plain_row(after, columns))

    def _plain_row(self, text, columns) -> bool:
        if type(text) is not str or not text.startswith("{") or not text.isprintable():
            return False
        # no escape but \\ \" or \/ : every string in it is as printable as the text
        if "\\" in text.replace("\\\\", "").replace('\\"', "").replace("\\/", ""):
            return False
        try:
            value, end = self.scan(text, 0)
        except (StopIteration, ValueError, RecursionError):
            return False
        if end != len(text) or type(value) is not dict or not value.keys() <= columns:
            return False
        types = set(map(type, value.values()))
        if not types <= self.plain_types:
            return False
        if float in types and not all(math.isfinite(v) for v in value.values() if type(v) is float):
            return False
        return int not in types or all(-2**63 <= v < 2**63 for v in value.values() if type(v) is int)


def _short(value) -> str:
    text = repr(value) if not isinstance(value, (list, dict)) else json.dumps(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _check_handoff_stages(tables: dict, where) -> None:
    """A handoff's stages are stages of its item's workflow."""
    stages = {(s["workflow"], s["key"]) for s in tables["stages"]}
    workflow_of = {i["id"]: i["workflow"] for i in tables["items"]}
    for index, handoff in enumerate(tables["handoffs"]):
        workflow = workflow_of.get(handoff["item_id"])
        for column in ("from_stage", "to_stage"):
            if (workflow, handoff[column]) not in stages:
                raise _bad(where, f"handoffs[{index + 1}], column {column}: {_short(handoff[column])}"
                                  f" is not a stage of {workflow}")


def _check_rows(store: Store, table: str, rows, where) -> None:
    """Shape, columns, value types and unique keys of one table's rows.

    Done column by column (a set of the types present) so a dump of 100,000 items is
    checked in well under a second; the slow path only runs to name a problem.
    """
    columns = _columns(store, table)
    if not isinstance(rows, list):
        raise _bad(where, f"{table} must be a list of rows")
    wanted = set(columns)
    plain = set(map(type, rows)) <= {dict} and all(map(operator.eq, map(dict.keys, rows), itertools.repeat(wanted)))
    for index, row in enumerate(() if plain else rows):  # row by row only to name what is wrong
        if type(row) is not dict or row.keys() != wanted:
            at = f"{table}[{index + 1}]"
            if not isinstance(row, dict):
                raise _bad(where, f"{at} is not an object")
            unknown_cols = [c for c in row if c not in columns]
            if unknown_cols:
                raise _bad(where, f"{at}: unknown column {unknown_cols[0]!r}")
            raise _bad(where, f"{at}: column {[c for c in columns if c not in row][0]!r} is missing")
    for column, declared in columns.items():
        values = list(map(operator.itemgetter(column), rows))
        allowed = {type(None), *_ALLOWED.get(declared, (str, int, float))}
        present = set(map(type, values))
        problem_at = None
        if not present <= allowed:
            problem_at = next(i for i, v in enumerate(values) if type(v) not in allowed)
        elif int in present:
            ints = [v for v in values if type(v) is int]
            if min(ints) < -2**63 or max(ints) >= 2**63:
                problem_at = next(i for i, v in enumerate(values) if type(v) is int and not -2**63 <= v < 2**63)
        if problem_at is not None:
            value = values[problem_at]
            if type(value) is int:
                problem = f"{value} is too large for SQLite"
            elif isinstance(value, (bool, list, dict)):
                problem = f"{json.dumps(value)[:40]} is not a text, number or null"
            elif declared == "TEXT":
                problem = f"{value!r} is not text"
            elif isinstance(value, str):
                problem = f"{value[:40]!r} is not a number"
            else:
                problem = f"{value!r} is not a whole number"
            raise _bad(where, f"{table}[{problem_at + 1}], column {column}: {problem}")
    pk = KEYS[table]
    keys = [row[pk] for row in rows]
    if None in keys:
        raise _bad(where, f"{table}[{keys.index(None) + 1}]: {pk} must be set")
    if len(set(keys)) != len(keys):
        seen = set()
        for index, key in enumerate(keys):
            if key in seen:
                raise _bad(where, f"{table}[{index + 1}]: {pk} {key!r} appears twice")
            seen.add(key)


def holds_data(store: Store) -> dict[str, int]:
    """Row counts of the tables that are not empty."""
    counts = {t: store.scalar(f"SELECT count(*) FROM {t}") for t in TABLES}
    return {t: n for t, n in counts.items() if n}


class Restored(dict):
    """Rows written per table; ``backup`` is the copy of the database it replaced, if any."""

    backup: Path | None = None


def restore(store: Store, data, *, replace: bool = False, where="dump") -> dict[str, int]:
    """Check a parsed dump, then write it into the database in one transaction; returns
    rows written per table. Nothing is written when anything is wrong.

    A large dump's events are checked in a child process while the other tables are
    written (:class:`_EventRows`); any failure before they are written waits for that
    check, whose problem is named first, as when it was done before writing."""
    tables, events = _check(store, data, where, aside=True)
    try:
        with events.first():
            return _write(store, tables, events, replace=replace, where=where)
    finally:
        events.close()


def _write(store: Store, tables: dict, events: _EventRows, *, replace: bool, where) -> Restored:
    counts = Restored()
    if replace and store.path is not None and holds_data(store):
        # what --replace empties is kept, as a migration keeps the database it upgrades
        from opsweek import clock

        stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
        counts.backup = store.backup(store.path.with_name(f"{store.path.name}.before-import-{stamp}.bak"))
    # every table is emptied and refilled: references are checked once before the
    # transaction commits (Store.bulk), not looked up row by row
    # (into a new, empty file: its pages written once, through a rollback journal)
    bulk = store.bulk(references_at_commit=True, journal_once=not holds_data(store)) \
        if sum(map(len, tables.values())) >= 10_000 else nullcontext()
    with bulk, store.transaction():
        present = holds_data(store)
        if present and not replace:
            shown = sorted(present, key=lambda t: (t not in ("people", "items", "meetings", "events"), TABLES.index(t)))
            what = ", ".join(f"{present[t]} {t}" for t in shown[:3])
            raise InputError(f"{store.path or 'the database'} already holds data ({what}); a dump is restored only "
                             "into an empty database (accepted: a new --db path, or import --replace to overwrite it)")
        for table in reversed(TABLES):
            store.conn.execute(f"DELETE FROM {table}")
        for table in TABLES:
            if table == "events":  # the last: its check is done
                events.settle()
            rows = tables[table]
            counts[table] = len(rows)
            if not rows:
                continue
            columns = list(_columns(store, table))
            pick = operator.itemgetter(*columns)
            # into an emptied table: its indexes are made again once, after the rows
            rebuild = defer_indexes(store.conn, table, len(rows))
            # SQLite looks a row's references up as it inserts it: an item fed from one
            # later in the dump fails there, references checked at commit or not
            forward = _fed_forward(rows) if table == "items" and store.conn.execute(
                "PRAGMA foreign_keys").fetchone()[0] == 0 else None
            try:
                values = map(pick, rows if forward is None else rows[:forward + 1])
                insert_rows(store.conn, table, columns, values if len(columns) > 1 else ((v,) for v in values))
                if forward is not None:
                    raise _bad(where, f"{table}[{forward + 1}]: FOREIGN KEY constraint failed")
                for statement in rebuild:
                    store.conn.execute(statement)
            except (sqlite3.IntegrityError, UnicodeEncodeError) as error:
                # the table was emptied first, so what got in before the failure counts the rows
                failed = store.scalar(f"SELECT count(*) FROM {table}") + 1
                if isinstance(error, UnicodeEncodeError):
                    error = "holds an unpaired surrogate (not valid Unicode text)"
                raise _bad(where, f"{table}[{failed}]: {error}") from None
    return counts


def _fed_forward(items: list[dict]) -> int | None:
    """The index of the first item fed from an item that comes after it (None: none is).
    Every ``fed_from`` names an item of the dump (checked before writing)."""
    position = {item["id"]: index for index, item in enumerate(items)}
    for index, item in enumerate(items):
        fed_from = item["fed_from"]
        if fed_from is not None and position.get(fed_from, -1) > index:
            return index
    return None


def restore_file(store: Store, path: str | Path, replace: bool = False) -> dict[str, int]:
    """``opsweek import DUMP.json``: check the dump, then restore it all or nothing."""
    return restore(store, load(path), replace=replace, where=path)
