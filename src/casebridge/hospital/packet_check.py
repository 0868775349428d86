"""The pre-send check of a clinical review packet: what a payer reviewer would miss. Pure Python.

Its purpose is to prevent concurrent denials: each item names what to add before sending.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any


def missing_for_approval(content: Mapping[str, Any]) -> list[dict[str, str]]:
    """Items missing from a packet's content, as {"key", "message"} in the order a reviewer reads."""
    stay = content.get("stay") or {}
    plan = content.get("discharge_plan") or {}
    missing: list[dict[str, str]] = []

    def add(key: str, message: str) -> None:
        missing.append({"key": key, "message": message})

    if not content.get("authorization"):
        add("authorization", "No authorization record for the payer (payer, reference number)")
    elif not (content["authorization"].get("reference_number") or "").strip():
        add("authorization.reference_number", "No authorization reference number")
    if not content.get("diagnoses"):
        add("diagnoses", "No coded diagnoses")
    if stay.get("class") == "inpatient" and not (content.get("complex_factors") or "").strip():
        add(
            "complex_factors",
            "No documented complex medical factors supporting the inpatient order (Two-Midnight, 42 CFR 412.3)",
        )
    if not stay.get("working_drg"):
        add("working_drg", "No working DRG")
    if not content.get("criteria"):
        add("criteria", "No utilization review criteria results")
    if not content.get("vitals"):
        add("vitals", "No vital signs recorded during the stay")
    if not content.get("labs"):
        add("labs", "No lab results recorded during the stay")
    treatments = content.get("treatments") or {}
    if not treatments.get("medications") and not treatments.get("procedures"):
        add("treatments", "No treatments (medications or procedures) recorded")
    if not (content.get("plan") or "").strip():
        add("plan", "No treatment plan")
    expected = stay.get("expected_discharge_on")
    if not expected:
        add("expected_discharge_on", "No expected discharge date")
    elif stay.get("class") == "inpatient" and stay.get("admit_date"):
        expected_midnights = (dt.date.fromisoformat(expected) - dt.date.fromisoformat(stay["admit_date"])).days
        if expected_midnights < 2 and not (content.get("complex_factors") or "").strip():
            add(
                "expected_discharge_on",
                f"Expected discharge crosses {expected_midnights} midnight(s): an inpatient order needs an expected "
                "stay of two midnights or a documented exception",
            )
    if plan.get("evaluation_status") == "required":
        add("discharge_plan", "Discharge planning evaluation not completed (42 CFR 482.43)")
    return missing
