"""The core never imports Textual, and the quick paths import neither pydantic nor
sqlite-utils (each checked in a fresh interpreter, so nothing else has loaded them)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import opsweek

HEAVY = ("textual", "pydantic", "sqlite_utils", "rich")
PACKAGE = Path(opsweek.__file__).resolve().parent


def loaded_after_importing(*modules: str) -> dict[str, bool]:
    code = (
        "import importlib, json, sys\n"
        f"for name in {list(modules)!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps({{m: m in sys.modules for m in {list(HEAVY)!r}}}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def core_modules() -> list[str]:
    """Every opsweek module outside opsweek.tui and opsweek.cli, found on disk, so a core
    module added later is checked without being listed (``__main__`` runs the CLI)."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[1] in ("tui", "cli") or parts[-1] == "__main__":
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


CORE = core_modules()


def test_the_core_and_the_cli_entry_never_import_textual():
    assert {"opsweek.store.read", "opsweek.rules", "opsweek.notes", "opsweek.dump", "opsweek.demo",
            "opsweek.importing", "opsweek.trends"} <= set(CORE)
    assert loaded_after_importing(*CORE, "opsweek.cli.main")["textual"] is False


@pytest.mark.parametrize("module", ["opsweek.store.db", "opsweek.store", "opsweek.rules", "opsweek.clock",
                                    "opsweek.text", "opsweek.errors", "opsweek.agenda", "opsweek.cli.main",
                                    "opsweek.files"])
def test_quick_paths_import_neither_pydantic_nor_sqlite_utils(module):
    loaded = loaded_after_importing(module)
    assert loaded == {name: False for name in HEAVY}, loaded


def test_opening_an_existing_database_does_not_import_sqlite_utils(tmp_path):
    """The schema check is one query; sqlite-utils is needed only to migrate."""
    from opsweek.store import Store

    path = tmp_path / "quick.db"
    Store.open(path, create=True).close()
    code = (
        "import json, sys\n"
        "from opsweek.store import Store\n"
        f"store = Store.open({str(path)!r})\n"
        "store.scalar('SELECT count(*) FROM items')\n"
        "print(json.dumps(['sqlite_utils' in sys.modules, 'pydantic' in sys.modules]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [False, False]
