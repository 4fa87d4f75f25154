"""The demo database: the sample team of ``sample_data/`` with times relative to now, or
with ``scale`` a deterministic synthetic team of N items (the data every benchmark uses).
"""

from __future__ import annotations

import random
import tomllib
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path

from opsweek import clock, rules
from opsweek.agenda import STEP_KEYS
from opsweek.errors import InputError
from opsweek.store import Store, changes, read

SAMPLE_DATA = Path(__file__).resolve().parent.parent / "sample_data"
DEMO_ACTOR = "demo"


def sample_dir() -> Path:
    """The sample team: ``opsweek/sample_data`` inside an installed wheel (setup.py packages
    the repository's ``sample_data/`` there at build time), else, in a checkout or an
    editable install, the repository's own ``sample_data/``."""
    packaged = resources.files("opsweek") / "sample_data"
    # pip installs a wheel as plain files, so the packaged directory is a real path
    for candidate in (packaged, SAMPLE_DATA):
        if isinstance(candidate, Path) and (candidate / "team.toml").is_file():
            return candidate
    raise InputError("the demo's sample_data/ is missing: neither packaged in opsweek nor beside it "
                     "(reinstall opsweek, or run from a checkout)")


def prepare_target(path: Path) -> None:
    """Check that ``path`` is free for a demo: missing, or an earlier demo nobody has open.

    Refuses anything else (exit 2), and an earlier demo another process has open (exit 3):
    replacing a file under a running TUI would pull its database from under it.
    """
    if not path.exists() and not path.is_symlink():
        return
    try:
        with Store.open(path) as old:
            is_demo = old.setting("demo") == "1"
    except Exception:
        is_demo = False
    if not is_demo:
        raise InputError(f"{path} exists and is not a demo database; "
                         "demo builds a fresh file (accepted: --db a new or demo path)")
    _check_not_in_use(path)


def _check_not_in_use(path: Path) -> None:
    """Leaving WAL mode needs every other connection closed: a cheap, exact "in use?".

    The old demo is about to be replaced, so switching its journal mode changes nothing
    anyone keeps; it also folds its -wal file in, so nothing stale lies beside the new one.
    """
    import sqlite3

    from opsweek.errors import DatabaseUnusable

    conn = sqlite3.connect(path, timeout=IN_USE_WAIT_S, isolation_level=None)
    try:
        mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
    except sqlite3.OperationalError:
        mode = "wal"
    finally:
        conn.close()
    if str(mode).lower() != "delete":
        raise DatabaseUnusable(f"{path} is in use by another opsweek; close it first "
                               "(the demo is rebuilt only when nobody has it open)")


IN_USE_WAIT_S = 0.5
BUILD_CACHE_KIB = 256 * 1024  # SQLite's page cache while building (its default is 2 MiB)


def _building_path(path: Path) -> Path:
    import os

    return path.with_name(f".{path.name}.building-{os.getpid()}")


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _remove_abandoned_builds(path: Path) -> None:
    """Builds a kill -9 left behind (their process is gone) are removed."""
    import os

    for leftover in path.parent.glob(f".{path.name}.building-*"):
        pid = leftover.name.rsplit("-", 1)[-1]
        if not pid.isdigit():
            continue  # a -wal/-shm of a build: removed with its database
        try:
            os.kill(int(pid), 0)
            continue  # still building
        except ProcessLookupError:
            pass
        except OSError:
            continue
        _remove_database(leftover)


def build(path: Path, *, scale: int | None = None, now: datetime | None = None) -> Store:
    """Build the demo database at ``path`` and return it open.

    It is built in a temporary file beside ``path`` and renamed into place when complete:
    an interrupted build (even kill -9) leaves the earlier demo, or nothing, at ``path``.
    """
    import os

    if scale is not None and not 1 <= scale <= 2_000_000:
        raise InputError(f"--scale {scale} is out of range (accepted: 1 to 2000000 items)")
    now = now or clock.now()
    prepare_target(path)
    _remove_abandoned_builds(path)
    building = _building_path(path)
    _remove_database(building)
    try:
        store = Store.open(building, create=True)
        try:
            # a new file nobody else opens: a rollback journal writes each new page once
            # (WAL writes it twice: to the log, then to the file), and a larger page cache
            # keeps the bulk insert and the index builds of --scale off the disk
            store.conn.execute("PRAGMA journal_mode = DELETE")
            store.conn.execute(f"PRAGMA cache_size = -{BUILD_CACHE_KIB}")
            store.conn.execute("PRAGMA temp_store = MEMORY")
            store.conn.execute("PRAGMA mmap_size = 4294967296")
            # nobody reads the file before it is complete, and an interrupted build is
            # thrown away: its hundreds of commits (the past sessions' changes) need not
            # each wait for the disk; the last one does (synchronous again, below), and
            # that waits for every page written before it
            store.conn.execute("PRAGMA synchronous = OFF")
            if scale is None:
                _build_sample(store, now)
            else:
                # the generated rows refer only to the workflows, stages and items made with
                # them (tests/test_import.py runs foreign_key_check on a scale demo): not
                # looking each reference up again saves a lookup per row at 1,000,000
                store.conn.execute("PRAGMA foreign_keys = OFF")
                store.conn.execute("PRAGMA threads = 2")  # the index builds sort in two threads
                from opsweek.importing import paused_collector

                with paused_collector():  # millions of rows' tuples, each freed by its count
                    generate(store, scale, now)
                store.conn.execute("PRAGMA foreign_keys = ON")
            store.conn.execute("PRAGMA synchronous = NORMAL")
            with store.change("demo", actor=DEMO_ACTOR, at=now) as change:
                change.insert("settings", {"key": "demo", "value": "1"})
            # the demo's past weeks are recorded as its history tells them, at build time
            # (SPEC: the past stays put), as a team's first tick would record them
            from opsweek import trends

            trends.freeze_ended_weeks(store, now)
            # one self-contained file to rename: the WAL folded in
            store.conn.execute("PRAGMA journal_mode = DELETE")
        finally:
            store.close()
        prepare_target(path)  # still free: nobody opened the old demo while this one was built
        os.replace(building, path)
    except BaseException:
        _remove_database(building)
        raise
    return Store.open(path)


def _build_sample(store: Store, now: datetime) -> None:
    from opsweek.importing import import_files

    data = sample_dir()
    import_files(store, [data / "team.toml", data / "items.csv"], actor=DEMO_ACTOR, now=now)
    _last_meeting(store, data / "last_meeting.toml", now)


def _last_meeting(store: Store, path: Path, now: datetime) -> None:
    spec = tomllib.loads(path.read_text(encoding="utf-8"))
    started = clock.parse_when(spec["started"], "started", now)
    team = read.team(store)
    meeting_id = changes.start_meeting(store, team, week=clock.iso_week(started), facilitator=spec["facilitator"],
                                       actor=spec["facilitator"], now=started)
    actor = spec["facilitator"]
    # attendance as the file says (the session pre-fills people away that week as absent)
    absent = set(spec.get("absent", []))
    recorded = read.attendance(store, meeting_id)
    for handle in sorted(recorded):
        if recorded[handle] == (handle in absent):
            changes.set_attendance(store, meeting_id, handle, handle not in absent, actor=actor)
    for step in STEP_KEYS:
        changes.add_step_time(store, meeting_id, step, 60 * spec.get("minutes", {}).get(step, 0), actor=actor)
    changes.mark_reviewed(store, meeting_id, spec.get("reviewed", []), actor=actor, now=started)
    for entry in spec.get("entries", []):
        item_id = None
        if entry.get("item_ref"):
            item_id = store.scalar("SELECT id FROM items WHERE ref = ?", (entry["item_ref"],))
        due = clock.parse_date(entry["due"], "due", now) if entry.get("due") else None
        changes.record_entry(store, team, entry["kind"], entry["text"], meeting_id=meeting_id,
                             owner=entry.get("owner"), due=due, item_id=item_id,
                             workflow=entry.get("workflow"), actor=actor, now=started)
    changes.rate_meeting(store, meeting_id, int(spec["rating"]), actor=actor)
    changes.close_meeting(store, meeting_id, actor=actor, now=started + timedelta(minutes=52))


# --- the synthetic team for load tests -----------------------------------------------

_FIRST = ["ana", "ben", "carla", "dev", "eve", "fay", "gus", "hana", "ivan", "jo", "kai", "lena",
          "mo", "nia", "omar", "pia", "quinn", "rosa", "sam", "tara", "uma", "vic", "wes", "xia", "yusuf", "zoe"]
_STAGE_NAMES = ["intake", "triage", "plan", "build", "review", "approve", "ship", "follow-up"]
_VERBS = ["Migrate", "Review", "Prepare", "Fix", "Draft", "Audit", "Onboard", "Renew", "Plan", "Ship"]
_NOUNS = ["billing export", "client portal", "Q3 report", "vendor contract", "support macro", "job posting",
          "landing page", "data pipeline", "newsletter", "security review", "pricing page", "handbook"]


def generate(store: Store, n: int, now: datetime, seed: int = 7) -> dict[str, int]:
    """A deterministic synthetic team with ``n`` items, handoffs, events and 8 past meetings.

    Proportions follow a busy real team: about a third of items open, a few blocked,
    the rest closed; a pending handoff on a quarter of open items (some overdue); one
    accepted handoff per moved item; people about one per 250 items.
    """
    rng = random.Random(seed)
    n_people = max(12, n // 250)
    n_workflows = max(4, min(60, n // 2000))
    at = clock.stamp(now)
    handles = [f"{_FIRST[i % len(_FIRST)]}{'' if i < len(_FIRST) else i // len(_FIRST)}" for i in range(n_people)]
    people = []
    for index, handle in enumerate(handles):
        cover = handles[(index + 1) % n_people] if index % 9 != 4 else None  # some have no cover
        people.append({"handle": handle, "name": handle.capitalize() + " Example", "role": "Team member",
                       "cover": cover, "active": 1})
    away = []
    today = now.astimezone(clock.local_tz()).date()
    for index in range(0, n_people, 17):
        away.append({"handle": handles[index], "start": (today - timedelta(days=1)).isoformat(),
                     "end": (today + timedelta(days=3)).isoformat()})
    workflows, stages = [], []
    for w in range(n_workflows):
        key = f"flow-{w + 1:02d}"
        owner = handles[(w * 7) % n_people]
        workflows.append({"key": key, "name": f"Workflow {w + 1}", "outcome": "Work done on time",
                          "owner": owner, "trigger": "" if w % 11 == 5 else "A request arrives",
                          "status": "active"})
        count = 4 + w % 3
        for s in range(count):
            stages.append({
                "workflow": key, "key": _STAGE_NAMES[s], "name": _STAGE_NAMES[s].replace("-", " ").title(),
                "position": s + 1, "owner": None if (w % 13 == 3 and s == 2) else handles[(w * 7 + s * 3 + 1) % n_people],
                "sop": None if (w % 5 == 2 and s == count - 1) else f"https://wiki.example.com/sop/{key}/{_STAGE_NAMES[s]}",
                "max_days": float(rng.choice([2, 3, 5, 7, 10])), "handoff_sla": rng.choice(["24h", "48h", "2bd", None]),
            })
    with store.change("demo.generate", actor=DEMO_ACTOR, reason=f"synthetic team of {n} items", at=now) as change:
        change.insert_many("people", people)
        change.insert_many("away", away)
        change.insert_many("workflows", workflows)
        change.insert_many("stages", stages)
        n_handoffs = _generate_work(change, rng, n, now, today, handles, workflows, stages)
    _past_meetings(store, rng, now, handles, [w["key"] for w in workflows], n)
    return {"people": n_people, "workflows": n_workflows, "items": n, "handoffs": n_handoffs}


# Rows go in this many at a time: a chunk's values are all that is held in memory.
_CHUNK = 20_000
# Rows per INSERT statement: binding a row's values costs Python the same either way, but
# each statement run costs a fixed step and reset besides, which 50 rows share.
_ROWS_PER_INSERT = 50
_ITEM_COLUMNS = ("id", "workflow", "stage", "title", "owner", "status", "opened_at", "stage_entered_at",
                 "last_activity_at", "due", "ref", "blocked_reason", "closed_at")
_HANDOFF_COLUMNS = ("id", "item_id", "from_stage", "from_owner", "to_stage", "to_owner", "sent_at", "due_at",
                    "accepted_at", "accepted_by", "note", "escalated_at")
# One row's values: ?1..?10 given (the times as storage strings), the rest made from them.
_ITEM_ROW = ("(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'T-' || ?1,"
             " CASE ?6 WHEN 'blocked' THEN 'Waiting on a decision' END,"
             " CASE WHEN ?6 IN ('done', 'dropped') THEN ?9 END)", 10)
_HANDOFF_ROW = ("(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, NULL, NULL)", 10)


def _insert_sql(table: str, columns: tuple[str, ...], row: tuple[str, int], rows: int) -> str:
    """``INSERT INTO table (columns) VALUES`` ``rows`` rows of ``row``'s values, each row's
    parameters numbered after the row before's."""
    import re

    template, width = row
    values = ", ".join(re.sub(r"\?(\d+)", lambda m, off=r * width: f"?{int(m[1]) + off}", template)
                       for r in range(rows))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}"


def _insert_flat(conn, table: str, columns: tuple[str, ...], row: tuple[str, int], values: list) -> None:
    """Insert the rows whose values lie one after another in ``values``."""
    width = row[1] * _ROWS_PER_INSERT
    whole = len(values) - len(values) % width
    if whole:
        conn.executemany(_insert_sql(table, columns, row, _ROWS_PER_INSERT),
                         [values[k:k + width] for k in range(0, whole, width)])
    if whole < len(values):
        conn.execute(_insert_sql(table, columns, row, (len(values) - whole) // row[1]), values[whole:])


def _stamper():
    """``stamp(seconds)``: the storage string of epoch ``seconds`` (whole seconds, as
    SQLite's ``strftime('%Y-%m-%dT%H:%M:%SZ', CAST(seconds AS INTEGER), 'unixepoch')`` and
    so ``clock.stamp`` write it), from a day's date made once and a table of the times of
    a day: a few operations per row instead of a ``datetime``."""
    epoch = date(1970, 1, 1)
    times = [f"T{h:02d}:{m:02d}:{s:02d}Z" for h in range(24) for m in range(60) for s in range(60)]
    days: dict[int, str] = {}

    def stamp(seconds: float) -> str:
        day, second = divmod(int(seconds), 86400)
        prefix = days.get(day)
        if prefix is None:
            prefix = days[day] = (epoch + timedelta(days=day)).isoformat()
        return prefix + times[second]

    return stamp


def _generate_work(change, rng: random.Random, n: int, now: datetime, today, handles: list[str],
                   workflows: list[dict], stages: list[dict]) -> int:
    """The ``n`` items and their handoffs, streamed in chunks of values; returns the handoffs.

    Times are epoch seconds here, written as storage strings by ``_stamper`` (the same
    text as ``clock.stamp``), so no Python ``datetime`` is made per row. Every row still
    gets its own event, written by SQLite from the stored rows afterwards
    (``Change.record_inserted``), each at the time its row appeared so the trends see
    real history; the tables' indexes (and the events') are built once at the end, in
    this same transaction.
    """
    from opsweek.store.db import defer_indexes

    conn = change.store.conn
    random_ = rng.random
    stamp = _stamper()
    n_people = len(handles)
    n_workflows = len(workflows)
    now_s = now.timestamp()
    hour, day = 3600.0, 86400.0
    due_after = _handoff_due(now)
    stage_lists: dict[str, list[tuple]] = {}
    for stage in stages:
        sla = clock.parse_duration(stage["handoff_sla"] or rules.DEFAULT_SETTINGS["handoff_sla"])
        # the handoff's due time: a fixed number of seconds after sending, or business days
        due = (lambda sent, length=sla.timedelta().total_seconds(): sent + length) if sla.unit != "bd" \
            else (lambda sent, sla=sla: due_after(sent, sla))
        stage_lists.setdefault(stage["workflow"], []).append((stage["key"], stage["owner"], stage["max_days"], due))
    flows = [(w["key"], stage_lists[w["key"]]) for w in workflows]
    dues = [(today + timedelta(days=d)).isoformat() for d in range(-10, 31)]
    titles = [f"{verb} {noun} " for verb in _VERBS for noun in _NOUNS]
    opened_at = [stamp(now_s - hour * hours_ago) for hours_ago in range(24 * 70 + 1)]  # items open on the hour
    n_verbs, n_nouns = len(_VERBS), len(_NOUNS)
    rebuild = [*defer_indexes(conn, "items", n), *defer_indexes(conn, "handoffs", n // 2),
               *defer_indexes(conn, "events", n)]
    first_handoff = handoff_id = (change.store.scalar("SELECT max(id) FROM handoffs") or 0) + 1
    for chunk_start in range(1, n + 1, _CHUNK):
        items, handoffs = [], []
        add_item, add_handoff = items.extend, handoffs.extend
        for i in range(chunk_start, min(n, chunk_start + _CHUNK - 1) + 1):
            key, ordered = flows[int(random_() * n_workflows)]
            position = int(random_() * len(ordered))
            stage_key, stage_owner, max_days, _ = ordered[position]
            hours_ago = 2 + int(random_() * (24 * 70 - 1))
            opened = now_s - hour * hours_ago
            roll = random_()
            status = "open" if roll < 0.33 else "blocked" if roll < 0.37 else "done" if roll < 0.94 else "dropped"
            if roll < 0.37:
                # live work: mostly recent, a tail of it stuck (too long in stage, or gone quiet)
                entered = max(opened, now_s - day * random_() * max_days * 1.5)
                activity = max(entered, now_s - day * 9 * random_())
            else:
                entered = opened + (now_s - opened) * random_() * 0.8
                activity = entered + (now_s - entered) * random_()
            owner = stage_owner or handles[int(random_() * n_people)]
            due = dues[int(random_() * 41)] if random_() < 0.3 else None
            verb = int(random_() * n_verbs)
            entered_at = stamp(entered)
            add_item((i, key, stage_key, f"{titles[verb * n_nouns + int(random_() * n_nouns)]}{i}",
                      owner, status, opened_at[hours_ago], entered_at, stamp(activity), due))
            if position > 0:  # it got here by an accepted handoff
                previous = ordered[position - 1]
                sent = entered - hour * (1 + int(random_() * 60))
                add_handoff((handoff_id, i, previous[0], previous[1], stage_key, owner, stamp(sent),
                             stamp(ordered[position][3](sent)), entered_at, owner))
                handoff_id += 1
            if roll < 0.33 and position + 1 < len(ordered) and random_() < 0.25:
                target = ordered[position + 1]
                sent = now_s - hour * (1 + int(random_() * 24 * 6))
                add_handoff((handoff_id, i, stage_key, owner, target[0], target[1], stamp(sent),
                             stamp(target[3](sent)), None, None))
                handoff_id += 1
        _insert_flat(conn, "items", _ITEM_COLUMNS, _ITEM_ROW, items)
        _insert_flat(conn, "handoffs", _HANDOFF_COLUMNS, _HANDOFF_ROW, handoffs)
        del items, handoffs
    change.record_inserted("items", list(_ITEM_COLUMNS), 1, n, at_column="opened_at")
    if handoff_id > first_handoff:
        change.record_inserted("handoffs", list(_HANDOFF_COLUMNS), first_handoff, handoff_id - 1, at_column="sent_at")
    for sql in rebuild:
        conn.execute(sql)
    return handoff_id - first_handoff


def _handoff_due(now: datetime):
    """``due(sent, sla)``: ``sla.after(sent)`` (rules.handoff_due_at) on epoch seconds.

    Hours are added as seconds; business days are counted on the calendar of ``now``'s
    fixed UTC offset (the clock's now is UTC), as ``clock.add_business_days`` counts them.
    """
    offset = now.utcoffset().total_seconds() if now.utcoffset() is not None else 0.0
    fixed = now.tzinfo is None or now.tzinfo.utcoffset(None) is not None

    def due(sent: float, sla) -> float:
        if sla.unit != "bd":
            return sent + sla.timedelta().total_seconds()
        if not fixed:  # a zone with daylight saving: the datetime rule itself
            start = datetime.fromtimestamp(sent, now.tzinfo)
            return sla.after(start).timestamp()
        return _add_business_days(sent + offset, sla.amount) - offset

    return due


def _add_business_days(local: float, amount: float) -> float:
    """``clock.add_business_days`` on local epoch seconds (1970-01-01 was a Thursday)."""
    day = 86400.0
    if (local // day + 3) % 7 >= 5:
        days = local // day
        local = (days + 7 - (days + 3) % 7) * day
    whole, added = int(amount), 0
    while added < whole:
        local += day
        if (local // day + 3) % 7 < 5:
            added += 1
    rest = amount - whole
    if rest:
        local += rest * day
        while (local // day + 3) % 7 >= 5:
            local += day
    return local


def _past_meetings(store: Store, rng: random.Random, now: datetime, handles: list[str],
                   workflow_keys: list[str], n_items: int) -> None:
    team = read.team(store)
    for weeks_ago in range(8, 0, -1):
        started = now - timedelta(days=7 * weeks_ago)
        facilitator = handles[weeks_ago % len(handles)]
        meeting_id = changes.start_meeting(store, team, week=clock.iso_week(started), facilitator=facilitator,
                                           actor=facilitator, now=started)
        for step in STEP_KEYS:
            changes.add_step_time(store, meeting_id, step, 60 * rng.randint(2, 15), actor=facilitator)
        changes.mark_reviewed(store, meeting_id, rng.sample(workflow_keys, k=min(len(workflow_keys), 6)),
                              actor=facilitator, now=started)
        for k in range(6):
            kind = ("decision", "action", "action", "note", "action", "decision")[k]
            owner = handles[rng.randrange(len(handles))] if kind == "action" else None
            due = (started + timedelta(days=rng.randint(3, 10))).date() if kind == "action" else None
            item_id = 1 + rng.randrange(n_items) if n_items and k == 2 else None  # items are 1..n
            entry_id = changes.record_entry(store, team, kind, f"{kind.title()} {k + 1} of week {clock.iso_week(started)}",
                                            meeting_id=meeting_id, owner=owner, due=due, item_id=item_id,
                                            actor=facilitator, now=started)
            if kind == "action" and weeks_ago > 1 and rng.random() < 0.7:
                done_at = started + timedelta(days=rng.randint(1, 12), hours=rng.randint(0, 8))
                changes.set_action_status(store, entry_id, "done", meeting_id=meeting_id, actor=owner,
                                          now=min(done_at, now))
        changes.rate_meeting(store, meeting_id, rng.randint(5, 9), actor=facilitator)
        changes.close_meeting(store, meeting_id, actor=facilitator, now=started + timedelta(minutes=50))


def summary(store: Store, now: datetime | None = None) -> list[str]:
    """What needs attention, as lines for the terminal (``demo --no-tui``)."""
    now = now or clock.now()
    today = now.astimezone(clock.local_tz()).date()
    team = read.team(store)
    lines = [f"{'workflow':<18} {'open':>6} {'stuck':>6} {'overdue':>8} {'audit':>6}"]
    for h in read.health(store, team, now, today):
        lines.append(f"{h.workflow.key:<18} {h.open:>6} {h.stuck:>6} {h.overdue:>8} {h.audit.score:>4}/5")
    stuck = read.stuck_count(store, team, now, today)
    overdue = read.overdue_count(store, now)
    first, last = clock.week_bounds(clock.iso_week(now))
    gaps = _gaps_count(store, team, first, last)
    actions = store.scalar("SELECT count(*) FROM entries WHERE kind = 'action' AND status = 'open'")
    lines.append("")
    lines.append(f"needs attention: {stuck} stuck items, {overdue} overdue handoffs, "
                 f"{gaps} ownership gaps, {actions} open actions")
    return lines


def _gaps_count(store: Store, team, first, last) -> int:
    """``len(rules.ownership_gaps(...))`` over the open items (no handoffs), counted per
    owner in SQL rather than over every open item in Python (370,000 at --scale 1000000):
    the structural gaps, plus the open items whose owner is away, inactive or not on the
    team (``rules.gaps.item_has_gap``)."""
    from opsweek.rules import availability, gaps

    bad = set(availability.unavailable(team.people, first, last))
    per_owner = store.query("SELECT owner, count(*) FROM items WHERE status IN ('open', 'blocked')"
                            " AND owner IS NOT NULL AND owner != '' GROUP BY owner")
    items = sum(n for owner, n in per_owner if owner in bad or owner not in team.people)
    return len(gaps.structural_gaps(team.people, team.workflows, team.stages, first, last)) + items
