"""One item in full: where it is, who owns it, why it is stuck, its SOP, its history."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from opsweek import clock, rules
from opsweek.store import read, recurring
from opsweek.tui.widgets.text import join, plain


OPENED_SCHEMES = ("http", "https", "file")


def sop_target(sop: str) -> str | None:
    """What to hand to ``App.open_url`` (the browser), or None when it is not safe to.

    Only ``http``, ``https`` and ``file`` links go to the browser, and a path becomes a
    ``file://`` URL. Never a text that starts with ``-`` (a browser would read an option)
    or holds a newline or another control character; anything else is shown for copying.
    """
    from urllib.parse import urlsplit

    text = (sop or "").strip()
    if not text or text.startswith("-") or any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:  # "http://[::1" and the like
        return None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        return text if parts.netloc else None
    if scheme == "file":
        return text
    if scheme and len(scheme) > 1 or "://" in text:  # mailto:, javascript:, ftp://…
        return None
    from pathlib import Path

    try:
        return Path(text).expanduser().resolve().as_uri()
    except (OSError, RuntimeError, ValueError):  # ~nobody/…, a loop of links
        return None


class ItemDetails(ModalScreen[None]):
    """Read-only details; ``o`` opens the stage's SOP, escape closes."""

    BINDINGS = [
        Binding("escape,q,enter", "close", "Close"),
        Binding("o", "open_sop", "Open SOP"),
    ]

    def __init__(self, item_id: int, *, absent: set[str] | None = None):
        super().__init__()
        self.item_id = item_id
        self.absent = absent or set()
        self.sop: str | None = None

    def compose(self) -> ComposeResult:
        app = self.app
        store, team = app.store, app.team
        it = read.item(store, self.item_id)
        stage = team.stage_map.get((it.workflow, it.stage))
        workflow = next((w for w in team.workflows if w.key == it.workflow), None)
        self.sop = stage.sop if stage else None
        now, today = app.now(), app.today()
        reasons = rules.stuck_reasons(it, stage, now, today, team.settings)
        pending = read.pending_handoff_for(store, it.id)

        def row(label: str, *value) -> Static:
            return Static(join((f"{label:<16}", "dim"), *value), classes="detail-row")

        with Vertical(classes="dialog details"):
            yield Label(join((f"#{it.id} ", "bold"), (it.title, "bold")), classes="dialog-title")
            with VerticalScroll(id="details-body"):
                yield row("workflow", workflow.name if workflow else it.workflow, f"  ({it.workflow})")
                yield row("stage", stage.name if stage else it.stage, f"  ({it.stage})")
                owner_note = []
                if it.owner in self.absent:
                    owner_note = ["  ", ("absent today", "$warning")]
                problem, cover = rules.owner_problem(it.owner, team.people, today, today)
                if problem:
                    owner_note += ["  ", (problem + (f"; {cover} covers" if cover else ""), "$warning")]
                yield row("owner", it.owner or "nobody", *owner_note)
                status = [it.status]
                if it.blocked_reason:
                    status += [": ", it.blocked_reason]
                yield row("status", *status)
                yield row("opened", clock.show(it.opened_at))
                yield row("in stage since", clock.show(it.stage_entered_at),
                          f"  ({clock.humanize(now - it.stage_entered_at)})")
                yield row("last activity", clock.show(it.last_activity_at))
                if it.due:
                    yield row("due", it.due.isoformat())
                if it.ref:
                    yield row("ref", it.ref)
                yield row("SOP", *([(self.sop, "underline"), "  (o opens it)"] if self.sop
                                  else [("no SOP linked for this stage", "$warning")]))
                links = recurring.item_links(store, it.id)
                if links.schedule:
                    wf_key, key, occurrence = links.schedule
                    yield row("opened by", f"schedule {wf_key}/{key}", "  ", (clock.show(occurrence), "dim"))
                if links.fed_from:
                    source_id, source_wf, source_title = links.fed_from
                    yield row("came from", f"#{source_id} ", source_title, (f"  ({source_wf})", "dim"))
                for started_id, started_wf, started_title in links.started:
                    yield row("started", f"#{started_id} ", started_title, (f"  ({started_wf})", "dim"))
                if reasons:
                    yield row("stuck", ("; ".join(str(r) for r in reasons), "$error"))
                if pending:
                    late = rules.lateness(pending, now)
                    yield row("handoff", f"to {pending.to_stage} ({pending.to_owner or 'nobody'}), due ",
                              clock.show(pending.due_at),
                              *([("  overdue by " + clock.humanize(late), "$error")] if late else []))
                    if pending.note:
                        yield row("handoff note", pending.note)
                entries = read.item_entries(store, it.id, limit=8)
                if entries:
                    yield Label(Content.styled("Decisions and actions", "bold"), classes="detail-heading")
                    for e in entries:
                        extra = f" ({e.owner}, due {e.due})" if e.kind == "action" else ""
                        yield Static(join((f"{e.kind:<9}", "dim"), e.text, extra,
                                          f"  [{e.status}]" if e.status else ""), classes="detail-row")
                events = read.events(store, item_id=it.id, limit=10)
                if events:
                    yield Label(Content.styled("History", "bold"), classes="detail-heading")
                    for ev in events:
                        yield Static(join((clock.show(ev.at) + "  ", "dim"), ev.actor, "  ", ev.action,
                                          *(["  — ", ev.reason] if ev.reason else [])), classes="detail-row")
            yield Label("o open the SOP · escape close", classes="dialog-hint")

    def action_open_sop(self) -> None:
        if not self.sop:
            self.notify("this stage has no SOP linked", severity="warning")
            return
        target = sop_target(self.sop)
        if target is None:
            self.notify(plain("not opened (only http, https and file links are): " + self.sop).plain,
                        severity="warning", timeout=15, markup=False)
            return
        self.app.open_url(target)
        self.notify(plain("opening " + self.sop).plain, markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
