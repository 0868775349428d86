"""CaseBridge records as FHIR R4 resources, and patients and cases as FHIR Bundles.

Every resource is validated with fhir.resources' R4B models (they read and validate R4) before it
leaves CaseBridge. A resource that does not validate is a bug in a mapper, never the user's fault.
"""
