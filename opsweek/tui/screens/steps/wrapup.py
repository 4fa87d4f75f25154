"""Wrap-up: everything recorded in this session, the 1–10 rating, export, close."""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from opsweek import inputs
from opsweek.agenda import STEPS
from opsweek.errors import OpsweekError
from opsweek.store import changes, history, meetings, read
from opsweek.store.changes import BOOKKEEPING
from opsweek.tui.modal.confirm import Confirm
from opsweek.tui.modal.text_prompt import TextPrompt
from opsweek.tui.screens.steps.base import Step
from opsweek.tui.widgets.stepper import minutes
from opsweek.tui.widgets.text import join

# what the wrap-up lists under "Changes made", by audit action
_CHANGE_WORDS = {
    "item.reassign": "reassigned", "handoff.reassign": "receiver changed", "stage.owner": "stage owner",
    "workflow.owner": "workflow owner", "person.cover": "cover", "handoff.escalate": "escalated",
    "item.escalate": "escalated",
    "handoff.accept": "accepted", "handoff.send": "handed off", "item.block": "blocked",
    "item.unblock": "unblocked", "item.done": "done", "item.drop": "dropped", "item.add": "added",
    "action.done": "done", "action.dropped": "dropped", "action.open": "reopened",
    "action.carry": "carried over", "undo": "undo",
}
_SKIP = (*BOOKKEEPING, "meeting.start", "meeting.attendance", "meeting.rate", "meeting.close",
         "entry.decision", "entry.action", "entry.note",
         # the issues have a heading of their own
         "issue.raise", "issue.rank", "issue.unrank", "issue.solve", "issue.drop")


def parse_rating(text: str) -> str | None:
    """What is wrong with a typed rating (the rule is :func:`opsweek.inputs.check_rating`), or None."""
    return inputs.problem(inputs.check_rating, text)


def export_notes(store, meeting_id: int, directory: Path | None = None) -> Path:
    """Write the session's notes as Markdown in ``directory`` (the current one); returns the path."""
    from opsweek import notes

    meeting = read.meeting(store, meeting_id)
    text = notes.render(store, meeting_id, "md")
    return notes.write_atomic((directory or Path.cwd()) / notes.notes_filename(store, meeting), text)


class WrapUpStep(Step):
    key = "wrapup"
    hint = ("r rate the session 1–10 · t each attendee rates it · x export the notes (Markdown)"
            " · c close the session · d / a decision / action")

    BINDINGS = [
        Binding("r", "rate", "Rate 1–10"),
        Binding("t", "rate_each", "Each rates", show=False),
        Binding("x", "export", "Export notes"),
        Binding("c", "close_session", "Close session"),
    ]

    def body(self) -> ComposeResult:
        with VerticalScroll(id="wrapup-scroll", can_focus=True):
            yield Static(id="wrapup-summary")

    def focus_main(self) -> None:
        self.query_one("#wrapup-scroll").focus()

    def load(self) -> None:
        session = self.session
        if session.meeting is None:
            return
        self.query_one("#wrapup-summary", Static).update(self.summary())
        m = session.meeting
        rating = read.meeting_rating(self.app.store, m)
        self.show_position(("closed" if m.closed_at else "open") + (f" · rated {rating:g}/10" if rating else
                                                                     " · not rated yet"))

    # -- the summary -----------------------------------------------------------------------

    def summary(self) -> Content:
        session = self.session
        store, meeting_id, m = self.app.store, session.meeting_id, session.meeting
        lines: list[Content] = []

        def heading(text: str, count: int | None = None) -> None:
            lines.append(Content(""))
            lines.append(join((text, "bold underline"), *([f"  ({count})"] if count is not None else [])))

        present = sorted(h for h, here in session.present.items() if here)
        absent = sorted(session.absent)
        rating = read.meeting_rating(store, m)
        each = read.attendee_ratings(store, meeting_id)
        lines.append(join(("Rating  ", "bold"), (f"{rating:g}/10", "bold $accent") if rating
                          else ("not rated yet — press r, or t for each attendee", "$warning"),
                          *([f"  average of {len(each)}: ", ", ".join(f"{h} {r}" for h, r in each.items())]
                            if each else [])))
        lines.append(join(("Present ", "bold"), ", ".join(present) or "nobody"))
        lines.append(join(("Absent  ", "bold"), ", ".join(absent) or "nobody"))
        seconds = read.step_seconds(store, meeting_id)
        live = session.live_seconds() if not session.closed else 0
        spent = [f"{s.title} {minutes(seconds.get(s.key, 0) + (live if s.key == session.step else 0))}"
                 for s in STEPS]
        lines.append(join(("Time    ", "bold"), " · ".join(spent)))

        entries = read.meeting_entries(store, meeting_id)
        titles = read.item_titles(store, [e.item_id for e in entries if e.item_id])
        for kind, label in (("decision", "Decisions"), ("action", "Actions"), ("note", "Notes")):
            chosen = [e for e in entries if e.kind == kind]
            if kind == "note" and not chosen:
                continue
            heading(label, len(chosen))
            if not chosen:
                lines.append(Content.styled("  none yet — press " + kind[0], "dim"))
            for e in chosen:
                # an action's number, as undo, the notes and ``opsweek action ID`` name it
                parts: list = ["  • ", *([(f"{e.id}  ", "dim")] if kind == "action" else []), e.text]
                if kind == "action":
                    parts += ["  — ", (e.owner or "", "bold"), f", due {e.due}" if e.due else ""]
                if e.item_id:
                    parts += [("  #" + str(e.item_id) + " ", "dim"), (titles.get(e.item_id, ""), "dim")]
                elif e.workflow:
                    parts += [("  " + e.workflow, "dim")]
                lines.append(join(*parts))

        issues = read.session_issues(store, meeting_id)
        heading("Issues", len(issues))
        if not issues:
            lines.append(Content.styled("  none raised — i raises one", "dim"))
        solved_by = {e.id: e for e in read.entries_by_id(store, [i.entry_id for i in issues if i.entry_id])}
        for issue in issues:
            how = {"dropped": f"dropped: {issue.reason}", "open": "carries over"}.get(issue.status, "solved")
            if issue.status == "solved" and issue.entry_id in solved_by:
                entry = solved_by[issue.entry_id]
                how = f"{entry.kind}: {entry.text}" + (f" — {entry.owner}, due {entry.due}" if entry.kind == "action"
                                                       else "")
            lines.append(join("  ", (f"{issue.rank}. " if issue.rank else "•  ", "bold"), issue.text,
                              ("  — " + how, "dim" if issue.status == "open" else "")))

        made = self._changes(store, meeting_id)
        heading("Changes made", len(made))
        if not made:
            lines.append(Content.styled("  none yet", "dim"))
        lines.extend(made)
        return Content("\n").join(lines)

    def _changes(self, store, meeting_id: int) -> list[Content]:
        seen: set[int] = set()
        lines = []
        for edit in history.meeting_edits(store, meeting_id):
            if edit.action in _SKIP or edit.change_id in seen:
                continue
            if edit.action == "handoff.accept" and edit.entity != "handoffs":
                continue
            seen.add(edit.change_id)
            lines.append(self._describe(edit))
        return lines

    def _describe(self, edit) -> Content:
        before = edit.before or {}
        after = edit.after or {}
        action, entity, key = edit.action, edit.entity, edit.entity_id
        if action not in _CHANGE_WORDS:  # a change with no short word here: the history's words
            parts: list = ["  • ", history.describe(self.app.store, edit.change_id)]
            if edit.reason:
                parts += [("  — ", "dim"), (edit.reason, "italic")]
            return join(*parts)
        word = _CHANGE_WORDS[action]
        if entity == "items":
            subject = f"#{key}"
        elif entity == "handoffs":
            item_id = after.get("item_id") or before.get("item_id")
            subject = f"handoff {key}" + (f" (#{item_id})" if item_id else "")
        elif entity == "entries":
            subject = f"action {key}"
        elif entity == "stages":
            stage = history.last_known(self.app.store, "stages", int(key))
            subject = f"{stage['workflow']}/{stage['key']}" if stage else f"stage {key}"
        else:
            subject = str(key)
        detail = ""
        for field in ("owner", "to_owner", "cover"):
            if field in after:
                detail = f"{before.get(field) or 'nobody'} → {after[field]}"
                break
        if action == "handoff.send":
            detail = f"to {after.get('to_stage')} ({after.get('to_owner') or 'nobody'})"
        if action == "action.carry" and "due" in after:
            detail = f"due {after['due']}"
        parts: list = ["  • ", (subject, "bold"), f" {word}"]
        if detail:
            parts += [" ", detail]
        if edit.reason:
            parts += [("  — ", "dim"), (edit.reason, "italic")]
        return join(*parts)

    # -- rating, export, close -------------------------------------------------------------

    def action_rate(self) -> None:
        session = self.session
        if session.read_only and not self.session_open():  # a viewer: says so
            return
        if session.closed:
            self.notify("this session is closed; its rating stays", severity="warning")
            return

        def rated(text: str | None) -> None:
            if text:
                rating = inputs.check_rating(text)  # the prompt's check has passed it
                self.request_change(changes.rate_meeting, session.meeting_id, rating, meeting=False,
                                    success=f"session rated {rating}/10")

        current = str(session.meeting.rating) if session.meeting and session.meeting.rating else ""
        self.app.push_screen(TextPrompt("How useful was this session? 1 (waste of time) to 10 (great)",
                                        value=current, placeholder="1–10", required=True, check=parse_rating,
                                        hint="type a number · enter saves · escape cancels"), rated)

    def action_rate_each(self, handles: list[str] | None = None) -> None:
        """t: each present attendee's own 1–10, one prompt after the other (empty skips one;
        escape stops); absent people are not asked."""
        session = self.session
        if session.closed:
            self.notify("this session is closed; its ratings stay", severity="warning")
            return
        if handles is None:
            handles = sorted(h for h, here in session.present.items() if here)
            if not handles:
                self.notify("nobody is marked present to rate the session", severity="warning")
                return
        if not handles:
            return
        handle, rest = handles[0], handles[1:]
        current = read.attendee_ratings(self.app.store, session.meeting_id).get(handle)

        def rated(text: str | None) -> None:
            if text is None:
                return
            rating = inputs.check_rating(text) if text else None  # the prompt's check has passed it
            if rating is not None and rating != current:
                self.request_change(changes.rate_as_attendee, session.meeting_id, handle, rating, meeting=False,
                                    success=f"{handle} rated it {rating}/10")
            self.action_rate_each(rest)

        def check(text: str) -> str | None:
            return parse_rating(text) if text else None

        self.app.push_screen(TextPrompt(f"{handle}: how useful was this session? 1 (waste of time) to 10 (great)",
                                        value=str(current) if current else "", placeholder="1–10; empty skips",
                                        check=check,
                                        hint="type a number · enter saves and asks the next · escape stops"), rated)

    def action_export(self) -> None:
        if self.session.read_only and not self.session_open():  # a viewer writes no files either
            return
        self.session.flush_time()
        self.notify("exporting the notes…")
        self.write_notes(self.session.meeting_id)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def write_notes(self, meeting_id: int) -> None:
        try:
            with self.app.reader() as store:
                path = export_notes(store, meeting_id)
        except OpsweekError as error:
            self.app.notify(f"notes not written: {error}", severity="error", markup=False)
            return
        except Exception as error:  # never a traceback in the meeting
            self.app.notify(f"notes not written: {error}", severity="error", markup=False)
            return
        self.app.notify(f"notes written to {path}", markup=False, timeout=10)

    def action_close_session(self) -> None:
        session = self.session
        if session.read_only and not self.session_open():
            return
        if session.closed:
            self.notify("this session is already closed", severity="warning")
            return
        rating = session.meeting.rating if session.meeting else None
        detail = "Everything is already saved; closing ends the session." + (
            "" if rating else " It has no rating yet (r rates it).")

        def answer(yes: bool | None) -> None:
            if not yes:
                return
            session.flush_time()
            self.request_change(changes.close_meeting, session.meeting_id, meeting=False,
                                success="session closed — x exports the notes, escape goes home",
                                then=lambda _: self.offer_final_notes())

        self.app.push_screen(Confirm(f"Close the {session.meeting.week} session?", detail=detail), answer)

    def offer_final_notes(self) -> None:
        """Closed: offer the final notes at once (SPEC: closing offers to export again); an
        export made before closing still says the session is open."""
        from opsweek import notes

        session = self.session
        session.update_stepper()
        store = self.app.store
        name = notes.notes_filename(store, read.meeting(store, session.meeting_id))
        earlier = (Path.cwd() / name).exists()
        detail = (f"{name}, written before closing, still says the session is open." if earlier
                  else "The notes have not been exported yet.") + " They will not change again."

        def answer(yes: bool | None) -> None:
            if yes:
                self.action_export()

        self.app.push_screen(Confirm("Export the final notes now?", detail=detail), answer)
