"""The SDK v3 canary's structural diff names what changed: steps, types, job arguments."""

from __future__ import annotations

import copy
from typing import Any

from mlops_suite.sdk_canary import structural_diff

V2: dict[str, Any] = {
    "Parameters": [{"Name": "InputDataUrl", "Type": "String", "DefaultValue": "s3://b/in.csv"}],
    "Steps": [
        {
            "Name": "Train",
            "Type": "Training",
            "Arguments": {"HyperParameters": {"sagemaker_submit_directory": '"s3://b/code/abc"'}},
            "CacheConfig": {"Enabled": True, "ExpireAfter": "P30D"},
        },
        {
            "Name": "Check",
            "Type": "Condition",
            "Arguments": {"IfSteps": [{"Name": "Register", "Type": "RegisterModel", "Arguments": {}}]},
        },
    ],
}


def test_identical_definitions_have_no_difference() -> None:
    assert structural_diff(V2, copy.deepcopy(V2)) == []


def test_each_kind_of_change_is_named() -> None:
    v3 = copy.deepcopy(V2)
    v3["Parameters"][0]["DefaultValue"] = "s3://b/other.csv"
    train = v3["Steps"][0]
    train["Arguments"]["HyperParameters"]["sagemaker_submit_directory"] = '"s3://b/code/2026"'
    del train["CacheConfig"]
    v3["Steps"][1]["Arguments"]["IfSteps"][0]["Type"] = "Model"
    lines = structural_diff(V2, v3)
    assert "parameter InputDataUrl: ('String', 's3://b/in.csv') -> ('String', 's3://b/other.csv')" in lines
    assert (
        'step Train: HyperParameters.sagemaker_submit_directory: "\\"s3://b/code/abc\\""'
        ' -> "\\"s3://b/code/2026\\""'
    ) in lines
    assert "step Train: CacheConfig: {'Enabled': True, 'ExpireAfter': 'P30D'} -> None" in lines
    assert "step Register: type RegisterModel -> Model" in lines
    v3["Steps"].pop()
    assert "steps: ['Train', 'Check', 'Register'] -> ['Train']" in structural_diff(V2, v3)
