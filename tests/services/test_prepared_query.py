"""PreparedQuery: the rows its queryset returns, with the SQL compiled once."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from casebridge.kernel.prepared import PreparedQuery
from casebridge.patients.models import Patient, PatientIdentifier

pytestmark = pytest.mark.django_db


def by_name(organization_id, family):
    return Patient.objects.filter(organization_id=organization_id, family_name=family).order_by("pk")


def test_it_returns_what_the_queryset_returns_for_each_set_of_values(hospital, make_patient):
    a = make_patient(mrn="A-1", family_name="Alvarez")
    b = make_patient(mrn="B-1", family_name="Brown")
    c = make_patient(mrn="C-1", family_name="Alvarez")
    query = PreparedQuery(Patient, by_name, organization_id=int, family=str)
    for family in ("Alvarez", "Brown", "Nobody", "Alvarez"):
        got = query(organization_id=hospital.pk, family=family)
        assert got == list(by_name(hospital.pk, family))
        assert all(isinstance(p, Patient) and p.organization_id == hospital.pk for p in got)
    assert [p.pk for p in query(organization_id=hospital.pk, family="Alvarez")] == [a.pk, c.pk]
    assert query(organization_id=hospital.pk, family="Brown")[0].given_name == b.given_name
    assert query(organization_id=hospital.pk + 1000, family="Brown") == []


def test_it_compiles_once_and_reuses_the_sql(hospital, make_patient):
    make_patient(mrn="A-1", family_name="Alvarez")
    query = PreparedQuery(Patient, by_name, organization_id=int, family=str)
    query(organization_id=hospital.pk, family="x")
    compiled = dict(query._compiled)
    with CaptureQueriesContext(connection) as ctx:
        assert len(query(organization_id=hospital.pk, family="Alvarez")) == 1
    assert query._compiled == compiled and len(ctx.captured_queries) == 1


def test_values_it_cannot_swap_in_run_through_the_orm(hospital, make_patient):
    make_patient(mrn="A-1", family_name="Alvarez")
    query = PreparedQuery(Patient, lambda phone: Patient.objects.filter(phone=phone), phone=str)
    assert query(phone=None) == list(Patient.objects.filter(phone=None))  # IS NULL, not = NULL
    assert query(phone="") == list(Patient.objects.filter(phone=""))
    with pytest.raises(TypeError):
        PreparedQuery(Patient, lambda flag: Patient.objects.filter(deceased=flag), flag=bool)


def test_a_queryset_whose_sql_hides_a_value_stays_with_the_orm(hospital, make_patient):
    make_patient(mrn="A-1", family_name="Alvarez")
    # the value is transformed before it reaches the parameters: no stand-in found, so no reuse
    query = PreparedQuery(Patient, lambda family: Patient.objects.filter(family_name=family.upper()), family=str)
    assert query(family="alvarez") == []
    assert query._compiled and next(iter(query._compiled.values())) is None
    assert PreparedQuery(PatientIdentifier, lambda value: Patient.objects.filter(family_name=value), value=str)(
        value="Alvarez"
    ) == list(Patient.objects.filter(family_name="Alvarez"))


def test_a_locking_query_locks_where_the_database_can(hospital, make_patient):
    p = make_patient(mrn="A-1", family_name="Alvarez")
    query = PreparedQuery(
        Patient, lambda pk: Patient.objects.select_for_update().filter(pk=pk).order_by("pk")[:1], pk=int
    )
    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        assert query(pk=p.pk) == [p]
    assert ("FOR UPDATE" in ctx.captured_queries[0]["sql"]) == connection.features.has_select_for_update
