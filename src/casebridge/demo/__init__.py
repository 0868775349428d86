"""Deterministic demo and benchmark data for ``casebridge demo``.

``builder.build_demo`` is the entry point. The modules split the work:

- ``people``: names, addresses, phone numbers, languages (pure data and a seeded generator)
- ``numbers``: valid NPIs and Medicare Beneficiary Identifiers
- ``directory``: the demo organizations and the documented demo users
- ``casepaths``: legal status paths that take a new case to each status
- ``story``: the default demo, built through the services so audit and history are real
- ``bulk``: the large benchmark dataset, written with ``bulk_create``
- ``enrichers``: the extension point for packages that add their own demo records
"""
