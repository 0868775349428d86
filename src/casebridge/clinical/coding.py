"""Codes as received: CodeableConcepts reduced to lists of codings, never re-typed. Pure Python.

Encounter classes follow HL7 v3 ActCode (the FHIR R4 Encounter.class value set) and the
codes Synthea writes; an HL7 v2 feed maps PV1-2 patient class onto the same classes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"
CPT = "http://www.ama-assn.org/go/cpt"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"

Coding = dict[str, str]

# Preferred order when one code must stand for a concept (diagnoses: ICD-10-CM first, as billed).
PREFERRED_SYSTEMS = (ICD10CM, SNOMED, CPT, RXNORM, LOINC)


class EncounterClass:
    INPATIENT = "inpatient"
    EMERGENCY = "emergency"
    OBSERVATION = "observation"
    HOME_HEALTH = "home_health"
    AMBULATORY = "ambulatory"
    VIRTUAL = "virtual"
    OTHER = "other"

    CHOICES = [
        (INPATIENT, "Inpatient"),
        (EMERGENCY, "Emergency"),
        (OBSERVATION, "Observation"),
        (HOME_HEALTH, "Home health"),
        (AMBULATORY, "Ambulatory"),
        (VIRTUAL, "Virtual"),
        (OTHER, "Other"),
    ]
    VALUES = frozenset(v for v, _ in CHOICES)


# v3 ActCode (R4 Encounter.class), with the legacy/Synthea spellings seen in the wild.
_CLASS_BY_CODE = {
    "IMP": EncounterClass.INPATIENT,
    "ACUTE": EncounterClass.INPATIENT,
    "NONAC": EncounterClass.INPATIENT,
    "INPATIENT": EncounterClass.INPATIENT,
    "EMER": EncounterClass.EMERGENCY,
    "EMERGENCY": EncounterClass.EMERGENCY,
    "OBSENC": EncounterClass.OBSERVATION,
    "OBS": EncounterClass.OBSERVATION,
    "OBSERVATION": EncounterClass.OBSERVATION,
    "HH": EncounterClass.HOME_HEALTH,
    "HOME": EncounterClass.HOME_HEALTH,
    "HOMEHEALTH": EncounterClass.HOME_HEALTH,
    "AMB": EncounterClass.AMBULATORY,
    "AMBULATORY": EncounterClass.AMBULATORY,
    "OUTPATIENT": EncounterClass.AMBULATORY,
    "WELLNESS": EncounterClass.AMBULATORY,
    "URGENTCARE": EncounterClass.AMBULATORY,
    "FLD": EncounterClass.AMBULATORY,
    "SS": EncounterClass.AMBULATORY,
    "PRENC": EncounterClass.AMBULATORY,
    "VR": EncounterClass.VIRTUAL,
    "VIRTUAL": EncounterClass.VIRTUAL,
}

# HL7 v2 table 0004 (PV1-2 patient class), for the ADT feed.
_CLASS_BY_V2 = {
    "I": EncounterClass.INPATIENT,
    "E": EncounterClass.EMERGENCY,
    "O": EncounterClass.AMBULATORY,
    "P": EncounterClass.AMBULATORY,
    "R": EncounterClass.AMBULATORY,
    "B": EncounterClass.AMBULATORY,
    "C": EncounterClass.AMBULATORY,
    "N": EncounterClass.OTHER,
    "U": EncounterClass.OTHER,
}

# HL7 v2 PV1-18 patient type (user-defined table 0018): the values interface specifications use for a
# patient in observation. PV1-2 cannot say it: table 0004 has no observation class, so an observation
# stay comes as an outpatient ("O"), sometimes as "E" or "I", with its patient type telling the truth.
# Observation is what the two-midnight benchmark and the MOON notice turn on, so it must not read as
# ambulatory.
V2_OBSERVATION_PATIENT_TYPES = frozenset({"OBS", "OBSERVATION", "OBV", "OBSV"})

# Classes that are hospital admissions (a bed or an observation stay) and may open a hospital case.
ADMISSION_CLASSES = frozenset({EncounterClass.INPATIENT, EncounterClass.OBSERVATION})

# FHIR R4 EncounterStatus
ENCOUNTER_STATUSES = frozenset(
    {"planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled", "entered-in-error", "unknown"}
)
ENCOUNTER_OPEN_STATUSES = frozenset({"planned", "arrived", "triaged", "in-progress", "onleave"})


def encounter_class_of(code: str | None) -> str:
    """Our encounter class for a v3 ActCode (or Synthea's spelling of one); OTHER when unknown."""
    if not code:
        return EncounterClass.OTHER
    key = code.strip().upper().replace("-", "").replace("_", "").replace(" ", "")
    return _CLASS_BY_CODE.get(key, EncounterClass.OTHER)


def encounter_class_of_v2(patient_class: str | None, patient_type: str | None = "") -> str:
    """The encounter class of PV1-2 (patient class), unless PV1-18 (patient type) marks observation."""
    if (patient_type or "").strip().upper() in V2_OBSERVATION_PATIENT_TYPES:
        return EncounterClass.OBSERVATION
    return _CLASS_BY_V2.get((patient_class or "").strip().upper(), EncounterClass.OTHER)


def coding(system: Any, code: Any, display: Any = "") -> Coding:
    return {"system": str(system or ""), "code": str(code or ""), "display": str(display or "")}


def codings_of(concept: Mapping[str, Any] | None) -> list[Coding]:
    """All codings of a CodeableConcept, as sent; a text-only concept becomes one code-less coding."""
    if not concept:
        return []
    out = [
        coding(c.get("system"), c.get("code"), c.get("display"))
        for c in concept.get("coding") or ()
        if c.get("code") or c.get("display")
    ]
    if not out and concept.get("text"):
        out.append(coding("", "", concept["text"]))
    return out


def codings_of_all(concepts: Iterable[Mapping[str, Any]] | None) -> list[Coding]:
    out: list[Coding] = []
    for concept in concepts or ():
        out.extend(codings_of(concept))
    return out


def primary(codings: list[Coding]) -> Coding:
    """The coding to index and show: the first in a preferred system, else the first coded one."""
    for system in PREFERRED_SYSTEMS:
        for c in codings:
            if c["system"] == system and c["code"]:
                return c
    for c in codings:
        if c["code"]:
            return c
    return codings[0] if codings else coding("", "", "")


def first_code(concept: Mapping[str, Any] | None) -> str:
    """The first code of a CodeableConcept (status-like concepts such as Condition.clinicalStatus)."""
    for c in (concept or {}).get("coding") or ():
        if c.get("code"):
            return str(c["code"])
    return ""


def code_matches(code: str, listed: Iterable[str]) -> bool:
    """``code`` is one of ``listed``, or falls under a listed ICD-10-CM category ("I50" covers "I50.9").

    Only entries that start with a letter (ICD-10-CM) match as prefixes; SNOMED CT codes are
    opaque numbers whose prefixes mean nothing, so they match exactly.
    """
    code = code.strip().upper()
    if not code:
        return False
    for entry in listed:
        entry = entry.strip().upper()
        if not entry:
            continue
        if code == entry:
            return True
        if entry[0].isalpha() and code.replace(".", "").startswith(entry.replace(".", "")):
            return True
    return False
