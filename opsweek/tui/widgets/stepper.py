"""The session's agenda: every step with its count and the time spent against its target."""

from __future__ import annotations

from dataclasses import dataclass

from textual.content import Content
from textual.widgets import Static


@dataclass(frozen=True)
class StepLine:
    number: int
    title: str
    count: str
    seconds: int
    target_minutes: int
    current: bool


def minutes(seconds: int) -> str:
    """``12:05`` — minutes and seconds spent."""
    return f"{seconds // 60}:{seconds % 60:02d}"


class Stepper(Static):
    """Renders the agenda; the session screen feeds it with :meth:`show_steps`.

    ``compact`` (a narrow terminal): numbers and counts only, one line a step ("3 Stuck
    7/22" becomes "3 7/22"), the time over target still marked, so the step gets the room.
    """

    compact = False
    lines_shown = -1  # how many lines the stepper has (a new layout only when that changes)

    def show(self, content: Content) -> None:
        """Draw ``content``; its column has a fixed width, so the screen is laid out again
        only when the height it needs there changes (the clock ticks every second)."""
        width = self.parent.content_size.width if self.parent is not None else 0
        lines = content.get_height(self.styles, width) if width else -1  # a wrapped line counts
        self.update(content, layout=lines < 0 or lines != self.lines_shown)
        self.lines_shown = lines

    def show_steps(self, lines: list[StepLine], total_seconds: int, total_target: int) -> None:
        if self.compact:
            self.show(self.compact_lines(lines, total_seconds, total_target))
            return
        parts: list = []
        for line in lines:
            over = line.seconds > line.target_minutes * 60
            marker = "▶ " if line.current else "  "
            title_style = "bold reverse" if line.current else "bold" if line.count not in ("", "0") else ""
            parts.append((f"{marker}{line.number} ", "bold" if line.current else "dim"))
            parts.append((f"{line.title:<19}", title_style))
            parts.append((f"{line.count:>6}", "bold $accent" if line.count not in ("", "0") else "dim"))
            parts.append("\n      ")
            parts.append((minutes(line.seconds), "bold $error" if over else "$text-muted"))
            parts.append((f" / {line.target_minutes}m", "$text-muted"))
            if over:
                parts.append(("  over", "bold $error"))
            parts.append("\n")
        over = total_seconds > total_target * 60
        parts.append(("\n  total ", "dim"))
        parts.append((minutes(total_seconds), "bold $error" if over else "bold"))
        parts.append((f" / {total_target}m", "dim"))
        self.show(Content.assemble(*parts))

    @staticmethod
    def compact_lines(lines: list[StepLine], total_seconds: int, total_target: int) -> Content:
        parts: list = []
        for line in lines:
            over = line.seconds > line.target_minutes * 60
            parts.append((f"{'▶' if line.current else ' '}{line.number}", "bold reverse" if line.current else "dim"))
            parts.append((f" {line.count:<9}"[:10], "bold $accent" if line.count not in ("", "0") else "dim"))
            parts.append(("!" if over else " ", "bold $error"))
            parts.append("\n")
        over = total_seconds > total_target * 60
        parts.append(("\n" + minutes(total_seconds), "bold $error" if over else "bold"))
        parts.append((f"/{total_target}m", "dim"))
        return Content.assemble(*parts)
