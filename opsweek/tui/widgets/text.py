"""User text on screen: always literal, never markup, control characters removed.

Textual reads ``[...]`` in plain strings as markup (``Label("[/]")`` crashes, and
``[@click=app.quit]x[/]`` runs an action when clicked). Every bit of text a person typed
goes through these helpers, or through ``Label(text, markup=False)``.
"""

from __future__ import annotations

from rich.text import Text
from textual.content import Content

from opsweek.text import clean_text, one_line


def plain(value: object, style: str = "") -> Content:
    """Literal Content for a Label/Static: user text, multi-line kept, controls removed."""
    text = clean_text("" if value is None else str(value)) or ""
    return Content.styled(text, style) if style else Content(text)


def line(value: object, style: str = "") -> Content:
    """Literal Content folded onto one line."""
    text = one_line("" if value is None else str(value))
    return Content.styled(text, style) if style else Content(text)


def cell(value: object, style: str = "") -> Text:
    """A DataTable cell: rich ``Text`` is never parsed as markup (a plain ``str`` would be)."""
    return Text(one_line("" if value is None else str(value)), style=style, no_wrap=True, overflow="ellipsis")


def numbered(number: int, value: object) -> Text:
    """A cell with a record's number before its text (``5  Chase the courier``): an action's
    number is how undo, the notes and ``opsweek action ID`` name it, so the table shows it."""
    return Text.assemble((f"{number}  ", "dim"), one_line("" if value is None else str(value)),
                         no_wrap=True, overflow="ellipsis")


def _flat(value: object) -> str:
    text = clean_text("" if value is None else str(value)) or ""
    return text.replace("\n", " ").replace("\t", " ")


def join(*parts: Content | str | tuple[object, str]) -> Content:
    """Assemble Content from literal parts: strings and ``(text, style)`` tuples are never markup."""
    return Content.assemble(*(
        (_flat(part[0]), part[1]) if isinstance(part, tuple) else
        part if isinstance(part, Content) else _flat(part)
        for part in parts
    ))


# How much a text field takes: a sentence of a meeting's notes, or a handle or a date.
# Bounded so that a 100 KB paste cannot make every keystroke re-render a huge line.
TEXT_MAX = 2000
FIELD_MAX = 100
