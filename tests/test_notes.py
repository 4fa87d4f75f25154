"""Meeting notes: the sections a reader expects, stable bytes, and user text that can never
change the document's structure (checked by parsing the Markdown as GFM)."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from opsweek import demo, notes
from opsweek.store import Store, changes, read
from opsweek.text import clean_text

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)
SECTIONS = ["Time per step", "Decisions", "Actions", "Notes", "Issues", "Reassignments", "Escalations",
            "Stuck items reviewed", "Overdue handoffs reviewed", "Carried-over actions", "Ownership gaps"]
EVIL = [
    "pipe | in | cells",
    "two\nlines\r\nand\n\n# a heading",
    "# heading",
    "- list item",
    "+ plus item",
    "* star item",
    "> quote",
    "1. ordered",
    "2) ordered",
    "`code` and ```fence```",
    "    indented code",
    "<script>alert(1)</script>",
    "<b>bold</b> &amp; &copy;",
    "[link](https://evil.example) ![img](x.png) <https://auto.example>",
    "**strong** _em_ ~~strike~~",
    "---",
    "===",
    "trailing backslash \\",
    "| --- | --- |",
]


def parser() -> MarkdownIt:
    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


def blocks(text: str) -> list[tuple[str, str, int]]:
    return [(t.type, t.tag, t.nesting) for t in parser().parse(text)]


def inline_kinds(text: str) -> set[str]:
    return {child.type for t in parser().parse(text) if t.type == "inline" for child in t.children or []}


def headings(text: str) -> list[tuple[str, str]]:
    tokens = parser().parse(text)
    return [(t.tag, tokens[i + 1].content) for i, t in enumerate(tokens) if t.type == "heading_open"]


def plain(text: str) -> str:
    """All the visible text of a rendered document, inline tokens joined."""
    return "\n".join(child.content for t in parser().parse(text) if t.type == "inline"
                     for child in t.children or [] if child.type == "text")


@pytest.fixture
def demo_store(tmp_path, monkeypatch):
    monkeypatch.setenv("OPSWEEK_NOW", NOW.isoformat())
    store = demo.build(tmp_path / "d.db", now=NOW)
    yield store
    store.close()


def run_session(store: Store, texts: list[str], title_text: str) -> int:
    """This week's session in which every kind of recorded text is one of ``texts``."""
    team = read.team(store)
    meeting = changes.start_meeting(store, team, facilitator="ana", actor="ana", now=NOW)
    item = changes.add_item(store, team, "hiring", title_text, owner="eve", actor="ana", meeting_id=meeting, now=NOW)
    for text in texts:
        changes.record_entry(store, team, "decision", text, meeting_id=meeting, actor="ana", now=NOW)
        changes.record_entry(store, team, "action", text, owner="ben", item_id=item, meeting_id=meeting,
                             actor="ana", now=NOW)
        changes.record_entry(store, team, "note", text, meeting_id=meeting, actor="ana", now=NOW)
    # raised issues with the same texts: the first solved by an action, the others dropped
    # for the same text as their reason, the first three ranked
    for n, text in enumerate(texts):
        issue = changes.raise_issue(store, team, text, item_id=item if n % 2 else None, actor="ben", now=NOW)
        if n < 3:
            changes.rank_issue(store, meeting, issue, actor="ana", now=NOW)
        if n == 0:
            changes.solve_issue(store, team, issue, "action", text, owner="ben", meeting_id=meeting, actor="ana",
                                now=NOW)
        else:
            changes.drop_issue(store, issue, text, meeting_id=meeting, actor="ana", now=NOW)
    stuck = read.stuck_page(store, team, NOW, NOW.date(), limit=len(texts))
    for (it, _), text in zip(stuck, texts):
        to = "carla" if it.owner != "carla" else "ben"
        changes.reassign_item(store, team, it.id, to, reason=text, actor="ana", meeting_id=meeting, now=NOW)
    # only what is due for escalation can be escalated (SPEC.md: Escalation path)
    due = read.escalations_due(store, team, NOW).handoffs
    for (handoff_id, _, _), text in zip(due, texts):
        changes.escalate_handoff(store, handoff_id, reason=text, actor="ana", meeting_id=meeting, now=NOW)
    return meeting


# --- sections and content ------------------------------------------------------------


def test_the_demo_sessions_notes_have_every_section(demo_store):
    meeting = notes.find_meeting(demo_store, "latest")
    text = notes.render(demo_store, meeting.id)
    assert headings(text) == [("h1", "Weekly session 2026-W47")] + [("h2", s) for s in SECTIONS]
    assert "**Facilitator:** Ivan Novak (ivan)" in text
    assert "**Rating:** 7/10" in text
    assert "**Absent:** hana" in text  # as the session's file says (gus's away week began after it)
    assert "**Duration:** 52 min" in text
    data = notes.meeting_notes(demo_store, meeting.id)
    assert [d["text"] for d in data["decisions"]][0].startswith("Complaints triage moves to a 24h SLA")
    assert {a["owner"] for a in data["actions"]} == {"carla", "fay", "ana", "ivan"}
    linked = [a for a in data["actions"] if a["item"]]
    assert linked and f"#{linked[0]['item']['id']} Rude reply from courier" in text
    # what the stuck step looked at, with the reason it was stuck
    assert data["stuck_items"]["total"] == len(data["stuck_items"]["items"]) > 0
    assert all(it["reasons"] for it in data["stuck_items"]["items"])
    assert "blocked: Courier has not answered our query" in text
    assert any(g["problem"] == "jo is inactive" for g in data["ownership_gaps"]["gaps"])
    # an empty section says so, the same way every time
    assert "## Reassignments\n\nNone.\n" in text and "## Escalations\n\nNone.\n" in text


def test_notes_come_from_the_sessions_audit_events(demo_store):
    team = read.team(demo_store)
    meeting = changes.start_meeting(demo_store, team, facilitator="ana", actor="ana", now=NOW)
    stuck = read.stuck_page(demo_store, team, NOW, NOW.date(), limit=3)
    first, second = stuck[0][0], stuck[1][0]
    changes.reassign_item(demo_store, team, first.id, "ben", reason="Eve is on the offer", actor="ana",
                          meeting_id=meeting, now=NOW)
    changes.reassign_item(demo_store, team, second.id, "fay", actor="ana", meeting_id=meeting, now=NOW)
    changes.undo(demo_store, actor="ana", meeting_id=meeting)  # the second one never counts
    late = read.overdue_page(demo_store, NOW, limit=1)[0]
    changes.escalate_handoff(demo_store, late.id, reason="three days late", actor="ana", meeting_id=meeting, now=NOW)
    carried = read.carried_actions(demo_store, meeting)
    changes.set_action_status(demo_store, carried[0].id, "done", meeting_id=meeting, actor="ana")
    changes.carry_action(demo_store, carried[1].id, meeting_id=meeting, actor="ana", now=NOW)

    data = notes.meeting_notes(demo_store, meeting)
    assert [(r["label"], r["from"], r["to"], r["reason"]) for r in data["reassignments"]] == [
        (f"#{first.id}", first.owner, "ben", "Eve is on the offer")]
    assert [(e["handoff_id"], e["reason"]) for e in data["escalations"]] == [(late.id, "three days late")]
    outcomes = {a["id"]: (a["outcome"], a["new_due"]) for a in data["carried_actions"]}
    assert outcomes[carried[0].id] == ("done", None)
    assert outcomes[carried[1].id] == ("carried", (NOW.date() + timedelta(days=7)).isoformat())
    assert {a["from_week"] for a in data["carried_actions"]} == {"2026-W47"}
    text = notes.to_markdown(data)
    assert f"carried to {(NOW.date() + timedelta(days=7)).isoformat()}" in text
    assert "| ben | Eve is on the offer | ana |" in text


def test_reviewed_lists_are_what_the_session_found(demo_store, tmp_path):
    """Fixing things during the session does not erase them from what was reviewed."""
    team = read.team(demo_store)
    meeting = changes.start_meeting(demo_store, team, facilitator="ana", actor="ana", now=NOW)
    snapshot = Store.open(demo_store.backup(tmp_path / "at-start.db"))
    stuck_then = read.stuck_page(snapshot, read.team(snapshot), NOW, NOW.date(), limit=500)
    overdue_then = read.overdue_page(snapshot, NOW, limit=500)
    later = NOW + timedelta(minutes=20)
    blocked = next(it for it, _ in stuck_then if it.status == "blocked")
    changes.unblock_item(demo_store, blocked.id, actor="ana", meeting_id=meeting, now=later)
    changes.finish_item(demo_store, stuck_then[0][0].id, actor="ana", meeting_id=meeting, now=later)
    changes.accept_handoff(demo_store, overdue_then[0].id, actor="ana", on_behalf=overdue_then[0].to_owner,
                           meeting_id=meeting, now=later)
    changes.add_item(demo_store, team, "hiring", "Opened during the session", actor="ana", meeting_id=meeting,
                     now=later)

    data = notes.meeting_notes(demo_store, meeting)
    assert [it["id"] for it in data["stuck_items"]["items"]] == [it.id for it, _ in stuck_then]
    assert [[r["text"] for r in it["reasons"]] for it in data["stuck_items"]["items"]] == [
        [r.text for r in reasons] for _, reasons in stuck_then]
    assert [h["id"] for h in data["overdue_handoffs"]["handoffs"]] == [h.id for h in overdue_then]
    snapshot.close()


def test_long_lists_are_capped_with_a_count(demo_store):
    meeting = notes.find_meeting(demo_store, "latest")
    data = notes.meeting_notes(demo_store, meeting.id, cap=2)
    assert len(data["stuck_items"]["items"]) == 2 < data["stuck_items"]["total"]
    text = notes.to_markdown(data)
    assert f"…and {data['stuck_items']['total'] - 2} more." in text


def test_finding_a_meeting(demo_store):
    assert notes.find_meeting(demo_store, "latest").week == "2026-W47"
    assert notes.find_meeting(demo_store, "1").id == 1
    assert notes.find_meeting(demo_store, "2026-w47").id == 1
    for bad, message in [("2026-W40", "no meeting in 2026-W40 (meetings exist for: 2026-W47)"),
                         ("yesterday", "is not a meeting"), ("7", "unknown meeting 7"),
                         ("2026-W60", "does not exist")]:
        with pytest.raises(Exception, match=message.replace("(", r"\(").replace(")", r"\)")):
            notes.find_meeting(demo_store, bad)


# --- stable bytes --------------------------------------------------------------------


def test_same_database_same_bytes(tmp_path, monkeypatch):
    monkeypatch.setenv("OPSWEEK_NOW", NOW.isoformat())
    first = demo.build(tmp_path / "a.db", now=NOW)
    second = demo.build(tmp_path / "b.db", now=NOW)
    md, js = notes.render(first, 1), notes.render(first, 1, "json")
    assert notes.render(first, 1) == md and notes.render(first, 1, "json") == js
    assert notes.render(second, 1) == md and notes.render(second, 1, "json") == js
    # exporting later changes nothing: only the meeting's own times are in the notes
    monkeypatch.setenv("OPSWEEK_NOW", (NOW + timedelta(days=30)).isoformat())
    assert notes.render(first, 1) == md and notes.render(first, 1, "json") == js
    first.close()
    second.close()


def test_json_carries_the_same_content(demo_store):
    data = notes.meeting_notes(demo_store, 1)
    parsed = json.loads(notes.to_json(data))
    assert parsed == data
    assert parsed["schema_version"] == notes.SCHEMA_VERSION
    assert list(parsed) == ["schema_version", "meeting", "steps", "decisions", "actions", "notes", "issues",
                            "reassignments", "escalations", "stuck_items", "overdue_handoffs", "carried_actions", "ownership_gaps"]
    assert parsed["meeting"]["started_at"] == "2026-11-17T10:00:00Z"
    assert parsed["meeting"]["date"] == "2026-11-17"
    text = notes.to_markdown(data)
    for entry in parsed["decisions"] + parsed["actions"] + parsed["notes"]:
        assert entry["text"] in plain(text)


# --- escaping ------------------------------------------------------------------------


def test_user_text_never_changes_the_documents_structure(tmp_path, monkeypatch):
    """The same session with harmless and with hostile text parses to the same blocks."""
    monkeypatch.setenv("OPSWEEK_NOW", NOW.isoformat())
    calm = demo.build(tmp_path / "calm.db", now=NOW)
    hostile = demo.build(tmp_path / "hostile.db", now=NOW)
    calm_text = notes.render(calm, run_session(calm, [f"plain words {n}" for n in range(len(EVIL))], "A title"))
    evil_text = notes.render(hostile, run_session(hostile, EVIL, "<img src=x onerror=alert(1)> | # [t](u)"))

    assert blocks(evil_text) == blocks(calm_text)
    assert headings(evil_text) == [("h1", "Weekly session 2026-W48")] + [("h2", s) for s in SECTIONS]
    assert not {t.type for t in parser().parse(evil_text)} & {"html_block", "code_block", "fence", "blockquote_open",
                                                              "hr", "ordered_list_open"}
    kinds = inline_kinds(evil_text)
    assert not kinds & {"html_inline", "link_open", "image", "code_inline", "em_open", "s_open"}
    # ...and every hostile text is still there, word for word, once folded onto one line
    shown = plain(evil_text)
    for text in EVIL:
        assert " ".join(text.split()) in shown
    assert "<img src=x onerror=alert(1)> | # [t](u)" in shown
    # the JSON keeps the text exactly as recorded
    data = json.loads(notes.render(hostile, 2, "json"))
    assert [d["text"] for d in data["decisions"]] == [clean_text(t).strip() for t in EVIL]
    calm.close()
    hostile.close()


def test_every_table_row_keeps_its_cells(tmp_path, monkeypatch):
    monkeypatch.setenv("OPSWEEK_NOW", NOW.isoformat())
    store = demo.build(tmp_path / "d.db", now=NOW)
    text = notes.render(store, run_session(store, EVIL, "x | y"))
    tokens = parser().parse(text)
    widths, row = [], 0
    for token in tokens:
        if token.type == "tr_open":
            row = 0
        elif token.type in ("td_open", "th_open"):
            row += 1
        elif token.type == "tr_close":
            widths.append(row)
        elif token.type == "table_close":
            assert len(set(widths)) == 1, widths
            widths = []
    store.close()


_SAFE_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=300, deadline=None)
@given(_SAFE_TEXT)
def test_escaped_text_is_one_plain_paragraph(text):
    expected = " ".join((clean_text(text) or "").split())
    tokens = parser().parse(notes.md(text) + "\n")
    if not expected:
        assert tokens == []
        return
    assert [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"]
    children = tokens[1].children
    assert {c.type for c in children} <= {"text"}
    assert "".join(c.content for c in children) == expected


@settings(max_examples=200, deadline=None)
@given(_SAFE_TEXT, _SAFE_TEXT)
def test_escaped_text_stays_in_its_table_cell(left, right):
    source = f"| A | B |\n|---|---|\n| {notes.md(left)} | {notes.md(right)} |\n"
    tokens = parser().parse(source)
    cells = [tokens[i + 1] for i, t in enumerate(tokens) if t.type == "td_open"]
    assert len(cells) == 2
    for cell, text in zip(cells, (left, right)):
        expected = " ".join((clean_text(text) or "").split())
        assert "".join(c.content for c in cell.children if c.type == "text") == expected
        assert {c.type for c in cell.children} <= {"text"}


def test_md_examples():
    assert notes.md("# x") == "\\# x"
    assert notes.md("- x") == "\\- x"
    assert notes.md("12. x") == "12\\. x"
    assert notes.md("> x") == "&gt; x"
    assert notes.md("<script>a & b</script>") == "&lt;script&gt;a &amp; b&lt;/script&gt;"
    assert notes.md("`x` [y](z) a|b *c*") == "\\`x\\` \\[y\\](z) a\\|b \\*c\\*"
    assert notes.md("a\nb") == "a b"
    assert notes.md(None) == ""
    assert notes.md("\x1b[31mred") == "[31mred".replace("[", "\\[")


def test_copying_the_database_keeps_the_notes(demo_store, tmp_path):
    """Notes depend on the database only (a copied file gives the same notes)."""
    text = notes.render(demo_store, 1)
    demo_store.conn.execute("PRAGMA wal_checkpoint(FULL)")
    shutil.copy(demo_store.path, tmp_path / "copy.db")
    with Store.open(tmp_path / "copy.db") as copy:
        assert notes.render(copy, 1) == text
