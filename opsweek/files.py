"""The one way opsweek writes a file a person named (``export -o``, ``dump -o``, notes
from the TUI, and every later ``-o``). Standard library only.

A file is written whole to a temporary file beside its target, synced, and renamed
into place, so a reader (or a crash) never sees half of it. A symbolic link is followed
and its *target* is replaced, in the target's directory, so the link stays a link.
Anything that is not a regular file (a device, a FIFO, a socket, a directory) is
refused: renaming over ``/dev/null`` would replace the device node with a file, and
writing into a FIFO can block for ever. ``-`` means standard output.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path

from opsweek.errors import InputError

STDOUT = "-"

_KINDS = (
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words (None for a regular file or a directory)."""
    for test, words in _KINDS:
        if test(mode):
            return words
    return None


def target_of(path: str | Path) -> Path:
    """The regular file that writing ``path`` would replace (a link's target), checked.

    Raises :class:`InputError` for a directory, a device, a FIFO, a socket or a
    read-only file, and for a missing directory.
    """
    path = Path(path)
    try:
        st = os.stat(path)  # follows links, the way the kernel would on open()
    except FileNotFoundError:
        st = None
    except OSError as error:
        raise InputError(f"cannot write {path}: {error.strerror}") from None
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise InputError(f"{path} is a directory (accepted: a file name)")
        kind = _kind(st.st_mode)
        if kind is not None:
            raise InputError(f"{path} is {kind}, not a regular file; opsweek writes only regular files"
                             " (accepted: a file path, or -o - for standard output)")
        if not target.exists():  # a /proc-style magic link: no name to replace
            raise InputError(f"cannot write {path}: it does not name a file opsweek can replace"
                             " (accepted: a file path, or -o - for standard output)")
        # root passes os.access on a 0444 file: the mode bits say what the owner meant
        if not os.access(target, os.W_OK) or not st.st_mode & 0o222:
            raise InputError(f"{path} is read-only; opsweek does not overwrite it"
                             " (accepted: a writable file or a new name)")
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(f"cannot write {path}: no such directory {directory}")
    return target


def write_output(path: str | Path, data: str | bytes, *, mode: int | None = None) -> Path | None:
    """Write ``data`` (text is UTF-8) to ``path`` atomically; ``-`` writes standard output.

    Returns the path written (None for standard output). ``mode`` defaults to the
    replaced file's, else 0666 less the umask. Problems are :class:`InputError` (exit 2).
    """
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if str(path) == STDOUT:
        _to_stdout(payload)
        return None
    path = Path(path)
    target = target_of(path)
    if mode is None:
        if target.exists():
            mode = target.stat().st_mode & 0o777
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, temp = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as error:
        raise InputError(f"cannot write {path}: {error.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException as error:
        Path(temp).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise InputError(f"cannot write {path}: {error.strerror}") from None
        raise
    _sync_directory(directory)
    return path


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (best effort: not every file system allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _to_stdout(payload: bytes) -> None:
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is not None:  # bytes, so the output does not depend on the locale
        buffer.write(payload)
        buffer.flush()
    else:
        sys.stdout.write(payload.decode("utf-8"))
