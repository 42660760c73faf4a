"""Deprecated since 0.2: use :mod:`longwatch.core.preservation.ingest` (publishing: ``publish``).

This path goes in 0.3 (see longwatch/_compat.py).
"""

from longwatch._compat import moved

__getattr__ = moved(__name__, ("longwatch.core.preservation.ingest", "longwatch.core.preservation.publish",
                                 "longwatch.clock"))
