"""Ownership gaps as the session lists them: ``read.gaps_count`` and ``read.gaps_page``
(the rule and its SQL: ``opsweek.rules.gaps``)."""

from opsweek.store.read import gaps_count, gaps_page

__all__ = ["gaps_count", "gaps_page"]
