"""The SQLite store: no Textual, and only the standard library on import."""

from opsweek.store.db import Change, Store, TooSlow, resolve_db_path

__all__ = ["Change", "Store", "TooSlow", "resolve_db_path"]
