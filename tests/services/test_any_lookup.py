"""The ``any`` lookup: the rows ``in`` gives, with the values as one array parameter on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection

from casebridge.clinical.models import Encounter

pytestmark = pytest.mark.django_db


@pytest.fixture
def visits(hospital, patient):
    return [
        Encounter.objects.create(
            organization=hospital, patient=patient, identifier_system="urn:v", identifier_value=f"V{n}"
        )
        for n in range(5)
    ]


def _sent(run):
    sent = []

    def record(execute, sql, params, many, context):
        sent.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        result = run()
    return result, sent


def test_any_finds_what_in_finds_without_nulls_or_repeats(visits):
    wanted = [visits[1].identifier_value, visits[3].identifier_value, None, visits[1].identifier_value, "nope"]
    by_any, sent = _sent(
        lambda: sorted(Encounter.objects.filter(identifier_value__any=wanted).values_list("pk", flat=True))
    )
    by_in = sorted(Encounter.objects.filter(identifier_value__in=wanted).values_list("pk", flat=True))
    assert by_any == by_in == [visits[1].pk, visits[3].pk]
    ((sql, params),) = sent
    if connection.vendor == "postgresql":
        # One array parameter, whatever the number of values.
        assert "= ANY(" in sql and " IN " not in sql
        assert [visits[1].identifier_value, visits[3].identifier_value, "nope"] in list(params)
    else:
        assert " IN " in sql
    assert list(Encounter.objects.filter(pk__any=[v.pk for v in visits[:2]]).order_by("pk")) == visits[:2]


def test_any_of_nothing_matches_nothing_and_a_subquery_works(visits):
    assert not Encounter.objects.filter(pk__any=[]).exists()
    assert not Encounter.objects.filter(pk__any=[None]).exists()
    inner = Encounter.objects.filter(identifier_value="V2").values("pk")
    assert list(Encounter.objects.filter(pk__any=inner)) == [visits[2]]
