"""The escalation path (SPEC.md): late handoffs and stuck items are raised, one tier at a
time, to the next person on their path, and each escalation is recorded.

The path of a late thing has three tiers:

1. the *first* person: the receiver of a handoff, the owner of an item's stage;
2. the first person's cover while the first person is away (and the cover is there),
   else the workflow owner;
3. the workflow owner's cover, when the owner is the one late: the owner holds the work
   themselves, or it reached them at tier 2 and is still late. When tier 2 went to a
   cover instead, tier 3 is the workflow owner, so that a path always ends with the
   person accountable for the workflow (SPEC.md names no tier for that case).

*Due for escalation*: an overdue handoff more than ``escalate_after`` (default ``24h``)
past its due time, or an open or blocked item more than ``escalate_after`` past its
stage's ``max_days``; once escalated, it is due again when still late ``escalate_after``
after its latest escalation. It goes to the next tier above the latest one whose person
is someone else than the one holding the work (the receiver, the item's owner), has not
had it yet, and is there to act (on the team, active, not away today). With no such
tier left, nothing is due. An item's escalations count from its entry into its current
stage: moving on starts its path again; a handoff's path is its own.

The pure rule is :func:`handoff_escalation` / :func:`item_escalation` (tier and person,
or None) over :func:`tiers`; :func:`next_step` says whom it would go to next whatever
the time. :func:`escalation_due` is the time half for a handoff (what the home screen
counts with :func:`sql`); :func:`handoffs_due_sql` and :func:`items_due_sql` are the
whole rule for SQLite, kept in agreement by tests/test_rule_agreement.py.
"""

from __future__ import annotations

from collections import namedtuple
from datetime import date, datetime, timedelta

from opsweek.clock import stamp
from opsweek.rules.availability import available, cover_for, is_away
from opsweek.rules.common import setting
from opsweek.rules.overdue import is_overdue

TIERS = (1, 2, 3)
# A handoff escalated before escalations were records: it went to the workflow owner.
LEGACY_TIER = 2


class Step(namedtuple("Step", "tier to")):
    """Where an escalation goes: ``tier`` 1–3 and ``to``, the person's handle."""

    __slots__ = ()


# --- the path --------------------------------------------------------------------------


def tiers(first: str | None, workflow_owner: str | None, people: dict, today: date) -> tuple:
    """``(tier 1, tier 2, tier 3)``: the handles on the path (None where nobody is)."""
    person = people.get(first) if first else None
    cover = cover_for(first, people, today, today) if person is not None and is_away(person, today, today) else None
    second = cover or workflow_owner
    third = cover_for(workflow_owner, people, today, today) if second == workflow_owner else workflow_owner
    return first, second, third


def last_tier(past, escalated_at: datetime | None = None) -> int:
    """The tier of the latest escalation (0: never escalated)."""
    if past:
        return past[-1].tier
    return LEGACY_TIER if escalated_at is not None else 0


def next_step(path: tuple, holder: str | None, people: dict, today: date, past=(),
              escalated_at: datetime | None = None) -> Step | None:
    """The next tier above the latest escalation in ``past`` whose person can take it:
    someone, not ``holder``, not already escalated to, and available today."""
    done = last_tier(past, escalated_at)
    reached = {e.to_handle for e in past}
    for tier, person in zip(TIERS, path):
        if tier <= done or not person or person == holder or person in reached:
            continue
        if available(person, people, today, today):
            return Step(tier, person)
    return None


def item_episode(item, past) -> list:
    """The item's escalations since it entered its current stage, oldest first."""
    return sorted((e for e in past if e.item_id == item.id and e.at >= item.stage_entered_at),
                  key=lambda e: (e.at, e.id or 0))


def handoff_past(handoff, past) -> list:
    """The handoff's escalations, oldest first."""
    return sorted((e for e in past if e.handoff_id == handoff.id), key=lambda e: (e.at, e.id or 0))


# --- when it is due ----------------------------------------------------------------------


def escalation_due(handoff, now: datetime, settings: dict | None = None) -> bool:
    """The time half of the rule for a handoff: overdue by more than ``escalate_after``
    and, if escalated already, its latest escalation (``escalated_at``) more than
    ``escalate_after`` ago."""
    if not is_overdue(handoff, now):
        return False
    wait = setting(settings, "escalate_after")
    if handoff.escalated_at is not None and not wait.exceeded(handoff.escalated_at, now):
        return False
    return wait.exceeded(handoff.due_at, now)


def item_late_from(item, stage) -> datetime | None:
    """When an item went past its stage's ``max_days`` (None: the stage has no limit)."""
    max_days = getattr(stage, "max_days", None) if stage is not None else None
    if not max_days:
        return None
    return item.stage_entered_at + timedelta(days=max_days)


def item_escalation_due(item, stage, now: datetime, settings: dict | None = None, past=()) -> bool:
    """The time half of the rule for an item: open or blocked, more than
    ``escalate_after`` past its stage's ``max_days``, and more than ``escalate_after``
    since its latest escalation in this stage."""
    if item.status not in ("open", "blocked"):
        return False
    late_from = item_late_from(item, stage)
    if late_from is None:
        return False
    wait = setting(settings, "escalate_after")
    episode = item_episode(item, past)
    if episode and not wait.exceeded(episode[-1].at, now):
        return False
    return wait.exceeded(late_from, now)


def due_again_at(last_at: datetime | None, late_from: datetime, settings: dict | None = None) -> datetime:
    """The moment after which it is (again) due, timing alone."""
    wait = setting(settings, "escalate_after")
    start = late_from if last_at is None else max(late_from, last_at)
    return wait.after(start)


# --- the whole rule ----------------------------------------------------------------------


def _owner(workflow) -> str | None:
    return getattr(workflow, "owner", None) if workflow is not None else None


def handoff_next(handoff, workflow, people: dict, past, today: date) -> Step | None:
    """Whom a pending handoff would go to next (whatever the time)."""
    mine = handoff_past(handoff, past)
    return next_step(tiers(handoff.to_owner, _owner(workflow), people, today), handoff.to_owner, people, today,
                     mine, handoff.escalated_at)


def item_next(item, stage, workflow, people: dict, past, today: date) -> Step | None:
    """Whom an item would go to next (whatever the time)."""
    first = getattr(stage, "owner", None) if stage is not None else None
    return next_step(tiers(first, _owner(workflow), people, today), item.owner, people, today,
                     item_episode(item, past))


def handoff_escalation(handoff, workflow, people: dict, past, now: datetime, today: date,
                       settings: dict | None = None) -> Step | None:
    """The escalation a handoff is due for now (tier and person), or None."""
    if not escalation_due(handoff, now, settings):
        return None
    return handoff_next(handoff, workflow, people, past, today)


def item_escalation(item, stage, workflow, people: dict, past, now: datetime, today: date,
                    settings: dict | None = None) -> Step | None:
    """The escalation an item is due for now (tier and person), or None."""
    if not item_escalation_due(item, stage, now, settings, past):
        return None
    return item_next(item, stage, workflow, people, past, today)


def target(workflow) -> str | None:
    """The workflow owner: tier 2 of a path whose first person is not away."""
    return _owner(workflow)


# --- SQL ---------------------------------------------------------------------------------


def sql(now: datetime, settings: dict | None = None, h: str = "h") -> tuple[str, list]:
    """:func:`escalation_due` (the time half) as an SQL condition on the handoffs alias
    ``h`` (``Duration.before`` gives the exact threshold, business days included)."""
    before = stamp(setting(settings, "escalate_after").before(now))
    return (f"{h}.accepted_at IS NULL AND {h}.due_at < ? AND ({h}.escalated_at IS NULL OR {h}.escalated_at < ?)",
            [before, before])


def people_params(people: dict, today: date) -> dict:
    """What the SQL path needs to know about people today, as JSON parameters: who is
    available, who is away, and each person's cover who is there to take over."""
    import json

    return {
        "ok": json.dumps(sorted(h for h in people if available(h, people, today, today))),
        "away": json.dumps(sorted(h for h, p in people.items() if is_away(p, today, today))),
        "covers": json.dumps({h: c for h in sorted(people) if (c := cover_for(h, people, today, today))}),
    }


def _cover(who: str) -> str:
    return f"(SELECT value FROM json_each(:covers) WHERE key = {who})"


def _path_sql(base: str, reached: str) -> str:
    """From ``base`` rows (id, holder, t1, wo, last_tier), the next tier and its person.
    ``reached`` is an EXISTS body naming a past escalation of row ``b.id`` to ``{t}``."""
    second = (f"SELECT b.*, CASE WHEN b.t1 IN (SELECT value FROM json_each(:away)) AND {_cover('b.t1')} IS NOT NULL"
              f" THEN {_cover('b.t1')} ELSE b.wo END AS t2 FROM ({base}) b")
    third = f"SELECT b.*, CASE WHEN b.t2 IS b.wo THEN {_cover('b.wo')} ELSE b.wo END AS t3 FROM ({second}) b"

    def can(tier: int) -> str:
        t = f"b.t{tier}"
        return (f"(b.last_tier < {tier} AND {t} IS NOT NULL AND {t} IS NOT b.holder"
                f" AND {t} IN (SELECT value FROM json_each(:ok)) AND NOT EXISTS ({reached.format(t=t)}))")

    tier = " ".join(f"WHEN {can(k)} THEN {k}" for k in TIERS)
    person = " ".join(f"WHEN {can(k)} THEN b.t{k}" for k in TIERS)
    return (f"SELECT id, tier, target FROM (SELECT b.id AS id, CASE {tier} END AS tier, CASE {person} END AS target"
            f" FROM ({third}) b) WHERE tier IS NOT NULL")


def handoffs_due_sql(people: dict, now: datetime, today: date, settings: dict | None = None) -> tuple[str, dict]:
    """:func:`handoff_escalation` for every pending handoff, as one SQL statement giving
    ``(id, tier, target)`` rows; parameters are named."""
    before = stamp(setting(settings, "escalate_after").before(now))
    last = ("(SELECT e.tier FROM escalations e WHERE e.handoff_id = h.id ORDER BY e.at DESC, e.id DESC LIMIT 1)")
    base = (f"SELECT h.id AS id, h.to_owner AS holder, h.to_owner AS t1, w.owner AS wo,"
            f" coalesce({last}, CASE WHEN h.escalated_at IS NOT NULL THEN {LEGACY_TIER} ELSE 0 END) AS last_tier"
            " FROM handoffs h JOIN items i ON i.id = h.item_id LEFT JOIN workflows w ON w.key = i.workflow"
            " WHERE h.accepted_at IS NULL AND h.due_at < :before"
            " AND (h.escalated_at IS NULL OR h.escalated_at < :before)")
    reached = "SELECT 1 FROM escalations e WHERE e.handoff_id = b.id AND e.to_handle = {t}"
    return _path_sql(base, reached), {"before": before, **people_params(people, today)}


def items_due_sql(people: dict, now: datetime, today: date, settings: dict | None = None) -> tuple[str, dict]:
    """:func:`item_escalation` for every open item, as one SQL statement giving
    ``(id, tier, target)`` rows; parameters are named. ``max_days`` is compared in whole
    seconds, as the stored times are (see ``stuck.sql``)."""
    before = stamp(setting(settings, "escalate_after").before(now))
    episode = "e.item_id = {i} AND e.at >= (SELECT x.stage_entered_at FROM items x WHERE x.id = {i})"
    last = f"(SELECT e.tier FROM escalations e WHERE {episode.format(i='i.id')} ORDER BY e.at DESC, e.id DESC LIMIT 1)"
    base = (f"SELECT i.id AS id, i.owner AS holder, s.owner AS t1, w.owner AS wo, coalesce({last}, 0) AS last_tier"
            " FROM items i JOIN stages s ON s.workflow = i.workflow AND s.key = i.stage"
            " LEFT JOIN workflows w ON w.key = i.workflow"
            " WHERE i.status IN ('open', 'blocked') AND s.max_days > 0"
            " AND i.stage_entered_at < strftime('%Y-%m-%dT%H:%M:%SZ', :before,"
            " printf('-%d seconds', CAST(s.max_days * 86400 AS INTEGER)))"
            f" AND NOT EXISTS (SELECT 1 FROM escalations e WHERE {episode.format(i='i.id')} AND e.at >= :before)")
    reached = f"SELECT 1 FROM escalations e WHERE {episode.format(i='b.id')} AND e.to_handle = {{t}}"
    return _path_sql(base, reached), {"before": before, **people_params(people, today)}
