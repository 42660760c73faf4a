"""A public body's duties under PIPA and its everyday uses of footage (docs/public-sector.md).

``access_requests`` carries citizens', insurers', courts' and police
requests with their 10-day clock, ``notice`` the published CCTV notice,
``operation_register`` the CCTV operation register, ``analytics`` the
urban-planning counts, and ``tasks`` their jobs.
"""
