"""``python -m longwatch``: the ``longwatch`` command (the benchmarks run a checkout's code this way)."""

from longwatch.cli import main

main()
