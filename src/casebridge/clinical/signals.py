"""Signals other areas subscribe to, so the clinical layer does not import them.

``admission_case_opened``: an incoming admission opened its hospital case (``case_open_for_admission``),
inside that transaction. Sent with ``actor``, ``encounter`` (locked, ``hospital_case`` set) and ``case``.
Receivers add the work the admission calls for (utilization review opens the MOON notice task for an
observation stay) in the same transaction, so a failure rolls the admission back with it.
"""

from django.dispatch import Signal

admission_case_opened = Signal()
