"""User text hygiene shared by every layer (standard library only)."""

from __future__ import annotations

import re

# C0 controls except tab (\x09) and newline (\x0a), DEL, C1 controls, lone surrogates
# (undecodable bytes in arguments arrive as those, and cannot be stored or printed), and
# the bidi embedding, override and isolate characters (U+202A–U+202E, U+2066–U+2069),
# which reorder what a terminal shows ("Trojan Source"). Joiners (U+200D) and variation
# selectors stay: emoji need them.
# Compiled when first used (a millisecond: the quick ``opsweek mine``, whose text is
# printable, never needs it).
_CONTROL_PATTERN = r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]"
_control: re.Pattern | None = None
# fullmatch, never "$": "$" also matches before a final newline, so "ben\n" would pass
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")


def clean_text(value: str | None) -> str | None:
    """``value`` with terminal control characters removed (newline and tab kept).

    A carriage return in a ``\\r\\n`` pair becomes part of the newline; a lone one is dropped.
    """
    if value is None:
        return None
    value = value.replace("\r\n", "\n")
    global _control
    if _control is None:
        _control = re.compile(_CONTROL_PATTERN)
    return _control.sub("", value)


def one_line(value: str | None) -> str:
    """Cleaned text folded onto one line, for table cells and terminal columns."""
    if not value:
        return ""
    return " ".join((clean_text(value) or "").split())


def is_slug(value: str) -> bool:
    """Lowercase letters, digits, ``-`` and ``_``, starting with a letter or digit."""
    return isinstance(value, str) and _SLUG.fullmatch(value) is not None


def near_matches(word: str, candidates, limit: int = 3) -> list[str]:
    """Candidates close to ``word``, for "did you mean" hints."""
    import difflib

    return difflib.get_close_matches(word, list(candidates), n=limit, cutoff=0.5)


def unknown(kind: str, value, candidates) -> str:
    """One line: ``unknown person 'anna' (did you mean: ana, hana)``."""
    names = sorted(str(c) for c in candidates)
    close = near_matches(str(value), names)
    if close:
        hint = f" (did you mean: {', '.join(close)})"
    elif names and len(names) <= 12:  # a short list is the most helpful answer
        hint = f" (accepted: {', '.join(names)})"
    else:
        hint = ""
    return f"unknown {kind} {str(value)!r}{hint}"


def plural(count: int, one: str, many: str | None = None) -> str:
    """``1 open action``, ``2 open actions``, ``1,204 items``: a count with its noun agreeing."""
    return f"{count:,} {one if count == 1 else many or one + 's'}"
