"""Turning FHIR references into CaseBridge record ids, within the importing organization only.

A reference may be relative (``Patient/123``), absolute (``https://ehr/fhir/Patient/123``), a bundle
``urn:uuid:`` full URL, a conditional reference (``Practitioner?identifier=system|value``, as bulk
exports write them) or a logical reference (``{"identifier": {...}}``). Ids resolve against what
this import has written so far and what earlier imports of the same organization wrote
(``SourceRecord``), fetched in one query per type per chunk, never one per reference.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import connection

from casebridge.interop.models import SourceRecord
from casebridge.patients.identifiers import AmbiguousIdentifier, identifier_holder
from casebridge.patients.models import IdentifierKind, PatientIdentifier

# Types whose records are few (a provider directory): all their identifiers are loaded once per import.
DIRECTORY_TYPES = ("Organization", "Location", "Practitioner", "PractitionerRole")


class Unresolvable(Exception):
    pass


def source_records(
    *, organization_id: int, source: str, resource_type: str, source_ids: Iterable[str], fields: tuple[str, ...]
) -> list[tuple[Any, ...]]:
    """``fields`` of the organization's provenance rows for ``source_ids`` of one type, in one query.

    On PostgreSQL the ids go as one array parameter (``= ANY``): a chunk's thousand ids cost the ORM
    more to compile as an ``IN`` list than the database takes to answer."""
    source_ids = list(source_ids)
    if not source_ids:
        return []
    if connection.vendor != "postgresql":
        return list(
            SourceRecord.objects.filter(
                organization_id=organization_id, source=source, resource_type=resource_type, source_id__in=source_ids
            ).values_list(*fields)
        )
    columns = ", ".join(connection.ops.quote_name(f) for f in fields)  # these fields' columns have their names
    table = connection.ops.quote_name(SourceRecord._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {table} WHERE organization_id = %s AND source = %s "  # noqa: S608 - names from model metadata
            "AND resource_type = %s AND source_id = ANY(%s)",
            [organization_id, source, resource_type, source_ids],
        )
        return cursor.fetchall()


def split_reference(reference: str) -> tuple[str, str] | None:
    """``(type, id)`` of a literal reference, or None when it is not one."""
    if reference.startswith(("urn:", "#")) or "?" in reference:
        return None
    parts = reference.rstrip("/").split("/")
    if len(parts) >= 4 and parts[-2] == "_history":
        parts = parts[:-2]
    if len(parts) < 2 or not parts[-2][:1].isupper():
        return None
    return parts[-2], parts[-1]


def collect_references(node: Any, out: set[str]) -> None:
    """Every ``reference`` string in a resource, at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                out.add(value)
            elif isinstance(value, dict | list):
                collect_references(value, out)
    elif isinstance(node, list):
        for value in node:
            if isinstance(value, dict | list):
                collect_references(value, out)


_REFERENCE_IN_TEXT = re.compile(r'"reference"\s*:\s*"([^"\\]*)"')


def collect_references_in_text(text: str, resource: Any, out: set[str]) -> None:
    """``collect_references`` read off the resource's JSON text with one regex instead of a walk over
    every element. In JSON text a ``"reference"`` with both quotes bare is a key (or a string value
    "reference"): quotes inside strings are escaped. When a ``"reference"`` is not followed by a plain
    string (an escape in it, another kind of value), or a ``\\u`` escape could spell the key another
    way, the parsed resource is walked instead."""
    if text and "\\u" not in text:
        found = _REFERENCE_IN_TEXT.findall(text)
        if len(found) == text.count('"reference"'):
            out.update(found)
            return
    collect_references(resource, out)


class Resolver:
    def __init__(self, *, organization_id: int, source: str, directory_index: dict[tuple[str, str, str], int]):
        self.organization_id = organization_id
        self.source = source
        self.ids: dict[str, dict[str, int]] = defaultdict(dict)
        self.full_urls: dict[str, tuple[str, str]] = {}
        self.directory_index = directory_index
        self._journal: list[tuple[str, Any]] = []

    # --- bookkeeping, undone when a write rolls back ------------------------------------------------

    def mark(self) -> int:
        return len(self._journal)

    def rollback_to(self, mark: int) -> None:
        """Forget what was remembered since ``mark``: those records were rolled back."""
        while len(self._journal) > mark:
            kind, key = self._journal.pop()
            if kind == "id":
                self.ids[key[0]].pop(key[1], None)
            else:
                self.directory_index.pop(key, None)

    def settle(self) -> None:
        """Nothing before this point can roll back any more: drop the journal."""
        self._journal.clear()

    def remember(self, rtype: str, source_id: str, target_id: int, ids: Iterable[Mapping[str, str]] = ()) -> None:
        if source_id not in self.ids[rtype]:
            self.ids[rtype][source_id] = target_id
            self._journal.append(("id", (rtype, source_id)))
        if rtype in DIRECTORY_TYPES:
            for ident in ids:
                key = (rtype, ident.get("system", ""), ident.get("value", ""))
                if key not in self.directory_index:
                    self.directory_index[key] = target_id
                    self._journal.append(("dir", key))

    # --- prefetch ------------------------------------------------------------------------------

    def prefetch(self, references: Iterable[str]) -> None:
        wanted: dict[str, set[str]] = defaultdict(set)
        for ref in references:
            target = self.full_urls.get(ref) if ref.startswith("urn:") else split_reference(ref)
            if target is None:
                continue
            rtype, sid = target
            if sid not in self.ids[rtype]:
                wanted[rtype].add(sid)
        for rtype, sids in wanted.items():
            rows = source_records(
                organization_id=self.organization_id,
                source=self.source,
                resource_type=rtype,
                source_ids=sids,
                fields=("source_id", "target_id"),
            )
            self.ids[rtype].update(rows)  # type: ignore[arg-type]  # (source_id, target_id) pairs

    # --- resolution ----------------------------------------------------------------------------

    def resolve(self, ref: Any, types: tuple[str, ...], *, required: bool = False, field: str = "") -> int | None:
        """The record id ``ref`` points to when it points to one of ``types``; None when it is absent,
        contained, or of another type. Raises Unresolvable when it names a record we cannot find."""
        if not isinstance(ref, Mapping) or not (ref.get("reference") or ref.get("identifier")):
            if required:
                raise Unresolvable(f"{field} is required")
            return None
        reference = ref.get("reference")
        if isinstance(reference, str):
            if reference.startswith("#"):
                if required:  # a contained resource is no record of ours to link to
                    raise Unresolvable(f"{field} {reference} points inside the resource; send the target as an entry")
                return None
            if reference.startswith("urn:"):
                target = self.full_urls.get(reference)
                if target is None:
                    raise Unresolvable(f"{field} {reference} is not an entry of this bundle")
                return self._by_id(target[0], target[1], types, reference, required, field)
            if "?" in reference:
                rtype, _, query = reference.partition("?")
                key, _, value = query.partition("=")
                if key != "identifier" or "|" not in value:
                    raise Unresolvable(f"{field} {reference}: only ?identifier=system|value is supported")
                system, _, ident = value.partition("|")
                return self._by_identifier(rtype, system, ident, types, reference, required, field)
            target = split_reference(reference)
            if target is None:
                raise Unresolvable(f"{field} {reference} is not a resource reference")
            return self._by_id(target[0], target[1], types, reference, required, field)
        logical = ref.get("identifier") or {}
        rtype = str(ref.get("type") or (types[0] if len(types) == 1 else ""))
        return self._by_identifier(
            rtype,
            str(logical.get("system") or ""),
            str(logical.get("value") or ""),
            types,
            "identifier",
            required,
            field,
        )

    def _wrong_type(self, rtype: str, types: tuple[str, ...], required: bool, field: str, reference: str) -> None:
        if required:
            raise Unresolvable(f"{field} {reference} must refer to {' or '.join(types)}, not {rtype}")

    def _by_id(
        self, rtype: str, sid: str, types: tuple[str, ...], reference: str, required: bool, field: str
    ) -> int | None:
        if rtype not in types:
            self._wrong_type(rtype, types, required, field, reference)
            return None
        pk = self.ids[rtype].get(sid)
        if pk is None:
            raise Unresolvable(
                f"{field} {reference}: no {rtype} with id {sid} in this import or earlier imports "
                "of this organization (import it first)"
            )
        return pk

    def _by_identifier(
        self, rtype: str, system: str, value: str, types: tuple[str, ...], reference: str, required: bool, field: str
    ) -> int | None:
        if rtype and rtype not in types:
            self._wrong_type(rtype, types, required, field, reference)
            return None
        if not value:
            raise Unresolvable(f"{field} {reference}: the identifier has no value")
        for candidate in (rtype,) if rtype else types:
            if candidate == "Patient":
                try:
                    pk = self._patient_by_identifier(system, value)
                except AmbiguousIdentifier as exc:
                    raise Unresolvable(
                        f"{field} {reference}: identifier {system}|{value} could be any of {len(exc.patient_ids)} "
                        "patients here (they hold it under different systems): give the identifier's system"
                    ) from exc
            else:
                pk = self.directory_index.get((candidate, system, value))
            if pk is not None:
                return pk
        raise Unresolvable(f"{field} {reference}: no {rtype or '/'.join(types)} with identifier {system}|{value}")

    def _patient_by_identifier(self, system: str, value: str) -> int | None:
        """Any identifier with this system and value; else an MRN by ``identifier_holder`` (a side without a
        system matches the one holder; several raise ``AmbiguousIdentifier``)."""
        rows = list(
            PatientIdentifier.objects.filter(patient__organization_id=self.organization_id, value=value)
            .order_by("pk")
            .values_list("patient_id", "system", "kind")
        )
        for patient_id, ident_system, _ in rows:
            if system and ident_system == system:
                return patient_id
        mrns = [(ident_system, patient_id) for patient_id, ident_system, kind in rows if kind == IdentifierKind.MRN]
        return identifier_holder(system, mrns)
