"""The census: columns, filters, ordering (overdue reviews first) and a constant number of queries."""

import datetime as dt
import html

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from casebridge.accounts import roles
from casebridge.audit.models import AuditEvent
from casebridge.cases.services import case_assign
from casebridge.hospital import selectors, services
from casebridge.hospital.models import DischargeBarrier
from casebridge.kernel.errors import ValidationFailed
from casebridge.patients.services import coverage_add

from .conftest import admit, at


@pytest.mark.parametrize("drg", ["2910", "29a", "²", "٢٩١"])  # the last two pass str.isdigit()
def test_a_working_drg_is_one_to_three_ascii_digits(cm, stay, drg):
    with pytest.raises(ValidationFailed) as exc:
        services.stay_update(actor=cm, stay_id=stay.pk, working_drg=drg)
    assert "working_drg" in exc.value.field_errors
    stay.refresh_from_db()
    assert stay.working_drg == ""


def test_census_columns_for_an_inpatient_stay(cm, stay):
    services.stay_update(actor=cm, stay_id=stay.pk, working_drg="291", expected_discharge_on=dt.date(2026, 3, 14))
    services.authorization_add(
        actor=cm, stay_id=stay.pk, status="approved", approved_days=3, next_review_on=dt.date(2026, 3, 13)
    )
    services.barrier_add(actor=cm, stay_id=stay.pk, description="Awaiting SNF bed", owner_name="Social work")

    (row,) = selectors.census(actor=cm).rows

    assert row.status == "inpatient"
    assert row.admit_at == at(10, 8)
    assert row.midnights == 2  # 03/10 08:00 -> 03/12 12:00
    assert row.unit == "4 West"
    assert (row.working_drg, row.gmlos) == ("291", 4)  # SAMPLE table: GMLOS 4.0
    assert str(row.los_index) == "0.50"  # 2 days / 4.0
    assert row.next_review_due is None  # utilization app not installed: the page shows "—"
    assert (row.authorization_status, row.payer_review_on) == ("approved", dt.date(2026, 3, 13))
    assert row.payer == "Acme Health Plan"
    assert row.expected_discharge_on == dt.date(2026, 3, 14)
    assert (row.barrier_count, row.first_barrier) == (1, "Awaiting SNF bed")
    assert row.risk_band in {"high", "moderate", "low", "unknown"}


def test_census_lists_only_current_admissions_of_the_hospital(
    cm, patient, make_patient, make_org, make_actor, drg_table
):
    current = admit(cm, patient, when=at(11, 9))
    admit(cm, make_patient(mrn="M2"), when=at(1, 9), status="finished", discharge=at(5, 9))
    admit(cm, make_patient(mrn="M3"), when=at(12, 1), klass="emergency", case=False)
    other = make_actor(make_org("Other Hospital"))
    admit(other, make_patient(actor=other, mrn="X1"), when=at(11, 9))

    assert [r.encounter_id for r in selectors.census(actor=cm).rows] == [current.pk]


def test_overdue_payer_reviews_come_first_then_by_admission(cm, make_patient, drg_table):
    stays = []
    for n, day in enumerate((9, 10, 11)):
        encounter = admit(cm, make_patient(mrn=f"O{n}"), when=at(day, 9))
        stays.append(services.stay_open(actor=cm, encounter_id=encounter.pk))
    services.authorization_add(actor=cm, stay_id=stays[2].pk, payer_name="Acme", next_review_on=dt.date(2026, 3, 11))

    order = [r.stay_id for r in selectors.census(actor=cm).rows]

    assert order == [stays[2].pk, stays[0].pk, stays[1].pk]
    assert selectors.census(actor=cm).rows[0].payer_review_overdue is True


def test_filters_by_unit_case_manager_and_payer(cm, make_actor, hospital, make_patient, drg_table):
    supervisor = make_actor(hospital, roles.SUPERVISOR)
    a = admit(cm, make_patient(mrn="F1"), when=at(11, 9), unit="4 West")
    b = admit(cm, make_patient(mrn="F2"), when=at(11, 10), unit="ICU")
    case_assign(actor=supervisor, case_id=b.hospital_case_id, user_id=cm.user_id)
    coverage_add(
        actor=cm, patient_id=a.patient_id, payer_name="Summit", member_id="S1", period_start=dt.date(2025, 1, 1)
    )

    assert [r.encounter_id for r in selectors.census(actor=cm, unit="ICU").rows] == [b.pk]
    assert [r.encounter_id for r in selectors.census(actor=cm, case_manager_id=cm.user_id).rows] == [b.pk]
    assert [r.encounter_id for r in selectors.census(actor=cm, payer="Summit").rows] == [a.pk]
    result = selectors.census(actor=cm)
    assert result.units == ["4 West", "ICU"] and result.payers == ["Summit"]


def test_census_query_count_does_not_grow_with_rows(cm, make_patient, drg_table):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            selectors.census(actor=cm, audit=False)
        return len(ctx.captured_queries)

    for n in range(2):
        stay = services.stay_open(actor=cm, encounter_id=admit(cm, make_patient(mrn=f"Q{n}"), when=at(11, 9)).pk)
        services.authorization_add(actor=cm, stay_id=stay.pk, payer_name="Acme")
    few = queries()
    for n in range(2, 12):
        stay = services.stay_open(actor=cm, encounter_id=admit(cm, make_patient(mrn=f"Q{n}"), when=at(11, 9)).pk)
        DischargeBarrier.objects.create(
            organization_id=cm.organization_id, stay=stay, description="x", created_at=at(11, 9)
        )
    assert queries() == few <= 5


def test_census_page_renders_rows_and_overdue_badge(cm, stay, web_as):
    services.authorization_add(actor=cm, stay_id=stay.pk, payer_name="Acme", next_review_on=dt.date(2026, 3, 1))
    response = web_as(cm).get("/hospital/census")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Rivera, Ana" in body and "Overdue" in body and "4 West" in body


def test_insurer_users_have_no_census(outsider, web_as):
    assert web_as(outsider).get("/hospital/census").status_code == 403


def test_viewing_the_census_records_a_read_of_every_patient_listed(cm, make_patient, drg_table):
    listed = [admit(cm, make_patient(mrn=f"R{n}"), when=at(11, 9 + n)) for n in range(3)]
    admit(cm, make_patient(mrn="GONE"), when=at(1, 9), status="finished", discharge=at(5, 9))
    web = Client(REMOTE_ADDR="10.1.2.3")
    web.force_login(cm.user)
    before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    assert web.get("/hospital/census").status_code == 200

    events = AuditEvent.objects.filter(pk__gt=before, action="census.read")
    assert sorted(e.patient_id for e in events) == sorted(e.patient_id for e in listed)
    assert {(e.user_id, e.organization_id, e.client_ip, e.detail["rows"]) for e in events} == {
        (cm.user_id, cm.organization_id, "10.1.2.3", 3)
    }


def test_census_page_escapes_what_comes_from_the_record(cm, make_patient, drg_table):
    patient = make_patient(mrn="X1", family_name="<b>O'Neil</b>")
    stay = services.stay_open(actor=cm, encounter_id=admit(cm, patient, when=at(11, 9), unit="<i>4W</i>").pk)
    services.barrier_add(actor=cm, stay_id=stay.pk, description="<script>alert(1)</script>", owner_name="SW")
    web = Client()
    web.force_login(cm.user)

    body = web.get("/hospital/census").content.decode()

    assert "&lt;b&gt;O&#x27;Neil&lt;/b&gt;" in body and "<b>O'Neil" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert(1)" not in body
    assert "&lt;i&gt;4W&lt;/i&gt;" in body and "<i>4W</i>" not in body


@pytest.mark.parametrize(
    "bad, why",
    [
        ({"unit": "4 West\x00"}, "unit: Null characters are not allowed."),
        ({"case_manager": "abc"}, "case manager: Enter a whole number."),
        ({"case_manager": "9" * 30}, "case manager: Ensure this value is less than or equal to"),
        ({"unit": "x" * 201}, "unit: Ensure this value has at most 200 characters"),
    ],
)
def test_a_bad_filter_in_the_url_is_named_and_dropped_while_the_others_apply(
    cm, make_patient, drg_table, web_as, bad, why
):
    # The page's selects offer only values on record; a hand-made URL can carry anything (a NUL
    # character was a server error on PostgreSQL, which refuses it even in a comparison).
    admit(cm, make_patient(mrn="B1"), when=at(11, 9), unit="4 West")
    b = admit(cm, make_patient(mrn="B2", family_name="Okafor"), when=at(11, 10), unit="ICU")
    coverage_add(
        actor=cm, patient_id=b.patient_id, payer_name="Summit", member_id="S2", period_start=dt.date(2025, 1, 1)
    )

    response = web_as(cm).get("/hospital/census", {**bad, "payer": "Summit"})

    body = response.content.decode()
    assert response.status_code == 200
    assert "Filter ignored (" in body and html.escape(why) in body
    assert "Okafor" in body and "Rivera" not in body  # the payer filter still applies
