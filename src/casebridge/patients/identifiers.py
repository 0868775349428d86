"""Identifier formats, and which patient an incoming identifier names. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Iterable

# CMS Medicare Beneficiary Identifier format (cms.gov "Understanding the MBI"):
# 11 characters; positions 2, 5, 8, 9 are letters; 1 is 1-9; 4, 7, 10, 11 are digits;
# 3 and 6 are a letter or digit. Letters S, L, O, I, B, Z are never used.
_L = "AC-HJKMNP-RT-Y"
_MBI = re.compile(rf"^[1-9][{_L}][0-9{_L}][0-9][{_L}][0-9{_L}][0-9][{_L}][{_L}][0-9][0-9]$")


def normalize_mbi(value: str) -> str:
    return value.replace("-", "").replace(" ", "").upper()


def mbi_is_valid(value: str) -> bool:
    return bool(_MBI.match(normalize_mbi(value)))


class AmbiguousIdentifier(ValueError):
    """An identifier without a system (or matched against ones stored without) that several patients hold."""

    def __init__(self, patient_ids: list[int]) -> None:
        super().__init__(f"{len(patient_ids)} patients hold it")
        self.patient_ids = patient_ids


def identifier_holder(system: str, held: Iterable[tuple[str, int]]) -> int | None:
    """The patient an incoming identifier names, given the stored identifiers of the same kind and
    value in the organization as (system, patient id) pairs.

    The same value under another system is another number space (two facilities' MRNs may both be
    100234), so the identifier with the same system wins. Failing that, a side without a system says
    nothing about the number space: it names the one patient holding the value where the other side's
    system is unknown too, and when several could be meant, guessing would merge two people's records,
    so it raises ``AmbiguousIdentifier``. None when no stored identifier can be this one."""
    pairs = list(held)
    for stored_system, patient_id in pairs:
        if stored_system == system:
            return patient_id
    candidates = sorted({patient_id for stored_system, patient_id in pairs if not stored_system or not system})
    if len(candidates) > 1:
        raise AmbiguousIdentifier(candidates)
    return candidates[0] if candidates else None
