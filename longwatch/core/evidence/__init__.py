"""Handing footage over so that a court or an insurer can check it without us (docs/export.md).

``export`` writes the signed evidence export, ``report`` its REPORT.pdf,
``pdf`` the shared PDF writer with an embedded Korean font, ``shares`` the
expiring download links, and ``tasks`` the export job.
"""
