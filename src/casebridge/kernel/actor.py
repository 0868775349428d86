"""Who is acting: a user, in one organization, with that membership's roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from casebridge.accounts.models import Organization, User


@dataclass(frozen=True)
class Actor:
    user: User
    organization: Organization
    roles: frozenset[str]
    client_ip: str | None = None
    disciplines: frozenset[str] = field(default_factory=frozenset)

    @property
    def user_id(self) -> int:
        return self.user.pk

    @property
    def organization_id(self) -> int:
        return self.organization.pk

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def __str__(self) -> str:
        return f"{self.user.username}@{self.organization.name}"
