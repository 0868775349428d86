"""Utilization review pages: the UR nurse's review page, physician advisor queue and determination page,
criteria library, avoidable days, MOON and condition code 44; labelled controls, field errors, isolation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from utilization_fixtures import *  # noqa: F403 - fixtures, scoped to this module

from casebridge.audit.models import AuditEvent
from casebridge.utilization import services
from casebridge.utilization.models import AvoidableDay, AvoidableDayReason, CriteriaSetVersion, UtilizationReview


def text(response) -> str:
    return response.content.decode()


def test_nav_shows_reviews_to_nurses_and_the_advisor_queue_to_physicians(nurse, advisor, web_as):
    page = text(web_as(nurse).get("/utilization/reviews/"))
    assert ">Reviews<" in page and "Physician advisor queue</a></li>" not in page
    assert ">Physician advisor queue<" in text(web_as(advisor).get("/utilization/advisor/"))


def test_the_review_page_shows_criteria_with_evidence_and_takes_answers(nurse, review, web_as):
    web = web_as(nurse)
    services.review_evaluate(actor=nurse, review_id=review.pk)
    page = text(web.get(f"/utilization/reviews/{review.pk}/"))
    assert "Osteomyelitis needing IV antibiotics" in page
    assert "Vancomycin 1000 MG Injection" in page and "14.0 mg/dL" in page
    assert "Example — for clinical leadership to replace" in page
    # Every manual criterion has a labelled answer control.
    assert '<label for="ev_a__osteomyelitis_inpatient__needs_hospital_level_care">' in page
    review.refresh_from_db()
    r = web.post(
        f"/utilization/reviews/{review.pk}/",
        {
            "action": "evaluate",
            "version": review.version,
            "a__osteomyelitis_inpatient__needs_hospital_level_care": "met",
            "n__osteomyelitis_inpatient__needs_hospital_level_care": "debridement planned",
        },
    )
    assert r.status_code == 302
    review.refresh_from_db()
    assert review.recommended_level == "inpatient"
    assert review.answers["osteomyelitis_inpatient"]["needs_hospital_level_care"]["note"] == "debridement planned"


def test_override_without_a_reason_shows_the_field_error_and_changes_nothing(nurse, review, web_as):
    services.review_evaluate(actor=nurse, review_id=review.pk)
    review.refresh_from_db()
    web = web_as(nurse)
    r = web.post(
        f"/utilization/reviews/{review.pk}/",
        {
            "action": "complete",
            "decision": "overridden",
            "level": "observation",
            "reason": "",
            "version": review.version,
        },
    )
    assert r.status_code == 200
    assert 'id="c_reason_error"' in text(r) and "an override needs the reason" in text(r)
    assert UtilizationReview.objects.get(pk=review.pk).status == "pending"
    r = web.post(
        f"/utilization/reviews/{review.pk}/",
        {
            "action": "complete",
            "decision": "overridden",
            "level": "observation",
            "reason": "Improving fast, expect discharge tomorrow",
            "version": review.version,
        },
    )
    assert r.status_code == 302
    assert UtilizationReview.objects.get(pk=review.pk).decided_level == "observation"


def test_escalation_reaches_the_advisor_queue_and_the_determination_page(nurse, advisor, review, web_as):
    services.review_evaluate(actor=nurse, review_id=review.pk)
    review.refresh_from_db()
    r = web_as(nurse).post(
        f"/utilization/reviews/{review.pk}/",
        {"action": "escalate", "reason": "Stable, questioning continued stay", "version": review.version},
    )
    assert r.status_code == 302
    adv = web_as(advisor)
    assert "Stable, questioning continued stay" in text(adv.get("/utilization/advisor/"))
    r = adv.post(
        f"/utilization/reviews/{review.pk}/determinations",
        {"scope": "continued_stay", "rationale": "Oral antibiotics would do"},
    )
    assert r.status_code == 302
    url = r["Location"]
    assert "the attending must be consulted" in text(adv.get(url))
    adv.post(url, {"action": "consult"})
    adv.post(url, {"action": "respond", "view": "concurs"})
    adv.post(url, {"action": "concur"})
    page = text(adv.get(url))
    assert "May be decided now." in page
    adv.post(url, {"action": "decide"})
    page = text(adv.get(url))
    assert "Decided: not medically necessary" in page and "Written notices (due" in page


def test_another_organization_gets_404_on_every_page(outsider, review, library, web_as):
    web = web_as(outsider)
    assert web.get(f"/utilization/reviews/{review.pk}/").status_code == 404
    assert web.get(f"/utilization/criteria/{library[0].pk}/").status_code == 404
    assert web.post(f"/utilization/encounters/{review.encounter_id}/review").status_code == 404
    assert review.patient.family_name not in text(web.get("/utilization/reviews/"))


def test_criteria_library_adds_versions_and_shows_yaml_errors_on_the_field(director, library, web_as):
    web = web_as(director)
    page = text(web.get("/utilization/criteria/"))
    assert "Medicare Two-Midnight benchmark" in page and "Example — for clinical leadership to replace" in page
    cset = library[1]
    current = CriteriaSetVersion.objects.get(criteria_set=cset, version=1)
    r = web.post(
        f"/utilization/criteria/{cset.pk}/",
        {"fmt": "yaml", "text": "title: [", "change_note": "broken", "expected_version": 1},
    )
    assert r.status_code == 200 and 'id="v_text_error"' in text(r)
    r = web.post(
        f"/utilization/criteria/{cset.pk}/",
        {"fmt": "yaml", "text": current.source_text, "change_note": "no change, re-signed", "expected_version": 1},
    )
    assert r.status_code == 302
    assert CriteriaSetVersion.objects.filter(criteria_set=cset).count() == 2


def test_criteria_nested_too_deeply_are_an_error_on_the_text_field(director, library, web_as):
    """900 levels of YAML ran the parser out of stack: a 500 instead of the editor with its error."""
    web = web_as(director)
    cset = library[1]
    r = web.post(
        f"/utilization/criteria/{cset.pk}/",
        {"fmt": "yaml", "text": "a: " + "[" * 900 + "]" * 900, "change_note": "deep", "expected_version": 1},
    )
    page = text(r)
    assert r.status_code == 200 and 'id="v_text_error"' in page
    assert "nests lists and objects more than 64 levels deep" in page
    assert CriteriaSetVersion.objects.filter(criteria_set=cset).count() == 1


def test_avoidable_days_page_logs_and_charts(nurse, osteo_stay, web_as):
    web = web_as(nurse)
    day = timezone.localdate(osteo_stay.admit_at)
    r = web.post(
        "/utilization/avoidable-days/",
        {
            "encounter_id": osteo_stay.pk,
            "day": (day - dt.timedelta(days=30)).isoformat(),
            "reason_code": "physician_delay",
            "responsible_party": "physician",
        },
    )
    assert r.status_code == 200 and 'id="ad_day_error"' in text(r)
    assert not AvoidableDay.objects.exists()
    r = web.post(
        "/utilization/avoidable-days/",
        {
            "encounter_id": osteo_stay.pk,
            "day": day.isoformat(),
            "reason_code": "physician_delay",
            "responsible_party": "physician",
        },
    )
    assert r.status_code == 302
    page = text(web.get("/utilization/avoidable-days/"))
    assert 'aria-label="Physician delay (orders, discharge, consult): 1 day"' in page
    assert 'style="width: 100.0%"' in page


def test_the_medical_director_adds_an_avoidable_day_reason_that_nurses_then_log(director, nurse, web_as):
    page = text(web_as(director).get("/utilization/avoidable-days/"))
    assert "Add reason" in page and '<label for="ar_label">' in page

    r = web_as(director).post("/utilization/avoidable-days/reasons", {"label": "Awaiting guardianship"})

    assert r.status_code == 302
    nurse_page = text(web_as(nurse).get("/utilization/avoidable-days/"))
    assert '<option value="awaiting_guardianship">Awaiting guardianship</option>' in nurse_page
    assert "Add reason" not in nurse_page  # nurses log days; the list is the medical director's
    assert web_as(nurse).post("/utilization/avoidable-days/reasons", {"label": "Mine"}).status_code == 403
    assert not AvoidableDayReason.objects.filter(code="mine").exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [({"label": ""}, "label"), ({"label": "Other one", "code": "Bad Code!"}, "code"), ({"label": "Again"}, "code")],
)
def test_a_bad_avoidable_day_reason_is_refused_on_its_field(director, web_as, data, field):
    services.avoidable_reason_add(actor=director, label="Again")
    before = AvoidableDayReason.objects.count()
    r = web_as(director).post("/utilization/avoidable-days/reasons", data)
    assert r.status_code == 422 and f'id="ar_{field}_error"' in text(r)
    assert AvoidableDayReason.objects.count() == before


def test_reasons_are_the_organizations_own(director, make_org, make_actor, web_as):
    from casebridge.accounts import roles

    other = make_actor(make_org("Other Hospital"), roles.MEDICAL_DIRECTOR)
    web_as(other).post("/utilization/avoidable-days/reasons", {"label": "Their reason"})
    assert "Their reason" not in text(web_as(director).get("/utilization/avoidable-days/"))


def test_the_avoidable_days_page_records_a_read_of_each_patient_listed(nurse, osteo_stay, web_as):
    services.avoidable_day_log(
        actor=nurse,
        encounter_id=osteo_stay.pk,
        day=timezone.localdate(osteo_stay.admit_at),
        reason_code="physician_delay",
        responsible_party="physician",
    )
    before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    assert web_as(nurse).get("/utilization/avoidable-days/").status_code == 200
    (event,) = AuditEvent.objects.filter(pk__gt=before, action="avoidable_days.view")
    assert event.patient_id == osteo_stay.patient_id and event.user_id == nurse.user_id


def test_moon_and_condition_code_44_pages(nurse, admit, osteo_stay, web_as):
    web = web_as(nurse)
    obs = admit("obs", encounter_class="OBSENC", admit_at=timezone.now() - dt.timedelta(hours=30))
    r = web.post(f"/utilization/encounters/{obs.pk}/moon")
    assert r.status_code == 302
    url = r["Location"]
    r = web.post(url, {"signed_by": "Sam"})
    assert r.status_code == 200 and 'id="m_oral_explanation_error"' in text(r)
    assert web.post(url, {"oral_explanation": "on", "signed_by": "Sam"}).status_code == 302
    assert "Delivered" in text(web.get(url))

    r = web.post(f"/utilization/encounters/{osteo_stay.pk}/cc44")
    url = r["Location"]
    r = web.post(url, {"action": "complete", "version": 1, "attending_concurs": "on"})
    assert r.status_code == 200
    assert "the UR committee has not decided" in text(r)


def test_the_case_page_has_the_utilization_panel(nurse, review, web_as, cm):
    page = text(web_as(cm).get(f"/cases/{review.case_id}/"))
    assert 'id="utilization-review"' in page and "Initial review" in page and "Condition code 44" in page


@pytest.mark.parametrize(
    "url", ["/utilization/reviews/", "/utilization/advisor/", "/utilization/criteria/", "/utilization/avoidable-days/"]
)
def test_pages_render_for_the_ur_nurse(nurse, library, web_as, url):
    assert web_as(nurse).get(url).status_code == 200


def test_review_list_and_advisor_queue_record_a_read_of_each_patient_listed(nurse, advisor, review, web_as):
    services.review_evaluate(actor=nurse, review_id=review.pk)
    services.review_escalate(actor=nurse, review_id=review.pk, reason="Stable since yesterday")
    before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    assert web_as(nurse).get("/utilization/reviews/?status=escalated").status_code == 200
    assert web_as(advisor).get("/utilization/advisor/").status_code == 200
    events = AuditEvent.objects.filter(pk__gt=before, action__in=["review.list", "advisor_queue.view"])
    assert sorted((e.action, e.patient_id, e.user_id) for e in events) == [
        ("advisor_queue.view", review.patient_id, advisor.user_id),
        ("review.list", review.patient_id, nurse.user_id),
    ]


@pytest.mark.parametrize(
    ("next_value", "lands_on"),
    [
        ("/patients/", "/patients/"),  # the page the form was on
        ("https://evil.example/phish", "/utilization/reviews/"),  # another site: not followed
        ("//evil.example/phish", "/utilization/reviews/"),
        ("", "/utilization/reviews/"),
    ],
)
def test_a_refused_ur_action_returns_to_the_page_it_came_from_never_to_another_site(
    nurse, osteo_stay, web_as, next_value, lands_on
):
    # A MOON notice is for observation stays: starting one for this inpatient stay is refused.
    response = web_as(nurse).post(f"/utilization/encounters/{osteo_stay.pk}/moon", {"next": next_value})

    assert response.status_code == 302
    assert response["Location"] == lands_on
