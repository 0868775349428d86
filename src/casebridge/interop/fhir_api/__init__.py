"""The FHIR R4 REST API at /fhir/r4: CapabilityStatement, read, search and Patient/$everything.

Plain Django views (not ninja) so every answer, errors included, is ``application/fhir+json``; the
bearer tokens, organization scoping and audit are the REST API's own.
"""
