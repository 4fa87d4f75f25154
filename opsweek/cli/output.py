"""Terminal output for the command line: aligned columns, colour only where it helps.

Colour is used only when stdout is a terminal, ``NO_COLOR`` is unset (https://no-color.org)
and ``TERM`` is not ``dumb``; ``FORCE_COLOR`` turns it on when piped (``NO_COLOR`` still
wins). Piped output is plain text, one record a line, so it greps and diffs cleanly.

Every cell goes through :func:`opsweek.text.one_line`, every line through
:func:`opsweek.text.clean_text` and every JSON document through :func:`json_text`: user
text can never move the cursor, change colours, reorder a line or break a row, whichever
way a command prints it. Standard library only (the quick commands use it).
"""

from __future__ import annotations

import json
import os
import re
import sys
import unicodedata

from opsweek.text import clean_text, one_line

_CODES = {
    "bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "blue": "34",
    "magenta": "35", "cyan": "36",
}


def wants_colour(stream=None) -> bool:
    """Whether to colour ``stream`` (stdout by default): a TTY, no NO_COLOR, not TERM=dumb."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    stream = stream if stream is not None else sys.stdout
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        return False
    return tty and os.environ.get("TERM", "") != "dumb"


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal (wide East Asian characters count two)."""
    if text.isascii():
        return len(text)
    total = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        total += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return total


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` columns, ending in ``…`` when cut."""
    if width(text) <= limit:
        return text
    out, used = [], 0
    for char in text:
        w = 0 if unicodedata.combining(char) else (2 if unicodedata.east_asian_width(char) in ("W", "F") else 1)
        if used + w > limit - 1:
            break
        out.append(char)
        used += w
    return "".join(out).rstrip() + "…"


class Cell:
    """A table cell: text plus an optional style applied after alignment."""

    __slots__ = ("text", "style")

    def __init__(self, text, style: str | None = None):
        text = "" if text is None else str(text)
        # printable text has no control characters, tabs or newlines: nothing to clean
        self.text = text if text.isprintable() else one_line(text)
        self.style = style


class Printer:
    """Writes lines to a stream, colouring them only when :func:`wants_colour` says so."""

    def __init__(self, stream=None, colour: bool | None = None):
        self.stream = stream if stream is not None else sys.stdout
        self.colour = wants_colour(self.stream) if colour is None else colour

    def paint(self, text: str, style: str | None) -> str:
        """``text`` wrapped in the ANSI codes of ``style`` (space-separated names)."""
        if not style or not self.colour or not text:
            return text
        codes = ";".join(_CODES[name] for name in style.split() if name in _CODES)
        return f"\x1b[{codes}m{text}\x1b[0m" if codes else text

    def line(self, text: str = "", style: str | None = None) -> None:
        """One line; whatever user text it carries is cleaned of terminal controls here."""
        text = str(text)
        if not text.isprintable():
            text = clean_text(text)
        self.stream.write(self.paint(text, style) + "\n")

    def heading(self, text: str) -> None:
        self.line(text, "bold")

    def table(self, rows: list[list], header: list[str] | None = None, *, right: tuple[int, ...] = (),
              indent: int = 2, gap: int = 2) -> None:
        """Rows of cells (``str`` or :class:`Cell`) in aligned columns.

        ``right`` lists the columns aligned to the right (numbers). Trailing empty cells
        leave no trailing spaces.
        """
        for line in self.table_lines(rows, header, right=right, indent=indent, gap=gap):
            self.stream.write(line + "\n")

    def table_lines(self, rows: list[list], header: list[str] | None = None, *, right: tuple[int, ...] = (),
                    indent: int = 2, gap: int = 2) -> list[str]:
        grid = [[c if isinstance(c, Cell) else Cell(c) for c in row] for row in rows]
        if header:
            grid.insert(0, [Cell(h, "dim") for h in header])
        if not grid:
            return []
        columns = max(len(row) for row in grid)
        widths = [0] * columns
        for row in grid:
            for index, cell in enumerate(row):
                widths[index] = max(widths[index], width(cell.text))
        lines = []
        for row in grid:
            parts = []
            # the last non-empty cell is not padded, so lines carry no trailing blanks
            last = max((i for i, c in enumerate(row) if c.text), default=-1)
            for index, cell in enumerate(row[: last + 1]):
                pad = " " * (widths[index] - width(cell.text))
                if index == last and index not in right:
                    text = cell.text
                elif index in right:
                    text = pad + cell.text
                else:
                    text = cell.text + pad
                parts.append(self.paint(text, cell.style) if cell.text else text)
            lines.append(" " * indent + (" " * gap).join(parts))
        return lines


# JSON escapes C0 controls itself; these it would print raw with ensure_ascii=False
# (compiled by the first json_text: the listing never needs it)
_JSON_UNSAFE_PATTERN = r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]"


def json_text(data, *, indent: int | None = 2) -> str:
    """``data`` as JSON for a terminal or a pipe: readable UTF-8, but DEL, C1 controls
    and bidi overrides written as ``\\uXXXX`` escapes (the same value, never a control)."""
    text = json.dumps(data, indent=indent, ensure_ascii=False)
    return re.sub(_JSON_UNSAFE_PATTERN, lambda m: f"\\u{ord(m[0]):04x}", text)


def say(text: str = "", stream=None) -> None:
    """``print`` for a command's own line that may carry a path or a name: cleaned."""
    Printer(stream, colour=False).line(text)


def plural(count: int, one: str, many: str | None = None) -> str:
    """``1 handoff`` / ``3 handoffs``."""
    return f"{count} {one if count == 1 else (many or one + 's')}"


WHEN = "%a %d %b %H:%M"


def when(value) -> str:
    """A stored time for people, local: ``Wed 26 Nov 14:00``."""
    from opsweek.clock import show

    return show(value, WHEN) if value else ""


def day(value, today=None) -> str:
    """A date for people: ``Mon 01 Dec`` (with the year when it is not this year's)."""
    if not value:
        return ""
    if isinstance(value, str):
        from datetime import date

        value = date.fromisoformat(value)
    if today is not None and value.year != today.year:
        return value.strftime("%a %d %b %Y")
    return value.strftime("%a %d %b")
