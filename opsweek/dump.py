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

import json
import sqlite3
from pathlib import Path

from opsweek.errors import InputError
from opsweek.store.db import MIGRATIONS, PRIMARY_KEYS, Store

FORMAT = "opsweek-dump"
SCHEMA_VERSION = 1  # of the dump format; the database schema is in "migrations"

# Parents before children, so that foreign keys hold at every insert.
TABLES = ("settings", "people", "away", "workflows", "stages", "items", "handoffs", "meetings",
          "attendance", "step_times", "entries", "reviews", "escalations", "events")
KEYS = {**PRIMARY_KEYS, "events": "id"}

# (table, columns) -> (parent table, parent columns): the schema's foreign keys, checked
# before writing so that a bad dump is named in words rather than by SQLite.
REFERENCES = (
    ("away", ("handle",), "people", ("handle",)),
    ("stages", ("workflow",), "workflows", ("key",)),
    ("items", ("workflow",), "workflows", ("key",)),
    ("items", ("workflow", "stage"), "stages", ("workflow", "key")),
    ("handoffs", ("item_id",), "items", ("id",)),
    ("attendance", ("meeting_id",), "meetings", ("id",)),
    ("step_times", ("meeting_id",), "meetings", ("id",)),
    ("entries", ("meeting_id",), "meetings", ("id",)),
    ("entries", ("item_id",), "items", ("id",)),
    ("entries", ("closed_meeting_id",), "meetings", ("id",)),
    ("reviews", ("meeting_id",), "meetings", ("id",)),
)


def _columns(store: Store, table: str) -> dict[str, str]:
    """Column name -> declared type, in table order."""
    return {row["name"]: (row["type"] or "").upper() for row in store.query(f"PRAGMA table_info({table})")}


# one encoder for every row; the columns are put in sorted order once per table
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, check_circular=False)


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
    encode = _ENCODER.encode
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


def _reject_constant(path, name):
    raise _bad(path, f"{name} is not a value a dump can hold")


def check(store: Store, data, where="dump") -> dict[str, list[dict]]:
    """Check a parsed dump against this database's schema; returns its tables.

    Raises :class:`InputError` naming the first problem (table, row, column).
    """
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
    if migrations != list(MIGRATIONS):
        missing = [m for m in MIGRATIONS if m not in migrations]
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
    for child, columns, parent, parent_columns in REFERENCES:
        wanted = {tuple(r[c] for c in parent_columns) for r in tables[parent]}
        for index, row in enumerate(tables[child]):
            value = tuple(row[c] for c in columns)
            if None in value or value in wanted:
                continue
            shown = value[0] if len(value) == 1 else "/".join(str(v) for v in value)
            raise _bad(where, f"{child}[{index + 1}]: {'/'.join(columns)} {shown!r} is not in {parent}")
    return tables


_ALLOWED = {"TEXT": (str,), "INTEGER": (int,), "REAL": (int, float)}


def _check_rows(store: Store, table: str, rows, where) -> None:
    """Shape, columns, value types and unique keys of one table's rows.

    Done column by column (a set of the types present) so a dump of 100,000 items is
    checked in well under a second; the slow path only runs to name a problem.
    """
    columns = _columns(store, table)
    if not isinstance(rows, list):
        raise _bad(where, f"{table} must be a list of rows")
    wanted = set(columns)
    for index, row in enumerate(rows):
        if type(row) is not dict or row.keys() != wanted:
            at = f"{table}[{index + 1}]"
            if not isinstance(row, dict):
                raise _bad(where, f"{at} is not an object")
            unknown_cols = [c for c in row if c not in columns]
            if unknown_cols:
                raise _bad(where, f"{at}: unknown column {unknown_cols[0]!r}")
            raise _bad(where, f"{at}: column {[c for c in columns if c not in row][0]!r} is missing")
    for column, declared in columns.items():
        values = [row[column] for row in rows]
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


def restore(store: Store, data, *, replace: bool = False, where="dump") -> dict[str, int]:
    """Check a parsed dump, then write it into the database in one transaction; returns
    rows written per table. Nothing is written when anything is wrong."""
    tables = check(store, data, where)
    counts = {}
    with store.transaction():
        present = holds_data(store)
        if present and not replace:
            shown = sorted(present, key=lambda t: (t not in ("people", "items", "meetings", "events"), TABLES.index(t)))
            what = ", ".join(f"{present[t]} {t}" for t in shown[:3])
            raise InputError(f"{store.path or 'the database'} already holds data ({what}); a dump is restored only "
                             "into an empty database (accepted: a new --db path, or import --replace to overwrite it)")
        for table in reversed(TABLES):
            store.conn.execute(f"DELETE FROM {table}")
        for table in TABLES:
            rows = tables[table]
            counts[table] = len(rows)
            if not rows:
                continue
            columns = list(_columns(store, table))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            try:
                store.conn.executemany(sql, ([row[c] for c in columns] for row in rows))
            except (sqlite3.IntegrityError, UnicodeEncodeError) as error:
                # the table was emptied first, so what got in before the failure counts the rows
                failed = store.scalar(f"SELECT count(*) FROM {table}") + 1
                if isinstance(error, UnicodeEncodeError):
                    error = "holds an unpaired surrogate (not valid Unicode text)"
                raise _bad(where, f"{table}[{failed}]: {error}") from None
    return counts


def restore_file(store: Store, path: str | Path, replace: bool = False) -> dict[str, int]:
    """``opsweek import DUMP.json``: check the dump, then restore it all or nothing."""
    return restore(store, load(path), replace=replace, where=path)
