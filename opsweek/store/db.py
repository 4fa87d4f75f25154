"""Opening the SQLite file safely, and the write transaction every change goes through.

Standard library only: the quick commands (``opsweek mine``) open the database through
here without paying for sqlite-utils or pydantic. Migrations (sqlite-utils) are imported
only when the schema actually needs to change.
"""

from __future__ import annotations

import itertools
import json
import operator
import os
import re
import sqlite3
import stat
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from time import thread_time

from opsweek import clock
from opsweek.errors import DatabaseUnusable, InputError

MIGRATION_SET = "opsweek"
# Names of the schema steps in opsweek.store.schema, in order. Kept here (not imported
# from schema) so that checking the version costs one query and no sqlite-utils import.
MIGRATIONS = ("m001_initial", "m002_events_action", "m003_recurring", "m004_team_import", "m005_escalations",
              "m006_speed", "m007_outcomes", "m008_ratings", "m009_issues", "m010_week_figures",
              "m011_lists", "m012_stuck_order", "m013_owner_open",
              "m014_events_action", "m015_items_status_stage")
# The steps that change indexes only: the rows a database holds, and so what a dump of it
# holds, are the same before and after them (a dump written before one restores as is).
INDEX_STEPS = frozenset({"m002_events_action", "m006_speed", "m011_lists", "m012_stuck_order", "m013_owner_open",
                         "m014_events_action", "m015_items_status_stage"})
BUSY_TIMEOUT_MS = 5000
_memory_names = itertools.count(1)

# Primary key column per table, so every change can be recorded and undone the same way.
PRIMARY_KEYS = {
    "people": "handle",
    "away": "id",
    "workflows": "key",
    "stages": "id",
    "items": "id",
    "handoffs": "id",
    "meetings": "id",
    "attendance": "id",
    "step_times": "id",
    "entries": "id",
    "reviews": "id",
    "settings": "key",
    "recurring": "id",
    "occurrences": "id",
    "feeds": "id",
    "escalations": "id",
    "outcomes": "id",
    "ratings": "id",
    "issues": "id",
    "issue_ranks": "id",
    "week_figures": "id",
}

# The columns every table must have (a later schema step may add more, never take any
# away). Checked on every open, in one query, so a database whose tables were altered by
# hand is refused naming what is wrong (exit 3), rather than failing inside a command.
COLUMNS = {
    "settings": ("key", "value"),
    "people": ("handle", "name", "role", "cover", "active"),
    "away": ("id", "handle", "start", "end"),
    "workflows": ("key", "name", "outcome", "owner", "trigger", "status"),
    "stages": ("id", "workflow", "key", "name", "position", "owner", "sop", "max_days", "handoff_sla",
               "retired"),
    "items": ("id", "workflow", "stage", "title", "owner", "status", "opened_at", "stage_entered_at",
              "last_activity_at", "due", "ref", "blocked_reason", "closed_at", "fed_from"),
    "handoffs": ("id", "item_id", "from_stage", "from_owner", "to_stage", "to_owner", "sent_at", "due_at",
                 "accepted_at", "accepted_by", "note", "escalated_at"),
    "meetings": ("id", "week", "facilitator", "started_at", "closed_at", "rating", "step"),
    "attendance": ("id", "meeting_id", "handle", "present"),
    "step_times": ("id", "meeting_id", "step", "seconds"),
    "entries": ("id", "meeting_id", "kind", "text", "owner", "due", "item_id", "workflow", "status",
                "closed_meeting_id", "created_at"),
    "reviews": ("id", "meeting_id", "workflow", "at"),
    "recurring": ("id", "workflow", "key", "title", "schedule", "rrule", "owner", "due", "catch_up", "status",
                  "created_at", "seen_until", "next_due"),
    "occurrences": ("id", "recurring_id", "occurrence", "item_id", "skipped", "at"),
    "feeds": ("id", "workflow", "target", "position"),
    "escalations": ("id", "handoff_id", "item_id", "tier", "to_handle", "to_name", "at", "by", "reason",
                    "meeting_id"),
    "outcomes": ("id", "meeting_id", "change_id", "step", "subject", "subject_id", "outcome", "at"),
    "ratings": ("id", "meeting_id", "handle", "rating", "at"),
    "issues": ("id", "text", "raised_by", "raised_at", "meeting_id", "item_id", "workflow", "status", "entry_id",
               "reason", "closed_meeting_id", "closed_at"),
    "issue_ranks": ("id", "meeting_id", "issue_id", "rank"),
    "week_figures": ("id", "week", "week_end", "stuck", "overdue", "escalated", "handoffs_due", "handoffs_on_time",
                     "actions_due", "actions_on_time", "rating", "frozen_at"),
    "events": ("id", "change_id", "at", "actor", "meeting_id", "action", "entity", "entity_id", "before",
               "after", "reason", "undoes"),
}


def default_db_path() -> Path:
    """``opsweek.db`` in the user data directory (platformdirs)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("opsweek", appauthor=False)) / "opsweek.db"


def resolve_db_path(option: str | None = None) -> Path:
    """``--db`` beats ``OPSWEEK_DB`` beats the platform default."""
    if option:
        return Path(option).expanduser()
    env = os.environ.get("OPSWEEK_DB")
    if env:
        return Path(env).expanduser()
    return default_db_path()


def resolve_actor(me: str | None) -> str:
    """Who the audit log says acted: ``--me`` / ``OPSWEEK_ME`` if given, else the login name."""
    if me:
        return me
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers)
        return "unknown"


def shared_mode() -> bool:
    """``OPSWEEK_SHARED=1``: a database made for a team's group directory (see :func:`_prepare_file`)."""
    return os.environ.get("OPSWEEK_SHARED", "").strip().lower() in ("1", "yes", "true", "on")


def _prepare_file(path: Path, *, shared: bool = False) -> None:
    """Create the directory 0700 and an empty file 0600 before SQLite touches it.

    ``shared`` (``opsweek init --shared``, ``OPSWEEK_SHARED=1``): the directory 2770 (setgid,
    so every file made in it belongs to its group) and the file 0660, since every teammate
    must write the database and the ``-wal``/``-shm`` files SQLite makes beside it (SQLite
    gives those the database file's mode). Only a file created here gets its mode set:
    opsweek never changes the mode of a file it did not make (``--db /dev/null`` run as
    root once made the device 0600).
    """
    directory = path.parent
    file_mode, dir_mode = (0o660, 0o2770) if shared else (0o600, 0o700)
    if not directory.exists():
        try:
            directory.mkdir(mode=0o700, parents=True)
            os.chmod(directory, dir_mode)  # mkdir's mode loses the setgid bit and the umask's bits
        except OSError as error:
            raise DatabaseUnusable(f"cannot create {directory}: {error.strerror}") from None
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0), file_mode)
    except FileExistsError:
        return
    except OSError as error:
        raise DatabaseUnusable(f"cannot create {path}: {error.strerror}") from None
    try:
        os.fchmod(fd, file_mode)  # the umask may have taken bits off, never added: this is exact
    finally:
        os.close(fd)


# Where the kernel lists this process's mounts (tests point it at a fake table).
MOUNTINFO = "/proc/self/mountinfo"
# File systems on which SQLite's locks (and WAL's shared memory) do not hold across hosts.
NETWORK_FILESYSTEMS = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "afs", "ceph", "glusterfs", "lustre", "ncpfs", "coda",
    "davfs", "fuse.sshfs", "fuse.glusterfs", "fuse.cephfs", "fuse.rclone", "fuse.s3fs", "fuse.gcsfuse",
})


def _unescape_mount(text: str) -> str:
    """mountinfo writes a space, tab, newline and backslash in a path as octal (``\\040``)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), text)


def network_filesystem(directory: str | Path) -> tuple[str, str] | None:
    """``(fs type, mount point)`` when ``directory`` lies on a network file system, else None.

    The mount is the one in :data:`MOUNTINFO` with the longest mount point that contains
    the directory (symbolic links resolved). Where there is no such table (not Linux), None.
    """
    try:
        with open(MOUNTINFO, encoding="utf-8", errors="replace") as table:
            lines = table.read().splitlines()
    except OSError:
        return None
    target = os.path.realpath(directory)
    best: tuple[int, str, str] | None = None
    for line in lines:
        before, sep, after = line.partition(" - ")
        fields = before.split()
        if not sep or len(fields) < 5 or not after.split():
            continue
        point = _unescape_mount(fields[4])
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) >= best[0]):
            best = (len(point), after.split()[0], point)
    if best is None:
        return None
    fstype = best[1].lower()
    if fstype in NETWORK_FILESYSTEMS or fstype.split(".")[0] in ("nfs", "cifs", "smb3", "smbfs"):
        return fstype, best[2]
    return None


def _check_local_disk(path: Path) -> None:
    """Refuse a database on a network file system (exit 3) unless OPSWEEK_ALLOW_NETWORK_FS=1."""
    if os.environ.get("OPSWEEK_ALLOW_NETWORK_FS", "").strip() == "1":
        return
    found = network_filesystem(path.parent)
    if found is not None:
        fstype, point = found
        raise DatabaseUnusable(
            f"{path} is on a network file system ({fstype} mounted at {point}); SQLite's locks do not hold"
            " there and the database can be corrupted: keep it on the local disk of one host and reach it"
            " over SSH (or set OPSWEEK_ALLOW_NETWORK_FS=1 to use it anyway)")


def _path_state(path: Path) -> str:
    """``missing``, ``empty`` or ``file`` for a usable ``--db`` path; anything else is
    refused (exit 3) before SQLite opens it, so the path is left untouched."""
    try:
        st = os.stat(path)  # follows a link: a link to a database is fine
    except FileNotFoundError:
        if path.is_symlink():
            raise DatabaseUnusable(f"{path} is a symbolic link to {os.readlink(path)}, which does not exist"
                                   " (accepted: a database file or a new path)") from None
        return "missing"
    except NotADirectoryError:
        raise DatabaseUnusable(f"cannot create {path}: a part of the path is not a directory") from None
    except OSError as error:
        raise DatabaseUnusable(f"cannot use {path}: {error.strerror}") from None
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return "empty" if st.st_size == 0 else "file"
    kind = ("a directory" if stat.S_ISDIR(mode) else "a character device" if stat.S_ISCHR(mode)
            else "a block device" if stat.S_ISBLK(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
    raise DatabaseUnusable(f"{path} is {kind}, not an opsweek database (accepted: a database file or a new path)")


# Never open() the database file itself while SQLite has it open in this process: closing
# *any* descriptor of a file drops every POSIX lock the process holds on it, SQLite's too,
# and another process may then delete the WAL under our connection. SQLite reports a file
# that is not a database by itself, without writing to it.


class Store:
    """One connection to one opsweek database.

    The connection runs in autocommit mode; :meth:`write` opens each write with
    ``BEGIN IMMEDIATE`` so that a writer waits for the lock (busy timeout) up front
    instead of failing half way, and commits the change together with its events.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path | None, *, uri: str | None = None):
        self.conn = conn
        self.path = path
        self.uri = uri  # an in-memory database's shared name, for :meth:`reader`
        self._in_write = False
        self._references_at_commit = False  # Store.bulk(references_at_commit=True)
        # writes to make inside the next change, before it commits (see Store.change)
        self.also_in_change: list = []
        # the TUI sets this: a write waits this long for another process's lock, then
        # raises Busy so the screen can say so instead of freezing for the whole timeout
        self.quick_wait_ms: int | None = None

    # -- opening --------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path, *, create: bool = False, migrate: bool = True,
             shared: bool | None = None) -> "Store":
        """Open (or with ``create``, make) the database at ``path``.

        Raises :class:`DatabaseUnusable` (exit 3) when the file is not an opsweek
        database, is corrupt, is locked past the timeout, was written by a newer
        opsweek, or lies on a network file system; in each case the file is left
        untouched. ``shared`` (default: ``OPSWEEK_SHARED``) makes a new file for a group.
        """
        path = Path(path)
        state = _path_state(path)
        _check_local_disk(path)
        if state == "missing":
            if not create:
                raise DatabaseUnusable(
                    f"no opsweek database at {path} (create one with 'opsweek init' or 'opsweek demo')"
                )
            _prepare_file(path, shared=shared_mode() if shared is None else shared)
        elif state == "empty" and not create:
            # a read-only command never turns someone's empty file into a database
            raise DatabaseUnusable(f"{path} is an empty file, not an opsweek database"
                                   " (make it one with 'opsweek init' or 'opsweek import')")
        try:
            conn = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as error:
            raise DatabaseUnusable(f"cannot open {path}: {error}") from None
        store = cls(conn, path)
        try:
            # the version check comes first: switching to WAL writes the file, and a
            # database we refuse must stay byte-identical
            store._check_version(migrate=migrate)
            store._check_shape()
            store._configure()
        except sqlite3.DatabaseError as error:
            store.close()
            raise _unusable(path, error) from None
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def memory(cls) -> "Store":
        """A fresh in-memory database with the full schema (for tests).

        It has a name of its own (a shared-cache URI), so that :meth:`reader` can open a
        second connection to it; it lives while any of its connections is open.
        """
        uri = f"file:opsweek-memory-{os.getpid()}-{next(_memory_names)}?mode=memory&cache=shared"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        store = cls(conn, None, uri=uri)
        store._configure()
        store._check_version(migrate=True)
        return store

    def reader(self) -> "Store":
        """Another connection to this database, which can only read (``PRAGMA query_only``).

        For a thread that must not share this connection (the TUI's workers): a write
        through it fails with "attempt to write a readonly database".
        """
        if self.path is not None:
            other = Store.open(self.path, migrate=False)
        elif self.uri is not None:
            conn = sqlite3.connect(self.uri, uri=True, isolation_level=None, check_same_thread=False)
            other = Store(conn, None, uri=self.uri)
            other._configure()
            # a shared cache locks tables, not the file: reading uncommitted rows keeps a
            # reader from ever blocking the writer (or failing "table is locked")
            conn.execute("PRAGMA read_uncommitted = ON")
        else:
            raise DatabaseUnusable("this database has no name another connection could open")
        other.conn.execute("PRAGMA query_only = ON")
        return other

    def data_version(self) -> int:
        """SQLite's ``PRAGMA data_version`` on this connection: it moves when another
        connection (of this process or another) has committed since, never for this one's
        own writes. Reads no data, so polling it is cheap (the TUI's live screens)."""
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    def refuse_writes(self) -> None:
        """From now on this connection can only read (``PRAGMA query_only``): a viewer's."""
        self.conn.execute("PRAGMA query_only = ON")

    def _configure(self) -> None:
        conn = self.conn
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if self.path is not None:
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            if mode.lower() != "wal":
                try:
                    conn.execute("PRAGMA journal_mode = WAL")
                except sqlite3.OperationalError as error:
                    # a bulk load in another process holds the file in a rollback journal
                    # (Store.bulk's journal_once) and SQLite refuses the switch at once, with
                    # no wait: this connection reads and writes through the journal
                    # meanwhile (waiting for the load's lock as for any writer's), and the
                    # next connection opened after the load sets WAL again
                    if "locked" not in str(error) and "busy" not in str(error):
                        raise
        conn.execute("PRAGMA synchronous = NORMAL")
        # foreign_keys cannot change inside a transaction: set it here, in autocommit
        conn.execute("PRAGMA foreign_keys = ON")

    def applied_migrations(self) -> list[str]:
        exists = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='_sqlite_migrations'"
        ).fetchone()
        if not exists:
            return []
        return [
            row[0]
            for row in self.conn.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY id",
                (MIGRATION_SET,),
            )
        ]

    def _check_version(self, *, migrate: bool) -> None:
        applied = self.applied_migrations()
        newer = [name for name in applied if name not in MIGRATIONS]
        if newer:
            raise DatabaseUnusable(
                f"{self.path} was written by a newer opsweek (schema step {newer[-1]}); upgrade opsweek to use it"
            )
        has_tables = self.conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        ).fetchone()[0]
        if has_tables and not applied:
            raise DatabaseUnusable(f"{self.path} is an SQLite file but not an opsweek database")
        pending = [name for name in MIGRATIONS if name not in applied]
        if not pending:
            return
        if not migrate:
            raise DatabaseUnusable(f"{self.path} needs a schema upgrade; run any opsweek command that writes")
        if applied and self.path is not None:
            self.backup(self.path.with_name(f"{self.path.name}.before-{pending[0]}.bak"))
        from opsweek.store.schema import apply_migrations

        apply_migrations(self.conn)

    def _check_shape(self) -> None:
        """Every table and column opsweek reads is there (one query, well under 1 ms)."""
        present: dict[str, set[str]] = {}
        for table, column in self.conn.execute(
                "SELECT m.name, p.name FROM sqlite_master AS m, pragma_table_info(m.name) AS p"
                " WHERE m.type = 'table'"):
            present.setdefault(table, set()).add(column)
        for table, columns in COLUMNS.items():
            if table not in present:
                raise DatabaseUnusable(f"{self.path} lacks the table {table!r}; it was altered outside opsweek"
                                       " (restore a backup or a dump)")
            missing = [c for c in columns if c not in present[table]]
            if missing:
                raise DatabaseUnusable(f"{self.path}: table {table!r} lacks the column {missing[0]!r}; it was"
                                       " altered outside opsweek (restore a backup or a dump)")

    def backup(self, target: Path) -> Path:
        """Copy the database to ``target`` (``VACUUM INTO``), 0600."""
        if target.exists():
            target.unlink()
        self.conn.execute("VACUUM INTO ?", (str(target),))
        os.chmod(target, 0o600)
        return target

    @contextmanager
    def patient(self):
        """Writes inside wait the full busy timeout (after :class:`Busy` was reported)."""
        quick, self.quick_wait_ms = self.quick_wait_ms, None
        try:
            yield self
        finally:
            self.quick_wait_ms = quick

    budget_ms: float | None = None  # inside within(): the budget its reads have

    @contextmanager
    def within(self, ms: float):
        """Reads inside stop with :class:`TooSlow` once this thread has spent ``ms``
        milliseconds on them (SQLite's progress handler interrupts the statement; nothing
        is changed by it). The thread's own time, not the clock's: on a busy machine a read
        is not cut short for the time other processes had the CPU.

        For a read that is usually quick but may not be, on a thread that must stay
        responsive: try it within a budget, and hand it to a worker when it runs over."""
        deadline = thread_time() + ms / 1000

        def over() -> int:
            return 1 if thread_time() > deadline else 0

        self.conn.set_progress_handler(over, 2000)
        self.budget_ms = ms
        try:
            yield self
        except sqlite3.OperationalError as error:
            if "interrupted" in str(error) and thread_time() > deadline:
                raise TooSlow(f"the read took more than {ms:g} ms") from error
            raise
        finally:
            self.conn.set_progress_handler(None, 0)
            self.budget_ms = None

    def close(self) -> None:
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- reading ----------------------------------------------------------------------

    def query(self, sql: str, params=()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def one(self, sql: str, params=()) -> sqlite3.Row | None:
        return self.conn.execute(sql, params).fetchone()

    def scalar(self, sql: str, params=()):
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def setting(self, key: str, default: str | None = None) -> str | None:
        value = self.scalar("SELECT value FROM settings WHERE key = ?", (key,))
        return default if value is None else value

    # -- writing ----------------------------------------------------------------------

    @contextmanager
    def transaction(self):
        """A raw ``BEGIN IMMEDIATE`` transaction (bulk loads); prefer :meth:`change`."""
        if self._in_write:
            yield self
            return
        quick = self.quick_wait_ms
        try:
            if quick is not None:
                self.conn.execute(f"PRAGMA busy_timeout = {int(quick)}")
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if quick is not None and ("locked" in str(error) or "busy" in str(error)):
                raise Busy(f"another opsweek is writing to {self.path}; nothing was changed,"
                           " try again in a moment") from None
            raise _unusable(self.path, error) from None
        finally:
            if quick is not None:
                self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._in_write = True
        try:
            yield self
            if self._references_at_commit:
                self.check_references()
        except BaseException:
            self._in_write = False
            self.conn.execute("ROLLBACK")
            raise
        self._in_write = False
        try:
            self.conn.execute("COMMIT")
        except sqlite3.OperationalError as error:
            self.conn.execute("ROLLBACK")
            raise _unusable(self.path, error) from None

    @contextmanager
    def bulk(self, cache_kib: int = 128 * 1024, *, references_at_commit: bool = False, journal_once: bool = False):
        """A larger page cache on this connection for a bulk load (an import of 100,000
        rows and more): the rows, and the indexes built once after them, sort in memory
        instead of spilling to temporary files. The old size comes back afterwards; the
        setting touches nothing stored (SQLite keeps it per connection).

        With ``references_at_commit`` (a load at least as large as what the tables hold:
        an import into a new database) the foreign keys are checked once per transaction,
        just before it commits (:meth:`check_references`, a few hundredths of a second at
        100,000 rows), instead of being looked up for every row inserted (SQLite's
        ``foreign_keys`` off on this connection meanwhile; a tenth of an import's time).
        A reference that does not hold fails the transaction as it always did, with the
        same ``sqlite3.IntegrityError``, and nothing is written. Outside a transaction
        only (SQLite ignores the setting inside one): otherwise rows are checked as usual.

        With ``journal_once`` (a load into a file that holds nothing yet) the file is
        written through a rollback journal while the load runs: each new page is written
        once, into the file (WAL writes it twice: into the log, then into the file when
        the log is folded in), which halves what a 100 MB import writes. The journal
        holds the few pages the file had, so a failure or a crash still leaves it as it
        was. Leaving WAL needs every other connection to the file closed: when another is
        open, the load simply stays in WAL. WAL comes back at the end, as every opsweek
        connection expects (and ``Store.open`` would set it again anyway).
        """
        old = self.conn.execute("PRAGMA cache_size").fetchone()[0]
        self.conn.execute(f"PRAGMA cache_size = -{int(cache_kib)}")
        deferred = references_at_commit and not self.conn.in_transaction and not self._references_at_commit
        if deferred:
            self.conn.execute("PRAGMA foreign_keys = OFF")
            self._references_at_commit = True
        journal = journal_once and self.path is not None and not self.conn.in_transaction and self._leave_wal()
        try:
            yield self
        finally:
            self.conn.execute(f"PRAGMA cache_size = {int(old)}")
            if deferred:
                self._references_at_commit = False
                self.conn.execute("PRAGMA foreign_keys = ON")
            if journal:
                try:
                    self.conn.execute("PRAGMA journal_mode = WAL")
                except sqlite3.OperationalError:  # another connection came meanwhile: it, or the next one, sets WAL
                    pass

    def _leave_wal(self) -> bool:
        """Switch this file to a rollback journal if no other connection has it open."""
        wait = self.conn.execute("PRAGMA busy_timeout").fetchone()[0]
        self.conn.execute("PRAGMA busy_timeout = 0")  # someone else has it open: no waiting
        try:
            mode = self.conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
        except sqlite3.OperationalError:
            mode = "wal"
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {int(wait)}")
        return str(mode).lower() == "delete"

    def check_references(self) -> None:
        """Every foreign key of every table holds (``PRAGMA foreign_key_check``); raises
        ``sqlite3.IntegrityError`` as SQLite does for a row whose reference fails."""
        wrong = self.conn.execute("PRAGMA foreign_key_check").fetchone()
        if wrong is not None:
            raise sqlite3.IntegrityError("FOREIGN KEY constraint failed")

    @contextmanager
    def change(self, action: str, *, actor: str, reason: str | None = None,
               meeting_id: int | None = None, undoes: int | None = None, at: datetime | None = None):
        """One change: a write transaction whose every row edit is recorded as an Event.

        Yields a :class:`Change`; its ``insert``/``update``/``delete`` write the row and
        its audit event in the same transaction, so both land or neither does. ``at`` is
        when it happened (default now; the demo's history passes past times).
        """
        with self.transaction():
            change_id = (self.scalar("SELECT max(change_id) FROM events") or 0) + 1
            change = Change(self, change_id, action, actor, reason, meeting_id, undoes, at)
            yield change
            # what must land with this change (a session's outcome: changes.with_outcome)
            also, self.also_in_change = self.also_in_change, []
            for write in also:
                write(change)


class Change:
    """The row edits of one change, each written together with its Event."""

    def __init__(self, store: Store, change_id: int, action: str, actor: str,
                 reason: str | None, meeting_id: int | None, undoes: int | None,
                 at: datetime | None = None):
        self.store = store
        self.id = change_id
        self.action = action
        self.actor = actor
        self.reason = reason
        self.meeting_id = meeting_id
        self.undoes = undoes
        self.at = clock.stamp(at or clock.now())
        self.events = 0

    def _event(self, entity: str, entity_id, before: dict | None, after: dict | None,
               action: str | None = None) -> None:
        self.store.conn.execute(
            "INSERT INTO events (change_id, at, actor, meeting_id, action, entity, entity_id,"
            " before, after, reason, undoes) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                self.id, self.at, self.actor, self.meeting_id, action or self.action, entity, str(entity_id),
                None if before is None else json.dumps(before, sort_keys=True, default=str),
                None if after is None else json.dumps(after, sort_keys=True, default=str),
                self.reason, self.undoes,
            ),
        )
        self.events += 1

    def insert(self, table: str, row: dict, *, action: str | None = None) -> int | str:
        """Insert ``row``; returns its primary key. ``action`` names this row's event when it
        is not the change's own (an escalation record written by ``handoff.escalate``)."""
        pk = PRIMARY_KEYS[table]
        columns = list(row)
        cursor = self.store.conn.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            [row[c] for c in columns],
        )
        key = row.get(pk, cursor.lastrowid)
        stored = dict(self.store.one(f"SELECT * FROM {table} WHERE {pk} = ?", (key,)))
        self._event(table, key, None, stored, action)
        return key

    def insert_many(self, table: str, rows: list[dict], at_of=None, *, at_column: str | None = None) -> list:
        """Insert many rows at once (imports), each with its event; returns their keys.

        Integer keys are assigned here (unless the rows carry them) so that every event can
        name its row. ``at_of(row)``, if given, is the time of that row's event (the demo's
        history, which the trends read), or ``at_column`` names the column that holds it;
        otherwise the change's time.

        Fast at 100,000 rows and more: the rows go in with one ``executemany``; rows with
        consecutive integer keys get their events from one ``INSERT ... SELECT`` that
        writes each event's JSON in SQLite (``json_object``, the row as stored, its keys
        sorted); and a batch at least as large as the table it goes into rebuilds that
        table's indexes once at the end instead of updating them row by row (in this same
        transaction, so a failure leaves them as they were).
        """
        if not rows:
            return []
        pk = PRIMARY_KEYS[table]
        if pk == "id" and at_of is None and (at_column is None or at_column in rows[0]) \
                and not any(pk in row for row in rows):
            return self.insert_chunks(table, [rows], len(rows), at_column=at_column)
        conn = self.store.conn
        columns = list(rows[0])
        if pk == "id" and pk not in columns:
            start = (self.store.scalar(f"SELECT max(id) FROM {table}") or 0) + 1
            if any(pk in row for row in rows):  # some carry their own key: as given
                rows = [{"id": start + n, **row} for n, row in enumerate(rows)]
                columns = list(rows[0])
                keys = [row[pk] for row in rows]
            else:
                keys = list(range(start, start + len(rows)))
                columns = [pk, *columns]
        else:
            keys = [row[pk] for row in rows]
        assigned = columns[0] == pk and pk not in rows[0]
        given = columns[1:] if assigned else columns
        try:
            pick = operator.itemgetter(*given)
            values = list(map(pick, rows)) if len(given) > 1 else [(pick(row),) for row in rows]
        except KeyError:  # rows that leave a column out: NULL there
            values = [tuple([row.get(c) for c in given]) for row in rows]
        if assigned:
            values = [(key, *row) for key, row in zip(keys, values)]
        consecutive = (at_of is None and type(keys[0]) is int and keys == list(range(keys[0], keys[0] + len(keys)))
                       and (at_column is None or at_column in columns))
        rebuild = defer_indexes(conn, table, len(rows)) if consecutive else []
        insert_rows(conn, table, columns, values)
        del values
        if consecutive:
            self._record_range(table, columns, keys[0], keys[-1], at_column)
            for sql in rebuild:
                conn.execute(sql)
        else:
            encode = json.JSONEncoder(sort_keys=True, default=str).encode  # one encoder, not one per row
            if pk not in rows[0]:
                rows = [{pk: key, **row} for key, row in zip(keys, rows)]
            when = (lambda row: row[at_column]) if at_column else at_of
            insert_rows(
                conn, "events", ("change_id", "at", "actor", "meeting_id", "action", "entity", "entity_id",
                                 "before", "after", "reason", "undoes"),
                [(self.id, when(row) if when else self.at, self.actor, self.meeting_id, self.action, table,
                  str(row[pk]), None, encode(row), self.reason, self.undoes) for row in rows],
            )
        self.events += len(rows)
        return keys

    def insert_chunks(self, table: str, chunks, expected: int, *, columns=None,
                      at_column: str | None = None) -> list[int]:
        """:meth:`insert_many` of rows given a chunk at a time (a large CSV checked in a
        child process while it is written: ``importing``), each row with its event:
        the same rows, keys and events as :meth:`insert_many` of all of them at once.
        Rows are dicts, or with ``columns`` tuples of those columns in that order.
        Keys are assigned in order from the table's next ``id`` (by SQLite, which gives a
        row without one the largest key plus one); each chunk's events are one ``INSERT
        ... SELECT``; ``expected`` (about how many rows come) decides, as the number of
        rows does for :meth:`insert_many`, whether the table's indexes are built again
        once at the end. Returns the keys."""
        pk = PRIMARY_KEYS[table]
        conn = self.store.conn
        start = key = (self.store.scalar(f"SELECT max({pk}) FROM {table}") or 0) + 1
        given = rebuild = None
        for rows in chunks:
            if not rows:
                continue
            if given is None:
                given = list(rows[0] if columns is None else columns)
                rebuild = defer_indexes(conn, table, expected)
            if columns is not None:
                values = rows
            else:
                try:
                    pick = operator.itemgetter(*given)
                    values = list(map(pick, rows)) if len(given) > 1 else [(pick(row),) for row in rows]
                except KeyError:  # rows that leave a column out: NULL there
                    values = [tuple([row.get(c) for c in given]) for row in rows]
            insert_rows(conn, table, given, values)
            del values
            last = key + len(rows) - 1
            if self.store.scalar(f"SELECT max({pk}) FROM {table}") != last:  # never: SQLite's rule
                raise sqlite3.IntegrityError(f"{table}: rows were not given the keys {key}..{last}")
            self._record_range(table, [pk, *given], key, last, at_column)
            key = last + 1
        for sql in rebuild or ():
            conn.execute(sql)
        self.events += key - start
        return list(range(start, key))

    def record_inserted(self, table: str, columns: list[str], first: int, last: int, *,
                        at_column: str | None = None) -> int:
        """The events of rows ``first``..``last`` (integer keys) that this change wrote into
        ``table`` itself (the demo's generated rows, streamed in with ``executemany``): one
        per row, exactly as :meth:`insert_many` records rows of ``columns`` (the row as
        stored, its keys sorted), at ``at_column``'s time or the change's. Returns how
        many rows it recorded."""
        count = self._record_range(table, columns, first, last, at_column)
        self.events += count
        return count

    def _record_range(self, table: str, columns: list[str], first: int, last: int,
                      at_column: str | None) -> int:
        pk = PRIMARY_KEYS[table]
        fields = ", ".join(f"'{c}', {c}" for c in sorted(columns))
        return self.store.conn.execute(
            "INSERT INTO events (change_id, at, actor, meeting_id, action, entity, entity_id,"
            " before, after, reason, undoes)"
            f" SELECT ?, {at_column or '?'}, ?, ?, ?, ?, CAST({pk} AS TEXT), NULL, json_object({fields}), ?, ?"
            f" FROM {table} WHERE {pk} BETWEEN ? AND ? ORDER BY {pk}",
            (self.id, *(() if at_column else (self.at,)), self.actor, self.meeting_id, self.action, table,
             self.reason, self.undoes, first, last)).rowcount

    def update(self, table: str, key, changes: dict) -> dict:
        """Set ``changes`` on the row; records only the fields that really changed."""
        pk = PRIMARY_KEYS[table]
        current = self.store.one(f"SELECT * FROM {table} WHERE {pk} = ?", (key,))
        if current is None:
            raise InputError(f"no {table} row {key!r}")
        before = {f: current[f] for f in changes if current[f] != changes[f]}
        after = {f: changes[f] for f in before}
        if not before:
            return {}
        assignments = ", ".join(f"{f} = ?" for f in after)
        self.store.conn.execute(
            f"UPDATE {table} SET {assignments} WHERE {pk} = ?", [*after.values(), key]
        )
        self._event(table, key, before, after)
        return after

    def delete(self, table: str, key) -> None:
        pk = PRIMARY_KEYS[table]
        current = self.store.one(f"SELECT * FROM {table} WHERE {pk} = ?", (key,))
        if current is None:
            return
        self.store.conn.execute(f"DELETE FROM {table} WHERE {pk} = ?", (key,))
        self._event(table, key, dict(current), None)


# Below this many rows, updating a table's indexes row by row costs less than rebuilding them.
_REBUILD_FROM = 10_000


def insert_rows(conn: sqlite3.Connection, table: str, columns, values) -> None:
    """``INSERT INTO table (columns)`` every tuple of ``values``: what ``executemany`` of
    the one-row statement does (the same rows, in the same order, failing at the same row
    with the same error), in statements of up to 500 rows each.

    SQLite runs a statement's set-up once per execution: for a table whose CHECK holds an
    ``IN (...)`` list (items, and others) that is an ephemeral table built for every row
    ``executemany`` inserts, about half of an import's insert time at 100,000 rows. A
    batch whose statement fails (it is undone whole, as SQLite undoes a statement) is
    inserted again row by row, so that the rows before the failing one are in and the
    error is the one ``executemany`` raises there. SQLite checks a statement's foreign
    keys when the statement ends: where a row may name a row of its own table (an item
    fed from an item) and references are looked up as rows go in, they go in one by one,
    so that a row naming one that comes after it fails at that row, as always.
    """
    columns = list(columns)
    width = len(columns)
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    one = "(" + ", ".join("?" * width) + ")"
    if conn.execute("PRAGMA foreign_keys").fetchone()[0] and any(
            ref[2] == table and ref[3] in columns for ref in conn.execute(f"PRAGMA foreign_key_list({table})")):
        conn.executemany(head + one, values)
        return
    per = max(1, min(500, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width))
    full = head + ", ".join([one] * per)
    chain = itertools.chain.from_iterable
    values = iter(values)
    while True:
        batch = list(itertools.islice(values, per))
        if not batch:
            return
        try:
            conn.execute(full if len(batch) == per else head + ", ".join([one] * len(batch)), list(chain(batch)))
        except (sqlite3.Error, UnicodeEncodeError, ValueError, OverflowError, TypeError):
            conn.executemany(head + one, batch)  # the same rows one by one: the error at its row
        if len(batch) < per:
            return


def defer_indexes(conn: sqlite3.Connection, table: str, adding: int) -> list[str]:
    """Drop ``table``'s own indexes when ``adding`` rows is a batch at least as large as the
    table (an import into a new database, the demo); returns the statements that make
    them again, exactly as the schema wrote them. Building an index once from sorted rows
    is several times faster than keeping it up to date over 100,000 inserts. The caller
    runs them in the same transaction (SQLite's DDL is transactional), so a failure or a
    crash leaves every index as it was, and no one ever reads the table without them."""
    if adding < _REBUILD_FROM:
        return []
    held = conn.execute(f"SELECT max(rowid) FROM {table}").fetchone()[0] or 0
    if held > adding:
        return []
    indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
                           " AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' ORDER BY name", (table,)).fetchall()
    indexes = [(name, sql) for name, sql in indexes if name not in _APPENDED]
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in indexes]


# Indexes that a bulk load of events extends at their end, in the order the rows come
# (the events of one change share its id, actor, meeting and undo; a restored log comes
# in the order of its changes): kept up to date as the rows go in, which costs less than
# building them again from a table of large rows (each build reads the whole table).
_APPENDED = frozenset({"events_change", "events_actor", "events_meeting", "events_undoes"})


class TooSlow(Exception):
    """A read inside :meth:`Store.within` ran over its budget and was stopped."""


class Busy(DatabaseUnusable):
    """Another process holds the write lock past :attr:`Store.quick_wait_ms` (the TUI's
    first, short wait); the change was not made and may be retried with the full wait."""


def _unusable(path, error: sqlite3.Error) -> DatabaseUnusable:
    text = str(error)
    if "locked" in text or "busy" in text:
        return DatabaseUnusable(
            f"{path} is locked by another process for more than {BUSY_TIMEOUT_MS // 1000} s; try again"
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return DatabaseUnusable(f"{path} is corrupt or not an opsweek database ({text})")
    return DatabaseUnusable(f"{path} cannot be used: {text}")
