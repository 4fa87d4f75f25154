"""What every rule shares: settings with SPEC.md's defaults, open statuses, wording.

Each rule of SPEC.md lives in its own module of this package, with the Python predicate
and the SQL condition it compiles to side by side (``stuck.reasons`` and ``stuck.sql``),
so "what counts as stuck?" has one answer for Python and for SQL; the agreement tests
(tests/test_rule_agreement.py) check that the two give the same rows. Nothing here reads
the database, the clock or the environment: ``now`` is always passed in. Standard
library only, so ``opsweek mine`` can use it without importing pydantic.
"""

from __future__ import annotations

from opsweek.clock import Duration, parse_duration

DEFAULT_SETTINGS = {"handoff_sla": "48h", "stale_after": "7d", "escalate_after": "24h"}
OPEN_STATUSES = ("open", "blocked")
# SQL for "the item is open or blocked", on an items alias
OPEN_SQL = "{i}.status IN ('open', 'blocked')"


def setting(settings: dict | None, key: str) -> Duration:
    """A duration setting with its SPEC.md default."""
    value = (settings or {}).get(key) or DEFAULT_SETTINGS[key]
    return parse_duration(value, key)


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``1 item``, ``2 items`` (``plural`` for irregular nouns)."""
    return f"{n} {noun}" if n == 1 else f"{n} {plural or noun + 's'}"


def days(value: float) -> str:
    """``2d``, ``1.5d``: a stage's ``max_days`` for people."""
    return f"{int(value)}d" if value == int(value) else f"{value}d"
