"""Care plan and assessment pages: the case page section, forms with field errors, versions, isolation."""

from __future__ import annotations

import pytest
from careplans_fixtures import *  # noqa: F403 - fixtures, scoped to this module
from careplans_support import NO_NEEDS_HRSN, plan_version, snapshot

from casebridge.careplans.models import Assessment, CarePlan, Goal, Intervention


def test_case_page_shows_the_add_goal_form_with_labelled_controls(cm, case, web_as):
    page = web_as(cm).get(f"/cases/{case.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="care-plan"' in html
    assert '<label for="goal_description">Goal' in html
    assert 'id="goal_description"' in html
    assert ">Add goal</button>" in html


def test_adding_a_goal_from_the_case_page_shows_it_in_the_plan_and_timeline(cm, case, web_as):
    web = web_as(cm)
    r = web.post(
        f"/cases/{case.pk}/care-plan/goals/new",
        {
            "description": "Takes medicines as prescribed",
            "measure": "missed doses a week",
            "target_value": "0",
            "lifecycle_status": "active",
        },
    )
    assert r.status_code == 302
    goal = Goal.objects.get(care_plan__case=case)
    assert goal.lifecycle_status == "active"
    html = web.get(f"/cases/{case.pk}/").content.decode()
    assert "Takes medicines as prescribed" in html
    assert "Goal added: Takes medicines as prescribed" in html  # timeline


def test_a_goal_without_a_description_gets_a_field_error_and_nothing_is_saved(cm, case, web_as):
    r = web_as(cm).post(f"/cases/{case.pk}/care-plan/goals/new", {"description": "", "lifecycle_status": "active"})
    assert r.status_code == 200
    assert r.context["form"].errors["description"]
    assert 'class="error"' in r.content.decode()
    assert not CarePlan.objects.filter(case=case).exists()


def test_a_stale_goal_edit_shows_a_form_message_and_keeps_the_first_save(cm, goal, case, web_as, make_actor, hospital):
    v = plan_version(case)
    first = web_as(cm).post(
        f"/goals/{goal.pk}/edit", {"description": goal.description, "target_value": "100 m", "version": v}
    )
    assert first.status_code == 302
    colleague = make_actor(hospital)
    second = web_as(colleague).post(
        f"/goals/{goal.pk}/edit", {"description": goal.description, "target_value": "5 m", "version": v}
    )
    assert second.status_code == 200
    assert "changed by someone else" in second.content.decode()
    assert second.context["form"]["target_value"].value() == "5 m"  # the second user's input is still there
    goal.refresh_from_db()
    assert goal.target_value == "100 m"


def test_intervention_form_adds_an_intervention_and_refuses_a_negative_cost(cm, goal, web_as):
    web = web_as(cm)
    bad = web.post(
        f"/goals/{goal.pk}/interventions/new", {"description": "Meals", "payer": "community", "estimated_cost": "-1"}
    )
    assert bad.status_code == 200
    assert bad.context["form"].errors["estimated_cost"]
    assert not Intervention.objects.exists()
    ok = web.post(
        f"/goals/{goal.pk}/interventions/new",
        {"description": "Meals on wheels", "payer": "community", "frequency": "daily", "estimated_cost": "0"},
    )
    assert ok.status_code == 302
    assert Intervention.objects.get().frequency == "daily"


def test_goal_transition_and_intervention_status_from_the_case_page(cm, goal, intervention, case, web_as):
    web = web_as(cm)
    v = plan_version(case)
    web.post(f"/interventions/{intervention.pk}/status", {"status": "in-progress", "version": v})
    intervention.refresh_from_db()
    assert intervention.status == "in-progress"
    web.post(f"/goals/{goal.pk}/transition", {"status": "completed", "version": v + 1})
    goal.refresh_from_db()
    assert (goal.lifecycle_status, goal.achievement_status) == ("completed", "achieved")
    r = web.post(f"/goals/{goal.pk}/transition", {"status": "active", "version": v + 2}, follow=True)
    assert "cannot become active" in r.content.decode()
    goal.refresh_from_db()
    assert goal.lifecycle_status == "completed"


def test_history_page_shows_each_earlier_version_of_the_plan(cm, goal, case, web_as):
    web = web_as(cm)
    v = plan_version(case)
    web.post(f"/goals/{goal.pk}/edit", {"description": "Walks to the corner", "version": v})
    page = web.get(f"/cases/{case.pk}/care-plan/history")
    assert page.status_code == 200
    assert "Walks to the corner" in page.content.decode()
    assert page.context["shown"].goals[0][0].description == "Walks to the corner"
    earlier = web.get(f"/cases/{case.pk}/care-plan/history?version={v}")
    assert earlier.context["shown"].version == v
    assert [g.description for g, _ in earlier.context["shown"].goals] == ["Walks to the mailbox without help"]
    assert "Walks to the mailbox without help" in earlier.content.decode()


def test_hrsn_screen_start_answer_and_complete_in_the_browser(cm, case, web_as):
    web = web_as(cm)
    r = web.post(f"/cases/{case.pk}/assessments/new", {"kind": "ahc_hrsn"})
    assessment = Assessment.objects.get(case=case)
    assert r.url == f"/assessments/{assessment.pk}/"
    page = web.get(r.url).content.decode()
    assert "What is your living situation today?" in page
    assert "<legend>" in page
    incomplete = web.post(r.url, {"version": 1, "living_situation": "worried", "action": "complete"})
    assert incomplete.status_code == 200
    assert incomplete.context["form"].errors["food_worry"]
    assessment.refresh_from_db()
    assert assessment.status == "in-progress"
    answers = dict(
        NO_NEEDS_HRSN,
        living_situation="worried",
        safety_hurt="frequently",
        safety_insult="frequently",
        safety_threaten="rarely",
    )
    done = web.post(r.url, {**answers, "version": 1, "action": "complete"})
    assert done.status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == "completed"
    codes = sorted(CarePlan.objects.get(case=case).needs.values_list("code", flat=True))
    assert codes == ["housing_instability", "interpersonal_safety"]
    html = web.get(f"/cases/{case.pk}/").content.decode()
    assert "Housing instability" in html
    assert "AHC health-related social needs screen completed: 2 needs identified" in html


def test_functional_assessment_identifies_adl_dependence(cm, case, web_as):
    web = web_as(cm)
    r = web.post(f"/cases/{case.pk}/assessments/new", {"kind": "functional"})
    answers = {
        f"adl_{k}": "independent" for k in ("bathing", "dressing", "toileting", "transferring", "continence", "feeding")
    }
    answers["adl_bathing"] = "dependent"
    answers.update(
        {
            f"iadl_{k}": "independent"
            for k in (
                "telephone",
                "shopping",
                "food_preparation",
                "housekeeping",
                "laundry",
                "transportation",
                "medications",
                "finances",
            )
        }
    )
    web.post(r.url, {**answers, "version": 1, "action": "complete"})
    assert list(CarePlan.objects.get(case=case).needs.values_list("label", flat=True)) == ["ADL dependence in bathing"]


@pytest.mark.parametrize(
    "url",
    [
        "/cases/{case}/care-plan/history",
        "/assessments/{a}/",
        "/goals/{goal}/edit",
        "/goals/{goal}/interventions/new",
        "/cases/{case}/care-plan/goals/new",
    ],
)
def test_another_organization_gets_404_on_every_page(url, outsider, case, goal, assessment, web_as):
    r = web_as(outsider).get(url.format(case=case.pk, a=assessment.pk, goal=goal.pk))
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/cases/{case}/care-plan/goals/new", {"description": "Mine now", "lifecycle_status": "active"}),
        ("/goals/{goal}/edit", {"description": "Mine now", "version": 1}),
        ("/goals/{goal}/transition", {"status": "on-hold", "reason": "x", "version": 1}),
        ("/goals/{goal}/interventions/new", {"description": "Mine now", "payer": "unknown"}),
        ("/interventions/{iv}/status", {"status": "cancelled", "version": 1}),
        ("/cases/{case}/assessments/new", {"kind": "ahc_hrsn"}),
        ("/assessments/{a}/", {"version": 1, "living_situation": "worried", "action": "save"}),
    ],
)
def test_another_organization_cannot_change_anything_through_the_pages(
    url, data, outsider, case, goal, intervention, assessment, web_as
):
    before = snapshot()
    r = web_as(outsider).post(url.format(case=case.pk, goal=goal.pk, iv=intervention.pk, a=assessment.pk), data)
    assert r.status_code == 404
    assert snapshot() == before


def test_the_care_team_partner_sees_the_plan_but_gets_no_forms(cm, case, goal, outsider, insurer, web_as):
    from casebridge.cases.services import careteam_add

    careteam_add(
        actor=cm, case_id=case.pk, role="Insurer case manager", organization_id=insurer.pk, user_id=outsider.user_id
    )
    html = web_as(outsider).get(f"/cases/{case.pk}/").content.decode()
    assert "Walks to the mailbox without help" in html
    assert ">Add goal</button>" not in html
