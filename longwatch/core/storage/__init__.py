"""Storage locations on top of the adapters (docs/storage.md).

``policy`` says how many copies where, ``copies`` records copies and checks
one, ``replicate`` makes the policy's copies, ``audit`` re-reads and repairs,
``tiers`` moves packages between hot and cold locations, ``caps`` enforces
size caps and reserves, ``locks`` applies object lock on stores (asking the
records feature what protects a package through hooks), and ``tasks`` their
jobs. Nothing here imports a feature.
"""
