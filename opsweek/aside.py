"""Work done beside this process, in a forked child (a large import's checks).

A child made by :func:`fork` has everything this process had at that moment (a fork:
the parsed rows are there without being sent) and a core of its own (a thread would share
the interpreter's lock with the writes it is meant to overlap). It sends its results back
pickled, through a pipe, and ends at once (``os._exit``: nothing of this process's, not
its open database nor its buffered output, is closed or flushed twice). Where a child
cannot be made here, :func:`fork` returns None and the caller does the work itself.
"""

from __future__ import annotations

import os
import pickle
import signal
import threading
from collections.abc import Callable, Iterator


class Child:
    """A child made by :func:`fork`: what it sends, then how it ended."""

    def __init__(self, pid: int, pipe):
        self.pid = pid
        self.pipe = pipe
        self.status: int | None = None

    def messages(self) -> Iterator:
        """What the child sends, in order, until it is done (or gone)."""
        while True:
            try:
                yield pickle.load(self.pipe)
            except (EOFError, OSError, pickle.UnpicklingError):
                return

    def wait(self) -> int:
        """The child's exit status once it has ended (0: it did all its work)."""
        if self.status is None:
            self.pipe.close()
            try:
                self.status = os.waitpid(self.pid, 0)[1]
            except ChildProcessError:
                self.status = -1
        return self.status

    def end(self) -> None:
        """End the child if it is still running (a caller that no longer waits for it)."""
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
            self.wait()


def fork(work: Callable[[Callable[[object], None]], None]) -> Child | None:
    """Run ``work(send)`` in a child process; ``send(value)`` hands a value back, pickled.
    None where no child is to be made: no ``os.fork`` here, other threads running (a fork
    would copy any lock they hold, held for good), or the fork failed."""
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return None
    try:
        read_end, write_end = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # the child
        code = 70
        try:
            os.close(read_end)
            with os.fdopen(write_end, "wb") as out:
                def send(value) -> None:
                    pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
                    out.flush()

                work(send)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    return Child(pid, os.fdopen(read_end, "rb"))
