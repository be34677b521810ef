"""Start-up with bad configuration: one line naming the variable, exit 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("variable", "value"), [
    ("CHECKOUT_SAGA_PORT", "not-a-port"),
    ("CHECKOUT_SAGA_DATABASE_URL", "mysql://nope"),
    ("CHECKOUT_SAGA_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/nope"),
    ("CHECKOUT_SAGA_LOG_FORMAT", "xml"),
    ("CHECKOUT_SAGA_WORKERS", "0"),
    ("CHECKOUT_SAGA_WORKERS", "many"),
    ("CHECKOUT_SAGA_TAX_RATE", "ten percent"),
    ("CHECKOUT_SAGA_TAX_RATE", "1.5"),
    ("CHECKOUT_SAGA_SHIPPING_AMOUNT", "4.99"),
    ("CHECKOUT_SAGA_FREE_SHIPPING_OVER", "-1"),
    ("CHECKOUT_SAGA_DEFAULT_CURRENCY", "USD"),
])
def test_bad_configuration_stops_serve_with_one_line_naming_the_variable(tmp_path, variable, value):
    env = {**os.environ, "CHECKOUT_SAGA_DATABASE_URL": f"sqlite:///{tmp_path}/x.db", variable: value}

    done = subprocess.run([sys.executable, "-m", "cli.main", "serve"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)

    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0] and "Traceback" not in done.stderr
