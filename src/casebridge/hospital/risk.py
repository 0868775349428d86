"""Readmission risk of a stay, computed from the clinical record with the published scores in ``rules``.

This module only gathers each input from the record and names where it came from; the points
are the pure rules' (LACE: van Walraven CMAJ 2010; HOSPITAL: Donzé JAMA Intern Med 2013;
Charlson: 1987 weights with the Quan 2005 ICD-10 map and the SNOMED CT map as data). An input the
record does not hold is passed as None, so the score reports it missing instead of counting 0.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils import timezone

from casebridge.clinical.coding import EncounterClass
from casebridge.clinical.models import Condition, Encounter, Observation, Procedure
from casebridge.hospital.rules.charlson import CharlsonResult, charlson_index
from casebridge.hospital.rules.hospital_score import hospital_score
from casebridge.hospital.rules.lace import lace_score
from casebridge.hospital.rules.scoring import Score, length_of_stay_days

HEMOGLOBIN_LOINC = ("718-7", "20509-6", "30313-1", "30350-3", "30351-1", "30352-9")
SODIUM_LOINC = ("2951-2", "2947-0", "32717-1")
# Admission sources read as an emergent admission: FHIR admit-source "emd", UB-04 point of origin 7 (ED).
EMERGENT_ADMIT_SOURCES = frozenset({"emd", "7", "er", "emer", "emergency"})
ED_LOOKBACK = dt.timedelta(days=182)  # LACE "E": ED visits in the previous 6 months
ADMISSION_LOOKBACK = dt.timedelta(days=365)  # HOSPITAL "A": admissions in the previous 12 months
ED_TO_ADMISSION = dt.timedelta(hours=24)  # an ED visit ending this close before admission made it emergent
EXCLUDED_STATUSES = ("entered-in-error", "cancelled")


@dataclass(frozen=True)
class StayRisk:
    lace: Score
    hospital: Score
    charlson: CharlsonResult | None

    @property
    def band(self) -> str:
        """The census band: the higher of the two complete scores' bands; "unknown" if neither is complete."""
        order = {"low": 0, "moderate": 1, "high": 2}
        bands = [
            b
            for b in (self.lace.band, {"intermediate": "moderate"}.get(self.hospital.band or "", self.hospital.band))
            if b
        ]
        return max(bands, key=order.__getitem__) if bands else "unknown"


def _aware_end(encounter: Encounter, now: dt.datetime) -> dt.datetime:
    return encounter.discharge_at or now


def _lab(
    encounter: Encounter, codes: tuple[str, ...], end: dt.datetime, *, per_litre_divisor: float | None
) -> tuple[float | None, str]:
    """The latest result during the stay: the value "at discharge" (so far, while the patient is in)."""
    assert encounter.admit_at is not None
    obs = (
        Observation.objects.filter(patient_id=encounter.patient_id, code__in=codes, value_quantity__isnull=False)
        .filter(effective_at__gte=encounter.admit_at, effective_at__lte=end)
        .exclude(status__in=EXCLUDED_STATUSES)
        .order_by("-effective_at", "-pk")
        .first()
    )
    if obs is None:
        return None, f"no result during the stay (LOINC {', '.join(codes)})"
    value = obs.value_quantity
    unit = (obs.value_unit or "").strip()
    assert value is not None
    if per_litre_divisor is not None and unit.lower() == "g/l":
        value = value / per_litre_divisor
        unit = "g/dL (converted from g/L)"
    when = timezone.localtime(obs.effective_at).strftime("%m/%d %H:%M") if obs.effective_at else "undated"
    return (
        value,
        f"Observation {obs.pk}: {obs.display or obs.code} {obs.value_quantity:g} {obs.value_unit} on {when}".strip()
        + (f" ({unit})" if "converted" in unit else ""),
    )


def _history_on_record(encounter: Encounter, index_ed: int | None) -> bool:
    """Whether the organization holds any of the patient's encounters before this one. Without any,
    a count of prior visits would be a guess, so it is reported missing rather than 0."""
    assert encounter.admit_at is not None
    return (
        Encounter.objects.filter(patient_id=encounter.patient_id, admit_at__lt=encounter.admit_at)
        .exclude(pk__in=[encounter.pk, index_ed or 0])
        .exists()
    )


def _count_prior(
    encounter: Encounter, encounter_class: str, window: dt.timedelta, exclude: int | None = None
) -> tuple[int, list[int]]:
    assert encounter.admit_at is not None
    ids = list(
        Encounter.objects.filter(
            patient_id=encounter.patient_id,
            encounter_class=encounter_class,
            admit_at__gte=encounter.admit_at - window,
            admit_at__lt=encounter.admit_at,
        )
        .exclude(pk__in=[encounter.pk, exclude or 0])
        .exclude(status__in=EXCLUDED_STATUSES)
        .values_list("pk", flat=True)
    )
    return len(ids), ids


def _emergent(encounter: Encounter) -> tuple[bool | None, str, int | None]:
    """Whether the admission was emergent, why, and the ED visit that led to it (not counted in LACE "E")."""
    assert encounter.admit_at is not None
    ed = (
        Encounter.objects.filter(
            patient_id=encounter.patient_id,
            encounter_class=EncounterClass.EMERGENCY,
            admit_at__lte=encounter.admit_at,
        )
        .filter(Q(discharge_at__isnull=True) | Q(discharge_at__gte=encounter.admit_at - ED_TO_ADMISSION))
        .filter(admit_at__gte=encounter.admit_at - dt.timedelta(days=2))
        .exclude(pk=encounter.pk)
        .order_by("-admit_at")
        .first()
    )
    if ed is not None:
        when = timezone.localtime(ed.admit_at) if ed.admit_at else None
        return True, f"ED Encounter {ed.pk} on {when:%m/%d %H:%M} led to the admission", ed.pk
    source = encounter.admission_source or {}
    code = str(source.get("code", "")).strip().lower()
    if code:
        label = source.get("display") or code
        return code in EMERGENT_ADMIT_SOURCES, f"Encounter {encounter.pk} admission source: {label}", None
    return None, "no ED visit before the admission and no admission source recorded", None


def _charlson(encounter: Encounter, end: dt.datetime) -> tuple[int | None, str, CharlsonResult | None]:
    rows = list(
        Condition.objects.filter(patient_id=encounter.patient_id)
        .filter(Q(onset_at__isnull=True) | Q(onset_at__lte=end))
        .exclude(verification_status__in=("refuted", "entered-in-error"))
        .exclude(clinical_status="entered-in-error")
        .only("pk", "code_system", "code", "codings")
    )
    if not rows:
        return None, "no coded diagnoses on record", None
    codings: list[tuple[str, str]] = []
    for row in rows:
        found = [(str(c.get("system", "")), str(c.get("code", ""))) for c in row.codings or [] if c.get("code")]
        codings.extend(found or [(row.code_system, row.code)])
    result = charlson_index(codings)
    parts = [
        f"{m.label} {'+' + str(m.weight) if m.counted else '(superseded by ' + str(m.superseded_by) + ')'} "
        f"[{', '.join(c.code for c in m.codes[:3])}]"
        for m in result.conditions
    ]
    text = f"{len(rows)} coded diagnoses: " + ("; ".join(parts) if parts else "no Charlson condition")
    if result.unreviewed:
        text += f"; {len(result.unreviewed)} SNOMED CT code(s) not in the map (index may understate)"
    return result.total, text, result


def stay_risk(
    encounter: Encounter, *, now: dt.datetime, expected_discharge_on: dt.date | None = None, discharge_service: str = ""
) -> StayRisk:
    """LACE and HOSPITAL for the stay as of ``now`` (or its discharge)."""
    if encounter.admit_at is None:
        raise ValueError("the encounter has no admission time")
    end = _aware_end(encounter, now)
    admit_day = timezone.localdate(encounter.admit_at)
    if encounter.discharge_at is not None:
        los = length_of_stay_days(admit_day, timezone.localdate(encounter.discharge_at))
        discharged = timezone.localdate(encounter.discharge_at)
        los_source = f"Encounter {encounter.pk}: admitted {admit_day:%m/%d}, discharged {discharged:%m/%d}"
    elif expected_discharge_on is not None and expected_discharge_on >= admit_day:
        los = length_of_stay_days(admit_day, expected_discharge_on)
        los_source = (
            f"Encounter {encounter.pk}: admitted {admit_day:%m/%d}, expected discharge {expected_discharge_on:%m/%d}"
        )
    else:
        los = length_of_stay_days(admit_day, max(admit_day, timezone.localdate(now)))
        los_source = f"Encounter {encounter.pk}: admitted {admit_day:%m/%d}, days so far (no expected discharge date)"

    emergent, emergent_source, index_ed = _emergent(encounter)
    charlson_total, charlson_source, charlson = _charlson(encounter, end)

    has_history = _history_on_record(encounter, index_ed)
    if has_history:
        ed_count, ed_ids = _count_prior(encounter, EncounterClass.EMERGENCY, ED_LOOKBACK, exclude=index_ed)
        ed_source = f"{ed_count} ED encounter(s) in the 6 months before admission" + (
            f": {', '.join(f'Encounter {i}' for i in ed_ids[:5])}" if ed_ids else ""
        )
        adm_count, adm_ids = _count_prior(encounter, EncounterClass.INPATIENT, ADMISSION_LOOKBACK)
        adm_source = f"{adm_count} inpatient admission(s) in the 12 months before" + (
            f": {', '.join(f'Encounter {i}' for i in adm_ids[:5])}" if adm_ids else ""
        )
        ed_value: int | None = ed_count
        adm_value: int | None = adm_count
    else:
        ed_value = adm_value = None
        ed_source = adm_source = "no earlier encounters of the patient on record"

    lace = lace_score(
        length_of_stay_days=los,
        acute_admission=emergent,
        charlson_index=charlson_total,
        ed_visits_previous_6_months=ed_value,
        sources={"L": los_source, "A": emergent_source, "C": charlson_source, "E": ed_source},
    )

    hemoglobin, hgb_source = _lab(encounter, HEMOGLOBIN_LOINC, end, per_litre_divisor=10.0)
    sodium, na_source = _lab(encounter, SODIUM_LOINC, end, per_litre_divisor=None)
    oncology, onc_source = _oncology(encounter, discharge_service)
    procedure, proc_source = _procedure(encounter, end)
    hospital = hospital_score(
        hemoglobin_g_dl=hemoglobin,
        oncology_discharge=oncology,
        sodium_mmol_l=sodium,
        procedure_during_stay=procedure,
        index_admission_urgent=emergent,
        admissions_previous_12_months=adm_value,
        length_of_stay_days=los,
        sources={
            "H": hgb_source,
            "O": onc_source,
            "S": na_source,
            "P": proc_source,
            "I": emergent_source,
            "A": adm_source,
            "L": los_source,
        },
    )
    return StayRisk(lace=lace, hospital=hospital, charlson=charlson)


def _oncology(encounter: Encounter, discharge_service: str) -> tuple[bool | None, str]:
    if discharge_service.strip():
        return "oncolog" in discharge_service.lower(), f"discharge service recorded: {discharge_service}"
    for concept in encounter.types or []:
        text = " ".join(str(v) for v in (concept.values() if isinstance(concept, dict) else [concept]))
        if "oncolog" in text.lower():
            return True, f"Encounter {encounter.pk} type: {text}"
    return None, "discharge service not recorded"


def _procedure(encounter: Encounter, end: dt.datetime) -> tuple[bool | None, str]:
    assert encounter.admit_at is not None
    during = Procedure.objects.filter(patient_id=encounter.patient_id).exclude(
        status__in=("entered-in-error", "not-done")
    )
    during = during.filter(
        Q(encounter_id=encounter.pk) | Q(performed_start__gte=encounter.admit_at, performed_start__lte=end)
    )
    first = during.order_by("performed_start", "pk").first()
    if first is not None:
        return True, f"Procedure {first.pk}: {first.display or first.code}"
    documented = (
        Condition.objects.filter(encounter_id=encounter.pk).exists()
        or Observation.objects.filter(encounter_id=encounter.pk).exists()
    )
    if documented:
        return False, f"no procedure recorded for Encounter {encounter.pk}, whose diagnoses or results are on record"
    return None, f"no clinical documentation of Encounter {encounter.pk} on record"


def score_as_dict(score: Score) -> dict[str, Any]:
    return {
        "name": score.name,
        "total": score.total,
        "band": score.band,
        "missing": list(score.missing),
        "possible_range": list(score.possible_range),
        "components": [
            {
                "key": c.key,
                "label": c.label,
                "value": c.value if isinstance(c.value, (bool, int, float, str)) or c.value is None else str(c.value),
                "points": c.points,
                "max_points": c.max_points,
                "source": c.source,
                "missing": c.missing,
            }
            for c in score.components
        ],
    }
