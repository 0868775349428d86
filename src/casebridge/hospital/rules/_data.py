"""Reads the data files shipped in this package (tables transcribed from their sources)."""

from __future__ import annotations

import csv
import json
from importlib import resources
from typing import Any


def read_text(name: str) -> str:
    return resources.files("casebridge.hospital.rules").joinpath("data", name).read_text(encoding="utf-8")


def read_csv(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(read_text(name).splitlines()))


def read_json(name: str) -> Any:
    return json.loads(read_text(name))
