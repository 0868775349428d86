"""HL7 v2 ADT feed: parsing (python-hl7), event mapping onto the clinical and patient services,
acknowledgements, the idempotency log, and the asyncio MLLP listener.

One message is one transaction: it is applied and logged, committed, and only then acknowledged
(MSA-1 AA). A message that cannot be parsed or applied changes nothing and gets AE or AR with the
reason in MSA-3 and an ERR segment.
"""
