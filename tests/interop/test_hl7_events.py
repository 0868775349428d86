"""ADT events applied through the feed: updates, cancels, merges, duplicates, versions, rejections."""

from __future__ import annotations

import pytest
from django.db import DataError, OperationalError

from casebridge.audit.models import AuditEvent
from casebridge.cases.models import Case
from casebridge.clinical.models import Encounter
from casebridge.interop.hl7v2 import events, receiver
from casebridge.interop.hl7v2.parsing import Hl7Problem
from casebridge.interop.hl7v2.receiver import Feed
from casebridge.interop.models import Hl7Message, Hl7PatientMerge
from casebridge.kernel.errors import IllegalTransition, NotFound
from casebridge.patients.models import Patient, PatientIdentifier
from casebridge.tasks.models import Task
from tests.interop.hl7_support import adt, err, msa

pytestmark = pytest.mark.django_db


@pytest.fixture
def feed(hospital):
    return Feed(hospital, channel="file")


def state():
    return (
        Patient.objects.count(),
        PatientIdentifier.objects.count(),
        Encounter.objects.count(),
        Case.objects.count(),
        Task.objects.count(),
        list(Case.objects.order_by("pk").values_list("status", flat=True)),
        list(Encounter.objects.order_by("pk").values_list("status", "location_text")),
    )


def accepted(receipt):
    assert receipt.code == "AA", receipt.reason
    assert msa(receipt.ack)[1:3] == ["AA", receipt.control_id]
    return receipt


def test_admission_then_discharge_opens_a_case_and_walks_it_to_transition(feed, hospital):
    accepted(feed.receive(adt("A01", control="m1")))
    case = Case.objects.get(organization=hospital)
    assert case.status == "referral" and case.case_type == "hospital_stay"
    assert case.diagnoses[0]["code"] == "I50.9"
    assert Task.objects.get(case=case).kind == "initial_review"
    accepted(feed.receive(adt("A03", control="m2", discharge="20260305120000", disposition="01")))
    case.refresh_from_db()
    assert case.status == "transition"
    steps = list(case.status_changes.order_by("at", "pk").values_list("to_status", flat=True))
    assert steps == ["referral", "assessment", "planning", "implementation", "transition"]
    encounter = Encounter.objects.get()
    assert encounter.status == "finished" and encounter.discharge_at is not None
    assert encounter.discharge_disposition["code"] == "01"


def test_discharge_of_a_patient_who_died_closes_the_case(feed):
    accepted(feed.receive(adt("A01", control="m1")))
    accepted(feed.receive(adt("A03", control="m2", discharge="20260305120000", disposition="20")))
    case = Case.objects.get()
    assert case.status == "closed" and "died" in case.closure_reason


def test_discharge_leaves_a_case_on_hold_as_a_person_decided(feed, hospital, cm):
    from casebridge.cases.services import case_transition

    accepted(feed.receive(adt("A01", control="m1")))
    case = Case.objects.get()
    case_transition(actor=cm, case_id=case.pk, to_status="on_hold", reason="Family meeting pending")
    accepted(feed.receive(adt("A03", control="m2", discharge="20260305120000")))
    case.refresh_from_db()
    assert case.status == "on_hold"
    assert AuditEvent.objects.filter(action="hl7.case_unchanged", object_id=str(case.pk)).exists()


def test_a08_updates_demographics_and_the_visit_but_not_the_admission_time(feed):
    accepted(feed.receive(adt("A01", control="m1")))
    admit_at = Encounter.objects.get().admit_at
    receipt = accepted(
        feed.receive(
            adt(
                "A08",
                control="m2",
                family="Okafor-Mensah",
                address="9 Oak Ave^^Cambridge^MA^02139",
                location="5E^510",
                admit="",
            )  # fmt: skip
        )
    )
    patient = Patient.objects.get()
    assert (patient.family_name, patient.city, patient.postal_code) == ("Okafor-Mensah", "Cambridge", "02139")
    assert patient.given_name == "Grace"
    encounter = Encounter.objects.get()
    assert encounter.location_text == "5E^510" and encounter.admit_at == admit_at
    assert receipt.summary["patient"] == "updated"
    assert Patient.objects.count() == 1 and Case.objects.count() == 1


def test_a08_that_repeats_the_visit_as_stored_writes_nothing_to_the_visit(feed):
    accepted(feed.receive(adt("A01", control="m1")))
    before = Encounter.objects.get()
    # New demographics, the visit's fields exactly as the admission sent them.
    receipt = accepted(feed.receive(adt("A08", control="m2", family="Okafor-Mensah")))
    assert receipt.summary["encounter"] == "unchanged" and receipt.summary["patient"] == "updated"
    encounter = Encounter.objects.get()
    assert encounter.updated_at == before.updated_at
    assert not AuditEvent.objects.filter(action="encounter.update").exists()
    assert Patient.objects.get().family_name == "Okafor-Mensah"
    # A change to the visit is written and audited with the fields it carried.
    receipt = accepted(feed.receive(adt("A08", control="m3", family="Okafor-Mensah", location="5E^510")))
    assert receipt.summary["encounter"] == "updated"
    encounter = Encounter.objects.get()
    assert encounter.location_text == "5E^510" and encounter.updated_at > before.updated_at
    assert AuditEvent.objects.filter(action="encounter.update", patient_id=encounter.patient_id).count() == 1


def test_a08_for_a_new_patient_registers_them(feed):
    accepted(feed.receive(adt("A08", control="m1", mrn="NEW-1", visit="")))
    assert Patient.objects.get().identifiers.get().value == "NEW-1"
    assert Encounter.objects.count() == 0


def test_transfer_and_its_cancel_move_the_point_of_care_and_back(feed):
    accepted(feed.receive(adt("A01", control="m1", location="4W^401^B")))
    accepted(feed.receive(adt("A02", control="m2", location="ICU^2^A", prior_location="4W^401^B")))
    assert Encounter.objects.get().location_text == "ICU^2^A"
    accepted(feed.receive(adt("A12", control="m3", location="ICU^2^A", prior_location="4W^401^B")))
    assert Encounter.objects.get().location_text == "4W^401^B"


def test_cancel_admit_cancels_the_visit_and_an_untouched_case(feed):
    accepted(feed.receive(adt("A01", control="m1")))
    receipt = accepted(feed.receive(adt("A11", control="m2")))
    assert Encounter.objects.get().status == "cancelled"
    case = Case.objects.get()
    assert case.status == "cancelled" and "A11" in case.closure_reason
    assert Task.objects.get(case=case).status == "cancelled"
    assert receipt.summary["case"] == "cancelled"


def test_cancel_admit_puts_a_worked_case_on_hold_with_the_reason(feed, cm):
    from casebridge.cases.services import case_transition

    accepted(feed.receive(adt("A01", control="m1")))
    case = Case.objects.get()
    case_transition(actor=cm, case_id=case.pk, to_status="assessment")
    accepted(feed.receive(adt("A11", control="m2")))
    case.refresh_from_db()
    assert case.status == "on_hold"
    assert "kept because it is in assessment" in case.status_changes.order_by("-pk").first().reason


def test_cancel_discharge_reopens_the_visit_and_returns_the_case_from_transition(feed):
    accepted(feed.receive(adt("A01", control="m1")))
    accepted(feed.receive(adt("A03", control="m2", discharge="20260305120000", disposition="01")))
    accepted(feed.receive(adt("A13", control="m3")))
    encounter = Encounter.objects.get()
    assert encounter.status == "in-progress"
    assert encounter.discharge_at is None and encounter.discharge_disposition == {}
    assert Case.objects.get().status == "monitoring"


def test_class_change_to_inpatient_opens_the_case_the_rule_asks_for(feed):
    accepted(feed.receive(adt("A04", control="m1", patient_class="O")))
    assert Case.objects.count() == 0
    accepted(feed.receive(adt("A06", control="m2", patient_class="I")))
    assert Encounter.objects.get().encounter_class == "inpatient"
    assert Case.objects.count() == 1
    accepted(feed.receive(adt("A07", control="m3", patient_class="O")))
    assert Encounter.objects.get().encounter_class == "ambulatory"
    assert Case.objects.get().status == "referral"


@pytest.mark.parametrize("patient_type", ["OBS", "Observation", "OBS^Observation stay"])
def test_an_outpatient_in_observation_by_patient_type_is_an_observation_stay_and_opens_a_case(feed, patient_type):
    accepted(feed.receive(adt("A01", control="m1", patient_class="O", patient_type=patient_type)))
    encounter = Encounter.objects.get()
    assert (encounter.encounter_class, encounter.class_code) == ("observation", "O")
    assert Case.objects.count() == 1, "the rule opens a case for every inpatient and observation admission"
    # Admitted as an inpatient from observation (A06): the class follows, the case stays the same.
    accepted(feed.receive(adt("A06", control="m2", patient_class="I", patient_type="INP")))
    assert Encounter.objects.get().encounter_class == "inpatient"
    assert Case.objects.count() == 1


def test_an_outpatient_of_another_patient_type_stays_ambulatory(feed):
    accepted(feed.receive(adt("A04", control="m1", patient_class="O", patient_type="OP")))
    assert Encounter.objects.get().encounter_class == "ambulatory"
    assert Case.objects.count() == 0


def test_pre_admission_is_planned_and_opens_no_case_yet(feed):
    accepted(feed.receive(adt("A05", control="m1", admit="")))
    assert Encounter.objects.get().status == "planned"
    assert Case.objects.count() == 0


def test_merge_moves_identifiers_and_visits_to_the_surviving_patient_and_keeps_the_cases(feed):
    accepted(feed.receive(adt("A01", control="m1", mrn="OLD-1", visit="V-1", family="Smith")))
    accepted(feed.receive(adt("A04", control="m2", mrn="NEW-2", visit="V-2", family="Smith", patient_class="O")))
    prior = Patient.objects.get(identifiers__value="OLD-1")
    survivor = Patient.objects.get(identifiers__value="NEW-2")
    prior_case = Case.objects.get(patient=prior)
    receipt = accepted(feed.receive(adt("A40", control="m3", mrn="NEW-2", mrg="OLD-1", pv1=False, dg1="")))
    assert set(survivor.identifiers.values_list("value", flat=True)) == {"OLD-1", "NEW-2"}
    assert set(Encounter.objects.values_list("patient_id", flat=True)) == {survivor.pk}
    prior_case.refresh_from_db()
    assert prior_case.patient_id == prior.pk, "case managers' work is not moved by a feed"
    merge = Hl7PatientMerge.objects.get()
    assert (merge.surviving_id, merge.prior_id) == (survivor.pk, prior.pk)
    assert Patient.objects.filter(pk=prior.pk).exists(), "nothing is deleted"
    assert receipt.summary["encounters_moved"] == 1
    # Later messages with the old MRN land on the surviving patient.
    accepted(feed.receive(adt("A03", control="m4", mrn="OLD-1", visit="V-1", discharge="20260305120000")))
    assert Encounter.objects.get(identifier_value="V-1").patient_id == survivor.pk
    assert Case.objects.get(pk=prior_case.pk).status == "transition"


def test_merge_into_a_new_identifier_renames_the_only_known_patient(feed):
    accepted(feed.receive(adt("A01", control="m1", mrn="OLD-1")))
    accepted(feed.receive(adt("A40", control="m2", mrn="NEW-9", mrg="OLD-1", pv1=False, dg1="")))
    assert Patient.objects.count() == 1
    assert set(Patient.objects.get().identifiers.values_list("value", flat=True)) == {"OLD-1", "NEW-9"}


def test_a_repeated_control_id_is_acknowledged_again_without_being_applied_twice(feed):
    first = accepted(feed.receive(adt("A01", control="dup-1")))
    before = state()
    audits = AuditEvent.objects.count()
    again = accepted(feed.receive(adt("A01", control="dup-1")))
    assert again.duplicate and again.ack == first.ack
    assert state() == before and AuditEvent.objects.count() == audits
    # The same control ID from another sending facility is another message.
    other = accepted(feed.receive(adt("A01", control="dup-1", facility="OTHERHOSP", mrn="X-1", visit="XV-1")))
    assert not other.duplicate


def test_a_repeat_of_a_whole_stay_changes_nothing_and_gets_each_stored_ack(feed):
    """Repeats are applied and rolled back at their log row: nothing of the second pass survives,
    including the audit rows it would have written, and each answer is the one stored."""
    stay = [
        adt("A01", control="rs-1"),
        adt("A08", control="rs-2", family="Okafor-Renamed"),
        adt("A02", control="rs-3", location="ICU^2^A", prior_location="4W^401^B"),
        adt("A03", control="rs-4", discharge="20260305120000"),
    ]
    firsts = [accepted(feed.receive(m)) for m in stay]
    before, audits = state(), AuditEvent.objects.count()
    logged = Hl7Message.objects.count()
    agains = [accepted(feed.receive(m)) for m in stay]
    assert [a.ack for a in agains] == [f.ack for f in firsts] and all(a.duplicate for a in agains)
    assert state() == before and AuditEvent.objects.count() == audits and Hl7Message.objects.count() == logged
    assert Patient.objects.get().family_name == "Okafor-Renamed"


@pytest.mark.parametrize(
    "failure",
    [
        Hl7Problem("PID-3 carries no patient identifier (MRN)", error_code="101"),
        IllegalTransition("the case cannot move"),
        NotFound("no such visit"),
    ],
)
def test_a_repeat_whose_second_pass_fails_still_gets_the_stored_ack(feed, monkeypatch, failure):
    first = accepted(feed.receive(adt("A01", control="rf-1")))
    before, audits = state(), AuditEvent.objects.count()

    def fail(actor, message):
        raise failure

    monkeypatch.setattr(receiver, "apply_adt", fail)
    again = accepted(feed.receive(adt("A01", control="rf-1")))
    assert again.duplicate and again.ack == first.ack
    # A message never accepted before gets the failure, with its reason, and is logged as refused.
    new = feed.receive(adt("A01", control="rf-2", mrn="RF-2", visit="RFV-2"))
    assert new.code == "AE" and not new.duplicate and new.reason == str(failure)
    assert state() == before and AuditEvent.objects.count() == audits
    assert Hl7Message.objects.get(control_id="rf-2").ack_code == "AE"


@pytest.mark.parametrize("version", ["2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.8"])
def test_versions_2_3_to_2_8_are_accepted(feed, version):
    accepted(feed.receive(adt("A01", control=f"v{version}", version=version)))


def test_bom_and_lf_or_crlf_segment_ends_are_accepted(feed):
    text = adt("A01", control="b1")
    accepted(feed.receive(b"\xef\xbb\xbf" + text.replace("\r", "\n").encode()))
    accepted(feed.receive(adt("A03", control="b2", discharge="20260305120000").replace("\r", "\r\n")))
    assert Case.objects.get().status == "transition"


def test_blank_lines_between_segments_are_skipped(feed):
    """Files written with doubled line ends, or edited by hand, carry empty lines between segments:
    they are no segments, and the message is applied as if they were not there."""
    admit = adt("A01", control="e1").replace("\rPID", "\r\rPID").replace("\rPV1", "\r \rPV1")
    accepted(feed.receive(admit.encode() + b"\r\r"))
    discharge = adt("A03", control="e2", discharge="20260305120000").replace("\r", "\r\n\r\n")
    accepted(feed.receive(discharge))
    assert Case.objects.get().status == "transition"
    assert Encounter.objects.get().status == "finished"


def test_a_message_the_library_cannot_read_gets_an_ar_and_changes_nothing(feed, monkeypatch):
    """Failures of the HL7 library beyond ``hl7.parse`` itself (reading what it built) are an AR with
    the reason, like a parse error, not an exception that would drop an MLLP connection unanswered."""
    from casebridge.interop.hl7v2 import parsing

    def unreadable(message):
        raise IndexError("string index out of range")

    monkeypatch.setattr(parsing.Message, "_header", unreadable)
    before = state()
    receipt = feed.receive(adt("A01", control="u1"))
    assert receipt.code == "AR"
    assert "cannot parse the message: string index out of range" in receipt.reason
    assert msa(receipt.ack)[1] == "AR"
    assert state() == before


def test_an_unforeseen_failure_reading_a_message_still_gets_an_ar(feed, monkeypatch):
    def broken(message):
        raise KeyError("surprise")

    monkeypatch.setattr(receiver, "check_header", broken)
    before = state()
    receipt = feed.receive(adt("A01", control="u2"))
    assert receipt.code == "AR"
    assert "cannot read the message" in receipt.reason
    assert msa(receipt.ack)[1:3] == ["AR", "u2"]
    assert state() == before
    assert Hl7Message.objects.filter(ack_code="AR").count() == 1


@pytest.mark.parametrize(
    ("message", "code", "reason"),
    [
        (adt("A01", control="n1", pid=False), "AR", "no PID segment"),
        (adt("A99", control="n2"), "AR", "trigger event A99 is not supported"),
        (adt("A01", control="n3").replace("ADT^A01", "ORU^R01"), "AR", "message type ORU"),
        (adt("A01", control="n4", version="2.2"), "AR", "version 2.2 is not supported"),
        (adt("A01", control="", mrn="M"), "AR", "MSH-10"),
        (adt("A01", control="n6", mrn=""), "AE", "PID-3"),
        (adt("A01", control="n7", birth=""), "AE", "PID-7 date of birth is required"),
        (adt("A01", control="n8", birth="19XX0101"), "AE", "not an HL7 date"),
        (adt("A01", control="n9", visit=""), "AE", "PV1-19 visit number is required"),
        (adt("A01", control="n10", admit="20260301", discharge="20250101"), "AE", "before the admission"),
        (adt("A11", control="n11"), "AE", "not known here"),
        ("MSH|^~\\&|X|Y|Z|W|2026||ADT^A01|n12|P|2.5\rPID|1||M1^^^A^MR||Doe^J||19500101|F\rPV1|1|I|", "AE", "PV1-19"),
        ("this is not HL7 at all", "AR", "must start with an MSH segment"),
        (b"\x00\xff\xfe\x80garbage", "AR", "not UTF-8"),
        ("MSH|^~\\&|X|Y|Z|W|2026||ADT^A01|n15|P|2.5\rPID|1||M1^^^A^MR||Doe", "AE", "PID-7"),
        (adt("A01", control="n16", family="Oka\x00for"), "AR", "PID-5 holds a NUL character (byte 0x00)"),
        (adt("A01", control="n\x0017"), "AR", "MSH-10 holds a NUL character"),
        (adt("A01", control="n18", facility="G\x00HH"), "AR", "MSH-4 holds a NUL character"),
        (adt("A01", control="n19", birth="19XX0101"), "AE", "PID-7 '19XX0101' is not an HL7 date"),
        # python-hl7 reads +9999 as an offset of 99 hours 99 minutes, which Python cannot represent: these
        # (found by the mutation test) were "internal error" answers before.
        (adt("A01", control="n20", admit="20260301083000+9999"), "AE", "PV1-44 '20260301083000+9999' has a UTC offset"),
        (adt("A01", control="n21", admit="20260301083000+999920260301083000"), "AE", "PV1-44"),
        (adt("A03", control="n22", discharge="20260305120000+1500"), "AE", "PV1-45 '20260305120000+1500' has a UTC"),
        (
            adt("A01", control="n23", admit="99991231235959-1200"),
            "AE",
            "PV1-44 '99991231235959-1200' is not an HL7 date",
        ),
        (
            adt("A01", control="n24", admit="00010101000000+1400"),
            "AE",
            "PV1-44 '00010101000000+1400' is not an HL7 date",
        ),
        # python-hl7 and int() read Arabic-Indic digits as numbers: these were accepted as dates.
        (adt("A01", control="n25", birth="١٩٤٨٠٣١٢"), "AE", "PID-7 '١٩٤٨٠٣١٢' is not an HL7 date"),
        (adt("A01", control="n26", admit="٢٠٢٦٠٣٠١٠٨٣٠"), "AE", "PV1-44 '٢٠٢٦٠٣٠١٠٨٣٠' is not an HL7 date/time"),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 40 else None,
)
def test_a_bad_message_gets_a_nak_with_the_reason_and_changes_nothing(feed, message, code, reason):
    accepted(feed.receive(adt("A01", control="ok-1", mrn="KEEP-1", visit="KV-1")))
    before = state()
    receipt = feed.receive(message)
    assert receipt.code == code
    assert reason in receipt.reason
    fields = msa(receipt.ack)
    assert fields[1] == code and reason in fields[3].replace("\\F\\", "|")
    assert err(receipt.ack)
    assert "\x00" not in receipt.ack  # PostgreSQL could not log it, and the sender should not get one back
    assert state() == before
    assert Hl7Message.objects.filter(ack_code=code).count() == 1


def test_a_failure_late_in_a_message_rolls_back_what_it_had_done(feed, monkeypatch):
    """The patient and visit are written before the admission rule runs; a failure there undoes them."""
    from casebridge.interop.hl7v2 import events

    def boom(**kwargs):
        raise RuntimeError("rule engine down")

    monkeypatch.setattr(events, "case_open_for_admission", boom)
    receipt = feed.receive(adt("A01", control="late-1"))
    assert receipt.code == "AE" and "RuntimeError" in receipt.reason
    assert Patient.objects.count() == 0 and Encounter.objects.count() == 0
    monkeypatch.undo()
    accepted(feed.receive(adt("A01", control="late-1")))  # a resend after the fix applies
    assert Case.objects.count() == 1


def test_a_nul_character_is_located_in_its_segment_and_field(feed):
    receipt = feed.receive(adt("A01", control="nul-1", dg1="I50.9^Heart\x00 failure^I10") + "DG1|2||J18.9\x00\r")
    assert receipt.code == "AR" and receipt.reason.startswith("DG1-3 holds a NUL character")
    assert err(receipt.ack).startswith("ERR||DG1^1^3|102")


def test_a_registration_that_fails_a_constraint_is_retried_with_savepoints_and_takes_the_patient_registered_meanwhile(
    feed, monkeypatch
):
    """Another connection registers the same patient between this message's lookup and its INSERT. On the
    first attempt (no savepoints) the failed INSERT breaks the transaction, so the lookup that should find
    their patient raises Django's broken-transaction error; the retry with savepoints reaches it."""
    accepted(feed.receive(adt("A01", control="mrn-1", mrn="12345")))
    real_find = events.find_patient
    lookups = []

    def not_yet_committed(actor, ids, **kwargs):
        # Each attempt's first lookup misses, as if the other connection had not committed yet.
        lookups.append(ids[0].value)
        return None if len(lookups) % 2 == 1 else real_find(actor, ids, **kwargs)

    monkeypatch.setattr(events, "find_patient", not_yet_committed)
    receipt = accepted(feed.receive(adt("A08", control="mrn-2", mrn="12345", family="Lind")))
    assert len(lookups) == 4  # two attempts, each: the miss, then the lookup after the refused INSERT
    assert receipt.summary["patient"] == "matched"
    assert Patient.objects.count() == 1 and PatientIdentifier.objects.filter(value="12345").count() == 1


def test_one_number_from_two_assigning_authorities_is_two_patients(feed, hospital):
    """Two facilities of one health system each issue MRN 12345, to different people."""
    accepted(feed.receive(adt("A01", control="mrn-1", mrn="12345", visit="V-1")))
    south = adt("A01", control="mrn-2", mrn="12345", visit="V-2", family="Lind", given="Mia", birth="19800101")
    accepted(feed.receive(south.replace("12345^^^GHH^MR", "12345^^^SOUTH^MR")))
    north, other = Patient.objects.order_by("pk")
    assert (north.family_name, other.family_name) == ("Okafor", "Lind")
    stored = sorted(PatientIdentifier.objects.filter(value="12345").values_list("patient_id", "system"))
    assert stored == [(north.pk, "GHH"), (other.pk, "SOUTH")]
    update = adt("A08", control="mrn-3", mrn="12345", visit="V-2", family="Lind-Berg", given="Mia", birth="19800101")
    accepted(feed.receive(update.replace("12345^^^GHH^MR", "12345^^^SOUTH^MR")))
    north.refresh_from_db()
    other.refresh_from_db()
    assert (north.family_name, other.family_name) == ("Okafor", "Lind-Berg")
    assert Encounter.objects.get(identifier_value="V-2").patient_id == other.pk


def test_a_number_without_authority_names_its_only_holder_and_is_refused_when_several_hold_it(feed):
    accepted(feed.receive(adt("A01", control="na-1", mrn="12345", visit="V-1")))
    bare = adt("A08", control="na-2", mrn="12345", visit="V-1", family="Okafor-Lee").replace(
        "12345^^^GHH^MR", "12345^^^^MR"
    )
    assert accepted(feed.receive(bare)).summary["patient"] == "updated"
    assert Patient.objects.get().family_name == "Okafor-Lee"
    south = adt("A01", control="na-3", mrn="12345", visit="V-2", family="Lind", birth="19800101")
    accepted(feed.receive(south.replace("12345^^^GHH^MR", "12345^^^SOUTH^MR")))
    before = state()
    receipt = feed.receive(bare.replace("na-2", "na-4"))
    assert receipt.code == "AE"
    assert receipt.reason == (
        "PID-3 identifier 12345 has no assigning authority (CX-4), and several patients here hold that number "
        "under different authorities: send the authority"
    )
    assert err(receipt.ack).startswith("ERR||PID^1^3|204")
    assert state() == before
    merge = adt("A40", control="na-5", mrn="777", mrg="12345").replace("12345^^^GHH^MR", "12345^^^^MR")
    receipt = feed.receive(merge)
    assert receipt.code == "AE" and receipt.reason.startswith("MRG-1 identifier 12345 has no assigning authority")
    assert err(receipt.ack).startswith("ERR||MRG^1^1|204")
    assert state() == before


def test_a_lock_conflict_is_retried_once_then_the_sender_is_asked_to_resend(feed, monkeypatch):
    calls = []

    def locked(actor, message):
        calls.append(message.header.control_id)
        raise OperationalError("deadlock detected")

    monkeypatch.setattr(receiver, "apply_adt", locked)
    before = state()
    receipt = feed.receive(adt("A01", control="lock-1"))
    assert calls == ["lock-1", "lock-1"]
    assert receipt.code == "AE" and receipt.reason == "the record is busy: resend the message"
    assert state() == before


def test_a_database_error_other_than_a_conflict_is_not_called_busy(feed, monkeypatch):
    """A value the database refuses is no reason to resend: the sender would loop on it forever."""

    def refused(actor, message):
        raise DataError("value out of range")

    monkeypatch.setattr(receiver, "apply_adt", refused)
    receipt = feed.receive(adt("A01", control="data-1"))
    assert receipt.code == "AE" and "DataError" in receipt.reason and "busy" not in receipt.reason
    assert Hl7Message.objects.get(control_id="data-1").ack_code == "AE"


def test_err_segment_layout_follows_the_version(feed):
    old = feed.receive(adt("A01", control="e1", version="2.3", birth=""))
    assert err(old.ack).startswith("ERR|PID^1^7^101&Required field missing&HL70357")
    new = feed.receive(adt("A01", control="e2", version="2.5", birth=""))
    assert err(new.ack).startswith("ERR||PID^1^7|101^Required field missing^HL70357|E")
