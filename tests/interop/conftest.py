from __future__ import annotations

import pytest

from casebridge.accounts import roles


@pytest.fixture
def intake(make_actor, hospital):
    """The hospital's intake coordinator: registers patients, so may import."""
    return make_actor(hospital, roles.INTAKE_COORDINATOR, username="intake")


@pytest.fixture
def admin(make_actor, hospital):
    return make_actor(hospital, roles.ORG_ADMIN, username="hadmin")
