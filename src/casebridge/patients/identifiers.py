"""Identifier formats. Pure functions."""

from __future__ import annotations

import re

# CMS Medicare Beneficiary Identifier format (cms.gov "Understanding the MBI"):
# 11 characters; positions 2, 5, 8, 9 are letters; 1 is 1-9; 4, 7, 10, 11 are digits;
# 3 and 6 are a letter or digit. Letters S, L, O, I, B, Z are never used.
_L = "AC-HJKMNP-RT-Y"
_MBI = re.compile(rf"^[1-9][{_L}][0-9{_L}][0-9][{_L}][0-9{_L}][0-9][{_L}][{_L}][0-9][0-9]$")


def normalize_mbi(value: str) -> str:
    return value.replace("-", "").replace(" ", "").upper()


def mbi_is_valid(value: str) -> bool:
    return bool(_MBI.match(normalize_mbi(value)))
