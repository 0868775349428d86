"""kernel.saving.save_object: the row, the history and the signals are those ``Model.save`` gives."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models.signals import post_save, pre_save
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from casebridge.cases.models import Case
from casebridge.clinical.models import Encounter
from casebridge.kernel import clock
from casebridge.kernel.saving import history_objects, save_object
from casebridge.patients.models import Patient
from casebridge.tasks.models import Task

pytestmark = pytest.mark.django_db

BORN = dt.date(1948, 5, 6)


def _row(model, pk, *drop):
    row = model_to_dict(model.objects.get(pk=pk))
    for name in ("id", *drop):
        row.pop(name)
    return row


def _history(obj):
    return list(type(obj).history.filter(id=obj.pk).order_by("history_id"))


def test_a_new_patient_is_stored_as_save_stores_it_with_one_history_row(hospital, cm):
    fields = {"family_name": "Okafor", "given_name": "Chidi", "birth_date": BORN, "sex": "male", "city": "Boston"}
    by_save = Patient(organization=hospital, **fields)
    by_save.save()
    fast = Patient(organization=hospital, **fields)
    fast._history_user = cm.user
    assert save_object(fast) is fast
    assert fast.pk is not None and not fast._state.adding and fast._state.db == "default"
    assert _row(Patient, fast.pk) == _row(Patient, by_save.pk)
    # Generated columns come back with the new row, as they do from save().
    assert (fast.family_key, fast.given_key) == (by_save.family_key, by_save.given_key) == ("okafor", "chidi")
    (record,) = _history(fast)
    assert (record.history_type, record.history_user_id, record.history_change_reason) == ("+", cm.user.pk, None)
    assert (record.family_name, record.birth_date, record.city) == ("Okafor", BORN, "Boston")


def test_an_update_writes_every_column_takes_auto_now_and_adds_a_changed_history_row(hospital, cm, patient):
    loaded = Patient.objects.get(pk=patient.pk)
    loaded.city, loaded.phone = "Quincy", "617-555-0100"
    loaded._change_reason = "moved"
    save_object(loaded)
    stored = Patient.objects.get(pk=patient.pk)
    assert (stored.city, stored.phone) == ("Quincy", "617-555-0100")
    last = _history(stored)[-1]
    assert (last.history_type, last.city, last.history_change_reason) == ("~", "Quincy", "moved")

    encounter = Encounter.objects.create(
        organization=hospital, patient=patient, identifier_system="urn:v", identifier_value="V1", status="in-progress"
    )
    before = encounter.updated_at
    encounter.status = "finished"
    save_object(encounter)
    encounter.refresh_from_db()
    assert encounter.status == "finished" and encounter.updated_at > before


def test_update_fields_writes_only_those_columns(hospital, patient, case):
    encounter = Encounter.objects.create(
        organization=hospital, patient=patient, identifier_system="urn:v", identifier_value="V2", status="in-progress"
    )
    encounter.hospital_case = case
    encounter.status = "finished"  # changed on the instance, but not named
    with CaptureQueriesContext(connection) as ctx:
        save_object(encounter, update_fields=["hospital_case", "updated_at"])
    (update,) = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("UPDATE")]
    assert "hospital_case_id" in update and "status" not in update
    stored = Encounter.objects.get(pk=encounter.pk)
    assert (stored.hospital_case_id, stored.status) == (case.pk, "in-progress")
    with pytest.raises(ValueError, match="no field 'colour'"):
        save_object(encounter, update_fields=["colour"])


def test_signals_are_sent_as_save_sends_them_and_history_is_written_once(hospital, cm, patient):
    heard: list[tuple[str, object, object]] = []

    def before(sender, instance, update_fields, **kwargs):
        heard.append(("pre", sender, update_fields))

    def after(sender, instance, created, update_fields, **kwargs):
        heard.append(("post", created, update_fields))

    pre_save.connect(before, sender=Task)
    post_save.connect(after, sender=Task)
    try:
        task = Task(
            organization=hospital, patient=patient, title="Call the family", created_by=cm.user, created_at=clock.now()
        )
        save_object(task)
        task.title = "Call the daughter"
        save_object(task, update_fields=["title"])
    finally:
        pre_save.disconnect(before, sender=Task)
        post_save.disconnect(after, sender=Task)
    assert heard == [
        ("pre", Task, None),
        ("post", True, None),
        ("pre", Task, frozenset({"title"})),
        ("post", False, frozenset({"title"})),
    ]
    # simple-history's own post_save receiver was told to skip: one row per save, not two.
    before_count = len(_history(patient))
    save_object(patient)
    assert len(_history(patient)) == before_count + 1
    assert not hasattr(patient, "skip_history_when_saving")


def test_an_encounter_saved_this_way_still_refreshes_the_stay_risk_after_commit(hospital, patient, monkeypatch):
    from casebridge.hospital import services as hospital_services
    from casebridge.hospital import signals

    refreshed: list[set[int]] = []
    monkeypatch.setattr(signals._pending, "ids", set(), raising=False)  # none left over from other tests
    monkeypatch.setattr(hospital_services, "risk_refresh_for_patients", lambda ids: refreshed.append(set(ids)))
    encounter = Encounter(
        organization=hospital, patient=patient, identifier_system="urn:v", identifier_value="V3", status="in-progress"
    )
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        save_object(encounter)
    assert refreshed == [{patient.pk}]


def test_history_false_writes_none_and_history_objects_writes_one_row_per_snapshot(case, cm):
    before = len(_history(case))
    case.reason = "Reviewed"
    save_object(case, history=False)
    assert len(_history(case)) == before
    assert Case.objects.get(pk=case.pk).reason == "Reviewed"
    at = clock.now()
    snapshots = []
    for n, status in enumerate(("assessment", "planning")):
        snapshot = Case.objects.get(pk=case.pk)
        snapshot.status, snapshot._history_date = status, at + dt.timedelta(seconds=n)
        snapshots.append(snapshot)
    history_objects(snapshots, update=True)
    added = _history(case)[before:]
    assert [(r.status, r.history_type, r.history_date, r.history_change_reason) for r in added] == [
        ("assessment", "~", at, ""),
        ("planning", "~", at + dt.timedelta(seconds=1), ""),
    ]


def test_a_row_gone_from_under_the_update_is_an_error_not_a_silent_insert(hospital, patient):
    encounter = Encounter.objects.create(
        organization=hospital, patient=patient, identifier_system="urn:v", identifier_value="V4", status="in-progress"
    )
    Encounter.objects.filter(pk=encounter.pk).delete()
    encounter.status = "finished"
    with pytest.raises(DatabaseError, match="was not updated"), transaction.atomic():
        save_object(encounter)
    assert not Encounter.objects.filter(pk=encounter.pk).exists()


def test_what_it_does_not_plan_goes_through_model_save(hospital, patient):
    # A partly loaded row: save() writes only the loaded columns, and so does save_object.
    partial = Patient.objects.only("id", "organization_id", "city").get(pk=patient.pk)
    partial.city = "Salem"
    save_object(partial)
    stored = Patient.objects.get(pk=patient.pk)
    assert (stored.city, stored.family_name) == ("Salem", patient.family_name)
    # A new instance with its own primary key.
    chosen = Encounter(
        pk=987654, organization=hospital, patient=patient, identifier_system="urn:v", identifier_value="V5"
    )
    save_object(chosen)
    assert Encounter.objects.get(pk=987654).identifier_value == "V5"


def test_history_is_not_written_when_simple_history_is_switched_off(settings, patient):
    settings.SIMPLE_HISTORY_ENABLED = False
    before = len(_history(patient))
    patient.city = "Lynn"
    save_object(patient)
    assert len(_history(patient)) == before
    assert Patient.objects.get(pk=patient.pk).city == "Lynn"


def test_no_fields_to_update_writes_nothing_and_sends_no_signal(hospital, patient):
    heard = []

    def after(sender, **kwargs):
        heard.append(sender)

    post_save.connect(after, sender=Patient)
    try:
        with CaptureQueriesContext(connection) as ctx:
            save_object(patient, update_fields=[])
    finally:
        post_save.disconnect(after, sender=Patient)
    assert ctx.captured_queries == [] and heard == []
