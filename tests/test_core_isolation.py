"""The core never imports Textual, and the quick paths import neither pydantic nor
sqlite-utils (each checked in a fresh interpreter, so nothing else has loaded them)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

HEAVY = ("textual", "pydantic", "sqlite_utils", "rich")


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


CORE = ["opsweek.store", "opsweek.store.db", "opsweek.store.read", "opsweek.store.changes",
        "opsweek.store.schema", "opsweek.rules", "opsweek.clock", "opsweek.model", "opsweek.importing",
        "opsweek.demo", "opsweek.agenda", "opsweek.text", "opsweek.errors", "opsweek.cli.main", "opsweek.files"]
OPTIONAL = ["opsweek.notes", "opsweek.dump"]  # later issues; checked once they exist


def test_the_core_never_imports_textual():
    modules = CORE + [m for m in OPTIONAL if importlib.util.find_spec(m) is not None]
    assert loaded_after_importing(*modules)["textual"] is False


@pytest.mark.parametrize("module", [m for m in OPTIONAL])
def test_later_core_modules_never_import_textual(module):
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} does not exist yet")
    assert loaded_after_importing(module)["textual"] is False


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
