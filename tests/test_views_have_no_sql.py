"""Screens and commands are thin views: they call the read layer's named queries and the
core's changes, and never hold SQL or touch the connection themselves (issue 9)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "opsweek"
VIEWS = sorted([*ROOT.joinpath("tui").rglob("*.py"), *ROOT.joinpath("cli").rglob("*.py")])
SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\b|\bIS (NOT )?NULL\b|\s=\s\?|\bIN \(")
STORE_CALLS = {"query", "scalar", "one", "conn", "execute", "transaction"}


def _receiver(node: ast.AST) -> str:
    return ast.unparse(node)


def _problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
            found.append(f"{path.relative_to(ROOT.parent)}:{node.lineno}: SQL text {node.value[:60]!r}")
        if isinstance(node, ast.Attribute) and node.attr in STORE_CALLS:
            receiver = _receiver(node.value)
            if receiver.endswith("store") or receiver.endswith(".conn"):
                found.append(f"{path.relative_to(ROOT.parent)}:{node.lineno}: {receiver}.{node.attr}")
    return found


def test_the_check_sees_sql_and_store_calls(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('rows = app.store.query("SELECT id FROM items WHERE owner = ?", ("ana",))\n'
                   'self.query("DataTable")\n')
    problems = _problems_at(bad)
    assert len(problems) == 2
    assert any("SQL text 'SELECT id FROM items" in p for p in problems)
    assert any(p.endswith("app.store.query") for p in problems)


def _problems_at(path: Path) -> list[str]:
    global ROOT
    saved, ROOT = ROOT, path.parent
    try:
        return _problems(path)
    finally:
        ROOT = saved


@pytest.mark.parametrize("path", VIEWS, ids=lambda p: str(p.relative_to(ROOT)))
def test_views_hold_no_sql(path):
    assert _problems(path) == []


def test_there_are_views_to_check():
    assert len(VIEWS) > 20
