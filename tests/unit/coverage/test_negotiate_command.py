from pathlib import Path

import pytest

from casebridge.cli import main

DATA = Path(__file__).resolve().parents[2] / "data" / "coverage"


def test_negotiate_prints_every_rule_for_the_reference_case_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["negotiate", str(DATA / "reference_case.yaml")]) == 0
    out = capsys.readouterr().out
    for rule in ("patient_protecting", "proportional_to_gain", "nash", "manual"):
        assert f"Proposal: {rule}" in out
    assert "$2,500.00" in out


def test_negotiate_exits_one_when_no_deal_exists(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["negotiate", str(DATA / "reference_case_infeasible.yaml")]) == 1
    assert "NO DEAL EXISTS" in capsys.readouterr().out


def test_negotiate_exits_two_on_a_bad_file_and_names_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("gap: -5\nparties: []\n")
    assert main(["negotiate", str(bad)]) == 2
    assert "gap: must not be negative" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("latin1.yaml", "case: Jos\xe9\n".encode("latin-1"), "it is not UTF-8 text (invalid byte at offset 9)"),
        (
            "deep.yaml",
            ("gap: " + "[" * 900 + "]" * 900).encode(),
            "it nests lists and objects more than 64 levels deep",
        ),
        (
            "deep.json",
            ('{"gap": ' + "[" * 5000 + "]" * 5000 + "}").encode(),
            "it nests lists and objects more than 64 levels deep",
        ),
        (
            "nested.json",
            ('{"gap": ' + "[" * 80 + "]" * 80 + "}").encode(),
            "it nests lists and objects more than 64 levels deep",
        ),
    ],
)
def test_negotiate_exits_two_on_a_file_it_cannot_read_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes, reason: str
) -> None:
    """These were tracebacks: UnicodeDecodeError and RecursionError escaped the reader."""
    path = tmp_path / name
    path.write_bytes(content)
    assert main(["negotiate", str(path)]) == 2
    assert capsys.readouterr().err == f"{path}: cannot read: {reason}\n"
