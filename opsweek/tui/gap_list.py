"""Ownership gaps as the session lists them: paged and counted in SQL (no Textual here).

Structural gaps (workflows and stages) come from ``rules.ownership_gaps``; the open items
whose owner is away, inactive or unknown are counted and paged in SQL, as there can be
thousands of them at 100,000 items.
"""

from __future__ import annotations

from datetime import date

from opsweek import rules
from opsweek.store import read
from opsweek.store.db import Store


def _unusable_owners(team: read.Team, week: tuple[date, date]) -> list[str]:
    first, last = week
    return [h for h, p in team.people.items() if not p.active or rules.is_away(p, first, last)]


def _item_condition(team: read.Team, week: tuple[date, date]) -> tuple[str, list]:
    """Open items whose owner is away in ``week``, inactive, or unknown (as rules.ownership_gaps)."""
    bad = _unusable_owners(team, week)
    marks = ",".join("?" * len(bad)) or "NULL"
    return (f"i.status IN ('open', 'blocked') AND i.owner IS NOT NULL AND (i.owner IN ({marks})"
            " OR i.owner NOT IN (SELECT handle FROM people))", bad)


def structural_gaps(team: read.Team, week: tuple[date, date]) -> list[rules.Gap]:
    from opsweek import triggers

    return (rules.ownership_gaps(team.people, team.workflows, team.stages, [], *week)
            + triggers.schedule_owner_gaps(team.people, team.workflows, *week))


def gaps_count(store: Store, team: read.Team, week: tuple[date, date]) -> int:
    # open items per owner (a scan of the owner/status index), then the owners with a problem
    bad = set(_unusable_owners(team, week))
    per_owner = store.query("SELECT owner, count(*) AS n FROM items WHERE status IN ('open', 'blocked')"
                            " AND owner IS NOT NULL GROUP BY owner")
    items = sum(row["n"] for row in per_owner if row["owner"] in bad or row["owner"] not in team.people)
    return len(structural_gaps(team, week)) + items


def gaps_page(store: Store, team: read.Team, week: tuple[date, date], offset: int, limit: int) -> list[tuple]:
    """``(gap, item title)`` rows: workflows and stages first, then items by owner."""
    structural = structural_gaps(team, week)
    found = [(gap, None) for gap in structural[offset:offset + limit]]
    left = limit - len(found)
    if left > 0:
        where, params = _item_condition(team, week)
        start = max(0, offset - len(structural))
        for it in read.items(store, where, params, "i.owner, i.id", limit=left, offset=start):
            problem, cover = rules.owner_problem(it.owner, team.people, *week)
            found.append((rules.Gap("item", it.workflow, it.stage, it.id, it.owner, problem or "", cover), it.title))
    return found
