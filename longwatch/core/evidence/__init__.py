"""Handing footage over so that a court or an insurer can check it without us (docs/export.md).

``request`` says who receives what and why, ``selection`` finds the packages
and gaps for it, ``export`` writes the signed evidence export (its layout in
``bag``), ``verify_export`` checks one, ``report`` writes its REPORT.pdf,
``pdf`` is the shared PDF writer with an embedded Korean font, ``shares``
the expiring download links, and ``tasks`` the export job.
"""
