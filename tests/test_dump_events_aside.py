"""A large dump's events are checked in a child process while the rest is written
(issue 16, goal 4: ``dump._EventRows``). The outcome is the restore's as when every
check ran before writing: the same database, and for a bad dump the same one line (a
problem in the events named before one found after them), nothing written; where the
child cannot run or fails, the events are checked here."""

from __future__ import annotations

import copy
import json
import os
import threading
from datetime import datetime, timedelta, timezone

import pytest
from test_dump import busy_week

from opsweek import demo, dump as dumps
from opsweek.errors import InputError
from opsweek.store import Store

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A demo after a busy session, parsed from its dump: every kind of event."""
    path = tmp_path_factory.mktemp("aside") / "demo.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPSWEEK_NOW", NOW.isoformat())
        store = demo.build(path, now=NOW)
        busy_week(store)
        text = dumps.dump(store)
        store.close()
    return json.loads(text)


@pytest.fixture
def forks(monkeypatch, children):
    """Every restore checks its events in a child (whatever their number); the children
    made are listed."""
    monkeypatch.setattr(dumps, "_ASIDE_FROM", 1)
    return children


def restored(tmp_path, name, data, *, into_demo=False):
    """The dump of the database ``data`` was restored into, or the one line it was
    refused with (the database then as it was)."""
    path = tmp_path / name
    store = demo.build(path, now=NOW - timedelta(days=1)) if into_demo else Store.open(path, create=True)
    held = dumps.dump(store)
    try:
        dumps.restore(store, copy.deepcopy(data))
        return dumps.dump(store)
    except InputError as error:
        assert dumps.dump(store) == held  # nothing written
        return "refused: " + str(error).replace(str(path), "DB")
    finally:
        store.close()


def both_ways(tmp_path, monkeypatch, data, name="x", **kwargs) -> tuple[str, str]:
    """Restored with the events checked in a child, and all here (as ``check`` does)."""
    monkeypatch.setattr(dumps, "_ASIDE_FROM", 10**9)
    here = restored(tmp_path, f"{name}-here.db", data, **kwargs)
    monkeypatch.setattr(dumps, "_ASIDE_FROM", 1)
    return restored(tmp_path, f"{name}-aside.db", data, **kwargs), here


def test_the_child_runs_and_the_restore_is_the_same_database(tmp_path, source, forks):
    aside = restored(tmp_path, "aside.db", source)
    assert forks and all(child is not None for child in forks)  # checked in a child indeed
    assert json.loads(aside) == source  # every row, every event, as it was dumped


def _event(data, action):
    return next(i for i, e in enumerate(data["tables"]["events"]) if e["action"] == action and e["after"])


def _mutations():
    def set_after(action, text):
        def apply(data):
            data["tables"]["events"][_event(data, action)]["after"] = text
        return apply

    def unknown_column(data):
        event = data["tables"]["events"][_event(data, "item.reassign")]
        event["after"] = json.dumps({**json.loads(event["after"]), "colour": "red"})

    def control_characters(data):  # cleaned, as the check here cleans them
        event = data["tables"]["events"][_event(data, "item.reassign")]
        event["after"] = json.dumps({**json.loads(event["after"]), "owner": "ben\u001b[31m"})

    def bad_action(data):
        data["tables"]["events"][3]["action"] = "Not An Action"

    return [
        ("not JSON", set_after("item.reassign", "{oops"), "is not valid JSON of a row"),
        ("unknown column", unknown_column, "is not a column of items"),
        ("terminal controls", control_characters, None),
        ("bad action", bad_action, "is not an action"),
    ]


@pytest.mark.parametrize("name,mutate,words", _mutations(), ids=[m[0] for m in _mutations()])
def test_a_bad_event_is_found_and_named_as_here(tmp_path, monkeypatch, source, name, mutate, words):
    data = copy.deepcopy(source)
    mutate(data)
    aside, here = both_ways(tmp_path, monkeypatch, data)
    assert aside == here
    if words:
        assert aside.startswith("refused: ") and words in aside
    else:
        assert not aside.startswith("refused: ") and "\\u001b" not in aside


def test_a_problem_in_the_events_is_named_before_one_found_after_them(tmp_path, monkeypatch, source):
    data = copy.deepcopy(source)
    _mutations()[0][1](data)  # an event that is not JSON ...
    data["tables"]["handoffs"][0]["item_id"] = 9999  # ... and a reference checked after the events
    data["tables"]["items"][0]["status"] = "lost"  # ... and a row SQLite refuses when it is written
    aside, here = both_ways(tmp_path, monkeypatch, data)
    assert aside == here and "is not valid JSON of a row" in aside


def test_a_problem_in_the_events_comes_before_a_database_that_holds_data(tmp_path, monkeypatch, source):
    data = copy.deepcopy(source)
    _mutations()[0][1](data)
    aside, here = both_ways(tmp_path, monkeypatch, data, into_demo=True)
    assert aside == here and "is not valid JSON of a row" in aside
    good_aside, good_here = both_ways(tmp_path, monkeypatch, source, name="good", into_demo=True)
    assert good_aside == good_here and "already holds data" in good_aside


def test_a_child_that_fails_leaves_the_check_to_this_process(tmp_path, monkeypatch, source, forks):
    parent = os.getpid()
    flagged = dumps._flagged_events

    def fails_in_the_child(rows):
        if os.getpid() != parent:
            raise RuntimeError("the child breaks")
        return flagged(rows)

    monkeypatch.setattr(dumps, "_flagged_events", fails_in_the_child)
    data = copy.deepcopy(source)
    _mutations()[0][1](data)
    assert "is not valid JSON of a row" in restored(tmp_path, "bad.db", data)
    assert json.loads(restored(tmp_path, "good.db", source)) == source
    assert forks and all(child is not None for child in forks)


def test_no_child_while_other_threads_run(tmp_path, source, forks):
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert json.loads(restored(tmp_path, "threads.db", source)) == source
    finally:
        stop.set()
        thread.join()
    assert forks == [None]


def test_a_child_not_waited_for_is_ended(tmp_path, source, forks):
    with Store.open(tmp_path / "x.db", create=True) as store:
        _, events = dumps._check(store, copy.deepcopy(source), "dump", aside=True)
    pid = events.child.pid
    events.close()
    with pytest.raises(ChildProcessError):  # ended and reaped
        os.waitpid(pid, os.WNOHANG)
