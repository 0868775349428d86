"""Post-acute pages: case panel, choice list (printable), referral forms, intake queue, isolation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.contrib.staticfiles import finders
from postacute_fixtures import *  # noqa: F403 - fixtures, scoped to this module

from casebridge.kernel import clock
from casebridge.postacute import services
from casebridge.postacute.models import ChoiceList, Referral


def test_case_page_shows_the_post_acute_panel_with_a_build_button(cm, hcase, web_as):
    html = web_as(cm).get(f"/cases/{hcase.pk}/").content.decode()
    assert 'id="post-acute"' in html
    assert f"/cases/{hcase.pk}/choice-lists/new" in html


def test_building_a_list_from_the_page_shows_every_qualified_provider_with_disclosures(cm, hcase, directory, web_as):
    web = web_as(cm)
    r = web.post(
        f"/cases/{hcase.pk}/choice-lists/new",
        {"provider_type": "home_health", "service": "iv_antibiotics", "area_zips": "02134", "priority_1": "rating"},
    )
    assert r.status_code == 302, r.content
    cl = ChoiceList.objects.get()
    html = web.get(r["Location"]).content.decode()
    for name in ("Sunrise Home Health", "Harbor Visiting Nurses", "Lakeside Home Care"):
        assert name in html
    assert "Faraway Home Health" not in html
    assert "Verify network status with your plan" in html
    assert "Hospital financial interest: The hospital owns 40%" in html
    assert "postacute/postacute.css" in html and "window.print()" in html
    assert "@media print" in Path(finders.find("postacute/postacute.css")).read_text()
    assert cl.priorities == ["rating"]


def test_a_bad_area_gets_a_field_error_and_nothing_is_saved(cm, hcase, directory, web_as):
    r = web_as(cm).post(f"/cases/{hcase.pk}/choice-lists/new", {"provider_type": "home_health", "area_zips": "2134"})
    assert r.status_code == 200
    assert "not 5-digit ZIP codes" in r.content.decode()
    assert not ChoiceList.objects.exists()


def test_presenting_from_the_page_records_the_ranked_choices(cm, hcase, directory, web_as):
    cl = services.choice_list_build(actor=cm, case_id=hcase.pk, provider_type="home_health", service="iv_antibiotics")
    web = web_as(cm)
    r = web.post(
        f"/choice-lists/{cl.pk}/present",
        {
            "presented_to": "patient",
            f"rank_{directory['harbor'].pk}": "1",
            f"rank_{directory['sunrise'].pk}": "2",
        },
    )
    assert r.status_code == 302
    cl.refresh_from_db()
    assert cl.presented_at is not None
    assert cl.entries.get(provider=directory["harbor"]).patient_rank == 1
    assert "Presented" in web.get(f"/choice-lists/{cl.pk}/").content.decode()


def test_sending_referrals_from_the_page_only_shares_the_checked_sections(cm, hcase, presented_list, directory, web_as):
    r = web_as(cm).post(
        f"/cases/{hcase.pk}/referrals/new",
        {
            "choice_list_id": presented_list.pk,
            "provider_type": "home_health",
            "service": "iv_antibiotics",
            "provider_ids": [directory["sunrise"].pk, directory["lakeside"].pk],
            "sections": ["demographics", "diagnoses"],
            "response_hours": "4",
        },
    )
    assert r.status_code == 302, r.content
    sent = list(Referral.objects.order_by("pk"))
    assert [x.provider_id for x in sent] == [directory["sunrise"].pk, directory["lakeside"].pk]
    assert "coverage" not in sent[0].packet


def test_intake_queue_lists_only_the_agencys_referrals_and_the_packet_page_shows_the_packet(
    two_referrals, intake, web_as
):
    web = web_as(intake)
    queue = web.get("/referrals/").content.decode()
    assert f'data-referral-id="{two_referrals[0].pk}"' in queue
    assert f'data-referral-id="{two_referrals[1].pk}"' not in queue
    detail = web.get(f"/referrals/{two_referrals[0].pk}/").content.decode()
    assert "Rivera, Ana" in detail and "Vancomycin" in detail
    assert "Accept referral" in detail
    assert web.get(f"/referrals/{two_referrals[1].pk}/").status_code == 404


def test_receiving_org_cannot_open_the_hospitals_patient_or_case_page(two_referrals, intake, hcase, web_as):
    web = web_as(intake)
    assert web.get(f"/cases/{hcase.pk}/").status_code == 404
    assert web.get(f"/patients/{hcase.patient_id}/").status_code == 404
    assert web.get(f"/choice-lists/{two_referrals[0].choice_list_id}/").status_code == 404


def test_unrelated_org_gets_404_for_referral_pages_and_actions_change_nothing(two_referrals, outsider, web_as):
    web = web_as(outsider)
    rid = two_referrals[0].pk
    assert web.get(f"/referrals/{rid}/").status_code == 404
    assert web.get(f"/referrals/{rid}/packet").status_code == 404
    assert web.post(f"/referrals/{rid}/accept", {}).status_code == 404
    two_referrals[0].refresh_from_db()
    assert two_referrals[0].status == "requested"


def test_accept_then_agreement_from_the_pages(cm, hcase, two_referrals, intake, web_as):
    rid = two_referrals[0].pk
    assert web_as(intake).post(f"/referrals/{rid}/accept", {}).status_code == 302
    start = (clock.today() + dt.timedelta(days=2)).isoformat()
    r = web_as(cm).post(f"/referrals/{rid}/agreement", {"start_of_service_on": start})
    assert r.status_code == 302
    hcase.refresh_from_db()
    assert hcase.status == "transition"
    hh_id = Referral.objects.get(pk=rid).home_health_case_id
    assert f"Home health case #{hh_id}" in web_as(cm).get(f"/cases/{hcase.pk}/").content.decode()
    agency_side = web_as(intake).get(f"/cases/{hh_id}/").content.decode()
    assert "General Hospital" in agency_side and f"hospital case #{hcase.pk}" in agency_side


def test_decline_without_a_reason_is_refused_with_a_message(two_referrals, intake, web_as):
    web = web_as(intake)
    r = web.post(f"/referrals/{two_referrals[0].pk}/decline", {"reason_code": ""}, follow=True)
    assert "reason_code" in r.content.decode()
    two_referrals[0].refresh_from_db()
    assert two_referrals[0].status == "requested"


def test_directory_page_and_nav(cm, intake, directory, web_as):
    html = web_as(cm).get("/directory/").content.decode()
    assert "Lakeside Home Care" in html and "Financial interest" in html
    assert 'href="/directory/"' in html
    agency_html = web_as(intake).get("/directory/").content.decode()
    assert 'href="/referrals/"' in agency_html
    assert "Financial interest" not in agency_html  # another organization's disclosure is not theirs to see


def test_agency_updates_its_accepting_status_from_its_entry(intake, directory, web_as):
    pid = directory["sunrise"].pk
    r = web_as(intake).post(f"/directory/{pid}/status", {"capacity": "2"})
    assert r.status_code == 302
    directory["sunrise"].refresh_from_db()
    assert (directory["sunrise"].accepting, directory["sunrise"].capacity) == (False, 2)


def test_external_packet_prints(cm, hcase, directory, presented_list, web_as):
    (ref,) = services.referral_send(
        actor=cm, case_id=hcase.pk, provider_ids=[directory["lakeside"].pk], provider_type="home_health"
    )
    html = web_as(cm).get(f"/referrals/{ref.pk}/packet").content.decode()
    assert "fax 617-555-0102" in html and "We accept this patient" in html


def test_the_intake_queue_records_each_listed_patient_as_read_by_the_agency(two_referrals, intake, web_as):
    from casebridge.audit.models import AuditEvent

    web_as(intake).get("/referrals/")
    events = AuditEvent.objects.filter(action="referral.queue.view")
    assert [(e.patient_id, e.organization_id, e.detail["direction"]) for e in events] == [
        (two_referrals[0].patient_id, intake.organization_id, "incoming")
    ]
