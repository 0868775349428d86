"""Running a ``casebridge`` command inside a process where Django is already set up (tests, a shell)."""

from __future__ import annotations

import logging

import pytest

from casebridge import cli
from tests.interop.hl7_support import adt

pytestmark = pytest.mark.django_db


def test_a_command_keeps_the_log_handlers_of_a_process_already_set_up(hospital, tmp_path, capsys):
    # A second django.setup() would re-apply the logging settings: new console handlers bound to the
    # stderr of that moment (here capsys's), which is closed once the test ends, so every later log
    # line of a listener thread would fail with "I/O operation on closed file".
    root = logging.getLogger()
    before = list(root.handlers)
    path = tmp_path / "one.hl7"
    path.write_text(adt("A01", control="setup-once"))
    assert cli.main(["import-hl7", str(path), "--organization", hospital.name]) == 0
    assert "AA" in capsys.readouterr().out
    assert root.handlers == before
