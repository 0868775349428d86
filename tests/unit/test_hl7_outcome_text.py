"""The ADT feed page's "What happened" column: a stored message summary in words."""

from __future__ import annotations

from casebridge.interop.hl7v2.outcome_text import describe


def test_an_admission_reads_as_what_it_did():
    summary = {"event": "A01", "patient": "created", "encounter": "created", "case": 42}
    assert describe(summary) == ["patient registered", "visit opened", "hospital case #42 opened"]


def test_a_discharge_names_the_case_steps_with_their_labels_in_order():
    summary = {
        "event": "A03",
        "patient": "matched",
        "encounter": "updated",
        "case_steps": ["assessment", "planning", "implementation", "transition"],
    }
    assert describe(summary) == [
        "patient matched",
        "visit updated",
        "hospital case: Assessment → Planning → Implementation & coordination → Transition",
    ]


def test_a_discharge_without_a_case_to_move_says_nothing_about_a_case():
    assert describe({"event": "A03", "patient": "matched", "encounter": "unchanged", "case_steps": []}) == [
        "patient matched",
        "visit unchanged",
    ]


def test_cancels_say_what_became_of_the_case():
    assert (
        describe({"patient": "matched", "encounter": "updated", "case": "cancelled"})[-1] == "hospital case cancelled"
    )
    assert describe({"case": "on_hold"}) == ["hospital case put on hold (it already has work)"]
    assert describe({"case": "monitoring"}) == ["hospital case back to Monitoring"]
    assert describe({"case": ""}) == []  # the visit had no hospital case


def test_a_merge_counts_the_visits_moved_and_hides_its_record_id():
    summary = {"event": "A40", "patient": "merged", "merge_id": 7, "encounters_moved": 1}
    assert describe(summary) == ["patients merged", "1 visit moved to the surviving patient"]
    assert describe({"encounters_moved": 3}) == ["3 visits moved to the surviving patient"]
    assert describe({"merge": "prior patient unknown: nothing to merge"}) == ["prior patient unknown: nothing to merge"]


def test_keys_it_does_not_know_are_shown_not_hidden_and_no_summary_is_nothing():
    assert describe({"patient": "renamed", "new_thing": 3}) == ["patient renamed", "new thing: 3"]
    assert describe(None) == [] and describe({}) == []


def test_the_order_is_the_order_of_events_whatever_order_the_keys_are_stored_in():
    # PostgreSQL's jsonb gives the keys back ordered by length: case, event, patient, encounter.
    stored = {"case": 5, "event": "A01", "patient": "created", "encounter": "created"}
    assert describe(stored) == ["patient registered", "visit opened", "hospital case #5 opened"]
    assert describe({"zeta": 1, "alpha": 2, "patient": "matched"}) == ["patient matched", "alpha: 2", "zeta: 1"]
