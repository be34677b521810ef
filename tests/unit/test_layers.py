"""The layer contracts of pyproject.toml ([tool.importlinter]) hold: entry points and the API on
top, then the composition root, the application layer, the read side, the adapters, and the
pure domain core; the Stripe emulator and the product import nothing of each other."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_import_linter_contract_is_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")

    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
