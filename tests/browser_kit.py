"""What every browser test shares: Debian's Chromium (never a downloaded browser), its flags, the artifacts folder.

The flags keep Chromium off the network it would otherwise reach for (updates,
sync, background requests), which this machine refuses, and let it run as root
in CI. Screenshots go to ``tests/artifacts/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
MARKS = [pytest.mark.browser, pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is missing")]
