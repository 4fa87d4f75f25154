"""The schema, created and evolved only through sqlite-utils ``Migrations``.

Each step is a small function; sqlite-utils records it in ``_sqlite_migrations``. Add a
step by appending a function here and its name to ``MIGRATIONS`` in ``store/db.py``
(the version check there runs without importing sqlite-utils).
"""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from opsweek.store.db import MIGRATION_SET, MIGRATIONS

migrations = Migrations(MIGRATION_SET)

_INITIAL = [
    """CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    """CREATE TABLE people (
        handle TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL DEFAULT '',
        cover TEXT,
        active INTEGER NOT NULL DEFAULT 1
    )""",
    """CREATE TABLE away (
        id INTEGER PRIMARY KEY,
        handle TEXT NOT NULL REFERENCES people(handle) ON DELETE CASCADE,
        start TEXT NOT NULL,
        end TEXT NOT NULL
    )""",
    "CREATE INDEX away_handle ON away(handle)",
    """CREATE TABLE workflows (
        key TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        outcome TEXT NOT NULL DEFAULT '',
        owner TEXT,
        trigger TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'active'
            CHECK (status IN ('active', 'paused', 'retired'))
    )""",
    """CREATE TABLE stages (
        id INTEGER PRIMARY KEY,
        workflow TEXT NOT NULL REFERENCES workflows(key),
        key TEXT NOT NULL,
        name TEXT NOT NULL,
        position INTEGER NOT NULL,
        owner TEXT,
        sop TEXT,
        max_days REAL,
        handoff_sla TEXT,
        UNIQUE (workflow, key)
    )""",
    """CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        workflow TEXT NOT NULL REFERENCES workflows(key),
        stage TEXT NOT NULL,
        title TEXT NOT NULL,
        owner TEXT,
        status TEXT NOT NULL DEFAULT 'open'
            CHECK (status IN ('open', 'blocked', 'done', 'dropped')),
        opened_at TEXT NOT NULL,
        stage_entered_at TEXT NOT NULL,
        last_activity_at TEXT NOT NULL,
        due TEXT,
        ref TEXT,
        blocked_reason TEXT,
        closed_at TEXT,
        FOREIGN KEY (workflow, stage) REFERENCES stages(workflow, key)
    )""",
    "CREATE INDEX items_owner_status ON items(owner, status)",
    "CREATE INDEX items_status_stage ON items(status, workflow, stage)",
    """CREATE TABLE handoffs (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items(id),
        from_stage TEXT NOT NULL,
        from_owner TEXT,
        to_stage TEXT NOT NULL,
        to_owner TEXT,
        sent_at TEXT NOT NULL,
        due_at TEXT NOT NULL,
        accepted_at TEXT,
        accepted_by TEXT,
        note TEXT,
        escalated_at TEXT
    )""",
    "CREATE INDEX handoffs_item ON handoffs(item_id)",
    # pending handoffs are what every screen asks for: index only those
    "CREATE INDEX handoffs_pending_to ON handoffs(to_owner, due_at) WHERE accepted_at IS NULL",
    "CREATE INDEX handoffs_pending_from ON handoffs(from_owner) WHERE accepted_at IS NULL",
    "CREATE INDEX handoffs_pending_due ON handoffs(due_at) WHERE accepted_at IS NULL",
    """CREATE TABLE meetings (
        id INTEGER PRIMARY KEY,
        week TEXT NOT NULL,
        facilitator TEXT,
        started_at TEXT NOT NULL,
        closed_at TEXT,
        rating INTEGER CHECK (rating IS NULL OR rating BETWEEN 1 AND 10),
        step TEXT NOT NULL DEFAULT 'attendance'
    )""",
    "CREATE INDEX meetings_week ON meetings(week)",
    """CREATE TABLE attendance (
        id INTEGER PRIMARY KEY,
        meeting_id INTEGER NOT NULL REFERENCES meetings(id),
        handle TEXT NOT NULL,
        present INTEGER NOT NULL,
        UNIQUE (meeting_id, handle)
    )""",
    """CREATE TABLE step_times (
        id INTEGER PRIMARY KEY,
        meeting_id INTEGER NOT NULL REFERENCES meetings(id),
        step TEXT NOT NULL,
        seconds INTEGER NOT NULL DEFAULT 0,
        UNIQUE (meeting_id, step)
    )""",
    """CREATE TABLE entries (
        id INTEGER PRIMARY KEY,
        meeting_id INTEGER REFERENCES meetings(id),
        kind TEXT NOT NULL CHECK (kind IN ('decision', 'action', 'note')),
        text TEXT NOT NULL,
        owner TEXT,
        due TEXT,
        item_id INTEGER REFERENCES items(id),
        workflow TEXT,
        status TEXT CHECK (status IS NULL OR status IN ('open', 'done', 'dropped')),
        closed_meeting_id INTEGER REFERENCES meetings(id),
        created_at TEXT NOT NULL
    )""",
    "CREATE INDEX entries_owner_status ON entries(owner, status)",
    "CREATE INDEX entries_meeting ON entries(meeting_id)",
    """CREATE TABLE reviews (
        id INTEGER PRIMARY KEY,
        meeting_id INTEGER NOT NULL REFERENCES meetings(id),
        workflow TEXT NOT NULL,
        at TEXT NOT NULL,
        UNIQUE (meeting_id, workflow)
    )""",
    """CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        change_id INTEGER NOT NULL,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        meeting_id INTEGER,
        action TEXT NOT NULL,
        entity TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        before TEXT,
        after TEXT,
        reason TEXT,
        undoes INTEGER
    )""",
    "CREATE INDEX events_change ON events(change_id)",
    "CREATE INDEX events_entity ON events(entity, entity_id)",
    "CREATE INDEX events_meeting ON events(meeting_id)",
    "CREATE INDEX events_actor ON events(actor, change_id)",
    "CREATE INDEX events_undoes ON events(undoes) WHERE undoes IS NOT NULL",
]


@migrations(name="m001_initial")
def m001_initial(db: Database) -> None:
    for statement in _INITIAL:
        db.execute(statement)


@migrations(name="m002_events_action")
def m002_events_action(db: Database) -> None:
    # trends read the log by kind of change (blocks, closes, actions done)
    db.execute("CREATE INDEX events_action ON events(action, at)")


_RECURRING = [
    # the schedules of SPEC.md "Recurring"; ``rrule`` is the schedule as an RRULE whatever
    # words it was written in, ``seen_until`` how far ticks have looked, ``next_due`` the
    # first occurrence after that (NULL when the schedule has no more): a tick with
    # nothing due is one look at the index below
    """CREATE TABLE recurring (
        id INTEGER PRIMARY KEY,
        workflow TEXT NOT NULL REFERENCES workflows(key),
        key TEXT NOT NULL,
        title TEXT NOT NULL,
        schedule TEXT NOT NULL,
        rrule TEXT NOT NULL,
        owner TEXT,
        due TEXT,
        catch_up TEXT NOT NULL DEFAULT 'latest' CHECK (catch_up IN ('latest', 'all')),
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'dropped')),
        created_at TEXT NOT NULL,
        seen_until TEXT NOT NULL,
        next_due TEXT,
        UNIQUE (workflow, key)
    )""",
    "CREATE INDEX recurring_next_due ON recurring(next_due) WHERE status = 'active'",
    # one row per occurrence, whoever ticked: the unique key is what makes it exactly once
    """CREATE TABLE occurrences (
        id INTEGER PRIMARY KEY,
        recurring_id INTEGER NOT NULL REFERENCES recurring(id),
        occurrence TEXT NOT NULL,
        item_id INTEGER REFERENCES items(id),
        skipped INTEGER NOT NULL DEFAULT 0,
        at TEXT NOT NULL,
        UNIQUE (recurring_id, occurrence)
    )""",
    "CREATE INDEX occurrences_item ON occurrences(item_id) WHERE item_id IS NOT NULL",
    # a workflow's ``feeds``, in the order the team wrote them
    """CREATE TABLE feeds (
        id INTEGER PRIMARY KEY,
        workflow TEXT NOT NULL REFERENCES workflows(key),
        target TEXT NOT NULL REFERENCES workflows(key),
        position INTEGER NOT NULL,
        UNIQUE (workflow, target)
    )""",
    # the item whose finishing opened this one (a feed); "what it started" reads it back
    "ALTER TABLE items ADD COLUMN fed_from INTEGER REFERENCES items(id)",
    "CREATE INDEX items_fed_from ON items(fed_from) WHERE fed_from IS NOT NULL",
]


@migrations(name="m003_recurring")
def m003_recurring(db: Database) -> None:
    for statement in _RECURRING:
        db.execute(statement)


@migrations(name="m004_team_import")
def m004_team_import(db: Database) -> None:
    # a stage the team file no longer lists is retired (import --prune), never deleted:
    # items and history refer to it
    db.execute("ALTER TABLE stages ADD COLUMN retired INTEGER NOT NULL DEFAULT 0")


@migrations(name="m005_escalations")
def m005_escalations(db: Database) -> None:
    # An escalation is a record of its own (SPEC.md: tier, to whom as they were then, at,
    # by, reason), so notes and the log never look the person up in today's team. No
    # foreign keys: like the audit log, the record outlives a withdrawn handoff.
    db.execute("""CREATE TABLE escalations (
        id INTEGER PRIMARY KEY,
        handoff_id INTEGER,
        item_id INTEGER,
        tier INTEGER NOT NULL CHECK (tier BETWEEN 1 AND 3),
        to_handle TEXT NOT NULL,
        to_name TEXT NOT NULL,
        at TEXT NOT NULL,
        by TEXT NOT NULL,
        reason TEXT,
        meeting_id INTEGER,
        CHECK ((handoff_id IS NULL) != (item_id IS NULL))
    )""")
    db.execute("CREATE INDEX escalations_handoff ON escalations(handoff_id, at) WHERE handoff_id IS NOT NULL")
    db.execute("CREATE INDEX escalations_item ON escalations(item_id, at) WHERE item_id IS NOT NULL")
    db.execute("CREATE INDEX escalations_to ON escalations(to_handle, at)")
    db.execute("CREATE INDEX escalations_meeting ON escalations(meeting_id) WHERE meeting_id IS NOT NULL")
    # Earlier escalations stored only a time and always went to the workflow owner (tier 2
    # of the path): write them down once, naming the owner as the database knows them now.
    db.execute("""
        INSERT INTO escalations (handoff_id, tier, to_handle, to_name, at, by, reason, meeting_id)
        SELECT h.id, 2, w.owner, coalesce(p.name, w.owner), h.escalated_at,
               coalesce(ev.actor, 'unknown'), ev.reason, ev.meeting_id
        FROM handoffs h JOIN items i ON i.id = h.item_id JOIN workflows w ON w.key = i.workflow
        LEFT JOIN people p ON p.handle = w.owner
        LEFT JOIN events ev ON ev.id = (SELECT max(e.id) FROM events e WHERE e.action = 'handoff.escalate'
                                        AND e.entity = 'handoffs' AND e.entity_id = CAST(h.id AS TEXT))
        WHERE h.escalated_at IS NOT NULL AND w.owner IS NOT NULL
        ORDER BY h.escalated_at, h.id""")


@migrations(name="m006_speed")
def m006_speed(db: Database) -> None:
    # Every column the stuck rule reads, after the open-items prefix of items_status_stage:
    # the home screen's open and stuck counts per workflow, and the open items per owner of
    # the ownership gaps, are read from this index alone (a third of the time at 100,000
    # items) rather than from the table, row by row.
    db.execute("CREATE INDEX items_open_times ON items(status, workflow, stage, stage_entered_at,"
               " last_activity_at, due, owner)")


_OUTCOMES = [
    # SPEC "Outcome": what a session did about a row it reviewed (a stuck item, an overdue
    # handoff, an ownership gap), written in the same change as the action that caused it
    # (``change_id``: it holds while that change is live, see read.outcomes); ``subject``
    # is item / handoff / a gap's subject, ``subject_id`` its id or label
    """CREATE TABLE outcomes (
        id INTEGER PRIMARY KEY,
        meeting_id INTEGER NOT NULL REFERENCES meetings(id),
        change_id INTEGER NOT NULL,
        step TEXT NOT NULL,
        subject TEXT NOT NULL,
        subject_id TEXT NOT NULL,
        outcome TEXT NOT NULL,
        at TEXT NOT NULL
    )""",
    "CREATE INDEX outcomes_meeting ON outcomes(meeting_id, step)",
]


@migrations(name="m007_outcomes")
def m007_outcomes(db: Database) -> None:
    for statement in _OUTCOMES:
        db.execute(statement)


_RATINGS = [
    # SPEC "Meeting": a 1–10 rating from each present attendee; the meeting's rating is
    # their average (read.meeting_rating)
    """CREATE TABLE ratings (
        id INTEGER PRIMARY KEY,
        meeting_id INTEGER NOT NULL REFERENCES meetings(id),
        handle TEXT NOT NULL,
        rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 10),
        at TEXT NOT NULL,
        UNIQUE (meeting_id, handle)
    )""",
]


@migrations(name="m008_ratings")
def m008_ratings(db: Database) -> None:
    for statement in _RATINGS:
        db.execute(statement)


_ISSUES = [
    # SPEC "Issue": raised by anyone between or during sessions (``meeting_id``: the session
    # it was raised in, NULL between sessions), about an item or a workflow or neither;
    # solved by the entry ``entry_id`` (a decision or an action) or dropped with ``reason``,
    # in the session ``closed_meeting_id``. Open ones carry over to the next session.
    """CREATE TABLE issues (
        id INTEGER PRIMARY KEY,
        text TEXT NOT NULL,
        raised_by TEXT NOT NULL,
        raised_at TEXT NOT NULL,
        meeting_id INTEGER REFERENCES meetings(id),
        item_id INTEGER REFERENCES items(id),
        workflow TEXT,
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'solved', 'dropped')),
        entry_id INTEGER REFERENCES entries(id),
        reason TEXT,
        closed_meeting_id INTEGER REFERENCES meetings(id),
        closed_at TEXT
    )""",
    "CREATE INDEX issues_status ON issues(status, raised_at)",
    # a session's top 3 (SPEC: rank), stored with the meeting: each session ranks afresh
    """CREATE TABLE issue_ranks (
        id INTEGER PRIMARY KEY,
        meeting_id INTEGER NOT NULL REFERENCES meetings(id),
        issue_id INTEGER NOT NULL REFERENCES issues(id),
        rank INTEGER NOT NULL CHECK (rank BETWEEN 1 AND 3),
        UNIQUE (meeting_id, rank),
        UNIQUE (meeting_id, issue_id)
    )""",
]


@migrations(name="m009_issues")
def m009_issues(db: Database) -> None:
    for statement in _ISSUES:
        db.execute(statement)


_WEEK_FIGURES = [
    # SPEC "The past stays put": the trend figures of an ISO week that has ended, written
    # once by the first process that notices the week is over (trends.freeze_ended_weeks)
    # and never recomputed. The unique week is what makes it exactly once when several
    # processes race (INSERT OR IGNORE under BEGIN IMMEDIATE). Not an audited change:
    # nothing undoes a week's record.
    """CREATE TABLE week_figures (
        id INTEGER PRIMARY KEY,
        week TEXT NOT NULL UNIQUE,
        week_end TEXT NOT NULL,
        stuck INTEGER NOT NULL,
        overdue INTEGER NOT NULL,
        escalated INTEGER NOT NULL,
        handoffs_due INTEGER NOT NULL,
        handoffs_on_time INTEGER NOT NULL,
        actions_due INTEGER NOT NULL,
        actions_on_time INTEGER NOT NULL,
        rating REAL,
        frozen_at TEXT NOT NULL,
        CHECK (handoffs_on_time BETWEEN 0 AND handoffs_due),
        CHECK (actions_on_time BETWEEN 0 AND actions_due)
    )""",
]


@migrations(name="m010_week_figures")
def m010_week_figures(db: Database) -> None:
    for statement in _WEEK_FIGURES:
        db.execute(statement)


@migrations(name="m011_lists")
def m011_lists(db: Database) -> None:
    # The session's lists filtered as you type (issue 14): items_open_times with the title
    # too, so a filter over the open items (title, owner, workflow, stage) and its count are
    # read from the index alone, never row by row from the table (a third of the time at
    # 100,000 items). It begins with every column of items_open_times, which it replaces
    # (one index to keep up on import, not two).
    db.execute("CREATE INDEX items_open_find ON items(status, workflow, stage, stage_entered_at,"
               " last_activity_at, due, owner, title)")
    db.execute("DROP INDEX IF EXISTS items_open_times")


@migrations(name="m012_stuck_order")
def m012_stuck_order(db: Database) -> None:
    # The stuck items in the rule's order (longest in stage first), read page by page (issue
    # 14: a step move or a filter keystroke repaints within 150 / 100 ms): walking this index
    # in order and stopping at the page's last stuck row takes under a millisecond at
    # 100,000 items, where finding and sorting every open item took 400 ms. read.stuck_page
    # names it (INDEXED BY) for that order.
    db.execute("CREATE INDEX items_open_age ON items(stage_entered_at, id) WHERE status IN ('open', 'blocked')")


@migrations(name="m013_owner_open")
def m013_owner_open(db: Database) -> None:
    # One person's open items (issue 16: ``opsweek mine`` within 120 ms for someone owning
    # 2,000 of them): their stuck items are counted and ordered from this index alone (no
    # row read from the table but the 20 shown), and the items opened for them since they
    # last looked are a range of it (``opened_at``) instead of a look at each of their items.
    # The gaps' count of open items per owner reads it too, in owner order (no sort).
    db.execute("CREATE INDEX items_owner_open ON items(owner, status, opened_at, stage_entered_at,"
               " last_activity_at, due, workflow, stage) WHERE status IN ('open', 'blocked')")
    # The pending handoffs by due time with what the home's counts ask of each (its item,
    # when it was last escalated): overdue and due-for-escalation counted from the index
    # (escalation: 9 ms -> 1 ms at 100,000 items). It begins with handoffs_pending_due's
    # column, which it replaces (one index to keep up, not two).
    db.execute("CREATE INDEX handoffs_pending_late ON handoffs(due_at, item_id, escalated_at)"
               " WHERE accepted_at IS NULL")
    db.execute("DROP INDEX IF EXISTS handoffs_pending_due")


@migrations(name="m014_events_action")
def m014_events_action(db: Database) -> None:
    # events_action on the change's action alone (was action, at): every query that finds
    # edits by their action (history.edits_of, latest_at, earlier_values) uses it for the
    # action only and reads the time from the row; without the time an equal action sorts
    # by rowid alone, so building it over a large log costs a third to a half (the scale
    # demo of 1,000,000 items: about 3 s of CPU less) and the index is smaller.
    db.execute("DROP INDEX IF EXISTS events_action")
    db.execute("CREATE INDEX events_action ON events(action)")


@migrations(name="m015_items_status_stage")
def m015_items_status_stage(db: Database) -> None:
    # items_status_stage (status, workflow, stage) is where items_open_find begins, and that
    # index answers every query it did (the open items of one stage, read.stage_items_page:
    # 9.0 -> 2.2 ms at 100,000 items): one index less to keep up, and to build on a large
    # import (a tenth of a second of 100,000 CSV rows, about 2.5 s of the demo's 1,000,000).
    db.execute("DROP INDEX IF EXISTS items_status_stage")


assert [m.name for m in migrations._migrations] == list(MIGRATIONS), "keep MIGRATIONS in step"


def apply_migrations(conn: sqlite3.Connection) -> None:
    """Apply pending steps under one ``BEGIN IMMEDIATE``, so two processes never race."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        db = Database(conn, execute_plugins=False)
        migrations.apply(db)
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
