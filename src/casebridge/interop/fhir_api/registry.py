"""The resource types /fhir/r4 serves, their interactions and search parameters: one table that the
router, the search and the CapabilityStatement all read, so what is advertised is what answers."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils.module_loading import import_string

from casebridge.cases.domain import FHIR_STATUS, TERMINAL
from casebridge.cases.models import CareTeamMember
from casebridge.interop.fhir_api.search_params import DateCriterion, ParamSpec, ReferenceValue, SearchError, Token
from casebridge.interop.fhir_export import ids
from casebridge.interop.fhir_export.mappers import MBI_SYSTEM
from casebridge.interop.fhir_export.resources import EXPORT_TYPES, LAST_UPDATED, ExportType
from casebridge.kernel.numbers import whole_number
from casebridge.patients.models import IdentifierKind, PatientIdentifier

# The importer's view for POST of a transaction or batch Bundle at the base URL (it authenticates the
# bearer token itself). Looked up by name so the read API does not depend on the importer; the base
# URL answers POST, and the CapabilityStatement lists transaction and batch, only when it is there.
BUNDLE_HANDLER = "casebridge.interop.api.fhir_base"

NOTHING = Q(pk__in=[])


@dataclass(frozen=True)
class SearchParam:
    name: str
    type: str  # token, reference, date
    documentation: str
    to_q: Callable[[list[Any]], Q]  # the alternatives of one occurrence -> a filter
    targets: tuple[str, ...] = ()
    definition: str = ""

    @property
    def spec(self) -> ParamSpec:
        return ParamSpec(type=self.type, targets=self.targets)


@dataclass(frozen=True)
class ApiType:
    export: ExportType
    params: dict[str, SearchParam] = field(default_factory=dict)
    operations: tuple[tuple[str, str], ...] = ()  # (name, OperationDefinition canonical)

    @property
    def name(self) -> str:
        return self.export.resource_type

    def available(self) -> bool:
        return self.export.available()


def _any(qs: list[Q]) -> Q:
    out = NOTHING
    for q in qs:
        out |= q
    return out


# --- common parameters --------------------------------------------------------------------------


def _id_param(kind: str) -> SearchParam:
    def to_q(tokens: list[Token]) -> Q:
        pks = [ids.pk_of(kind, t.code or "") for t in tokens if t.system is None]
        return Q(pk__in=[pk for pk in pks if pk is not None])

    return SearchParam("_id", "token", "Logical id of the resource", to_q,
                       definition="http://hl7.org/fhir/SearchParameter/Resource-id")  # fmt: skip


def _date_q(field_name: str, c: DateCriterion) -> Q:
    if c.prefix == "eq":
        return Q(**{f"{field_name}__gte": c.start, f"{field_name}__lt": c.end})
    if c.prefix == "gt":
        return Q(**{f"{field_name}__gte": c.end})
    if c.prefix == "ge":
        return Q(**{f"{field_name}__gte": c.start})
    if c.prefix == "lt":
        return Q(**{f"{field_name}__lt": c.start})
    return Q(**{f"{field_name}__lt": c.end})  # le


def _last_updated_param() -> SearchParam:
    def to_q(criteria: list[DateCriterion]) -> Q:
        return _any([_date_q(LAST_UPDATED, c) for c in criteria])

    return SearchParam("_lastUpdated", "date", "When the resource last changed (meta.lastUpdated); "
                       "prefixes eq, gt, lt, ge, le", to_q,
                       definition="http://hl7.org/fhir/SearchParameter/Resource-lastUpdated")  # fmt: skip


def _identifier_param(kind: str, extra: Callable[[Token], Q] | None = None) -> SearchParam:
    own_system = ids.system(kind)

    def one(t: Token) -> Q:
        q = NOTHING
        if t.system in (None, own_system) and t.code and (pk := whole_number(t.code)) is not None:
            q |= Q(pk=pk)
        if t.system == own_system and t.code is None:
            q |= ~NOTHING
        if extra is not None:
            q |= extra(t)
        return q

    return SearchParam("identifier", "token", f"An identifier: [system]|[value]; CaseBridge's is {own_system}|<n>",
                       lambda tokens: _any([one(t) for t in tokens]))  # fmt: skip


def _patient_params(field_name: str, *names: str) -> list[SearchParam]:
    def to_q(refs: list[ReferenceValue]) -> Q:
        pks = [ids.pk_of("patient", r.id) for r in refs]
        return Q(**{f"{field_name}__in": [pk for pk in pks if pk is not None]})

    return [
        SearchParam(name, "reference", f"The patient ({name}): Patient/<id>", to_q, targets=("Patient",))
        for name in names
    ]


def _code_param(name: str, allowed: frozenset[str], to_q: Callable[[set[str]], Q], documentation: str) -> SearchParam:
    def checked(tokens: list[Token]) -> Q:
        codes = set()
        for t in tokens:
            if t.code is None or t.code not in allowed:
                raise SearchError(f"{name}: {t.code!r} is not one of {', '.join(sorted(allowed))}")
            codes.add(t.code)
        return to_q(codes)

    return SearchParam(name, "token", documentation, checked)


def _field_in(field_name: str) -> Callable[[set[str]], Q]:
    return lambda codes: Q(**{f"{field_name}__in": sorted(codes)})


# --- per type -----------------------------------------------------------------------------------

_MRN_SYSTEM = re.compile(r"^urn:casebridge:mrn:organization:([0-9]+)$")
_MEMBER_SYSTEM = re.compile(r"^urn:casebridge:member-id:organization:([0-9]+)$")


def _issued_by(organization_number: str, kind: str) -> Q:
    """Identifiers of ``kind`` stored without a system whose issuer is the organization numbered in
    the system CaseBridge exports for them; a number past any row id is no organization."""
    issuer = whole_number(organization_number)
    return NOTHING if issuer is None else Q(system="", kind=kind, assigner_id=issuer)


def _patient_identifier(t: Token) -> Q:
    """Patient identifiers as exported (see mappers.identifier_system): MBI, MRN and member ids by issuer."""
    if not t.code:
        return NOTHING
    idents = PatientIdentifier.objects.filter(value=t.code)
    if t.system is None:
        pass
    elif t.system == MBI_SYSTEM:
        idents = idents.filter(kind=IdentifierKind.MBI)
    elif m := _MRN_SYSTEM.match(t.system):
        idents = idents.filter(Q(system=t.system) | _issued_by(m[1], IdentifierKind.MRN))
    elif m := _MEMBER_SYSTEM.match(t.system):
        idents = idents.filter(Q(system=t.system) | _issued_by(m[1], IdentifierKind.MEMBER_ID))
    else:
        idents = idents.filter(system=t.system)
    return Q(pk__in=idents.values("patient_id"))


def _coverage_identifier(t: Token) -> Q:
    if not t.code:
        return NOTHING
    if t.system is None:
        return Q(member_id=t.code)
    if m := _MEMBER_SYSTEM.match(t.system):
        insurer = whole_number(m[1])
        return NOTHING if insurer is None else Q(member_id=t.code, insurer_id=insurer)
    return Q(member_id=t.code, insurer__isnull=True) if t.system == "" else NOTHING


def _encounter_identifier(t: Token) -> Q:
    if t.system is None and t.code:
        return Q(identifier_value=t.code)
    q = Q(identifier_system=t.system)
    return q & Q(identifier_value=t.code) if t.code else q


EPISODE_STATUSES = frozenset({"planned", "waitlist", "active", "onhold", "finished", "cancelled", "entered-in-error"})
CAREPLAN_STATUSES = frozenset({"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"})
CARETEAM_STATUSES = frozenset({"proposed", "active", "suspended", "inactive", "entered-in-error"})
GOAL_STATUSES = frozenset(
    {"proposed", "planned", "accepted", "active", "on-hold", "completed", "cancelled", "entered-in-error", "rejected"}
)
TASK_STATUSES = frozenset(
    {"draft", "requested", "received", "accepted", "rejected", "ready", "cancelled", "in-progress", "on-hold",
     "failed", "completed", "entered-in-error"}
)  # fmt: skip
COVERAGE_STATUSES = frozenset({"active", "cancelled", "draft", "entered-in-error"})
ENCOUNTER_STATUSES = frozenset(
    {"planned", "arrived", "triaged", "in-progress", "onleave", "finished", "cancelled", "entered-in-error", "unknown"}
)
CONDITION_CLINICAL = frozenset({"active", "recurrence", "relapse", "inactive", "remission", "resolved"})


def _episode_status(codes: set[str]) -> Q:
    return Q(status__in=sorted(s.value for s, fhir in FHIR_STATUS.items() if fhir in codes))


def _care_team_status(codes: set[str]) -> Q:
    """Active while the case is open and someone is on the team (mappers.care_team_status)."""
    active = ~Q(status__in=[s.value for s in TERMINAL]) & Q(
        Exists(CareTeamMember.objects.filter(case=OuterRef("pk"), active=True))
    )
    q = NOTHING
    if "active" in codes:
        q |= active
    if "inactive" in codes:
        q |= ~active
    return q


def _coverage_status(codes: set[str]) -> Q:
    q = NOTHING
    if "active" in codes:
        q |= Q(active=True)
    if "cancelled" in codes:
        q |= Q(active=False)
    return q


def _api_type(
    resource_type: str,
    *extra: SearchParam,
    identifier: Callable[[Token], Q] | None = None,
    patient_names: tuple[str, ...] = ("patient", "subject"),
    operations: tuple[tuple[str, str], ...] = (),
) -> ApiType:
    export = EXPORT_TYPES[resource_type]
    params = [_id_param(export.kind), _last_updated_param(), _identifier_param(export.kind, identifier)]
    if patient_names:
        params += _patient_params(export.patient_field, *patient_names)
    params += extra
    return ApiType(export=export, params={p.name: p for p in params}, operations=operations)


API_TYPES: dict[str, ApiType] = {
    t.name: t
    for t in (
        _api_type(
            "Patient",
            identifier=_patient_identifier,
            patient_names=(),
            operations=(("everything", "http://hl7.org/fhir/OperationDefinition/Patient-everything"),),
        ),
        _api_type(
            "EpisodeOfCare",
            _code_param("status", EPISODE_STATUSES, _episode_status, "EpisodeOfCare.status"),
            patient_names=("patient",),
        ),
        _api_type("CarePlan", _code_param("status", CAREPLAN_STATUSES, _field_in("status"), "CarePlan.status")),
        _api_type("CareTeam", _code_param("status", CARETEAM_STATUSES, _care_team_status, "CareTeam.status")),
        _api_type(
            "Goal",
            _code_param("lifecycle-status", GOAL_STATUSES, _field_in("lifecycle_status"), "Goal.lifecycleStatus"),
        ),
        _api_type("Task", _code_param("status", TASK_STATUSES, _field_in("status"), "Task.status")),
        _api_type(
            "Coverage",
            _code_param("status", COVERAGE_STATUSES, _coverage_status, "Coverage.status"),
            identifier=_coverage_identifier,
            patient_names=("patient", "beneficiary"),
        ),
        _api_type(
            "Encounter",
            _code_param("status", ENCOUNTER_STATUSES, _field_in("status"), "Encounter.status"),
            identifier=_encounter_identifier,
        ),
        _api_type(
            "Condition",
            _code_param(
                "clinical-status", CONDITION_CLINICAL, _field_in("clinical_status"), "Condition.clinicalStatus"
            ),
        ),
    )
}


def api_type(name: str) -> ApiType | None:
    """The served type of that name, if it is served on this installation."""
    spec = API_TYPES.get(name)
    return spec if spec is not None and spec.available() else None


def served_types() -> list[ApiType]:
    return [t for t in API_TYPES.values() if t.available()]


def bundle_handler() -> Callable[..., Any] | None:
    """The importer's view for POST of a transaction or batch Bundle at the base URL, when installed."""
    try:
        handler: Callable[..., Any] = import_string(BUNDLE_HANDLER)
    except ImportError:
        return None
    return handler
