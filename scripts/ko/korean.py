"""Korean for the messages of issue 24 (one vocabulary; numbers, dates and plurals): docs/glossary.md.

A message with a context (``pgettext``) is keyed ``(context, msgid)``; see scripts/update_catalogs.py.
"""

KO = {
    ("analytics grouping", "by"): "집계 단위",
    ("custody event actor", "by"): "수행자",
    ("calendar", "month"): "월",
}
