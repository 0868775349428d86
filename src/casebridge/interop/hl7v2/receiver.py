"""Receive one HL7 v2 message: check it, apply it in one transaction, log it, and build its ACK.

The ACK is built only after the transaction commits, so an AA always means the change is durable.
Anything that goes wrong rolls back the whole message and yields AE or AR with the reason; the
rejection is then logged in its own small transaction. A message whose control ID (MSH-10) was
already accepted from the same sending facility is answered with the ACK stored for it and not
applied again: the accepted-once constraint on ``Hl7Message`` makes the repeat's transaction fail at
its log row and roll back whole, also when two connections deliver it at the same moment.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction

from casebridge.accounts.models import Organization
from casebridge.audit.recorder import audit_deferred
from casebridge.interop.hl7v2.ack import build_ack
from casebridge.interop.hl7v2.events import SUPPORTED_EVENTS, apply_adt
from casebridge.interop.hl7v2.parsing import SUPPORTED_VERSIONS, Header, Hl7Problem, Message, decode
from casebridge.interop.models import Hl7Message
from casebridge.interop.services import integration_actor
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import DomainError, NotFound
from casebridge.kernel.follow_up import FollowUp, collected, run_all
from casebridge.kernel.prepared import PreparedQuery
from casebridge.kernel.rows import insert_rows_later

log = logging.getLogger(__name__)

ACCEPTED = "AA"
ERROR = "AE"
REJECTED = "AR"


@dataclass
class Receipt:
    ack: str
    code: str
    control_id: str = ""
    trigger: str = ""
    reason: str = ""
    duplicate: bool = False
    summary: dict[str, Any] = field(default_factory=dict)
    #: After-commit work the message caused that need not delay its ACK (``kernel.follow_up``), left
    #: for the caller when it asked ``receive`` to defer it; run it with ``kernel.follow_up.run_all``.
    follow_up: tuple[FollowUp, ...] = ()


def check_header(message: Message) -> None:
    """Refusals that need no database: the message is not one this feed takes (AR)."""
    h = message.header
    if (nul := message.nul_character_location()) is not None:
        segment, sequence, number = nul
        raise Hl7Problem(
            f"{segment}-{number} holds a NUL character (byte 0x00), which HL7 text may not contain",
            ack_code=REJECTED,
            error_code="102",
            location=f"{segment}^{sequence}^{number}",
        )
    if not h.control_id:
        raise Hl7Problem(
            "MSH-10 message control ID is required", ack_code=REJECTED, error_code="101", location="MSH^1^10"
        )
    if h.message_type != "ADT":
        raise Hl7Problem(
            f"message type {h.message_type or '(none)'} is not supported: this feed takes ADT",
            ack_code=REJECTED,
            error_code="200",
            location="MSH^1^9",
        )
    if h.trigger not in SUPPORTED_EVENTS:
        raise Hl7Problem(
            f"trigger event {h.trigger or '(none)'} is not supported (supported: {', '.join(SUPPORTED_EVENTS)})",
            ack_code=REJECTED,
            error_code="201",
            location="MSH^1^9",
        )
    if h.version not in SUPPORTED_VERSIONS:
        raise Hl7Problem(
            f"HL7 version {h.version or '(none)'} is not supported (2.3 to 2.8)",
            ack_code=REJECTED,
            error_code="203",
            location="MSH^1^12",
        )


# Compiled once per process (see kernel.prepared): it runs for every message.
_ACCEPTED = PreparedQuery(
    Hl7Message,
    lambda organization_id, facility, control_id: Hl7Message.objects.filter(
        organization_id=organization_id, sending_facility=facility, control_id=control_id, ack_code=ACCEPTED
    ).order_by("pk")[:1],
    organization_id=int,
    facility=str,
    control_id=str,
)


def _duplicate(organization: Organization, header: Header) -> Hl7Message | None:
    """The accepted message with this control ID from this facility (at most one: see the model)."""
    rows = _ACCEPTED(
        organization_id=organization.pk,
        facility=header.sending_facility[:200],
        control_id=header.control_id[:200],
    )
    return rows[0] if rows else None


def _log(
    organization: Organization,
    header: Header | None,
    code: str,
    ack: str,
    *,
    channel: str,
    error: str = "",
    received_at: Any,
    **extra: Any,
) -> None:
    """The message's row in ``Hl7Message``: one INSERT, no model instance (it runs for every message)."""
    h = header or Header()
    insert_rows_later(  # on the fast path, with the message's audit rows at the end of its block
        Hl7Message,
        [
            {
                "organization_id": organization.pk,
                "sending_application": h.sending_application[:200],
                "sending_facility": h.sending_facility[:200],
                "control_id": h.control_id[:200],
                "message_type": f"{h.message_type}^{h.trigger}"[:20] if h.message_type else "",
                "version": h.version[:12],
                "ack_code": code,
                "ack": ack,
                "error": error,
                "channel": channel,
                "received_at": received_at,
                **extra,
            }
        ],
    )


@contextlib.contextmanager
def _without_savepoints() -> Iterator[None]:
    """Inside the message's transaction, let the services' nested ``atomic`` blocks run without their
    SAVEPOINT / RELEASE pairs (two statements each, six pairs for an admission).

    Nothing in the message's transaction needs a partial rollback on the fast path: any error rolls the
    whole message back. Code that catches an error and carries on (a patient registered by another
    connection a moment ago) then hits Django's "broken transaction" error, a ``DatabaseError``, and
    ``Feed.receive`` applies the message again with savepoints, exactly as before. The connection is
    the calling thread's own, so the switch affects no other thread.
    """
    conn: Any = connection
    conn._savepoint_allowed = lambda: False
    try:
        yield
    finally:
        del conn._savepoint_allowed


@contextlib.contextmanager
def _fast_path() -> Iterator[None]:
    with _without_savepoints(), audit_deferred():
        yield


def _problem(exc: Hl7Problem | DomainError) -> Hl7Problem:
    if isinstance(exc, Hl7Problem):
        return exc
    return Hl7Problem(exc.detail, error_code="204" if isinstance(exc, NotFound) else "207")


class Feed:
    """One organization's inbound ADT feed. Cheap to call from many threads: each call uses the
    calling thread's database connection; the actor is looked up once."""

    def __init__(self, organization: Organization, actor: Actor | None = None, channel: str = "mllp") -> None:
        self.organization = organization
        self.actor = actor or integration_actor(organization)
        self.channel = channel
        self.facility = organization.name

    def _refuse(self, header: Header | None, problem: Hl7Problem, received_at: Any) -> Receipt:
        ack = build_ack(
            header,
            problem.ack_code,
            text=problem.reason,
            error_code=problem.error_code,
            location=problem.location,
            facility=self.facility,
        )
        try:
            _log(
                self.organization,
                header,
                problem.ack_code,
                ack,
                channel=self.channel,
                error=problem.reason,
                received_at=received_at,
            )
        except DatabaseError:  # the NAK still goes out; the log is a convenience
            log.exception("could not log a rejected HL7 message")
        h = header or Header()
        return Receipt(ack, problem.ack_code, h.control_id, h.trigger, problem.reason)

    def receive(self, data: bytes | str, *, defer_follow_up: bool = False) -> Receipt:
        """Apply one message; its receipt carries the ACK. The after-commit work the message caused
        (a readmission risk refresh) runs before this returns, or, with ``defer_follow_up``, is left
        in ``Receipt.follow_up`` for the caller to run once the ACK is on its way (the MLLP listener)."""
        receipt = self._receive(data)
        if receipt.follow_up and not defer_follow_up:
            run_all(receipt.follow_up)
            receipt.follow_up = ()
        return receipt

    def _receive(self, data: bytes | str) -> Receipt:
        received_at = clock.now()
        header: Header | None = None
        try:
            message = Message(decode(data).strip("\r\n \t\x00"))
            header = message.header
            check_header(message)
        except Hl7Problem as problem:
            return self._refuse(header, problem, received_at)
        except Exception as exc:  # noqa: BLE001 - odd input must still get a NAK, not a dropped connection
            log.exception("HL7 message could not be read")
            unreadable = Hl7Problem(f"cannot read the message: {exc}", ack_code="AR", error_code="100")
            return self._refuse(header, unreadable, received_at)
        # No lookup for a repeat before applying: a repeated control ID is rare, and the accepted-once
        # constraint stops its log row, which rolls the repeat back whole. Every way out but success
        # then asks whether the message was accepted before and, if so, answers with the stored ACK.
        for attempt in (1, 2):
            try:
                # First attempt without nested savepoints; a retry runs the plain path.
                return self._apply(message, received_at, savepoints=attempt == 2)
            except IntegrityError:
                if (repeat := self._repeat(header)) is not None:
                    return repeat
                if attempt == 2:
                    log.exception("HL7 message %s failed twice on a constraint", header.control_id)
                    conflict = Hl7Problem("the message conflicts with stored data", error_code="205")
                    return self._refuse(header, conflict, received_at)
            except (Hl7Problem, DomainError) as exc:
                return self._repeat(header) or self._refuse(header, _problem(exc), received_at)
            except DatabaseError as exc:
                # Try once more: the first attempt runs without savepoints, so code that catches an error
                # and carries on meets a broken transaction (see _without_savepoints); a deadlock or
                # serialization failure between connections also passes on a second try.
                if attempt == 1:
                    continue
                if isinstance(exc, OperationalError):  # still a conflict: the sender should resend
                    log.exception("HL7 message %s: database error", header.control_id)
                    busy = Hl7Problem("the record is busy: resend the message", error_code="206")
                    return self._refuse(header, busy, received_at)
                return self._failed(header, exc, received_at)
            except Exception as exc:  # noqa: BLE001 - any failure must still produce a NAK, never a hang
                return self._failed(header, exc, received_at)
        raise AssertionError("unreachable")

    def _failed(self, header: Header, exc: Exception, received_at: Any) -> Receipt:
        """The answer to a failure that is neither the message's fault nor a conflict: a bug here."""
        if (repeat := self._repeat(header)) is not None:
            return repeat
        log.exception("HL7 message %s could not be applied", header.control_id, exc_info=exc)
        internal = Hl7Problem(f"internal error ({type(exc).__name__}); nothing was applied", error_code="207")
        return self._refuse(header, internal, received_at)

    def _repeat(self, header: Header) -> Receipt | None:
        """The stored answer when this control ID from this facility was accepted before (nothing applied)."""
        try:
            stored = _duplicate(self.organization, header)
        except DatabaseError:
            log.exception("could not look up HL7 message %s", header.control_id)
            return None
        if stored is None:
            return None
        return Receipt(stored.ack, stored.ack_code, header.control_id, header.trigger, duplicate=True)

    def _apply(self, message: Message, received_at: Any, *, savepoints: bool = True) -> Receipt:
        header = message.header
        ack = build_ack(header, ACCEPTED, facility=self.facility)
        # Without savepoints any error rolls back the whole message, so its append-only rows (audit, history,
        # status changes, this log row) can wait for its end and go in one statement (kernel.rows
        # inserts_at_end); the retry path (savepoints) writes each one as it happens.
        fast = contextlib.nullcontext() if savepoints else _fast_path()
        # Follow-up work is collected outside the transaction: if the message rolls back, it is dropped.
        with collected() as later, transaction.atomic(), fast:
            applied = apply_adt(self.actor, message)
            _log(
                self.organization,
                header,
                ACCEPTED,
                ack,
                channel=self.channel,
                received_at=received_at,
                patient=applied.patient,
                encounter=applied.encounter,
                summary=applied.summary,
            )
        return Receipt(
            ack, ACCEPTED, header.control_id, header.trigger, summary=applied.summary, follow_up=tuple(later)
        )


def hl7_message_receive(*, organization: Organization, data: bytes | str, channel: str = "file") -> Receipt:
    """Apply one HL7 v2 message for ``organization`` as its integration user; returns the ACK."""
    return Feed(organization, channel=channel).receive(data)
