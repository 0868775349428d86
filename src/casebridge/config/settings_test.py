"""Settings for the test suite: the ``test`` profile of settings.py."""

import os

os.environ["CASEBRIDGE_ENV"] = "test"

from casebridge.config.settings import *  # noqa: E402,F403
