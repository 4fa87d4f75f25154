"""The Textual interface: a thin view over ``opsweek.store`` and ``opsweek.rules``."""
