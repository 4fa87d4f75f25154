"""Import of the team file (TOML), items (CSV) and full dumps (JSON), as SPEC.md writes them.

Importing is all-or-nothing: every file is read and checked in full before anything is
committed (a large CSV into a database with no items is checked in a child process while
its rows are written: :class:`_Aside`), a problem names the file, row and column, and the
writes of one command go in one transaction with their audit events.
"""

from __future__ import annotations

import csv
import gc
import io
import itertools
import json
import operator
import re
import tomllib
from contextlib import contextmanager, nullcontext
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from opsweek import clock, inputs, rules
from opsweek.errors import InputError
from opsweek.store import Store, read
from opsweek.text import clean_text

if TYPE_CHECKING:  # pydantic is imported where a file is checked (a dump never needs it)
    from opsweek.model import Person, Recurring, Settings, Stage, Workflow

CSV_COLUMNS = ("workflow", "stage", "title", "owner", "status", "opened", "stage_entered",
               "last_activity", "due", "ref", "blocked_reason", "handoff_to", "handoff_owner",
               "handoff_sent")
_REQUIRED_COLUMNS = ("workflow", "stage", "title")


class TeamFile:
    """A checked team file: settings, people, workflows with their stages."""

    def __init__(self, settings: Settings | None, settings_given: set[str], people: list[Person],
                 workflows: list[Workflow], stages: list[Stage],
                 feeds: dict[str, list[str]] | None = None, recurring: list[tuple[str, Recurring]] | None = None):
        self.settings = settings
        self.settings_given = settings_given
        self.people = people
        self.workflows = workflows
        self.stages = stages
        self.feeds = feeds or {}            # only the workflows whose entry says feeds = [...]
        self.recurring = recurring or []    # (workflow key, schedule)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a file") from None
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from None


def parse_team(path: Path, known_people: set[str] = frozenset(),
               known_workflows: set[str] = frozenset()) -> TeamFile:
    """Read and check a team TOML file (relative dates like ``+2d`` allowed for away)."""
    from pydantic import ValidationError

    from opsweek.model import Person, Recurring, Settings, Stage, Workflow, explain

    try:
        data = tomllib.loads(_read_text(path))
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{path}: not valid TOML ({error})") from None
    except (ValueError, RecursionError) as error:  # a number of thousands of digits, absurd nesting
        raise InputError(f"{path}: not a usable team file ({str(error).split(';')[0]})") from None
    unknown_keys = set(data) - {"settings", "people", "workflows"}
    if unknown_keys:
        raise InputError(f"{path}: unknown section {sorted(unknown_keys)[0]!r} (accepted: settings, people, workflows)")
    settings = None
    given: set[str] = set()
    if "settings" in data:
        if not isinstance(data["settings"], dict):
            raise InputError(f"{path}: [settings] must be a table")
        try:
            settings = Settings.model_validate(data["settings"])
        except ValidationError as error:
            raise InputError(explain(error, f"{path}: settings")) from None
        given = set(data["settings"])
    people: list[Person] = []
    for index, raw in enumerate(_list(data, "people", path)):
        try:
            people.append(Person.model_validate(raw))
        except ValidationError as error:
            raise InputError(explain(error, f"{path}: people[{index + 1}]")) from None
    handles = [p.handle for p in people]
    duplicates = {h for h in handles if handles.count(h) > 1}
    if duplicates:
        raise InputError(f"{path}: person {sorted(duplicates)[0]!r} is listed twice")
    everyone = set(handles) | set(known_people)
    for index, person in enumerate(people):
        if person.cover and person.cover not in everyone:
            raise InputError(f"{path}: people[{index + 1}] cover: unknown person {person.cover!r}")
    workflows: list[Workflow] = []
    stages: list[Stage] = []
    feeds: dict[str, list[str]] = {}
    recurring: list[tuple[str, Recurring]] = []
    for index, raw in enumerate(_list(data, "workflows", path)):
        where = f"{path}: workflows[{index + 1}]"
        if not isinstance(raw, dict):
            raise InputError(f"{where}: must be a table")
        raw = dict(raw)
        raw_stages = raw.pop("stages", [])
        raw_recurring = raw.pop("recurring", [])
        try:
            workflow = Workflow.model_validate(raw)
        except ValidationError as error:
            raise InputError(explain(error, where)) from None
        if "feeds" in raw:
            feeds[workflow.key] = list(dict.fromkeys(workflow.feeds))
        if not isinstance(raw_recurring, list):
            raise InputError(f"{where}: recurring must be a list of [[workflows.recurring]] tables")
        for number, raw_schedule in enumerate(raw_recurring, start=1):
            rwhere = f"{where}.recurring[{number}]"
            if not isinstance(raw_schedule, dict):
                raise InputError(f"{rwhere}: must be a table")
            try:
                schedule = Recurring.model_validate(raw_schedule)
            except ValidationError as error:
                raise InputError(explain(error, rwhere)) from None
            if schedule.key in {r.key for w, r in recurring if w == workflow.key}:
                raise InputError(f"{rwhere}: recurring {schedule.key!r} is listed twice in {workflow.key}")
            if schedule.owner and schedule.owner not in everyone:
                raise InputError(f"{rwhere} owner: unknown person {schedule.owner!r}")
            recurring.append((workflow.key, schedule))
        if workflow.key in {w.key for w in workflows}:
            raise InputError(f"{where}: workflow {workflow.key!r} is listed twice")
        if workflow.owner and workflow.owner not in everyone:
            raise InputError(f"{where} owner: unknown person {workflow.owner!r}")
        workflows.append(workflow)
        if not isinstance(raw_stages, list):
            raise InputError(f"{where}: stages must be a list of [[workflows.stages]] tables")
        seen = set()
        for position, raw_stage in enumerate(raw_stages):
            swhere = f"{where}.stages[{position + 1}]"
            if not isinstance(raw_stage, dict):
                raise InputError(f"{swhere}: must be a table")
            try:
                stage = Stage.model_validate({**raw_stage, "workflow": workflow.key, "position": position + 1})
            except ValidationError as error:
                raise InputError(explain(error, swhere)) from None
            if stage.key in seen:
                raise InputError(f"{swhere}: stage {stage.key!r} is listed twice in {workflow.key}")
            if stage.owner and stage.owner not in everyone:
                raise InputError(f"{swhere} owner: unknown person {stage.owner!r}")
            seen.add(stage.key)
            stages.append(stage)
    all_workflows = {w.key for w in workflows} | set(known_workflows)
    for index, workflow in enumerate(workflows):
        for target in feeds.get(workflow.key, []):
            if target == workflow.key:
                raise InputError(f"{path}: workflows[{index + 1}] feeds: {target} cannot feed itself")
            if target not in all_workflows:
                raise InputError(f"{path}: workflows[{index + 1}] feeds: unknown workflow {target!r}")
    return TeamFile(settings, given, people, workflows, stages, feeds, recurring)


def _list(data: dict, key: str, path: Path) -> list:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise InputError(f"{path}: {key} must be a list of [[{key}]] tables")
    return value


# --- what a team file would change (issue 11) ---------------------------------------
# Importing a team file is planned first: every row edit it would make (``Op``), from a
# comparison of the file with the database. ``--dry-run`` prints the plan; a plain import
# refuses when the plan would overwrite a value whose latest change came from the app
# (not from an import) — it would revert what a session decided — unless ``--force``;
# and it applies the plan in one change, so a file equal to the database changes nothing.


class Op(NamedTuple):
    """One row edit of a plan: ``verb`` insert / update / delete on ``table``."""

    verb: str
    table: str
    key: object          # the row's primary key (None for an insert of an id row)
    row: dict            # insert: the row; update: field -> new value
    old: dict            # update: field -> value now; delete: the row
    what: str            # "person ana", "stage hiring/qa", "setting handoff_sla"
    pruned: bool = False  # retired because the file no longer lists it (--prune)


class TeamPlan(NamedTuple):
    """What importing one team file would do: ``ops``, and ``only_in_db`` (what the
    database has that the file does not list; left alone unless pruned)."""

    path: Path
    ops: list
    only_in_db: list


def _setting_text(name: str, given) -> str:
    return json.dumps(given, sort_keys=True) if isinstance(given, dict) else str(given)


def plan_team(store: Store, team_file: TeamFile, *, prune: bool = False, path: Path | None = None) -> TeamPlan:
    """Compare ``team_file`` with the database: the row edits an import would make."""
    ops: list[Op] = []
    only: list[str] = []
    stored = {r["key"]: r["value"] for r in store.query("SELECT key, value FROM settings")}
    if team_file.settings is not None:
        values = team_file.settings.model_dump()
        for name in sorted(team_file.settings_given):
            new = _setting_text(name, values[name])
            if name in stored:
                if stored[name] != new:
                    ops.append(Op("update", "settings", name, {"value": new}, {"value": stored[name]},
                                  f"setting {name}"))
            else:  # stored even when it is the default: the file says so
                ops.append(Op("insert", "settings", name, {"key": name, "value": new}, {}, f"setting {name}"))
    people = {r["handle"]: dict(r) for r in store.query("SELECT * FROM people")}
    listed = set()
    for person in team_file.people:
        listed.add(person.handle)
        row = {"handle": person.handle, "name": person.name, "role": person.role, "cover": person.cover,
               "active": int(person.active)}
        ops.extend(_row_ops("people", person.handle, people.get(person.handle), row, f"person {person.handle}"))
        existing = {(r["start"], r["end"]): r["id"] for r in
                    store.query("SELECT id, start, end FROM away WHERE handle = ? ORDER BY start, id",
                                (person.handle,))}
        wanted = {(a.start.isoformat(), a.end.isoformat()) for a in person.away}
        for span, row_id in existing.items():
            if span not in wanted:
                ops.append(Op("delete", "away", row_id, {}, {"handle": person.handle, "start": span[0],
                                                             "end": span[1]}, f"person {person.handle}"))
        for start, end in sorted(wanted - set(existing)):
            ops.append(Op("insert", "away", None, {"handle": person.handle, "start": start, "end": end}, {},
                          f"person {person.handle}"))
    for handle, row in sorted(people.items()):
        if handle not in listed and row["active"]:
            only.append(f"person {handle}")
            if prune:
                ops.append(Op("update", "people", handle, {"active": 0}, {"active": 1}, f"person {handle}", True))
    workflows = {r["key"]: dict(r) for r in store.query("SELECT * FROM workflows")}
    for workflow in team_file.workflows:
        ops.extend(_row_ops("workflows", workflow.key, workflows.get(workflow.key), workflow.model_dump(exclude={"feeds", "recurring"}),
                            f"workflow {workflow.key}"))
    listed_workflows = {w.key for w in team_file.workflows}
    for key, row in sorted(workflows.items()):
        if key not in listed_workflows and row["status"] != "retired":
            only.append(f"workflow {key}")
            if prune:
                ops.append(Op("update", "workflows", key, {"status": "retired"}, {"status": row["status"]},
                              f"workflow {key}", True))
    for workflow in team_file.workflows:
        ops.extend(_stage_ops(store, workflow.key, [s for s in team_file.stages if s.workflow == workflow.key],
                              only, prune))
    return TeamPlan(path or Path("team.toml"), ops, only)


def _row_ops(table: str, key, current: dict | None, row: dict, what: str) -> list[Op]:
    if current is None:
        return [Op("insert", table, key, row, {}, what)]
    new = {f: v for f, v in row.items() if current.get(f) != v}
    if not new:
        return []
    return [Op("update", table, key, new, {f: current.get(f) for f in new}, what)]


def _stage_ops(store: Store, workflow: str, listed: list[Stage], only: list[str], prune: bool) -> list[Op]:
    rows = [dict(r) for r in store.query("SELECT * FROM stages WHERE workflow = ? ORDER BY position, id",
                                         (workflow,))]
    current = {r["key"]: r for r in rows}
    keys = [s.key for s in listed]
    # positions follow the file's order; when the database already has these stages in
    # that order, their numbers stay as they are (nothing to change)
    in_db_order = [r["key"] for r in rows if r["key"] in set(keys)]
    same_order = in_db_order == [k for k in keys if k in current]
    positions: dict[str, int] = {}
    if not same_order:
        unlisted = [r["key"] for r in rows if r["key"] not in set(keys)]
        positions = {k: n for n, k in enumerate([*keys, *unlisted], start=1)}
    ops: list[Op] = []
    end = max((r["position"] for r in rows), default=0)
    for stage in listed:
        row = stage.model_dump()
        row.pop("workflow")
        what = f"stage {workflow}/{stage.key}"
        existing = current.get(stage.key)
        if existing is None:
            end += 1
            row["position"] = positions.get(stage.key, end)
            ops.append(Op("insert", "stages", None, {"workflow": workflow, **row}, {}, what))
            continue
        row["position"] = positions.get(stage.key, existing["position"])
        ops.extend(_row_ops("stages", existing["id"], existing, row, what))
    for r in rows:
        if r["key"] not in set(keys) and not r["retired"]:
            only.append(f"stage {workflow}/{r['key']}")
            if prune:
                ops.append(Op("update", "stages", r["id"], {"retired": 1}, {"retired": 0},
                              f"stage {workflow}/{r['key']}", True))
        elif r["key"] not in set(keys) and positions.get(r["key"], r["position"]) != r["position"]:
            ops.append(Op("update", "stages", r["id"], {"position": positions[r["key"]]},
                          {"position": r["position"]}, f"stage {workflow}/{r['key']}"))
    return ops


def _shown(value) -> str:
    if value is None or value == "":
        return "(none)"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def describe(plan: TeamPlan, *, prune: bool = False) -> list[str]:
    """The plan in words, one line per change: added, changed (old → new), removed, and
    what the database has that the file does not."""
    lines = []
    for op in plan.ops:
        if op.table == "away":
            span = inputs.away_text(date.fromisoformat((op.row or op.old)["start"]),
                                    date.fromisoformat((op.row or op.old)["end"]))
            verb = "add" if op.verb == "insert" else "remove"
            lines.append(f"{verb} {op.what}: away {span}")
        elif op.verb == "insert" and op.table == "settings":
            default = rules.DEFAULT_SETTINGS.get(op.key)
            lines.append(f"set setting {op.key}: {_shown(op.row['value'])}"
                         + (f" (was the default, {default})" if default else ""))
        elif op.verb == "insert":
            lines.append(f"add {op.what} ({_shown(op.row.get('name'))})")
        elif op.pruned:
            lines.append(f"retire {op.what} (no longer in the file; --prune)")
        else:
            for field in op.row:
                lines.append(f"change {op.what} {field}: {_shown(op.old.get(field))} → {_shown(op.row[field])}")
    for what in plan.only_in_db:
        if not prune:
            retire = "inactive" if what.startswith("person") else "retired"
            lines.append(f"not in the file: {what} (left alone; --prune makes it {retire})")
    return lines


def _origins(store: Store) -> dict:
    """(table, key) -> field -> the action of the live change that last set it.

    Undone changes and the undos themselves are left out, so a value that an undo put
    back counts as set by whatever set it before.
    """
    undone = {r[0] for r in store.query("SELECT DISTINCT undoes FROM events WHERE undoes IS NOT NULL")}
    origins: dict = {}
    for r in store.query("SELECT change_id, action, entity, entity_id, after FROM events"
                         " WHERE entity IN ('people', 'away', 'workflows', 'stages', 'settings')"
                         " AND action != 'undo' AND after IS NOT NULL ORDER BY id"):
        if r["change_id"] in undone:
            continue
        fields = origins.setdefault((r["entity"], r["entity_id"]), {})
        for field in json.loads(r["after"]):
            fields[field] = r["action"]
    return origins


def drift(store: Store, plan: TeamPlan) -> list[str]:
    """The values the plan would overwrite that were last changed in the app, not by an
    import: ``stage client-delivery/qa owner (hana, set by stage.owner; the file: jo)``."""
    origins = _origins(store)
    found = []
    for op in plan.ops:
        if op.verb == "insert":
            continue
        fields = origins.get((op.table, str(op.key)), {})
        if op.table == "away":
            action = next((a for f, a in fields.items() if f in ("start", "end") and a != "import"), None)
            if action:
                span = inputs.away_text(date.fromisoformat(op.old["start"]), date.fromisoformat(op.old["end"]))
                found.append(f"{op.what} away {span} (set by {action}; the file drops it)")
            continue
        for field, new in op.row.items():
            action = fields.get(field)
            if action and action != "import":
                found.append(f"{op.what} {field} ({_shown(op.old.get(field))}, set by {action};"
                             f" the file: {_shown(new)})")
    return found


def apply_plan(change, plan: TeamPlan) -> None:
    for op in plan.ops:
        if op.verb == "insert":
            change.insert(op.table, op.row)
        elif op.verb == "update":
            change.update(op.table, op.key, op.row)
        else:
            change.delete(op.table, op.key)


# --- items CSV -----------------------------------------------------------------------


class _Catalog:
    """What CSV rows may refer to: the stored team plus the team files of this import."""

    def __init__(self, store: Store, team_files: list[TeamFile]):
        team = read.team(store)
        self.settings = dict(team.settings)
        self.people = {h for h in team.people}
        self.stages = {(s.workflow, s.key): s for s in team.stages}
        self.workflows = {w.key for w in team.workflows}
        for tf in team_files:
            if tf.settings is not None:
                self.settings.update({k: str(getattr(tf.settings, k)) for k in tf.settings_given
                                      if k != "step_minutes"})
            self.people |= {p.handle for p in tf.people}
            self.workflows |= {w.key for w in tf.workflows}
            self.stages.update({(s.workflow, s.key): s for s in tf.stages})


def parse_items(path: Path, catalog: _Catalog, now: datetime, *, send=None) -> tuple[list[tuple], list[dict]]:
    """Read and check an items CSV: ``(item rows, handoff rows)`` ready to insert; an
    item row is a tuple of :data:`ITEM_COLUMNS`.

    Handoff rows name their item by its index in the item rows (``item_index``). With
    ``send``, the item rows are also handed to it as they are checked, up to :data:`CHUNK`
    at a time.
    """
    text = _read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{path}: empty file (a header row is required: {','.join(CSV_COLUMNS)})") from None
    except csv.Error as error:
        raise InputError(f"{path}: line 1: not valid CSV ({error})") from None
    header = [h.strip().lower() for h in header]
    unknown_cols = [h for h in header if h not in CSV_COLUMNS]
    if unknown_cols:
        raise InputError(f"{path}: line 1: unknown column {unknown_cols[0]!r} (accepted: {','.join(CSV_COLUMNS)})")
    missing = [c for c in _REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputError(f"{path}: line 1: missing column {missing[0]!r} (required: {','.join(_REQUIRED_COLUMNS)})")
    if len(set(header)) != len(header):
        raise InputError(f"{path}: line 1: a column is named twice")
    items: list[tuple] = []
    handoffs: list[dict] = []
    stamp_now = clock.stamp(now)
    # no line longer than a row may be: then only a row over several lines can be too long
    rows = _Rows(catalog, header, now, stamp_now, long_lines=max(map(len, text.split("\n"))) > _LONGEST_ROW)
    line, broken = reader.line_num, None
    while broken is None:
        block = []
        try:
            for raw in itertools.islice(reader, CHUNK):
                block.append(raw)
        except csv.Error as error:  # the rows before it are checked first: one of them may be wrong
            broken = error
        if not block:
            break
        over_lines = broken is not None or reader.line_num - line != len(block)  # some rows, or may
        lines = _row_lines(block, line) if over_lines else range(line + 1, line + 1 + len(block))
        first = len(items)
        plain, plain_handoffs, refused = _plain_items(block, rows, over_lines=over_lines)
        if not refused:
            items.extend(plain)
            for k, handoff in plain_handoffs.items():
                handoff["item_index"] = first + k
                handoffs.append(handoff)
        else:  # those not plainly valid: every check, with its message
            for k, item in enumerate(plain):
                handoff = plain_handoffs.get(k)
                if k in refused:
                    checked = _checked_row(path, lines[k], block[k], header, catalog, now, stamp_now, rows.times)
                    if checked is None:  # a blank row
                        continue
                    item, handoff = checked
                items.append(item)
                if handoff:
                    handoff["item_index"] = len(items) - 1
                    handoffs.append(handoff)
        if send is not None and len(items) > first:
            send(items[first:])
        line = lines[-1]
    if broken is not None:
        # the failing record starts on the line after the last one read in full
        raise InputError(f"{path}: line {line + 1}: not valid CSV ({broken})")
    return items, handoffs


def _row_lines(block: list[list[str]], line: int) -> list[int]:
    """The line each row of ``block`` ends on (as ``csv.reader.line_num`` counts them: a
    break is ``\\r\\n``, ``\\r`` or ``\\n``), the row before it ending on ``line``."""
    lines = []
    for raw in block:
        line += 1 + sum(cell.count("\n") + cell.count("\r") - cell.count("\r\n") for cell in raw)
        lines.append(line)
    return lines


def _checked_row(path, line, raw, header, catalog, now, stamp_now, times):
    """One CSV row through every check, with the message of the first that fails (the
    rows :func:`_plain_items` does not plainly accept): ``(item row, handoff row or
    None)``, or None for a blank row."""
    if len(raw) > len(header) + 64 or sum(map(len, raw)) > _LONGEST_ROW:
        raise InputError(f"{path}: line {line}: the row is too long (accepted: up to"
                         f" {_LONGEST_ROW // 1024} KB a row)")
    cells = list(map(str.strip, raw))
    if not any(cells):
        return None
    if len(raw) != len(header):
        raise InputError(f"{path}: line {line}: {len(raw)} cells, the header has {len(header)}")
    row, handoff = _item_row(path, line, {k: v or None for k, v in zip(header, cells)}, catalog, now,
                             stamp_now, times)
    return _item_tuple(row), handoff


#: rows of a CSV checked, and handed on (:func:`parse_items`' ``send``), at a time
CHUNK = 5_000

#: the columns of an item row as :func:`parse_items` gives it, in this order
ITEM_COLUMNS = ("workflow", "stage", "title", "owner", "status", "opened_at", "stage_entered_at",
                "last_activity_at", "due", "ref", "blocked_reason", "closed_at")
_item_tuple = operator.itemgetter(*ITEM_COLUMNS)


class _Parsed:
    """The item rows of one CSV, checked in full: inserted in one chunk."""

    def __init__(self, path: Path, items: list[dict], handoffs: list[dict]):
        self.path, self.items, self.handoffs = path, items, handoffs
        self.expected = len(items)

    def chunks(self):
        yield self.items


# From this many bytes of CSV, an import into a database holding no items has its rows
# read and checked in a child process while it writes them (the rows come a chunk at a
# time, checked: :class:`_Aside`); about 20,000 rows.
_ASIDE_BYTES = 2_000_000


class _Aside:
    """The items CSVs of a large import into an empty database, read and checked in a
    child process (:func:`opsweek.aside.fork`, a core of its own) while this process
    writes the rows it has been sent: the child runs :func:`parse_items` over each file
    in order, sending its rows a chunk at a time, then its handoffs, or the one line
    that refuses the file.

    The outcome is the import's when every file was checked before anything was written
    (:meth:`first`): a problem in a CSV is named before any found while writing, and
    nothing is committed. A child that fails, or cannot be made, is not needed: the file
    it was reading is read here, from the row it had reached (:func:`parse_items` reads a
    file the same way each time)."""

    def __init__(self, paths: list[Path], catalog: _Catalog, now: datetime):
        self.paths, self.catalog, self.now = paths, catalog, now
        self.child = self.messages = None
        self.refused = False
        self.files = [_AsideFile(self, path) for path in paths]

    def _start(self) -> None:
        """The child, made when the first rows are asked for: inside the import's
        transaction, so that an import waiting for another's write lock waits before its
        child reads anything (and its reading cannot slow the other's writing)."""
        from opsweek import aside

        paths, catalog, now = self.paths, self.catalog, self.now

        def work(send) -> None:
            for path in paths:
                try:
                    _, handoffs = parse_items(path, catalog, now, send=lambda rows: send(("rows", rows)))
                except InputError as error:
                    send(("refused", str(error)))
                    return
                send(("done", handoffs))

        self.child = aside.fork(work)
        self.messages = iter(()) if self.child is None else self.child.messages()  # none: read here

    def next_message(self):
        if self.messages is None:
            self._start()
        return next(self.messages, ("gone", None))

    @contextmanager
    def first(self):
        """Whatever fails in this block (planning, writing, the commit) fails after every
        CSV is checked: a problem in one is raised instead."""
        try:
            yield
        except Exception:
            if not self.refused:
                for file in self.files:
                    for _ in file.chunks():  # the rest of each file, checked, not written
                        pass
            raise
        finally:
            if self.child is not None:
                self.child.end()


class _AsideFile:
    """One CSV of an :class:`_Aside`: its rows as the child sends them."""

    def __init__(self, aside: _Aside, path: Path):
        self.aside, self.path = aside, path
        self.handoffs: list[dict] | None = None
        self.expected = max(1, Path(path).stat().st_size // 64)  # about (a row is 100 bytes or more)
        self.received = 0

    def chunks(self):
        while self.handoffs is None:
            kind, value = self.aside.next_message()
            if kind == "rows":
                self.received += len(value)
                yield value
            elif kind == "done":
                self.handoffs = value
            elif kind == "refused":
                self.handoffs, self.aside.refused = [], True
                raise InputError(value)
            else:  # the child is gone: this file is read here, from where it was
                try:
                    items, handoffs = parse_items(self.path, self.aside.catalog, self.aside.now)
                except InputError:
                    self.handoffs, self.aside.refused = [], True
                    raise
                self.handoffs = handoffs
                yield items[self.received:]


def _when_cell(path, line, column, value, now, times: dict | None = None):
    """``(datetime, stored stamp)`` of a time cell."""
    if times is not None and value in times:
        return times[value]
    try:
        when = clock.parse_when(value, column, now)
    except InputError as error:
        raise InputError(f"{path}: line {line}, column {column}: {str(error).split(': ', 1)[-1]}") from None
    parsed = (when, clock.stamp(when))
    if times is not None:
        times[value] = parsed
    return parsed


_STATUSES = ("open", "blocked", "done", "dropped")
_CLOSED = ("done", "dropped")
_LONGEST_ROW = 64 * 1024
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class _Rows:
    """What checking the rows of one CSV file needs, worked out once for the file: the
    catalog, where each column is in a row, and the times, dates and handoff deadlines
    already worked out (a file repeats them: ``-3d``, ``2026-12-01``)."""

    def __init__(self, catalog: _Catalog, header: list[str], now: datetime, stamp_now: str, *,
                 long_lines: bool = True):
        self.catalog = catalog
        self.long_lines = long_lines  # has the file a line longer than a row may be?
        index = {name: n for n, name in enumerate(header)}
        self.width = len(header)
        self.stage_keys = set(catalog.stages)  # (workflow, stage)
        # one blank column is appended: where the columns the file lacks point
        self.pick = operator.itemgetter(*(index.get(c, len(header)) for c in CSV_COLUMNS))
        self.now, self.stamp_now = now, stamp_now
        self.times: dict = {}    # cell text -> (datetime, stamp), shared with _item_row
        self.dues: dict = {}     # cell text -> the stored date, or None when not plainly a date
        self.due_at: dict = {}   # (sent, stage sla) -> due_at stamp

    def time(self, text: str):
        """``(datetime, stamp)`` of a time cell, or None when it is not one (the slow path says why)."""
        got = self.times.get(text)
        if got is None:
            try:
                when = clock.parse_when(text, "time", self.now)
            except InputError:
                return None
            got = self.times[text] = (when, clock.stamp(when))
        return got

    def due(self, text: str) -> str | None:
        if text not in self.dues:
            stored = None
            if _ISO_DAY.fullmatch(text):  # "1 Dec", "+3d": the model's date parsing
                try:
                    stored = clock.check_year(date.fromisoformat(text)).isoformat()
                except (ValueError, InputError):
                    pass
            self.dues[text] = stored
        return self.dues[text]


def _plain_items(block: list[list[str]], rows: _Rows, *,
                 over_lines: bool = True) -> tuple[list[tuple], dict[int, dict], set[int]]:
    """The checks of CSV rows for plainly valid rows, without pydantic, a block of rows
    at a time: ``(item rows, their handoff rows by position, positions of the rows it does
    not plainly accept)``; the item rows in those positions are not to be used.
    ``over_lines``: some rows of the block may go over several lines of the file.

    Nearly every row of a real file is plain; checking 100,000 of them through pydantic
    would take most of the import's time budget. A row this does not plainly accept goes
    through :func:`_checked_row` (``Item.model_validate`` and every check in words), so the
    rows and the messages are the same either way. The block is checked a column at a
    time: each distinct value of a column (a workflow, a person, ``-3d``) is looked at
    once, and a column with no value to refuse (most of them, in a real file) costs one
    pass of Python's own loops over it, not a line of Python per row.
    """
    count, width, catalog, now = len(block), rows.width, rows.catalog, rows.now
    refused: set[int] = set()
    lengths = list(map(len, block))
    if min(lengths) != width or max(lengths) != width:  # the row path says what is wrong
        refused.update(k for k, n in enumerate(lengths) if n != width)
        filler = [""] * width
        block = [raw if n == width else filler for raw, n in zip(block, lengths)]
    if rows.long_lines or over_lines:  # a row may be too long
        refused.update(k for k, raw in enumerate(block) if sum(map(len, raw)) > _LONGEST_ROW)
    raw_columns = list(zip(*block))
    columns = [list(map(str.strip, column)) for column in raw_columns]
    columns.append([""] * count)  # where the columns the file lacks point
    (workflows, stage_keys, titles, owners, statuses, opened, entered, activity, dues, refs, reasons,
     handoff_to, handoff_owner, handoff_sent) = rows.pick(columns)

    def refuse(values, wrong) -> None:
        if wrong:
            refused.update(k for k, value in enumerate(values) if value in wrong)

    if not rows.stage_keys.issuperset(zip(workflows, stage_keys)):
        refused.update(k for k, key in enumerate(zip(workflows, stage_keys)) if key not in rows.stage_keys)
    if not catalog.workflows.issuperset(workflows):
        refuse(workflows, set(workflows) - catalog.workflows)
    status_of = {value: value or "open" for value in set(statuses)}
    refuse(statuses, {value for value, status in status_of.items() if status not in _STATUSES})
    statuses = list(map(status_of.__getitem__, statuses))
    people = set(owners)
    people.discard("")
    refuse(owners, people - catalog.people)
    owners = [owner or None for owner in owners]
    if "" in titles or not all(map(str.isprintable, titles)):
        titles = list(titles)
        for k, title in enumerate(titles):
            if not title or not (title if title.isprintable() else (title := clean_text(title))).strip():
                refused.add(k)
            titles[k] = title
    refs, reasons = _optional_text(refs), _optional_text(reasons)
    if "blocked" in status_of.values():
        refused.update(k for k, (status, reason) in enumerate(zip(statuses, reasons))
                       if status == "blocked" and not reason)
    due_of = {value: rows.due(value) for value in set(dues) if value}
    refuse(dues, {value for value, due in due_of.items() if due is None})
    dues = list(map(due_of.get, dues))
    texts = set(opened)
    texts.update(entered, activity)
    texts.discard("")
    time_of = {text: rows.time(text) for text in texts}
    wrong = {text for text, when in time_of.items() if when is None}
    now_pair = (now, rows.stamp_now)
    if wrong:
        refused.update(k for k, times in enumerate(zip(opened, entered, activity)) if not wrong.isdisjoint(times))
        time_of.update(dict.fromkeys(wrong, now_pair))  # in refused rows only
    opened = list(map(time_of.get, opened, itertools.repeat(now_pair)))
    entered = list(map(time_of.get, entered, opened))
    activity = [time_of[text] if text else (o if o > e else e) for text, e, o in zip(activity, entered, opened)]
    refused.update(k for k, (o, e, a) in enumerate(zip(opened, entered, activity))
                   if o[0] > now or e[0] < o[0] or e[0] > now or a[0] < o[0] or a[0] > now)
    handoffs = {}
    if any(handoff_to):
        for k, target in enumerate(handoff_to):
            if target and k not in refused:
                handoff = _plain_handoff(rows, workflows[k], stage_keys[k], owners[k], statuses[k], opened[k][0],
                                         target, handoff_owner[k], handoff_sent[k])
                if handoff is None:
                    refused.add(k)
                else:
                    handoffs[k] = handoff
    if any(handoff_owner) or any(handoff_sent):
        refused.update(k for k, (target, receiver, sent) in enumerate(zip(handoff_to, handoff_owner, handoff_sent))
                       if not target and (receiver or sent))
    second = operator.itemgetter(1)
    closed = map({"done": rows.stamp_now, "dropped": rows.stamp_now}.get, statuses)
    return (list(zip(workflows, stage_keys, titles, owners, statuses, map(second, opened), map(second, entered),
                     map(second, activity), dues, refs, reasons, closed)), handoffs, refused)


def _optional_text(values: list[str]) -> list[str | None]:
    """An optional text column (ref, blocked_reason): cleaned (what clean_text removes is
    never printable, so a printable cell is clean already), None where it is left blank."""
    if all(map(str.isprintable, values)):
        return [value or None for value in values]
    cleaned = []
    for value in values:
        if value and not value.isprintable() and not (value := clean_text(value)).strip():
            value = None
        cleaned.append(value or None)
    return cleaned


def _plain_handoff(rows: _Rows, workflow, stage_key, owner, status, opened_at, handoff_to, handoff_owner,
                   handoff_sent) -> dict | None:
    """The pending handoff of a plainly valid row, or None for anything not plainly accepted."""
    catalog, now = rows.catalog, rows.now
    target = catalog.stages.get((workflow, handoff_to))
    if target is None or target.key == stage_key or status != "open":
        return None
    receiver = handoff_owner or target.owner
    if not receiver or receiver not in catalog.people:
        return None
    sent = rows.time(handoff_sent) if handoff_sent else (now, rows.stamp_now)
    if sent is None or sent[0] > now or sent[0] < opened_at:
        return None
    key = (sent[0], target.handoff_sla)
    due_at = rows.due_at.get(key)
    if due_at is None:
        due_at = rows.due_at[key] = clock.stamp(rules.handoff_due_at(sent[0], target.handoff_sla,
                                                                     catalog.settings))
    return {"from_stage": stage_key, "from_owner": owner, "to_stage": target.key, "to_owner": receiver,
            "sent_at": sent[1], "due_at": due_at}


def _item_row(path, line, cells: dict, catalog: _Catalog, now: datetime, stamp_now: str,
              times: dict | None = None):
    from pydantic import ValidationError

    from opsweek.model import Item, explain

    where = f"{path}: line {line}"
    get = cells.get  # blank cells are None

    if get("status") == "blocked":
        try:
            inputs.check_block_reason(get("blocked_reason"))
        except InputError as error:
            raise InputError(f"{where}, column blocked_reason: {error}") from None
    opened = _when_cell(path, line, "opened", get("opened"), now, times) if get("opened") else (now, stamp_now)
    entered = (_when_cell(path, line, "stage_entered", get("stage_entered"), now, times)
               if get("stage_entered") else opened)
    activity = (_when_cell(path, line, "last_activity", get("last_activity"), now, times)
                if get("last_activity") else max(entered, opened))
    fields = {
        "workflow": get("workflow"), "stage": get("stage"), "title": get("title"),
        "owner": get("owner"), "status": get("status") or "open", "opened_at": opened[0],
        "stage_entered_at": entered[0], "last_activity_at": activity[0], "due": get("due"),
        "ref": get("ref"), "blocked_reason": get("blocked_reason"),
    }
    try:
        item = Item.model_validate(fields)
    except ValidationError as error:
        message = explain(error)
        column = str(error.errors()[0]["loc"][0]) if error.errors()[0]["loc"] else ""
        column = {"opened_at": "opened", "stage_entered_at": "stage_entered",
                  "last_activity_at": "last_activity"}.get(column, column)
        message = message.split(": ", 1)[-1] if column else message
        raise InputError(f"{where}, column {column}: {message}" if column else f"{where}: {message}") from None
    if item.workflow not in catalog.workflows:
        raise InputError(f"{where}, column workflow: unknown workflow {item.workflow!r}")
    stage = catalog.stages.get((item.workflow, item.stage))
    if stage is None:
        raise InputError(f"{where}, column stage: {item.stage!r} is not a stage of {item.workflow}")
    if item.owner and item.owner not in catalog.people:
        raise InputError(f"{where}, column owner: unknown person {item.owner!r}")
    if item.opened_at > now:
        raise InputError(f"{where}, column opened: in the future")
    if item.stage_entered_at < item.opened_at:
        raise InputError(f"{where}, column stage_entered: before the item was opened")
    if item.stage_entered_at > now:
        raise InputError(f"{where}, column stage_entered: in the future")
    if item.last_activity_at < item.opened_at:
        raise InputError(f"{where}, column last_activity: before the item was opened")
    if item.last_activity_at > now:
        raise InputError(f"{where}, column last_activity: in the future")
    closed = stamp_now if item.status in ("done", "dropped") else None
    row = {
        "workflow": item.workflow, "stage": item.stage, "title": item.title, "owner": item.owner,
        "status": item.status, "opened_at": opened[1], "stage_entered_at": entered[1],
        "last_activity_at": activity[1],
        "due": item.due.isoformat() if item.due else None, "ref": item.ref,
        "blocked_reason": item.blocked_reason, "closed_at": closed,
    }
    handoff = None
    if get("handoff_to"):
        target = catalog.stages.get((item.workflow, get("handoff_to")))
        if target is None:
            raise InputError(f"{where}, column handoff_to: {get('handoff_to')!r} is not a stage of {item.workflow}")
        if target.key == item.stage:
            raise InputError(f"{where}, column handoff_to: the item is already in {target.key}")
        if item.status not in ("open",):
            raise InputError(f"{where}, column handoff_to: a {item.status} item cannot have a pending handoff")
        receiver = get("handoff_owner") or target.owner
        if not receiver:
            raise InputError(f"{where}, column handoff_owner: stage {target.key} has no owner;"
                             " name who receives the handoff")
        if receiver not in catalog.people:
            raise InputError(f"{where}, column handoff_owner: unknown person {receiver!r}")
        sent, sent_stamp = (_when_cell(path, line, "handoff_sent", get("handoff_sent"), now, times)
                            if get("handoff_sent") else (now, stamp_now))
        if sent > now:
            raise InputError(f"{where}, column handoff_sent: in the future")
        if sent < item.opened_at:
            raise InputError(f"{where}, column handoff_sent: before the item was opened")
        due_at = rules.handoff_due_at(sent, target.handoff_sla, catalog.settings)
        handoff = {"from_stage": item.stage, "from_owner": item.owner, "to_stage": target.key,
                   "to_owner": receiver, "sent_at": sent_stamp, "due_at": clock.stamp(due_at)}
    elif get("handoff_owner") or get("handoff_sent"):
        raise InputError(f"{where}, column handoff_to: needed when handoff_owner or handoff_sent is given")
    return row, handoff


# --- the import command --------------------------------------------------------------


def _parse_files(store: Store, paths: list[Path], now: datetime, *, aside: bool = False):
    """Check every file in full: ``(kinds, team files, item batches)``, or a dump's path.

    Item batches are :class:`_Parsed`; with ``aside``, large CSVs going into a database
    that holds no items are read and checked by a child while they are written: an
    :class:`_Aside` (its ``files``, checked when they have been read to their end)."""
    kinds = {}
    for path in paths:
        suffix = Path(path).suffix.lower()
        if suffix not in (".toml", ".csv", ".json"):
            raise InputError(f"{path}: unknown file type {suffix or '(none)'!r} "
                             "(accepted: .toml team file, .csv items, .json dump)")
        kinds[Path(path)] = suffix
    dumps = [p for p, k in kinds.items() if k == ".json"]
    if dumps:
        if len(paths) > 1:
            raise InputError("a .json dump is imported on its own (accepted: opsweek import DUMP.json)")
        return kinds, dumps[0], None
    known = set(read.people(store))
    known_workflows = {w.key for w in read.workflows(store)}
    team_files = []
    for path, kind in kinds.items():
        if kind == ".toml":
            team_files.append((path, parse_team(path, known, known_workflows)))
            known |= {p.handle for p in team_files[-1][1].people}
            known_workflows |= {w.key for w in team_files[-1][1].workflows}
    catalog = _Catalog(store, [tf for _, tf in team_files])
    csvs = [path for path, kind in kinds.items() if kind == ".csv"]
    if aside and csvs and sum(path.stat().st_size for path in csvs) >= _ASIDE_BYTES \
            and store.scalar("SELECT max(rowid) FROM items") is None:
        return kinds, team_files, _Aside(csvs, catalog, now)
    return kinds, team_files, [_Parsed(path, *parse_items(path, catalog, now)) for path in csvs]


def _write_triggers(change, store: Store, team_file: TeamFile, now: datetime) -> None:
    """The file's feeds (only for workflows whose entry says ``feeds = [...]``) and its
    recurring schedules; each writes only what differs, so a re-import changes nothing."""
    from opsweek import schedule
    from opsweek.store import recurring

    for workflow, targets in team_file.feeds.items():
        recurring.set_feeds(change, store, workflow, targets)
    for workflow, spec in team_file.recurring:
        recurring.write_schedule(change, store, {
            "workflow": workflow, "key": spec.key, "title": spec.title, "schedule": spec.schedule,
            "rrule": schedule.to_rrule(spec.schedule), "owner": spec.owner, "due": spec.due,
            "catch_up": spec.catch_up}, now)


def import_files(store: Store, paths: list[Path], *, actor: str, now: datetime | None = None,
                 replace: bool = False, force: bool = False, prune: bool = False) -> dict[str, int]:
    """Import team files, then item files, in one transaction; returns counts.

    Everything is checked before anything is written: one bad row rejects the lot. A team
    file that would overwrite values changed in the app since the last import is refused
    (naming them) unless ``force``; ``prune`` retires what a team file no longer lists.
    The count ``changes`` is how many row edits the team files made (0: nothing new).
    """
    with paused_collector():
        return _import_files(store, paths, actor=actor, now=now or clock.now(), replace=replace, force=force,
                             prune=prune)


@contextmanager
def paused_collector():
    """Python's cycle collector paused while a file is read, checked and written: the
    rows of a large import are hundreds of thousands of new objects that live until it
    ends, and each collection would walk them all again (most of a large import's
    time); what they hold is freed as usual, by reference counts."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _import_files(store: Store, paths: list[Path], *, actor: str, now: datetime, replace: bool, force: bool,
                  prune: bool) -> dict[str, int]:
    kinds, team_files, item_batches = _parse_files(store, paths, now, aside=True)
    if item_batches is None:
        from opsweek import dump  # issue 5: lossless dumps

        return dump.restore_file(store, team_files, replace=replace)
    if isinstance(item_batches, _Aside):
        with item_batches.first():
            return _write_files(store, team_files, item_batches.files, actor=actor, now=now, kinds=kinds,
                                force=force, prune=prune)
    return _write_files(store, team_files, item_batches, actor=actor, now=now, kinds=kinds, force=force,
                        prune=prune)


def _write_files(store: Store, team_files, item_batches, *, actor: str, now: datetime, kinds, force: bool,
                 prune: bool) -> dict[str, int]:
    counts = {"people": 0, "workflows": 0, "stages": 0, "items": 0, "handoffs": 0, "changes": 0}
    adding = sum(batch.expected for batch in item_batches)
    # into a database holding no more items than this adds (a new one): references are
    # checked once before the change commits, not looked up row by row; into one holding
    # no items at all, its pages are written once (a rollback journal while it loads)
    held = store.scalar("SELECT max(rowid) FROM items") or 0
    bulk = store.bulk(references_at_commit=adding >= held, journal_once=held == 0) \
        if adding >= 10_000 else nullcontext()
    with bulk, store.change("import", actor=actor, reason="import " + ", ".join(p.name for p in kinds),
                            at=now) as change:
        for path, tf in team_files:
            # planned inside the write: what the plan compares with cannot change underneath
            plan = plan_team(store, tf, prune=prune, path=path)
            reverted = [] if force else drift(store, plan)
            if reverted:
                raise InputError(
                    f"{path.name} would revert what was changed in the app since it was last imported: "
                    + "; ".join(reverted[:6]) + (f"; and {len(reverted) - 6} more" if len(reverted) > 6 else "")
                    + f". Nothing imported: see it all with 'opsweek import {path} --dry-run', write the"
                    " current system with 'opsweek team export -o FILE', or import anyway with --force")
            before = change.events
            apply_plan(change, plan)
            _write_triggers(change, store, tf, now)
            counts["changes"] += change.events - before
            counts["people"] += len(tf.people)
            counts["workflows"] += len(tf.workflows)
            counts["stages"] += len(tf.stages)
        for batch in item_batches:
            ids = change.insert_chunks("items", batch.chunks(), batch.expected, columns=ITEM_COLUMNS)
            handoffs = batch.handoffs
            for handoff in handoffs:
                handoff["item_id"] = ids[handoff.pop("item_index")]
            change.insert_many("handoffs", [{**h, "accepted_at": None, "accepted_by": None, "note": None,
                                             "escalated_at": None} for h in handoffs])
            counts["items"] += len(ids)
            counts["handoffs"] += len(handoffs)
        _check_references(store)
    return counts


def preview_files(store: Store, paths: list[Path], *, now: datetime | None = None,
                  prune: bool = False) -> list[str]:
    """``import --dry-run``: what importing ``paths`` would change, in words; writes nothing.

    Each team file is compared with the database as it is now; values it would overwrite
    that were changed in the app are marked, as a plain import would refuse them.
    """
    now = now or clock.now()
    kinds, team_files, item_batches = _parse_files(store, paths, now)
    if item_batches is None:
        raise InputError("--dry-run previews team files and items; a .json dump replaces the whole database"
                         " (accepted: opsweek import FILE.toml|FILE.csv --dry-run)")
    lines: list[str] = []
    for path, tf in team_files:
        plan = plan_team(store, tf, prune=prune, path=path)
        changes = describe(plan, prune=prune)
        lines.append(f"{path.name}: {len(plan.ops)} change{'s' if len(plan.ops) != 1 else ''}"
                     + ("" if plan.ops else " (the database already matches it)"))
        lines.extend(f"  {line}" for line in changes)
        reverted = drift(store, plan)
        if reverted:
            lines.append(f"  {len(reverted)} of these would revert what was changed in the app since the last"
                         " import; a plain import refuses them (--force applies them):")
            lines.extend(f"    {what}" for what in reverted)
    for batch in item_batches:
        path, items, handoffs = batch.path, batch.items, batch.handoffs
        lines.append(f"{path.name}: would add {len(items)} item{'s' if len(items) != 1 else ''}"
                     f" and {len(handoffs)} pending handoff{'s' if len(handoffs) != 1 else ''}")
    return lines


def _check_references(store: Store) -> None:
    """Owners and covers must name people on the team (the schema cannot say so)."""
    row = store.one(
        "SELECT 'stage ' || workflow || '/' || key AS what, owner FROM stages WHERE owner IS NOT NULL"
        " AND owner NOT IN (SELECT handle FROM people)"
        " UNION ALL SELECT 'workflow ' || key, owner FROM workflows WHERE owner IS NOT NULL"
        " AND owner NOT IN (SELECT handle FROM people)"
        " UNION ALL SELECT 'person ' || handle, cover FROM people WHERE cover IS NOT NULL"
        " AND cover NOT IN (SELECT handle FROM people) LIMIT 1")
    if row is not None:
        raise InputError(f"{row['what']}: unknown person {row['owner']!r}")
