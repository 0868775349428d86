"""The case timeline's hospital entries: packets sent to the payer, denials and their outcomes."""

from __future__ import annotations

from casebridge.cases.models import Case
from casebridge.cases.timeline import TimelineEntry
from casebridge.hospital.models import Denial, ReviewPacket


def entries_for(case: Case) -> list[TimelineEntry]:
    entries = []
    for packet in ReviewPacket.objects.filter(stay__case=case, sent_at__isnull=False).select_related("sent_by"):
        assert packet.sent_at is not None
        entries.append(
            TimelineEntry(
                at=packet.sent_at,
                kind="payer",
                text=f"Clinical review packet #{packet.pk} sent to {packet.sent_to_name}",
                who=str(packet.sent_by or ""),
            )
        )
    for denial in Denial.objects.filter(stay__case=case).select_related("authorization"):
        entries.append(
            TimelineEntry(
                at=denial.received_at, kind="denial", text=f"{denial.authorization.payer_name} denied: {denial.reason}"
            )
        )
        if denial.outcome_at is not None:
            entries.append(
                TimelineEntry(
                    at=denial.outcome_at, kind="denial", text=f"Denial outcome: {denial.get_outcome_display()}"
                )
            )
    return entries
