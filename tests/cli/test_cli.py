"""The ``casebridge`` command: each subcommand documents itself; createuser goes through the user service."""

from __future__ import annotations

import pytest

from casebridge.accounts.models import User
from casebridge.cli import build_parser, main


@pytest.mark.parametrize("command", ["serve", "migrate", "demo", "createuser", "worker"])
def test_each_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert f"casebridge {command}" in capsys.readouterr().out


def test_serve_listens_on_localhost_port_8000_by_default():
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port) == ("127.0.0.1", 8000)
    args = build_parser().parse_args(["serve", "--host", "192.168.1.20", "--port", "9000"])
    assert (args.host, args.port) == ("192.168.1.20", 9000)


def test_a_command_is_required(capsys):
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2


def test_createuser_creates_a_user_through_the_service(hospital, capsys):
    code = main(
        [
            "createuser",
            "--username",
            "cli.nurse",
            "--organization",
            hospital.name,
            "--role",
            "case_manager",
            "--discipline",
            "RN",
            "--password",
            "a-long-enough-passphrase-7",
        ]
    )
    assert code == 0
    assert "Created cli.nurse" in capsys.readouterr().out
    user = User.objects.get(username="cli.nurse")
    assert list(user.memberships.values_list("organization_id", "role")) == [(hospital.pk, "case_manager")]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--organization", "No Such Org", "--role", "case_manager", "--discipline", "RN"], "no organization"),
        (["--organization", "General Hospital", "--role", "case_manager"], "discipline"),
        (["--organization", "General Hospital", "--role", "wizard"], "role"),
    ],
)
def test_createuser_refuses_bad_input_with_a_message_and_exit_code_2(hospital, capsys, extra, message):
    code = main(["createuser", "--username", "cli.bad", "--password", "a-long-enough-passphrase-7", *extra])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not User.objects.filter(username="cli.bad").exists()
