mock_provider "aws" {}

variables {
  values = {
    kms_key_arn = "arn:aws:kms:eu-west-1:111111111111:key/abc"
    github_org  = "example-org"
  }
  list_values = {
    private_subnet_ids = ["subnet-1", "subnet-2"]
  }
}

run "names_come_from_names_json" {
  command = plan

  assert {
    condition     = aws_ssm_parameter.this["kms_key_arn"].name == jsondecode(file("../../../src/mlops_suite/names.json")).ssm_parameters.kms_key_arn
    error_message = "parameter names must come from names.json"
  }

  assert {
    condition     = aws_ssm_parameter.this["github_org"].name == "/mlops-suite/github/org"
    error_message = "github_org parameter name drifted from names.json"
  }

  assert {
    condition     = aws_ssm_parameter.list["private_subnet_ids"].type == "StringList" && aws_ssm_parameter.list["private_subnet_ids"].value == "subnet-1,subnet-2"
    error_message = "list parameters must be StringList, comma-joined"
  }

  assert {
    condition     = length(output.all_names) == length(jsondecode(file("../../../src/mlops_suite/names.json")).ssm_parameters)
    error_message = "all_names must expose the whole list"
  }
}

run "rejects_unknown_name" {
  command = plan

  variables {
    values = { kms_key = "arn:aws:kms:eu-west-1:111111111111:key/abc" }
  }

  expect_failures = [var.values]
}

run "rejects_empty_value" {
  command = plan

  variables {
    values = { github_org = "  " }
  }

  expect_failures = [var.values]
}

run "rejects_comma_in_list_item" {
  command = plan

  variables {
    list_values = { private_subnet_ids = ["subnet-1,subnet-2"] }
  }

  expect_failures = [var.list_values]
}
