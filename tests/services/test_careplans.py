"""Care plan and assessment services: permissions, scoping, versions, history, audit, timeline."""

from __future__ import annotations

import threading

import pytest
from careplans_fixtures import *  # noqa: F403 - fixtures, scoped to this module
from careplans_support import NO_NEEDS_HRSN, plan_version, snapshot
from django.db import connection

from casebridge.accounts import roles
from casebridge.audit.models import AuditEvent
from casebridge.careplans import services
from casebridge.careplans.models import CarePlan, Goal
from casebridge.careplans.timeline import entries_for
from casebridge.kernel.errors import IllegalTransition, NotFound, PermissionDenied, StaleVersion, ValidationFailed


def test_adding_a_goal_starts_the_plan_and_bumps_its_version(cm, case, patient):
    goal = services.goal_add(actor=cm, case_id=case.pk, description="Sleeps in own bed at home")
    plan = CarePlan.objects.get(case=case)
    assert goal.care_plan == plan
    assert plan.version == 2
    assert [h.history_change_reason for h in plan.history.order_by("history_id")] == [
        "Care plan started",
        "Goal added: Sleeps in own bed at home",
    ]
    event = AuditEvent.objects.get(action="goal.add")
    assert event.patient_id == patient.pk
    assert event.object_id == str(goal.pk)


def test_every_save_of_a_part_bumps_the_plan_version(cm, case, goal, intervention):
    v = plan_version(case)
    services.goal_update(actor=cm, goal_id=goal.pk, version=v, target_value="80 m")
    services.intervention_update(actor=cm, intervention_id=intervention.pk, version=v + 1, status="scheduled")
    services.goal_transition(actor=cm, goal_id=goal.pk, to_status="on-hold", reason="readmitted", version=v + 2)
    assert plan_version(case) == v + 3
    assert goal.history.count() == 3  # added, changed, put on hold: each earlier version kept


def test_a_stale_save_is_refused_and_the_first_one_kept(cm, case, goal, make_actor, hospital):
    colleague = make_actor(hospital)
    v = plan_version(case)
    services.goal_update(actor=cm, goal_id=goal.pk, version=v, description="Walks 100 m")
    with pytest.raises(StaleVersion):
        services.goal_update(actor=colleague, goal_id=goal.pk, version=v, description="Walks 10 m")
    with pytest.raises(StaleVersion):
        services.intervention_add(actor=colleague, goal_id=goal.pk, description="Cane", version=v)
    assert Goal.objects.get(pk=goal.pk).description == "Walks 100 m"
    assert plan_version(case) == v + 1


@pytest.mark.parametrize("role", [roles.UR_NURSE, roles.SCHEDULER, roles.AUDITOR, roles.PHYSICIAN_ADVISOR])
def test_only_case_managers_and_supervisors_change_care_plans(role, make_actor, hospital, case, goal):
    other = make_actor(hospital, role)
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.goal_add(actor=other, case_id=case.pk, description="Nope")
    with pytest.raises(PermissionDenied):
        services.goal_transition(actor=other, goal_id=goal.pk, to_status="on-hold", reason="x")
    assert snapshot() == before


def test_supervisor_may_change_the_plan(make_actor, hospital, case, goal):
    supervisor = make_actor(hospital, roles.SUPERVISOR)
    services.goal_transition(actor=supervisor, goal_id=goal.pk, to_status="completed")
    assert Goal.objects.get(pk=goal.pk).lifecycle_status == "completed"


def test_another_organization_gets_not_found(outsider, case, goal, intervention, assessment):
    before = snapshot()
    for call in (
        lambda: services.goal_add(actor=outsider, case_id=case.pk, description="x"),
        lambda: services.goal_update(actor=outsider, goal_id=goal.pk, version=None, measure="x"),
        lambda: services.intervention_add(actor=outsider, goal_id=goal.pk, description="x"),
        lambda: services.intervention_update(
            actor=outsider, intervention_id=intervention.pk, version=None, status="stopped"
        ),
        lambda: services.assessment_answer(actor=outsider, assessment_id=assessment.pk, answers={"utilities": "yes"}),
        lambda: services.careplan_update(actor=outsider, case_id=case.pk, version=None, title="x"),
    ):
        with pytest.raises(NotFound):
            call()
    assert snapshot() == before


def test_a_completed_goal_takes_no_changes(cm, case, goal):
    services.goal_transition(actor=cm, goal_id=goal.pk, to_status="completed", version=None)
    with pytest.raises(IllegalTransition):
        services.goal_update(actor=cm, goal_id=goal.pk, version=None, measure="other")
    with pytest.raises(IllegalTransition):
        services.intervention_add(actor=cm, goal_id=goal.pk, description="late")


def test_a_need_from_another_plan_is_refused(cm, case, goal, make_patient):
    from casebridge.cases.services import case_open

    other_case = case_open(actor=cm, patient_id=make_patient(mrn="MRN-2").pk, case_type="hospital_stay")
    need = services.need_add(actor=cm, case_id=other_case.pk, label="Food insecurity")
    with pytest.raises(ValidationFailed) as err:
        services.goal_update(actor=cm, goal_id=goal.pk, version=None, need_id=need.pk)
    assert "need_id" in err.value.field_errors


def test_completing_an_assessment_adds_each_need_once(cm, case):
    answers = {**NO_NEEDS_HRSN, "food_worry": "often"}
    first = services.assessment_start(actor=cm, case_id=case.pk, kind="ahc_hrsn")
    _, added = services.assessment_complete(actor=cm, assessment_id=first.pk, answers=answers)
    assert [n.code for n in added] == ["food_insecurity"]
    second = services.assessment_start(actor=cm, case_id=case.pk, kind="ahc_hrsn")
    _, added_again = services.assessment_complete(actor=cm, assessment_id=second.pk, answers=answers)
    assert added_again == []
    assert CarePlan.objects.get(case=case).needs.count() == 1
    with pytest.raises(IllegalTransition):
        services.assessment_answer(actor=cm, assessment_id=first.pk, answers={"utilities": "yes"})


def test_assessment_answers_merge_and_a_stale_version_is_refused(cm, assessment):
    services.assessment_answer(actor=cm, assessment_id=assessment.pk, answers={"utilities": "no"}, version=1)
    with pytest.raises(StaleVersion):
        services.assessment_answer(actor=cm, assessment_id=assessment.pk, answers={"utilities": "yes"}, version=1)
    assessment.refresh_from_db()
    assert assessment.answers == {"living_situation": "steady", "utilities": "no"}


def test_timeline_shows_goals_interventions_and_completed_assessments(cm, case, goal, intervention, assessment):
    services.goal_transition(actor=cm, goal_id=goal.pk, to_status="on-hold", reason="readmitted")
    services.assessment_complete(actor=cm, assessment_id=assessment.pk, answers=NO_NEEDS_HRSN)
    texts = [e.text for e in entries_for(case)]
    assert "Goal added: Walks to the mailbox without help" in texts
    assert "Goal active -> on-hold: Walks to the mailbox without help" in texts
    assert any(t.startswith("Intervention added: Home physical therapy") for t in texts)
    assert "AHC health-related social needs screen completed: no new needs" in texts


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_threads_saving_the_same_plan_one_wins_one_conflicts(cm, case, goal):
    v = plan_version(case)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def save(text: str) -> None:
        barrier.wait()
        try:
            services.goal_update(actor=cm, goal_id=goal.pk, version=v, measure=text)
            outcomes.append("saved:" + text)
        except StaleVersion:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(t,)) for t in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "saved"]
    winner = next(o for o in outcomes if o.startswith("saved")).split(":")[1]
    assert Goal.objects.get(pk=goal.pk).measure == winner
    assert plan_version(case) == v + 1
