"""``python tests/frozen_longwatch.py WHEN ARGS...``: the longwatch command with its clock stopped at WHEN.

For tests that run a command in a subprocess (to kill it at a fault point) at a
time other than now. Production has no way to move the clock; this script
replaces the clock's source in its own process only, as the ``frozen_clock``
fixture does in-process.
"""

import sys

from longwatch import clock
from longwatch.cli import main

if __name__ == "__main__":
    fixed = clock.parse_time(sys.argv[1])
    clock._source = lambda: fixed
    sys.argv = ["longwatch", *sys.argv[2:]]
    main()
