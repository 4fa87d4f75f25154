"""When a person last looked at what waits on them (``opsweek mine``), so that ``mine``
can list the items opened for them since.

``mine`` never writes to the database (a prompt or a login script may run it, several
people share the file, and a reader must not take the write lock), so the time is kept
beside the user's other state instead: one small file per database and person in the
user state directory (platformdirs: ``$XDG_STATE_HOME/opsweek/looked`` on Linux),
holding one UTC time. The file name is a checksum of the database's real path and the
handle, so any number of databases and people share the directory.

Looking is what a person does at a terminal: the plain listing moves the mark; ``--json``
and ``--check`` (scripts, status bars, prompts that run every minute) read it and leave
it where it is, so a status bar never swallows what its owner has not seen yet.

Standard library only: on Linux and the BSDs the XDG directory is read from the
environment directly (importing platformdirs would cost ``mine`` more than everything else
it does here); elsewhere platformdirs names the directory.
"""

from __future__ import annotations

import os
import sys
import zlib
from datetime import datetime
from pathlib import Path

from opsweek import clock


def _state_dir() -> Path:
    if sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        base = os.environ.get("XDG_STATE_HOME", "").strip()
        return Path(base if os.path.isabs(base) else os.path.expanduser("~/.local/state")) / "opsweek"
    from platformdirs import user_state_dir

    return Path(user_state_dir("opsweek"))


def _path(db_path: Path | str, handle: str) -> Path:
    real = os.path.realpath(os.fspath(db_path))
    key = zlib.crc32(f"{real}\0{handle}".encode())
    return _state_dir() / "looked" / f"{key:08x}-{handle}"


def last_looked(db_path: Path | str, handle: str) -> datetime | None:
    """When ``handle`` last looked at ``db_path``'s ``mine`` (None: never, or unreadable)."""
    try:
        return clock.parse_stamp(_path(db_path, handle).read_text(encoding="ascii").strip())
    except (OSError, ValueError, UnicodeError):
        return None


def mark_looked(db_path: Path | str, handle: str, at: datetime, before: datetime | None) -> None:
    """Record that ``handle`` looked at ``at``; ``before`` is the mark as the caller read it
    (:func:`last_looked`), so a look never moves it back in time. A state directory that
    cannot be written loses only this convenience, silently."""
    if before is not None and before >= at:
        return
    path = _path(db_path, handle)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.write_text(clock.stamp(at) + "\n", encoding="ascii")
        os.replace(temporary, path)  # atomic: a reader sees the old time or the new one
    except OSError:
        pass
