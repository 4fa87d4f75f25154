"""Two people making the same change at the same moment: exactly one of them makes it.

Ana and Ben both see handoff 12 waiting and both press accept at once; or both hand
the same item on. Each runs the real ``opsweek`` command in a process of their own,
released together by a barrier, round after round (a fresh handoff or item each round).
The check that decides the write runs inside its ``BEGIN IMMEDIATE`` transaction, so the
second one always finds the first one's change: one exits 0, the other exits 2 and is
told who was first, and the database holds the change once.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
from datetime import timedelta

import pytest

from opsweek import clock
from opsweek.errors import InputError
from opsweek.store import Store, changes, read

ROUNDS = 50
RACERS = ("ana", "ben")


def race(db: str, me: str, command: str, targets: list[int], barrier, results, after: tuple = ()) -> None:
    """One person's process: for each target, wait for the other, then run the command
    (``after``: words after the target, this racer's own)."""
    from opsweek.cli.main import main

    for target in targets:
        barrier.wait(timeout=60)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--db", db, "--me", me, command, str(target), *after])
        results.put((target, me, code, err.getvalue().strip()))


def run_race(db, command: str, targets: list[int], extra: dict | None = None) -> dict[int, dict[str, tuple[int, str]]]:
    """Both racers run ``command`` on every target (``extra``: per racer, the words after
    the target); returns, per target, each one's (exit code, stderr)."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(RACERS))
    results = context.Queue()
    processes = [context.Process(target=race, args=(str(db), me, command, targets, barrier, results,
                                                    tuple((extra or {}).get(me, ()))))
                 for me in RACERS]
    for process in processes:
        process.start()
    outcome: dict[int, dict[str, tuple[int, str]]] = {}
    try:
        for _ in range(len(targets) * len(RACERS)):
            target, me, code, err = results.get(timeout=120)
            outcome.setdefault(target, {})[me] = (code, err)
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    assert all(process.exitcode == 0 for process in processes)
    return outcome


def fresh_items(store: Store, count: int, *, handed_off: bool) -> list[int]:
    """``count`` complaints opened yesterday in triage (ben's stage); with ``handed_off``, the
    handoffs that sent each on to investigate yesterday, to Ben."""
    team = read.team(store)
    yesterday = clock.now() - timedelta(days=1)
    items = [changes.add_item(store, team, "complaints", f"Race {n}", owner="ben", actor="ben", now=yesterday)
             for n in range(count)]
    if not handed_off:
        return items
    # sent to Ben to investigate: Ben (the receiver) and Ana (the workflow owner) may both accept
    return [changes.hand_off(store, team, item_id, owner="ben", actor="ben", now=yesterday) for item_id in items]


def winner_and_loser(results: dict[str, tuple[int, str]]) -> tuple[str, str, str]:
    """(who won, who lost, what the loser was told); exactly one exit 0 and one exit 2."""
    codes = sorted(code for code, _ in results.values())
    assert codes == [0, 2], results
    winner = next(me for me, (code, _) in results.items() if code == 0)
    loser = next(me for me, (code, _) in results.items() if code == 2)
    message = results[loser][1]
    assert message.count("\n") == 0 and message.startswith("opsweek: ") and "Traceback" not in message
    return winner, loser, message


def test_two_people_accepting_one_handoff_at_once_accept_it_once(demo_db, frozen_now):
    with Store.open(demo_db) as store:
        handoffs = fresh_items(store, ROUNDS, handed_off=True)

    outcome = run_race(demo_db, "accept", handoffs)

    with Store.open(demo_db) as store:
        for handoff_id in handoffs:
            winner, _, message = winner_and_loser(outcome[handoff_id])
            assert f"handoff {handoff_id} was already accepted by {winner}" in message
            h = read.handoff(store, handoff_id)
            assert h.accepted_by == winner
            it = read.item(store, h.item_id)
            assert it.stage == "investigate" and it.stage_entered_at == h.accepted_at
            assert h.accepted_at == frozen_now  # entered today, not when it was sent yesterday
            # the item entered its new stage once: one accept, one edit of the item by it
            accepts = store.query("SELECT entity, actor, after FROM events WHERE action = 'handoff.accept'"
                                  " AND ((entity = 'items' AND entity_id = ?) OR (entity = 'handoffs' AND entity_id = ?))",
                                  (str(it.id), str(handoff_id)))
            assert sorted((row["entity"], row["actor"]) for row in accepts) == [("handoffs", winner),
                                                                                ("items", winner)]
            assert "stage_entered_at" in next(row["after"] for row in accepts if row["entity"] == "items")


def test_two_people_handing_off_one_item_at_once_leave_one_pending_handoff(demo_db):
    with Store.open(demo_db) as store:
        items = fresh_items(store, ROUNDS, handed_off=False)

    outcome = run_race(demo_db, "handoff", items)

    with Store.open(demo_db) as store:
        for item_id in items:
            winner, _, message = winner_and_loser(outcome[item_id])
            pending = store.query("SELECT id, to_stage FROM handoffs WHERE item_id = ? AND accepted_at IS NULL",
                                  (item_id,))
            assert len(pending) == 1
            assert f"item #{item_id} already has handoff {pending[0]['id']} to investigate waiting" in message
            sent = store.query("SELECT DISTINCT actor, change_id FROM events WHERE action = 'handoff.send'"
                               " AND entity = 'handoffs' AND entity_id = ?", (str(pending[0]["id"]),))
            assert [row["actor"] for row in sent] == [winner]


def test_a_refused_change_uses_up_no_change_number(demo_db):
    """The loser's transaction rolls back whole: the next change gets the very next number."""
    with Store.open(demo_db) as store:
        [handoff_id] = fresh_items(store, 1, handed_off=True)
        changes.accept_handoff(store, handoff_id, actor="ana")
        last = store.scalar("SELECT max(change_id) FROM events")
        with pytest.raises(InputError, match=f"handoff {handoff_id} was already accepted by ana"):
            changes.accept_handoff(store, handoff_id, actor="ben")
        assert store.scalar("SELECT max(change_id) FROM events") == last
        team = read.team(store)
        added = changes.add_item(store, team, "complaints", "After the refusal", owner="ben", actor="ben")
        assert store.scalar("SELECT change_id FROM events WHERE entity = 'items' AND entity_id = ?",
                            (str(added),)) == last + 1


def test_two_people_closing_one_action_at_once_close_it_once(demo_db, frozen_now):
    """One says done, the other drops it, at the same moment: one of them does."""
    with Store.open(demo_db) as store:
        team = read.team(store)
        actions = [changes.record_entry(store, team, "action", f"Race {n}", owner="ana", meeting_id=None, actor="ivan")
                   for n in range(10)]
    outcome = run_race(demo_db, "action", actions, extra={"ana": ["done"], "ben": ["drop", "--reason", "no"]})
    with Store.open(demo_db) as store:
        for action_id in actions:
            winner, _, message = winner_and_loser(outcome[action_id])
            status = read.entry(store, action_id).status
            assert status == ("done" if winner == "ana" else "dropped")
            assert f"action {action_id} is already {status}" in message
