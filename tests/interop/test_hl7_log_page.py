"""The ADT feed page: the organization's HL7 message log for its admins, refused messages with their
reasons, and the last 24 hours hour by hour."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from casebridge.accounts import roles
from casebridge.audit.models import AuditEvent
from casebridge.interop.hl7v2.receiver import Feed
from casebridge.interop.models import Hl7Message
from casebridge.interop.selectors import LOG_PAGE, hl7_feed_summary
from casebridge.kernel import clock
from tests.interop.hl7_support import adt

pytestmark = pytest.mark.django_db


@pytest.fixture
def fed(hospital):
    """Two admissions accepted and one message refused (no PID segment)."""
    feed = Feed(hospital, channel="mllp")
    assert feed.receive(adt("A01", control="ok-1", mrn="LOG-1", visit="LV-1", family="Okafor")).code == "AA"
    assert feed.receive(adt("A01", control="ok-2", mrn="LOG-2", visit="LV-2", family="Mensah")).code == "AA"
    assert feed.receive(adt("A01", control="bad-1", pid=False)).code == "AR"
    return feed


def test_the_log_lists_the_feed_newest_first_with_patients_and_refusals(fed, admin, web_as):
    page = web_as(admin).get("/admin/hl7")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('<span class="badge ok">AA</span>') == 2
    assert html.count('<span class="badge danger">AR</span>') == 1
    assert "Okafor, Grace" in html and "Mensah, Grace" in html
    assert "no PID segment" in html and "ACK as sent" in html  # the refusal's reason and its ACK
    assert "<strong>2</strong> accepted" in html and 'class="text-danger">1</strong> refused' in html
    assert html.index("bad-1") < html.index("ok-2") < html.index("ok-1")  # newest first


def test_what_happened_is_in_words(fed, admin, web_as):
    discharge = adt("A03", control="ok-3", mrn="LOG-1", visit="LV-1", family="Okafor", discharge="20260305120000")
    assert fed.receive(discharge).code == "AA"
    html = web_as(admin).get("/admin/hl7", {"control_id": "ok-3"}).content.decode()
    assert "patient matched; visit updated; hospital case: Assessment → Planning" in html
    assert "case_steps" not in html and "[" not in html.split("What happened")[1]
    admitted = web_as(admin).get("/admin/hl7", {"control_id": "ok-1"}).content.decode()
    assert "patient registered; visit opened; hospital case #" in admitted


def test_the_refused_filter_and_a_control_id_narrow_the_log(fed, admin, web_as):
    html = web_as(admin).get("/admin/hl7", {"outcome": "refused"}).content.decode()
    assert "bad-1" in html and "ok-1" not in html and "ok-2" not in html
    html = web_as(admin).get("/admin/hl7", {"control_id": "ok-2"}).content.decode()
    assert "ok-2" in html and "ok-1" not in html and "bad-1" not in html


def test_a_bad_filter_is_named_and_the_whole_log_shown(fed, admin, web_as):
    html = web_as(admin).get("/admin/hl7", {"outcome": "maybe", "before": "x"}).content.decode()
    assert "Please correct the fields marked below" in html
    assert "Select a valid choice" in html and "Page (before): Enter a whole number" in html
    assert all(c in html for c in ("ok-1", "ok-2", "bad-1"))


def test_reading_the_log_is_audited_for_each_patient_shown(fed, admin, web_as):
    web_as(admin).get("/admin/hl7")
    listed = AuditEvent.objects.filter(action="hl7.log.list", user=admin.user)
    assert listed.count() == 2  # the two patients; the refused message named nobody
    assert {e.patient.family_name for e in listed} == {"Okafor", "Mensah"}


def test_older_messages_are_a_page_back_in_time_order(hospital, admin, web_as):
    at = clock.now()
    # Ids out of time order (a refused message is logged after its rollback): the pages follow time.
    Hl7Message.objects.bulk_create(
        Hl7Message(
            organization=hospital,
            control_id=f"c{n:03d}",
            ack_code="AA",
            ack="MSA|AA",
            received_at=at - dt.timedelta(seconds=(n * 7) % (LOG_PAGE + 5)),
            message_type="ADT^A08",
        )
        for n in range(LOG_PAGE + 5)
    )
    newest_first = list(Hl7Message.objects.order_by("-received_at", "-pk").values_list("control_id", flat=True))
    page = web_as(admin).get("/admin/hl7").content.decode()
    shown = re.findall(r"<td>(c\d{3})</td>", page)
    assert shown == newest_first[:LOG_PAGE]
    older = re.search(r'href="\?([^"]*before=\d+[^"]*)">Older messages', page)
    assert older is not None
    rest = web_as(admin).get("/admin/hl7?" + older.group(1).replace("&amp;", "&")).content.decode()
    assert re.findall(r"<td>(c\d{3})</td>", rest) == newest_first[LOG_PAGE:]
    assert "Older messages" not in rest


def test_the_summary_counts_each_hour_and_lays_out_its_columns(fed, admin, hospital):
    old = clock.now() - dt.timedelta(hours=30)  # outside the 24 hours
    Hl7Message.objects.create(organization=hospital, control_id="old", ack_code="AE", ack="", received_at=old)
    summary = hl7_feed_summary(admin)
    assert len(summary.hours) == 24 and (summary.accepted, summary.refused) == (2, 1)
    current = summary.hours[-1]
    assert (current.accepted, current.refused) == (2, 1) and summary.peak == 3
    assert current.refused_y == 0.0 and current.accepted_y == round(summary.CHART_HEIGHT / 3, 1)
    assert all(h.total == 0 and h.accepted_height == 0 for h in summary.hours[:-1])


def test_only_organization_admins_see_the_feed_and_only_their_own(fed, admin, cm, insurer, make_actor, web_as):
    assert web_as(cm).get("/admin/hl7").status_code == 403
    other = make_actor(insurer, roles.ORG_ADMIN)
    html = web_as(other).get("/admin/hl7").content.decode()
    assert "ok-1" not in html and "bad-1" not in html and "No messages" in html
    assert "No messages in the last 24 hours" in html
    searched = web_as(other).get("/admin/hl7", {"control_id": "ok-1"}).content.decode()
    assert "<td>ok-1</td>" not in searched and "No messages match" in searched
    assert 'href="/admin/hl7"' in web_as(admin).get("/admin/import").content.decode()  # in the admin's menu
