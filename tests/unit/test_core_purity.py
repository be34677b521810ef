"""The domain core does no I/O: checkout_saga/ and events/ import only the standard library,
msgspec and each other."""

from __future__ import annotations

import ast
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
ALLOWED_THIRD_PARTY = {"msgspec"}
FORBIDDEN_STDLIB = {"socket", "sqlite3", "http", "urllib", "subprocess", "requests"}


def imported_roots(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text())
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_core_imports_nothing_from_adapters_frameworks_or_io():
    offenders = {}
    for package in ("checkout_saga", "events"):
        for path in (ROOT / package).rglob("*.py"):
            roots = imported_roots(path) - {"checkout_saga", "events", "__future__"}
            bad = {r for r in roots if (r not in sys.stdlib_module_names and r not in ALLOWED_THIRD_PARTY)
                   or r in FORBIDDEN_STDLIB}
            if bad:
                offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}
