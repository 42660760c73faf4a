"""Making packages: originals and everything derived from them (docs/concepts.md).

``ingest`` is the pipeline (one streaming pass, probe, metadata, bag, sign),
``publish`` the atomic publish and what follows it (catalog, copies, ledger)
with crash recovery, ``derive`` the shared path of derived packages,
``windows`` and ``redact`` two kinds of them, ``gaps`` recording gaps in
continuous recording, ``reindex`` rebuilding the catalog from storage, and
``tasks`` their jobs.
"""
