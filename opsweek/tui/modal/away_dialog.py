"""Mark someone away: from and to, typed as people type dates (empty "from": today; empty
"to": until they are back)."""

from __future__ import annotations

from opsweek import clock, inputs
from opsweek.tui.modal.form_dialog import FormDialog, FormField


def away_period(values: dict):
    """``(start, end)`` from the typed dates (raises InputError with the accepted forms)."""
    start = clock.parse_date(values.get("start") or "today", "from")
    end = clock.parse_date(values["end"], "to") if values.get("end") else None
    return inputs.check_away_period(start, end)


def _check(values: dict) -> None:
    away_period(values)
    return None


class AwayDialog(FormDialog):
    """Dismisses with ``{start, end}`` as typed (check them with :func:`away_period`), or None."""

    def __init__(self, handle: str, name: str):
        fields = [
            FormField("start", "From (empty: today)", "", "today, 2026-12-01, 1 Dec, +3d, fri"),
            FormField("end", "To (empty: until they are back)", "", "2026-12-05, 5 Dec, +1w, fri"),
        ]
        super().__init__(f"{name} ({handle}) is away", fields, check=_check,
                         about="periods that overlap or touch one already there merge with it",
                         dialog_id="away-dialog")
