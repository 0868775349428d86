"""What runs inside an MLLP worker process (``casebridge mllp --processes N``).

Spawned children import this module to find their functions before Django is set up, so it imports
nothing of Django or of the models at module level.
"""

from __future__ import annotations

import logging
import os
from typing import Any

log = logging.getLogger(__name__)

_feed: Any = None


def init(organization_id: int, channel: str) -> None:
    """Runs once in each worker process: Django, the organization and its integration actor."""
    _exit_with_parent()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casebridge.config.settings")
    import django

    django.setup()
    from casebridge.accounts.models import Organization
    from casebridge.interop.hl7v2.receiver import Feed

    global _feed
    _feed = Feed(Organization.objects.get(pk=organization_id), channel=channel)


def _exit_with_parent() -> None:
    """Linux: the worker gets SIGTERM when the listener process dies, however it dies."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def ready() -> int:
    return os.getpid()


def receive_with(feed: Any, block: bytes) -> bytes:
    """Apply one framed message with ``feed``; the ACK's bytes."""
    from django.db import close_old_connections

    close_old_connections()  # a worker's connection may have gone away between messages
    receipt = feed.receive(block)
    log.info("HL7 %s %s -> %s %s", receipt.trigger, receipt.control_id, receipt.code, receipt.reason)
    return bytes(receipt.ack.encode("utf-8"))


def receive(block: bytes) -> bytes:
    assert _feed is not None, "worker not initialised"
    return receive_with(_feed, block)


def close() -> None:
    from django.db import connections

    connections.close_all()
