"""Timeline entries for a case: choice lists presented and referrals sent, answered and agreed (from the records)."""

from __future__ import annotations

from casebridge.cases.models import Case
from casebridge.cases.timeline import TimelineEntry
from casebridge.postacute.models import ChoiceList, Referral


def entries_for(case: Case) -> list[TimelineEntry]:
    entries = []
    for cl in ChoiceList.objects.filter(case=case, presented_at__isnull=False).select_related("presented_by"):
        assert cl.presented_at is not None
        to = cl.representative_name if cl.presented_to == "representative" else "the patient"
        entries.append(
            TimelineEntry(
                at=cl.presented_at,
                kind="post-acute",
                text=f"Choice list of {cl.get_provider_type_display().lower()}s presented to {to}",
                who=str(cl.presented_by or ""),
            )
        )
    for r in Referral.objects.filter(case=case).select_related("provider", "sent_by", "agreement_recorded_by"):
        sent = f"Referral sent to {r.provider.name}"
        entries.append(TimelineEntry(at=r.sent_at, kind="referral", text=sent, who=str(r.sent_by or "")))
        if r.responded_at is not None:
            verb = "declined" if r.decline_reason else "accepted"
            entries.append(
                TimelineEntry(at=r.responded_at, kind="referral", text=f"{r.provider.name} {verb} the referral")
            )
        if r.patient_agreed_at is not None:
            entries.append(
                TimelineEntry(
                    at=r.patient_agreed_at,
                    kind="referral",
                    text=f"Patient agreed to {r.provider.name}; service starts {r.start_of_service_on:%m/%d/%Y}",
                    who=str(r.agreement_recorded_by or ""),
                )
            )
    return entries
