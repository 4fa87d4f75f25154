"""Errors that reach a user as one clear line, with the exit code SPEC.md gives them."""


class OpsweekError(Exception):
    """Base: ``str(error)`` is the one line shown; ``exit_code`` what the process returns."""

    exit_code = 2


class InputError(OpsweekError):
    """Bad usage or bad input: says what was wrong and what is accepted (exit 2)."""

    exit_code = 2


class NotFound(InputError):
    """An unknown item, person, stage, workflow, handoff or meeting (exit 2)."""


class DatabaseUnusable(OpsweekError):
    """Corrupt, locked past the timeout, or written by a newer opsweek (exit 3)."""

    exit_code = 3
