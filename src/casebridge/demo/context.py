"""What the demo builder knows while it builds, shared with enrichers."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.utils import timezone

from casebridge.accounts.models import Organization, User
from casebridge.accounts.selectors import actor_for
from casebridge.cases.models import Case
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.patients.models import Patient
from casebridge.tasks.models import WorkQueue

# Birth dates are drawn relative to this fixed day, so they do not change from one day to the next.
BIRTH_REFERENCE = dt.date(2026, 1, 1)


@dataclass
class DemoContext:
    """The demo being built.

    Times: ``today`` is the local date the demo is built on and every date is
    relative to it, so tasks are overdue, due today or later for whoever runs
    the demo, and two builds on the same day are identical. ``start_of_today``
    (local midnight) is the latest moment anything is recorded at.
    """

    seed: int
    today: dt.date
    organizations: dict[str, Organization] = field(default_factory=dict)  # by directory key
    users: dict[str, User] = field(default_factory=dict)  # by username
    queues: dict[tuple[str, str], WorkQueue] = field(default_factory=dict)  # (org key, name)
    patients: list[Patient] = field(default_factory=list)  # story patients, in build order
    cases: list[Case] = field(default_factory=list)  # story cases, in build order
    _actors: dict[tuple[str, str], Actor] = field(default_factory=dict)

    def rng(self, purpose: str) -> random.Random:
        """An independent random stream per purpose, so adding one enricher does not change the others' data."""
        digest = hashlib.sha256(f"{self.seed}:{purpose}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    @property
    def start_of_today(self) -> dt.datetime:
        return self.at(0, 0)

    def at(self, days: int, hour: int = 9, minute: int = 0) -> dt.datetime:
        """Local time ``hour:minute`` on the day ``days`` from today (negative: in the past)."""
        day = self.today + dt.timedelta(days=days)
        return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))

    def actor(self, username: str, org_key: str | None = None) -> Actor:
        """The actor for a demo user, in their organization (or ``org_key``)."""
        user = self.users[username]
        org = self.organizations[org_key] if org_key else None
        key = (username, org_key or "")
        if key not in self._actors:
            found = actor_for(user, organization_id=org.pk if org else None, client_ip="127.0.0.1")
            if found is None:
                raise LookupError(f"{username} has no membership in {org}")
            self._actors[key] = found
        return self._actors[key]


@contextmanager
def recorded_at(moment: dt.datetime) -> Iterator[None]:
    """Run services as if at ``moment``: their history and audit rows get that time."""
    with clock.frozen_at(moment):
        yield
