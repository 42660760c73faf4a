"""Docs that are generated from code must be in step with it."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_error_codes_page_is_current():
    result = subprocess.run([sys.executable, "scripts/gen_errors_doc.py", "--check"], cwd=ROOT)
    assert result.returncode == 0, "docs/errors.md is stale: run `make docs`"
