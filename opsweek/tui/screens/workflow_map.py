"""The workflow map: one workflow's stages in order, with the handoffs between them.

Each stage shows its owner (and whether they are away), its SOP, the handoff SLA into
it and its time limit, how many items wait there and how long the oldest has waited.
The bottleneck — the stage where work piles up — is marked. The selected stage's items
are listed below it, a page at a time; enter on an item shows it in full.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Label, Select, Static

from opsweek import clock, rules
from opsweek.rules.bottleneck import StageLoad, WorkflowLoad
from opsweek.store.records import Stage
from opsweek.store import read
from opsweek.text import one_line, plural
from opsweek.tui.app import ChangeRequested
from opsweek.tui.modal.item_details import ItemDetails
from opsweek.tui.widgets.footer import KeysFooter
from opsweek.tui.widgets.paged_table import Column, PagedTable, Row, Source
from opsweek.tui.widgets.text import cell, join

LATE = "bold red"
WARN = "yellow"
GOOD = "green"

# --- widgets -------------------------------------------------------------------------


def stage_card(load: StageLoad, now: datetime, position: int) -> Content:
    """The text inside a stage's box (user text literal, never markup)."""
    stage = load.stage
    lines: list[Content] = []
    if not stage.owner:
        lines.append(join(("no owner", LATE)))
    elif load.owner_problem and load.cover:
        lines.append(join(stage.owner, (f" away → {load.cover}", WARN)))
    elif load.owner_problem:
        lines.append(join(stage.owner, " ", (load.owner_problem.removeprefix(f"{stage.owner} "), LATE)))
    elif load.away_note:
        lines.append(join(stage.owner, " ", (load.away_note, WARN)))
    else:
        lines.append(join(stage.owner))
    lines.append(join(("SOP ✓", GOOD)) if stage.sop else join(("no SOP", LATE)))
    sla = stage.handoff_sla or "default SLA"
    limit = f"max {rules.common.days(stage.max_days)}" if stage.max_days else "no limit"
    lines.append(join(f"{sla} · {limit}"))
    if load.waiting:
        lines.append(join((f"{load.waiting:,} waiting", "bold")))
        lines.append(join(f"oldest {clock.humanize(now - load.oldest)}" if load.oldest else ""))
    else:
        lines.append(join(("nothing waiting", "dim")))
        lines.append(join(""))
    lines.append(join((f"{load.stuck:,} stuck", LATE)) if load.stuck else join(""))
    if load.incoming:
        late = [(f", {load.incoming_late:,} late", LATE)] if load.incoming_late else []
        lines.append(join(f"{load.incoming:,} coming in", *late))
    else:
        lines.append(join(""))
    return Content("\n").join(lines)


class StageBox(Static):
    """One stage of the map."""

    def __init__(self, load: StageLoad, position: int, now: datetime, *, bottleneck: bool):
        super().__init__(stage_card(load, now, position), classes="stage-box", markup=False)
        self.load = load
        self.position = position
        self.border_title = Content(f"{position} {one_line(load.stage.name)}")
        if bottleneck:
            self.add_class("bottleneck")
            self.border_subtitle = Content("◆ bottleneck")


class StageArrow(Static):
    """The handoff between two stages, with the SLA of the receiving stage."""

    def __init__(self, sla: str | None):
        text = Content("\n").join([Content(""), Content(""), Content.styled("──▶", "bold"),
                                    Content.styled(one_line(sla), "dim")])
        super().__init__(text, classes="stage-arrow", markup=False)


class StageMap(Horizontal, can_focus=True):
    """The stages side by side; left/right select a stage, enter lists its items."""

    BINDINGS = [
        Binding("left", "move(-1)", "Previous stage", show=False),
        Binding("right", "move(1)", "Next stage", show=False),
        Binding("home", "move(-99)", show=False),
        Binding("end", "move(99)", show=False),
        Binding("enter", "open", "Items of stage"),
    ]

    @dataclass
    class Selected(Message):
        stage_map: "StageMap"
        index: int

    @dataclass
    class Opened(Message):
        stage_map: "StageMap"
        index: int

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id)
        self.index = 0

    @property
    def boxes(self) -> list[StageBox]:
        return list(self.query(StageBox))

    def show(self, load: WorkflowLoad, now: datetime, index: int = 0) -> None:
        self.remove_children()
        bottleneck = load.bottleneck
        widgets: list[Widget] = []
        for position, stage_load in enumerate(load.stages, start=1):
            if position > 1:
                widgets.append(StageArrow(stage_load.stage.handoff_sla))
            widgets.append(StageBox(stage_load, position, now, bottleneck=stage_load is bottleneck))
        if not widgets:
            widgets.append(Label("this workflow has no stages yet; + adds the first", classes="dim"))
        self.mount_all(widgets)
        self.index = max(0, min(index, len(load.stages) - 1))
        self.call_after_refresh(self._mark)

    def _mark(self) -> None:
        for n, box in enumerate(self.boxes):
            box.set_class(n == self.index, "-selected")
        if self.boxes:
            self.boxes[self.index].scroll_visible()
            self.post_message(self.Selected(self, self.index))

    def action_move(self, step: int) -> None:
        boxes = self.boxes
        if not boxes:
            return
        self.index = max(0, min(len(boxes) - 1, self.index + step))
        self._mark()

    def action_open(self) -> None:
        if self.boxes:
            self.post_message(self.Opened(self, self.index))

    def on_click(self, event) -> None:
        widget = event.widget
        while widget is not None and not isinstance(widget, StageBox):
            widget = widget.parent if widget is not self else None
        if isinstance(widget, StageBox):
            self.index = self.boxes.index(widget)
            self._mark()


def flow_line(wf, fed_by: list[str], statuses: dict[str, str]) -> Content | None:
    """What feeds the workflow, what it feeds, and what opens in it by itself (None: nothing)."""
    parts: list = []
    if fed_by:
        parts += ["fed by ", (", ".join(fed_by), "bold")]
    if wf.feeds:
        parts += (["  ·  "] if parts else []) + ["feeds "]
        for n, target in enumerate(wf.feeds):
            status = statuses.get(target, "active")
            parts += ([", "] if n else []) + [(target, "bold")]
            if status != "active":
                parts.append((f" ({status})", LATE))
    for r in wf.recurring or []:
        parts += (["  ·  "] if parts else []) + ["opens ", r.title, (f" {r.schedule}", "dim")]
    return join(*parts) if parts else None


# --- the screen ----------------------------------------------------------------------


class WorkflowMapScreen(Screen):
    """The map of one workflow; ``[`` / ``]`` (or the selector) switch workflow."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("left_square_bracket", "workflow(-1)", "Previous workflow", key_display="["),
        Binding("right_square_bracket", "workflow(1)", "Next workflow", key_display="]"),
        Binding("i", "focus_items", "Items"),
        Binding("s", "add_schedule", "Schedule work"),
        Binding("e", "edit_stage", "Edit stage"),
        Binding("t", "edit_workflow", "Edit workflow"),
        Binding("plus", "add_stage", "Add stage", key_display="+"),
        Binding("m", "focus_map", "Map", show=False),
        Binding("r", "reload", "Refresh", show=False),
    ]

    def __init__(self, workflow: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.requested = workflow
        self.workflow: str | None = None
        self.load: WorkflowLoad | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="map-head"):
            yield Label("Workflow map", id="map-title")
            options = [(Content(f"{one_line(wf.name)} ({wf.key})"), wf.key) for wf in self.app.team.workflows
                       if wf.key in self.workflow_keys]
            keys = self.workflow_keys
            initial = self.requested if self.requested in keys else (keys[0] if keys else Select.NULL)
            yield Select(options, id="map-select", allow_blank=not options, prompt="workflow", value=initial)
        yield Label("", id="map-about", markup=False)
        yield StageMap(id="map")
        with Vertical(id="map-detail"):
            yield Label("", id="map-stage", markup=False)
            yield PagedTable(id="map-items")
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one("#map-items", PagedTable)
        # / filters the stage's items, > < sort them (read.stage_items_page); the title and the
        # reasons share a wide terminal
        table.set_columns([Column("item", "#", sort=True), Column("title", "Item", grow=0.3, min_width=14, sort=True),
                           Column("owner", "Owner", sort=True), Column("in stage", "In stage", sort=True),
                           Column("activity", "Last activity"), Column("due", "Due"),
                           Column("why", "Why stuck", grow=0.25, min_width=12)])
        keys = self.workflow_keys
        if not keys:
            self.query_one("#map-about", Label).update("no workflows yet: import a team file (opsweek import team.toml)")
            return
        target = self.requested if self.requested in keys else keys[0]
        if self.requested and self.requested not in keys:
            self.notify(f"no workflow {self.requested!r}; showing {target}", severity="warning", markup=False)
        self.show_workflow(target)
        self.query_one(StageMap).focus()

    # -- showing ------------------------------------------------------------------------

    @property
    def workflow_keys(self) -> list[str]:
        return [wf.key for wf in self.app.team.workflows if wf.status != "retired"] or \
            [wf.key for wf in self.app.team.workflows]

    def show_workflow(self, key: str, stage_index: int = 0) -> None:
        app = self.app
        self.workflow = key
        wf = app.team.workflow(key)
        now = app.now()
        self.load = read.stage_loads(app.store, app.team, key, now)
        select = self.query_one("#map-select", Select)
        if select.value != key:
            with select.prevent(Select.Changed):
                select.value = key
        keys = self.workflow_keys
        position = f"{keys.index(key) + 1} of {len(keys)}" if key in keys else ""
        head: list = [(one_line(wf.name), "bold"), f"  {position}  ·  owner ",
                      (wf.owner or "nobody", "" if wf.owner else LATE)]
        if wf.status != "active":
            head += ["  ·  ", (wf.status, WARN)]
        bottleneck = self.load.bottleneck
        if bottleneck:
            head += ["  ·  work piles up at ", (one_line(bottleneck.stage.name), LATE)]
        fed_by = [w.key for w in app.team.workflows if key in (w.feeds or [])]
        if wf.trigger:
            trigger = join("starts when: ", wf.trigger)
        elif wf.recurring or fed_by:
            trigger = join(("starts by itself: on a schedule or fed by another workflow", "dim"))
        else:
            trigger = join(("no trigger: nothing says when this workflow starts", LATE))
        lines = [join(*head), trigger]
        flow = flow_line(wf, fed_by, {w.key: w.status for w in app.team.workflows})
        if flow is not None:
            lines.append(flow)
        about = Content("\n").join(lines)
        self.query_one("#map-about", Label).update(about)
        self.query_one(StageMap).show(self.load, now, stage_index)

    @on(StageMap.Selected)
    def stage_selected(self, message: StageMap.Selected) -> None:
        if self.load is None or not self.load.stages:
            return
        load = self.load.stages[message.index]
        stage = load.stage
        now = self.app.now()
        parts: list = [(one_line(stage.name), "bold"), f" ({stage.key})  ·  owner "]
        if stage.owner:
            person = self.app.team.people.get(stage.owner)
            parts.append((stage.owner, "bold"))
            if person is not None:
                parts.append(f" {person.name}")
            if load.owner_problem:
                parts.append(("  " + load.owner_problem + (f", {load.cover} covers" if load.cover else ""),
                              WARN if load.cover else LATE))
            elif load.away_note:
                parts.append(("  " + load.away_note, WARN))
        else:
            parts.append(("nobody", LATE))
        sop = join("SOP ", stage.sop) if stage.sop else join("SOP ", ("none linked", LATE))
        waited = f", the oldest for {clock.humanize(now - load.oldest)}" if load.oldest else ""
        counts = join(f"{plural(load.waiting, 'item')} waiting{waited}  ·  {load.stuck:,} stuck  ·  "
                      f"{plural(load.incoming, 'handoff')} coming in ({load.incoming_late:,} late)")
        self.query_one("#map-stage", Label).update(Content("\n").join([join(*parts), sop, counts]))
        self.list_items(stage)

    def list_items(self, stage: Stage) -> None:
        app = self.app
        team = app.team
        now, today = app.now(), app.today()

        def page(offset: int, limit: int, view=None) -> list[Row]:
            # app.store in the worker is its own connection (app.reader())
            items = read.stage_items_page(app.store, stage.workflow, stage.key, limit=limit, offset=offset,
                                          view=view)
            rows = []
            for it in items:
                reasons = rules.stuck_reasons(it, stage, now, today, team.settings)
                rows.append(Row(str(it.id), [
                    cell(f"#{it.id}"), cell(it.title), owner_cell(it.owner, team, today),
                    cell(clock.humanize(now - it.stage_entered_at)),
                    cell(clock.humanize(now - it.last_activity_at) + " ago"),
                    cell(it.due.isoformat() if it.due else "", LATE if it.due and it.due < today else ""),
                    cell("; ".join(r.text for r in reasons), LATE if reasons else ""),
                ], it.id))
            return rows

        def count(view=None) -> int:
            return read.stage_items_count(app.store, stage.workflow, stage.key, view=view)

        table = self.query_one("#map-items", PagedTable)
        same = getattr(self, "_listed", None) == (stage.workflow, stage.key)
        self._listed = (stage.workflow, stage.key)
        table.source = Source(page, count, filtered=True)
        if same:  # the same stage read again (a change here or elsewhere): keep the cursor's row
            table.reload()
        else:
            table.load(0)

    # -- actions ------------------------------------------------------------------------

    @on(StageMap.Opened)
    def stage_opened(self, message: StageMap.Opened) -> None:
        self.action_focus_items()

    @on(DataTable.RowSelected, "#map-items")
    def item_chosen(self, event: DataTable.RowSelected) -> None:
        row = self.query_one("#map-items", PagedTable).current
        if row is not None:
            self.app.push_screen(ItemDetails(row.data))

    @on(Select.Changed, "#map-select")
    def workflow_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.workflow:
            self.show_workflow(event.value)
            self.query_one(StageMap).focus()

    def action_workflow(self, step: int) -> None:
        keys = self.workflow_keys
        if not keys or self.workflow is None:
            return
        index = keys.index(self.workflow) if self.workflow in keys else 0
        self.show_workflow(keys[(index + step) % len(keys)])

    def action_add_schedule(self) -> None:
        """Recurring work under this workflow: key, title, then when (each checked as typed)."""
        from opsweek import schedule
        from opsweek.store import recurring
        from opsweek.text import is_slug
        from opsweek.tui.modal.text_prompt import TextPrompt

        workflow = self.workflow
        if workflow is None:
            return
        app = self.app

        def check_key(text: str) -> str | None:
            if not is_slug(text):
                return "a key is lowercase letters, digits, - and _ (like weekly-review)"
            if any(s.key == text for s in recurring.schedules(app.store, workflow)):
                return f"{workflow}/{text} already exists"
            return None

        def with_key(key: str | None) -> None:
            if key:
                app.push_screen(TextPrompt(f"Title of the items {workflow}/{key} opens", required=True,
                                           placeholder="Review open complaints, {week}",
                                           hint="may use {date} {week} {month} {year} · enter next · escape cancels",
                                           check=lambda text: schedule.check_title(text) and None),
                                lambda title: with_title(key, title))

        def with_title(key: str, title: str | None) -> None:
            if title:
                app.push_screen(TextPrompt(f"When does {workflow}/{key} open?", required=True,
                                           placeholder="every friday 09:00", hint=schedule.ACCEPTED,
                                           check=lambda text: schedule.check(text) and None),
                                lambda when: save(key, title, when))

        def save(key: str, title: str, when: str | None) -> None:
            if not when:
                return
            def added(_) -> str:
                following = next((s.next_due for s in recurring.schedules(app.store, workflow) if s.key == key), None)
                return f"{workflow}/{key} added" + (f"; first opens {schedule.describe(following)}" if following else "")

            self.post_message(ChangeRequested(recurring.add_schedule, (app.team, workflow, key),
                                              dict(title=title, schedule_text=when), success=added))

        app.push_screen(TextPrompt(f"New recurring work in {workflow}: its key", required=True,
                                   placeholder="weekly-review", check=check_key), with_key)
    # -- editing the system (stages, the workflow) ---------------------------------------

    @property
    def selected_stage(self) -> Stage | None:
        if self.load is None or not self.load.stages:
            return None
        index = self.query_one(StageMap).index
        return self.load.stages[min(index, len(self.load.stages) - 1)].stage

    def action_edit_stage(self) -> None:
        """``e``: the selected stage's name, owner, SOP, max days and handoff SLA (a new
        owner asks why, as reassigning an item does)."""
        from opsweek.store import changes
        from opsweek.tui.modal.stage_dialog import StageDialog, stage_values

        stage = self.selected_stage
        if stage is None:
            self.notify("no stage selected: + adds one", severity="warning")
            return
        app = self.app

        def edited(values: dict | None) -> None:
            if not values:
                return
            current = stage_values(stage)
            wanted = {}
            for field in ("name", "owner", "sop", "max_days", "handoff_sla"):
                if values[field] != current[field]:
                    typed = values[field].lower() if field == "owner" else values[field]
                    wanted[field] = typed or None
            if not wanted:
                self.notify(f"{stage.workflow}/{stage.key}: nothing changed")
                return
            changed = app.make_change(changes.update_stage, stage.workflow, stage.key, actor=app.actor,
                                  reason=values["reason"] or None,
                                  success=f"stage {stage.workflow}/{stage.key} updated", **wanted)
            if changed is not None:
                self.reload()

        app.push_screen(StageDialog(stage, app.team.people), edited)

    def action_add_stage(self) -> None:
        """``+``: a new stage right after the selected one (or the first of an empty workflow)."""
        from opsweek.store import changes
        from opsweek.text import is_slug
        from opsweek.tui.modal.form_dialog import FormDialog, FormField
        from opsweek.tui.modal.stage_dialog import check_stage

        if self.workflow is None:
            return
        app = self.app
        workflow = self.workflow
        after = self.selected_stage

        def check(values: dict):
            if not is_slug(values["key"].lower()):
                return f"key {values['key']!r} is not a slug (accepted: lowercase letters, digits, - and _)"
            return check_stage(values, app.team.people)

        def added(values: dict | None) -> None:
            if not values:
                return
            key = values["key"].lower()
            result = app.make_change(changes.add_stage, workflow, key, values["name"],
                                 after=after.key if after else None, owner=values["owner"].lower() or None,
                                 sop=values["sop"] or None, max_days=values["max_days"] or None,
                                 handoff_sla=values["handoff_sla"] or None, actor=app.actor,
                                 success=f"stage {workflow}/{key} added")
            if result is not None:
                keys = [s.key for s in app.team.stages_by_workflow.get(workflow, [])]
                self.show_workflow(workflow, keys.index(key) if key in keys else 0)

        where = f"after {after.key}" if after else "as the first stage"
        fields = [FormField("key", "Key (lowercase, unique in the workflow)", "", "e.g. review"),
                  FormField("name", "Name", "", "e.g. Review"),
                  FormField("owner", "Owner", "", "a handle (empty: nobody yet)",
                            suggestions=[h for h, p in app.team.people.items() if p.active]),
                  FormField("sop", "SOP (URL or path)", "", "https://wiki.example.com/sop/…"),
                  FormField("max_days", "Max days in stage", "", "e.g. 3"),
                  FormField("handoff_sla", "Handoff SLA", "", "48h, 2d, 2bd (empty: the default)")]
        app.push_screen(FormDialog(f"New stage of {workflow}, {where}", fields, check=check,
                                   dialog_id="new-stage-dialog"), added)

    def action_edit_workflow(self) -> None:
        """``t``: the workflow's name, owner, trigger, outcome and status."""
        from opsweek.store import changes
        from opsweek.tui.modal.workflow_dialog import WorkflowDialog, workflow_values

        if self.workflow is None:
            return
        app = self.app
        wf = app.team.workflow(self.workflow)

        def edited(values: dict | None) -> None:
            if not values:
                return
            current = workflow_values(wf)
            wanted = {}
            for field in ("name", "owner", "trigger", "outcome", "status"):
                if values[field] != current[field]:
                    typed = values[field].lower() if field in ("owner", "status") else values[field]
                    wanted[field] = (typed or None) if field == "owner" else typed
            if not wanted:
                self.notify(f"{wf.key}: nothing changed")
                return
            if app.make_change(changes.update_workflow, wf.key, actor=app.actor,
                           success=f"workflow {wf.key} updated", **wanted) is not None:
                self.reload()

        app.push_screen(WorkflowDialog(wf, app.team.people), edited)

    def action_focus_items(self) -> None:
        self.query_one("#map-items", PagedTable).focus()

    def action_focus_map(self) -> None:
        self.query_one(StageMap).focus()

    def action_back(self) -> None:
        if self.query_one("#map-items", PagedTable).has_focus:
            self.action_focus_map()
        else:
            self.app.pop_screen()

    def action_reload(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Read the map again (after a change or an undo), keeping the selected stage."""
        if self.workflow is not None:
            self.show_workflow(self.workflow, self.query_one(StageMap).index)

    def on_screen_resume(self) -> None:
        if self.load is not None:
            self.reload()


def owner_cell(handle: str | None, team: read.Team, today) -> Text:
    """An owner cell, flagged when nobody owns it or the owner is away or inactive."""
    if not handle:
        return Text("nobody", style=LATE)
    problem, cover = rules.owner_problem(handle, team.people, today, today)
    if problem and cover:
        return Text.assemble(one_line(handle), (f" away → {cover}", WARN))
    if problem:
        return Text.assemble(one_line(handle), (" " + problem.removeprefix(f"{handle} "), LATE))
    return Text(one_line(handle))

