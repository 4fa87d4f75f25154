"""The demo database: the sample team of ``sample_data/`` with times relative to now, or
with ``scale`` a deterministic synthetic team of N items (the data every benchmark uses).
"""

from __future__ import annotations

import random
import tomllib
from datetime import datetime, timedelta
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
            if scale is None:
                _build_sample(store, now)
            else:
                generate(store, scale, now)
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
    stage_lists: dict[str, list[dict]] = {}
    for stage in stages:
        stage_lists.setdefault(stage["workflow"], []).append(stage)
    items, handoffs = [], []
    for i in range(1, n + 1):
        wf = workflows[rng.randrange(n_workflows)]
        ordered = stage_lists[wf["key"]]
        position = rng.randrange(len(ordered))
        stage = ordered[position]
        opened = now - timedelta(hours=rng.randint(2, 24 * 70))
        roll = rng.random()
        status = "open" if roll < 0.33 else "blocked" if roll < 0.37 else "done" if roll < 0.94 else "dropped"
        if status in ("open", "blocked"):
            # live work: mostly recent, a tail of it stuck (too long in stage, or gone quiet)
            entered = max(opened, now - timedelta(days=rng.uniform(0, stage["max_days"] * 1.5)))
            activity = max(entered, now - timedelta(days=rng.uniform(0, 9)))
        else:
            entered = opened + (now - opened) * rng.random() * 0.8
            activity = entered + (now - entered) * rng.random()
        owner = stage["owner"] or handles[rng.randrange(n_people)]
        due = (today + timedelta(days=rng.randint(-10, 30))).isoformat() if rng.random() < 0.3 else None
        closed = clock.stamp(activity) if status in ("done", "dropped") else None
        items.append({
            "id": i, "workflow": wf["key"], "stage": stage["key"],
            "title": f"{rng.choice(_VERBS)} {rng.choice(_NOUNS)} {i}", "owner": owner, "status": status,
            "opened_at": clock.stamp(opened), "stage_entered_at": clock.stamp(entered),
            "last_activity_at": clock.stamp(activity), "due": due, "ref": f"T-{i}",
            "blocked_reason": "Waiting on a decision" if status == "blocked" else None, "closed_at": closed,
        })
        if position > 0:  # it got here by an accepted handoff
            previous = ordered[position - 1]
            sent = entered - timedelta(hours=rng.randint(1, 60))
            handoffs.append({
                "item_id": i, "from_stage": previous["key"], "from_owner": previous["owner"],
                "to_stage": stage["key"], "to_owner": owner, "sent_at": clock.stamp(sent),
                "due_at": clock.stamp(rules.handoff_due_at(sent, stage["handoff_sla"])),
                "accepted_at": clock.stamp(entered), "accepted_by": owner, "note": None, "escalated_at": None,
            })
        if status == "open" and position + 1 < len(ordered) and rng.random() < 0.25:
            target = ordered[position + 1]
            sent = now - timedelta(hours=rng.randint(1, 24 * 6))
            handoffs.append({
                "item_id": i, "from_stage": stage["key"], "from_owner": owner, "to_stage": target["key"],
                "to_owner": target["owner"], "sent_at": clock.stamp(sent),
                "due_at": clock.stamp(rules.handoff_due_at(sent, target["handoff_sla"])),
                "accepted_at": None, "accepted_by": None, "note": None, "escalated_at": None,
            })
    with store.change("demo.generate", actor=DEMO_ACTOR, reason=f"synthetic team of {n} items", at=now) as change:
        change.insert_many("people", people)
        change.insert_many("away", away)
        change.insert_many("workflows", workflows)
        change.insert_many("stages", stages)
        # each event at the time its row appeared, so the trends see real history
        change.insert_many("items", items, at_of=lambda r: r["opened_at"])
        change.insert_many("handoffs", handoffs, at_of=lambda r: r["sent_at"])
    _past_meetings(store, rng, now, handles, [w["key"] for w in workflows], items)
    return {"people": n_people, "workflows": n_workflows, "items": n, "handoffs": len(handoffs)}


def _past_meetings(store: Store, rng: random.Random, now: datetime, handles: list[str],
                   workflow_keys: list[str], items: list[dict]) -> None:
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
            item_id = items[rng.randrange(len(items))]["id"] if items and k == 2 else None
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
    gaps = rules.ownership_gaps(team.people, team.workflows, team.stages,
                                read.items(store, "status IN ('open','blocked')"), first, last)
    actions = store.scalar("SELECT count(*) FROM entries WHERE kind = 'action' AND status = 'open'")
    lines.append("")
    lines.append(f"needs attention: {stuck} stuck items, {overdue} overdue handoffs, "
                 f"{len(gaps)} ownership gaps, {actions} open actions")
    return lines
