"""The trend on the home screen: stuck items, overdue handoffs, escalations, handoffs and
actions on time and the session rating, week by week, as sparklines with the latest
value and how it compares with the week before (named by its ISO week).

The numbers are :func:`opsweek.trends.recorded_trends`, the same as ``opsweek trends``:
ended weeks as recorded (frozen once the week ended), this week live. They are read in a
thread worker on a read-only connection of its own, so the screen paints at once and
fills the trend in when it is ready; the app's tick (not this panel) records the weeks.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Label, Sparkline

from opsweek.trends import Trends, recorded_trends

# series -> (label, whether a rise is bad)
SERIES = {
    "stuck": ("Stuck items", True),
    "overdue": ("Overdue handoffs", True),
    "escalated": ("Escalated", True),
    "handoff_on_time_rate": ("Handoffs on time", False),
    "on_time_rate": ("Actions on time", False),
    "rating": ("Session rating", False),
}
ARROWS = {"up": "▲", "down": "▼", "flat": "▶", "": " "}


def describe(trends: Trends, name: str) -> str:
    """``22  ▼ from 25 in W47`` — the latest value and the week it is compared with."""
    values = trends.series(name)
    latest = values[-1] if values else None
    earlier = trends.before_latest(name)
    point = trends.weeks[-1] if trends.weeks else None
    if name in ("on_time_rate", "handoff_on_time_rate"):
        due = (point.actions_due if name == "on_time_rate" else point.handoffs_due) if point else 0
        text = ("no actions due" if name == "on_time_rate" else "none due") if latest is None \
            else f"{latest:.0%} of {due}"
        before = f"{getattr(earlier, name):.0%}" if earlier else ""
    elif name == "rating":
        text = "not rated" if latest is None else f"{latest:g}/10"
        before = f"{earlier.rating:g}" if earlier else ""
    else:
        text = str(latest if latest is not None else 0)
        before = str(getattr(earlier, name)) if earlier else ""
    direction = trends.direction(name) if latest is not None else ""
    if direction and before:
        return f"{text}  {ARROWS[direction]} from {before} in {earlier.week.split('-')[-1]}"
    return text


class TrendPanel(Vertical):
    """One sparkline per figure over the last 8 weeks, read through ``self.app.reader()``."""

    DEFAULT_CSS = """
    TrendPanel {
        height: auto;
        padding: 0 1;
    }
    TrendPanel .trend-title {
        text-style: bold;
    }
    TrendPanel .trend-row {
        height: 1;
    }
    TrendPanel .trend-name {
        width: 18;
    }
    TrendPanel Sparkline {
        width: 24;
        margin-right: 2;
    }
    TrendPanel .trend-rise-bad > .sparkline--max-color {
        color: $error;
    }
    TrendPanel .trend-rise-bad > .sparkline--min-color {
        color: $success 60%;
    }
    TrendPanel .trend-rise-good > .sparkline--max-color {
        color: $success;
    }
    TrendPanel .trend-rise-good > .sparkline--min-color {
        color: $error 60%;
    }
    TrendPanel .trend-value {
        width: 1fr;
    }
    """

    @dataclass
    class Loaded(Message):
        """The worker finished computing the trend."""

        trends: Trends

    @dataclass
    class Failed(Message):
        reason: str

    def __init__(self, *, weeks: int = 8, id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self.weeks = weeks
        self.trends: Trends | None = None

    def compose(self) -> ComposeResult:
        yield Label(f"Trend, last {self.weeks} weeks: loading…", classes="trend-title", markup=False)
        for name, (label, rise_bad) in SERIES.items():
            with Horizontal(classes="trend-row", id=f"trend-{name}"):
                yield Label(label, classes="trend-name", markup=False)
                yield Sparkline([], classes="trend-rise-bad" if rise_bad else "trend-rise-good")
                yield Label("", classes="trend-value", markup=False)

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Recompute the trend (after a change, or when the screen comes back)."""
        self._compute(self.app.now(), self.weeks, dict(self.app.team.settings))

    @work(thread=True, exclusive=True, group="trends")
    def _compute(self, now, weeks: int, settings: dict[str, str]) -> None:
        try:
            # a connection of its own: the UI thread keeps using app.store meanwhile
            with self.app.reader() as store:
                trends = recorded_trends(store, now, weeks, settings=settings)
        except Exception as error:  # a trend is never worth a crash of the home screen
            self.post_message(self.Failed(f"trend unavailable: {error}"))
            return
        self.post_message(self.Loaded(trends))

    @on(Loaded)
    def _show(self, message: Loaded) -> None:
        message.stop()
        trends = self.trends = message.trends
        first, last = trends.weeks[0].week, trends.weeks[-1].week
        self.query_one(".trend-title", Label).update(f"Trend, last {len(trends.weeks)} weeks ({first} – {last})")
        for name in SERIES:
            row = self.query_one(f"#trend-{name}")
            values = [v if v is not None else 0 for v in trends.series(name)]
            row.query_one(Sparkline).data = values
            row.query_one(".trend-value", Label).update(describe(trends, name))

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        message.stop()
        self.query_one(".trend-title", Label).update(message.reason)

