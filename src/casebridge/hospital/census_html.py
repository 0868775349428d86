"""The census table's rows as HTML.

The census is the one page that lists every stay of the hospital (500 at a time in a 500-bed
hospital); Django's template engine spent about 0.4 ms a row on it, more than the database, and
``format_html`` (lazy-aware escaping of every argument, about 70 calls a row) still about 0.1 ms. The
rows are therefore formatted here with one f-string each, every value from the record passed through
``html.escape`` (what Django's own ``escape`` calls), and the page template keeps the rest of the layout.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from casebridge.hospital.selectors import CensusRow

RISK_BADGES = {
    "high": '<span class="badge danger">High risk</span>',
    "moderate": '<span class="badge warn">Moderate risk</span>',
    "low": '<span class="badge ok">Low risk</span>',
}
INCOMPLETE = '<span class="badge" title="Some score inputs are missing">Incomplete</span>'
OVERDUE = ' <span class="badge overdue">Overdue</span>'
NO_AUTHORIZATION = '<span class="subtle">None</span>'
AUTH_TONES = {"approved": "ok", "pending": "warn"}
DASH = "—"


def _auth_badge(row: CensusRow) -> str:
    if not row.authorization_status:
        return NO_AUTHORIZATION
    tone = AUTH_TONES.get(row.authorization_status, "danger")
    return f'<span class="badge {tone}">{escape(row.authorization_label)}</span>'


def _row(r: CensusRow, *, stay_url: str, open_form: str | None) -> str:
    name = escape(r.patient_name)
    if r.stay_id:
        patient = f'<a href="{stay_url.format(r.stay_id)}">{name}</a>'
    elif open_form is not None:
        patient = name + open_form.format(r.encounter_id)
    else:
        patient = name
    review = DASH
    if r.next_review_due:
        review = f"{timezone.localtime(r.next_review_due):%m/%d %H:%M}" + (OVERDUE if r.review_overdue else "")
    payer_review = (
        f'<div class="subtle">payer {r.payer_review_on:%m/%d}{OVERDUE if r.payer_review_overdue else ""}</div>'
        if r.payer_review_on
        else ""
    )
    barriers = DASH
    if r.barrier_count:
        more = f' <span class="subtle">+{r.barrier_count - 1}</span>' if r.barrier_count > 1 else ""
        barriers = escape(r.first_barrier) + more
    drg = f'<span title="{escape(r.drg_title)}">{escape(r.working_drg)}</span>' if r.working_drg else DASH
    los_index = (
        f'<span class="{"text-danger" if r.los_index > 1 else ""}">{r.los_index}</span>'
        if r.los_index is not None
        else DASH
    )
    return (
        f'<tr class="{"is-overdue" if r.review_overdue or r.payer_review_overdue else ""}" '
        f'data-encounter="{r.encounter_id}"><td>{patient}<div class="subtle">'
        f"{escape(r.case_manager or 'Unassigned')}{escape(f' · {r.payer}') if r.payer else ''}</div></td>"
        f'<td><span class="badge {"warn" if r.status == "observation" else "brand"}">'
        f'{escape(r.status.capitalize())}</span></td><td class="nowrap">'
        f'{timezone.localtime(r.admit_at):%m/%d %H:%M}</td><td class="num">{r.midnights}</td>'
        f"<td>{escape(r.unit) if r.unit else DASH}</td><td>{drg}</td>"
        f'<td class="num">{r.gmlos if r.gmlos is not None else DASH}</td><td class="num">{los_index}</td>'
        f'<td class="nowrap">{review}{payer_review}</td><td>{_auth_badge(r)}</td>'
        f'<td class="nowrap">{f"{r.expected_discharge_on:%m/%d}" if r.expected_discharge_on else DASH}</td>'
        f"<td>{barriers}</td><td>{RISK_BADGES.get(r.risk_band, INCOMPLETE)}</td></tr>"
    )


def census_rows_html(rows: Iterable[CensusRow], *, can_open: bool, csrf_token: str) -> SafeString:
    stay_url = reverse("hospital_stay", args=[0]).replace("/0/", "/{}/")
    open_form = None
    if can_open:
        open_url = escape(reverse("hospital_stay_open", args=[0]).replace("/0/", "/{}/"))
        # Built once: only the encounter id changes from row to row.
        open_form = (
            f' <form method="post" action="{open_url}" class="inline"><input type="hidden" '
            f'name="csrfmiddlewaretoken" value="{escape(csrf_token).replace("{", "{{").replace("}", "}}")}">'
            '<button type="submit" class="small secondary">Open</button></form>'
        )
    stay_url = escape(stay_url)
    # Every value from the record is escaped in _row; the rest is constant markup.
    return mark_safe("".join(_row(r, stay_url=stay_url, open_form=open_form) for r in rows))  # noqa: S308
