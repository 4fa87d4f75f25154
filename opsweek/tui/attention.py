"""Reading what the home screen shows (``read.attention``), in threads — no Textual here.

At 100,000 items this is about a hundred milliseconds of SQL, so it is read in threads:
the health table and the rest at the same time on two connections, and at launch already
while Textual is still being imported, in a child process (:func:`prefetch`), so the home
screen is filled as soon as it is painted.
"""

from __future__ import annotations

import atexit
import pickle
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path

from opsweek import clock
from opsweek.errors import OpsweekError
from opsweek.rules.attention import Attention
from opsweek.store import Store, read

__all__ = ["Attention", "prefetch", "read_attention", "take_prefetched"]


def read_attention(store: Store, team: read.Team, now: datetime, today: date,
                   path: Path | None = None) -> Attention:
    """Everything the home screen shows (``read.attention``); the health table and the
    rest are read at the same time, the rest on a connection of its own when ``path`` is
    given."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        rest = pool.submit(_read_rest, store, team, now, today, path)
        health = read.health(store, team, now, today)
        attention = rest.result()
    attention.health = health
    return attention


def _read_rest(store: Store, team: read.Team, now: datetime, today: date, path: Path | None) -> Attention:
    own = None
    if path is not None and Path(path).exists():
        try:
            own = Store.open(path, migrate=False)
        except OpsweekError:
            own = None
    try:
        return read.attention(own or store, team, now, today, with_health=False)
    finally:
        if own is not None:
            own.close()


# --- read at launch, before Textual is imported --------------------------------------
#
# In a child process, on a core of its own: read in a thread of this process, the numbers
# took 3 to 6 times as long as alone (and slowed Textual's import with them), since each
# row SQLite hands back waits for the interpreter's lock while the import holds it.

_prefetched: dict[Path, Future] = {}
_children: set = set()  # children still reading; any left at exit are ended (_end_children)

#: how long the child may read before it is ended and the home screen reads for itself
PREFETCH_TIMEOUT_S = 60.0


def prefetch(path: str | Path) -> None:
    """Start reading the home screen's numbers for the database at ``path`` now, in a
    child process (this interpreter, this opsweek, with the moment read here); the home
    screen takes them with :func:`take_prefetched`. When the child cannot start, fails or
    takes longer than :data:`PREFETCH_TIMEOUT_S` (it is then ended), the future holds the
    error and the home screen reads the numbers itself. A child still reading when this
    process ends is ended with it."""
    import subprocess

    path = Path(path)
    future: Future = Future()
    _prefetched[path] = future
    if getattr(sys, "frozen", False) or not sys.executable:
        # a frozen or embedded interpreter cannot be started as ``python -c``
        future.set_exception(OpsweekError("no Python interpreter to read the home screen's numbers in"))
        return
    now = clock.now()
    today = now.astimezone(clock.local_tz()).date()
    root = str(Path(__file__).resolve().parents[2])  # where this opsweek is imported from
    try:
        child = subprocess.Popen(
            # -P: nothing from the working directory shadows what the child imports
            [sys.executable, "-P", "-c", _CHILD, root, str(path), clock.stamp(now), today.isoformat()],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except (OSError, ValueError) as error:
        future.set_exception(error)
        return
    _children.add(child)

    def collect() -> None:
        try:
            try:
                data, _ = child.communicate(timeout=PREFETCH_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                child.kill()
                child.communicate()
                raise OpsweekError(f"reading the home screen's numbers took over {PREFETCH_TIMEOUT_S:g} s") from None
            if child.returncode != 0:
                raise OpsweekError(f"reading the home screen's numbers ended with exit code {child.returncode}")
            future.set_result(pickle.loads(data))
        except BaseException as error:  # the home screen then reads again itself
            future.set_exception(error)
        finally:
            _children.discard(child)

    threading.Thread(target=collect, name="opsweek-home-prefetch", daemon=True).start()


@atexit.register
def _end_children() -> None:
    """End a child still reading when this process ends (say the app was quit, or failed,
    before the numbers came): nothing of opsweek outlives the command."""
    for child in list(_children):
        try:
            child.kill()
            child.wait(timeout=5)
        except Exception:  # already gone, or not ours to wait for any more
            pass


_CHILD = ("import sys; sys.path.insert(0, sys.argv[1]); from opsweek.tui.attention import prefetched_child;"
          " prefetched_child(*sys.argv[2:])")


def prefetched_child(path: str, now: str, today: str) -> None:
    """The child of :func:`prefetch`: the numbers, pickled, on standard output (read by
    the process that started it, and only by it)."""
    with Store.open(path, migrate=False) as store:
        attention = read_attention(store, read.team(store), clock.parse_stamp(now), date.fromisoformat(today),
                                   Path(path))
    sys.stdout.buffer.write(pickle.dumps(attention))
    sys.stdout.flush()


def take_prefetched(path: str | Path) -> Future | None:
    """The read :func:`prefetch` started for ``path`` (once), or None."""
    return _prefetched.pop(Path(path), None)
