"""The rules pushed into SQL (for counts and pages at scale) agree with the pure rules."""

from datetime import datetime, timezone

from opsweek import demo, rules
from opsweek.store import read

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


def _all_stuck(store, team):
    items = read.items(store, "status IN ('open', 'blocked')")
    return rules.stuck_items(items, team.stage_map, NOW, NOW.date(), team.settings)


def test_sql_stuck_matches_rules_on_the_sample_team(tmp_path, monkeypatch):
    monkeypatch.setenv("OPSWEEK_NOW", NOW.isoformat())
    store = demo.build(tmp_path / "d.db", now=NOW)
    team = read.team(store)
    expected = _all_stuck(store, team)
    page = read.stuck_page(store, team, NOW, NOW.date(), limit=1000)
    assert [i.id for i, _ in page] == [i.id for i, _ in expected]
    assert [r for _, r in page] == [r for _, r in expected]
    assert read.stuck_count(store, team, NOW, NOW.date()) == len(expected)
    kinds = {reason.kind for _, reasons in expected for reason in reasons}
    assert kinds == {"blocked", "in_stage", "stale", "past_due"}  # the demo shows every reason


def test_sql_stuck_matches_rules_on_synthetic_data(tmp_path, monkeypatch):
    monkeypatch.setenv("OPSWEEK_NOW", NOW.isoformat())
    store = demo.build(tmp_path / "s.db", scale=3000, now=NOW)
    team = read.team(store)
    expected = _all_stuck(store, team)
    assert read.stuck_count(store, team, NOW, NOW.date()) == len(expected) > 0
    by_workflow = {}
    for item, _ in expected:
        by_workflow[item.workflow] = by_workflow.get(item.workflow, 0) + 1
    assert {h.workflow.key: h.stuck for h in read.health(store, team, NOW, NOW.date()) if h.stuck} == by_workflow


def test_overdue_page_matches_rules(tmp_path, monkeypatch):
    monkeypatch.setenv("OPSWEEK_NOW", NOW.isoformat())
    store = demo.build(tmp_path / "d.db", now=NOW)
    every = read.handoffs(store)
    expected = rules.overdue_handoffs(every, NOW)
    assert len(expected) >= 5
    assert [h.id for h in read.overdue_page(store, NOW)] == [h.id for h in expected]
    assert read.overdue_count(store, NOW) == len(expected)


def test_escalation_due_count_matches_the_rule(tmp_path, monkeypatch):
    monkeypatch.setenv("OPSWEEK_NOW", NOW.isoformat())
    store = demo.build(tmp_path / "d.db", now=NOW)
    team = read.team(store)
    expected = [h for h in read.handoffs(store) if rules.escalation_due(h, NOW, team.settings)]
    assert expected  # the demo has handoffs late enough to escalate
    assert read.escalation_due_count(store, team, NOW) == len(expected)


def test_an_item_trail_keeps_a_withdrawn_handoff(tmp_path, monkeypatch):
    from opsweek.store import changes

    monkeypatch.setenv("OPSWEEK_NOW", NOW.isoformat())
    store = demo.build(tmp_path / "d.db", now=NOW)
    team = read.team(store)
    pending = read.handoffs(store, "h.accepted_at IS NULL", limit=1)[0]
    changes.finish_item(store, pending.item_id, actor="ana")  # withdraws the handoff
    trail = read.events(store, item_id=pending.item_id)
    assert any(e.entity == "handoffs" and e.entity_id == str(pending.id) and e.after is None for e in trail)
    assert any(e.entity == "items" and e.action == "item.done" for e in trail)
