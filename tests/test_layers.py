"""The layers are checked, not hoped for: the core (every opsweek module outside
opsweek.tui and opsweek.cli) never imports the TUI, the CLI or Textual, and the TUI never
imports the CLI. The contracts live in pyproject.toml under [tool.importlinter]; here
import-linter runs them on the package, and on a copy of it with one bad import added, to
show that each kind of breach fails (a core module added later included)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import opsweek

PACKAGE = Path(opsweek.__file__).resolve().parent
ROOT = PACKAGE.parent
LINT = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"


def lint_imports(project: Path) -> subprocess.CompletedProcess:
    """import-linter with this interpreter, on the ``opsweek`` package found in ``project``."""
    env = {**os.environ, "PYTHONPATH": str(project)}
    return subprocess.run([sys.executable, "-c", LINT, "--no-cache"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_package_keeps_every_layer_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


BREACHES = {
    "a core module imports the CLI": ("clock.py", "from opsweek.cli import output\n",
                                      "opsweek.clock -> opsweek.cli.output"),
    "a core module added later imports the TUI": ("later_rule.py", "import opsweek.tui.app\n",
                                                  "opsweek.later_rule -> opsweek.tui.app"),
    "the TUI imports the CLI": ("tui/app.py", "import opsweek.cli.main\n",
                                "opsweek.tui.app -> opsweek.cli.main"),
    "a core module imports Textual inside a function": (
        "later_rule.py", "def show():\n    from textual.app import App\n    return App\n",
        "opsweek.later_rule -> textual (l.2)"),
}


@pytest.mark.parametrize("breach", list(BREACHES))
def test_a_bad_import_breaks_a_contract(tmp_path, breach):
    module, line, reported = BREACHES[breach]
    shutil.copytree(PACKAGE, tmp_path / "opsweek", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "opsweek" / module
    target.write_text((target.read_text(encoding="utf-8") if target.exists() else "") + line,
                      encoding="utf-8")

    result = lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 broken" in result.stdout and reported in result.stdout, result.stdout
