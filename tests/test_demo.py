"""`nox -s demo` works as the README says: the whole flow, offline, with real results."""

from __future__ import annotations

from pathlib import Path

import yaml

from mlops_suite import demo


def test_demo_runs_the_whole_flow(tmp_path: Path) -> None:
    result = demo.run(demo.default_answers(), tmp_path)
    answers = yaml.safe_load(demo.default_answers().read_text(encoding="utf-8"))

    repo = Path(result["repo"])
    assert (repo / ".git").is_dir(), "the repository was cloned from the GitHub double"
    recorded = yaml.safe_load((repo / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert recorded["_commit"] == demo.RELEASE
    assert recorded["project_name"] == answers["project_name"]

    (package,) = result["packages"]
    assert package["status"] == "PendingManualApproval"
    auc = package["metrics"]["binary_classification_metrics"]["auc"]["value"]
    assert 0.5 <= auc <= 1.0

    (dispatch,) = result["dispatches"]
    assert dispatch["event_type"] == "model-approved"
    assert dispatch["client_payload"]["model_package_arn"] == package["arn"]
