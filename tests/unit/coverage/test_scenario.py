import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from casebridge.coverage.benefits import SchemaError
from casebridge.coverage.scenario import Report, format_report, load_scenario, main, solve, solve_scenario

DATA = Path(__file__).resolve().parents[2] / "data" / "coverage"
REFERENCE = DATA / "reference_case.yaml"
INFEASIBLE = DATA / "reference_case_infeasible.yaml"


def reference_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(REFERENCE.read_text())
    return document


def test_the_reference_scenario_file_yields_a_valid_proposal_under_every_rule_and_the_manual_split() -> None:
    report = solve_scenario(REFERENCE)
    assert report.feasibility.feasible
    assert [p.rule for p in report.proposals] == ["patient_protecting", "proportional_to_gain", "nash", "manual"]
    for proposal in report.proposals:
        assert proposal.violations() == []
    manual = report.proposals[-1]
    assert manual.shares == {"insurer": 250_000, "pharmacy": 100_000, "home_health": 50_000, "patient": 100_000}


def test_the_report_prints_each_rule_with_shares_walkaways_gains_and_math() -> None:
    text = format_report(solve_scenario(REFERENCE))
    for rule in ("patient_protecting", "proportional_to_gain", "nash", "manual"):
        assert f"Proposal: {rule}" in text
    assert "walk-away" in text and "gain after" in text and "math:" in text
    assert "$40,650.00" in text  # the insurer's walk-away: 21 x $2,000 - $1,350
    assert "price $5,000.00 minus cost drug $2,900.00 + equipment $600.00 = $1,500.00" in text


def test_the_infeasible_variant_prints_the_shortfall_and_no_proposals(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(INFEASIBLE)]) == 1
    out = capsys.readouterr().out
    assert "NO DEAL EXISTS" in out
    assert "shortfall $1,220.00" in out
    assert "Proposal:" not in out
    assert "[HARDSHIP]" in out


def test_the_command_exits_zero_when_a_deal_exists(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(REFERENCE)]) == 0
    assert "Proposal: nash" in capsys.readouterr().out


def test_a_json_scenario_is_read_like_yaml(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(reference_document()))
    assert solve_scenario(path).feasibility.total_walkaway == solve_scenario(REFERENCE).feasibility.total_walkaway


def test_a_partys_own_figure_replaces_the_computed_one_and_both_are_reported() -> None:
    document = reference_document()
    document["parties"][0]["override"] = {"amount": 3000, "reason": "SNF bed free in 3 days"}
    report = solve_scenario_from(document)
    insurer = report.scenario.parties[0]
    assert insurer.walkaway.amount == 300_000
    assert insurer.walkaway.computed == 21 * 200_000 - 135_000
    assert "party's own figure" in format_report(report)


def solve_scenario_from(document: dict[str, Any]) -> Report:
    return solve(load_scenario(document))


def test_invalid_scenario_values_are_reported_by_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = reference_document()
    document["parties"][1]["kind"] = "pharmacist"
    del document["parties"][3]["figures"]["ability_to_pay"]
    document["parties"][2]["figures"]["visits"] = -2
    document["manual"]["locks"]["hospital"] = 100
    with pytest.raises(SchemaError) as excinfo:
        load_scenario(document)
    assert sorted(excinfo.value.errors) == sorted(
        [
            "parties[1].kind: must be one of insurer, pharmacy, provider, home_health, hospital, patient",
            "parties[2].figures.visits: must be a whole number, 0 or more",
            "parties[3].figures.ability_to_pay: is required",
            "manual.locks.hospital: no party with this id",
        ]
    )
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(document))
    assert main([str(path)]) == 2
    assert "parties[1].kind" in capsys.readouterr().err


def test_a_manual_split_beyond_a_walkaway_is_reported_as_rejected_not_proposed() -> None:
    document = reference_document()
    document["manual"]["locks"] = {"home_health": 700}
    report = solve_scenario_from(document)
    assert "manual" not in [p.rule for p in report.proposals]
    assert "exceeds its walk-away" in report.rejected["manual"]
