"""``casebridge import-hl7`` and ``casebridge mllp`` from the command line."""

from __future__ import annotations

import pytest

from casebridge import cli
from casebridge.cases.models import Case
from casebridge.patients.models import Patient
from tests.interop.hl7_support import SAMPLES, adt

pytestmark = pytest.mark.django_db


def test_import_hl7_applies_every_message_of_a_file_and_prints_ack_codes(hospital, tmp_path, capsys):
    body = (
        adt("A01", control="f1")
        + adt("A01", control="f2", pid=False)
        + adt("A03", control="f3", discharge="20260305120000")
    )
    path = tmp_path / "feed.hl7"
    path.write_bytes(b"\xef\xbb\xbf" + body.replace("\r", "\r\n").encode())
    code = cli.main(["import-hl7", str(path), "--organization", hospital.name])
    out = capsys.readouterr().out.splitlines()
    assert code == 1, "one message was refused"
    assert [line.split(": ")[1].split()[0] for line in out] == ["AA", "AR", "AA"]
    assert "no PID segment" in out[1]
    assert Case.objects.get().status == "transition"


def test_import_hl7_again_acknowledges_without_applying_twice(hospital, tmp_path, capsys):
    path = tmp_path / "one.hl7"
    path.write_text(adt("A01", control="once"))
    assert cli.main(["import-hl7", str(path), "--organization", hospital.name]) == 0
    assert cli.main(["import-hl7", str(path), "--organization", hospital.name]) == 0
    assert "duplicate" in capsys.readouterr().out.splitlines()[-1]
    assert Patient.objects.count() == 1


def test_import_hl7_reads_the_sample_files_in_place(hospital, capsys):
    code = cli.main(["import-hl7", str(SAMPLES / "ADT-A04-01.hl7"), "--organization", hospital.name])
    assert code == 0, capsys.readouterr().out
    assert Patient.objects.filter(organization=hospital).count() == 1


def test_import_hl7_needs_an_organization_when_there_are_several(hospital, insurer, tmp_path, capsys):
    path = tmp_path / "x.hl7"
    path.write_text(adt("A01", control="x"))
    assert cli.main(["import-hl7", str(path)]) == 2
    assert "--organization" in capsys.readouterr().err


def test_hl7_commands_have_help(capsys):
    for command in ("mllp", "import-hl7"):
        with pytest.raises(SystemExit) as exit_:
            cli.main([command, "--help"])
        assert exit_.value.code == 0
        assert "usage: casebridge " + command in capsys.readouterr().out
