"""Where the shared external test data lives; tests read it in place and never write there."""

from pathlib import Path

DATA = Path("/work/shared/data/fhir")
BULK = DATA / "synthea-10-bulk"
BUNDLES = DATA / "synthea-bundles"
