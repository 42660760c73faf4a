"""Old import paths kept for one release after the 0.2 layout, each with a DeprecationWarning.

Third-party plugins written against 0.1 imported ``longwatch.core.ingest``,
``longwatch.core.media`` and their neighbours. Each old module is now a thin
file whose module ``__getattr__`` (PEP 562) is made here: it finds the name in
its new home, warns once per access with the path to use instead, and
forwards. Nothing inside longwatch uses these paths (the test suite turns the
warning into an error). They go in 0.3.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Iterable
from typing import Any


def moved(old: str, new: str | Iterable[str], names: Iterable[str] | None = None) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``old`` that forwards to the first of ``new`` holding the name.

    ``names`` limits it to the old module's public names: needed where ``old``
    is now a package, whose submodules Python looks up through the same hook.
    """
    homes = [new] if isinstance(new, str) else list(new)
    allowed = set(names) if names is not None else None

    def __getattr__(name: str) -> Any:
        if name.startswith("__") or (allowed is not None and name not in allowed):
            raise AttributeError(f"module {old!r} has no attribute {name!r}")
        for home in homes:
            module = importlib.import_module(home)
            if hasattr(module, name):
                warnings.warn(f"{old}.{name} moved to {home}.{name}; the old path goes in longwatch 0.3",
                              DeprecationWarning, stacklevel=2)
                return getattr(module, name)
        raise AttributeError(f"module {old!r} has no attribute {name!r}")

    return __getattr__
