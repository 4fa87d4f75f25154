"""The eight steps of the weekly session (``opsweek.agenda``), one widget each."""
