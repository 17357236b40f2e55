mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111111111111" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
}

variables {
  environment               = "dev"
  region                    = "eu-west-1"
  account_ids               = { dev = "111111111111", preprod = "222222222222", prod = "333333333333" }
  github_org                = "acme-ml"
  github_prod_reviewer_team = "ml-approvers"
  suite_release             = "v0.1.0"
  user_profiles             = { alice = "data_scientist", bob = "model_approver" }
  lambda_source_code_hash   = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
}

run "dev_hosts_studio_lambdas_and_templates" {
  command = plan

  assert {
    condition     = length(module.sagemaker) == 1 && length(module.clone_repo_lambda) == 1 && length(module.model_approval_lambda) == 1 && length(module.service_catalog) == 1
    error_message = "dev hosts Studio, both Lambdas and the project templates"
  }

  assert {
    condition     = toset(module.kms.consumer_account_ids) == toset(["222222222222", "333333333333"])
    error_message = "the dev key lets preprod and prod decrypt model artifacts (through S3/SageMaker only)"
  }

  assert {
    condition     = alltrue([for k in ["clone_repo_lambda_arn", "model_approval_lambda_arn", "github_app_secret_arn", "kms_key_arn", "github_org", "private_subnet_ids", "project_templates_s3_uri"] : contains(keys(module.ssm.parameter_names), k)])
    error_message = "dev publishes every name the project templates and Lambdas read"
  }

  assert {
    condition     = module.ssm.parameter_names["clone_repo_lambda_arn"] == jsondecode(file("../../../src/mlops_suite/names.json")).ssm_parameters.clone_repo_lambda_arn
    error_message = "parameter names come from names.json"
  }

  assert {
    condition     = !module.networking.sagemaker_has_internet_route
    error_message = "SageMaker subnets get no internet route unless opted in"
  }
}

run "dev_roles_are_bounded" {
  command = plan

  assert {
    condition     = module.sagemaker_roles.permissions_boundary_arn == "arn:aws:iam::111111111111:policy/mlops-suite-platform-boundary"
    error_message = "platform roles must carry the bootstrap stack's permissions boundary"
  }
}

run "preprod_hosts_deploy_targets_only" {
  command = plan

  variables {
    environment = "preprod"
  }

  assert {
    condition     = length(module.sagemaker) == 0 && length(module.clone_repo_lambda) == 0 && length(module.service_catalog) == 0
    error_message = "preprod hosts no Studio, Lambdas or project templates"
  }

  assert {
    condition     = contains(keys(module.ssm.parameter_names), "model_registry_read_policy_arn") && !contains(keys(module.ssm.parameter_names), "clone_repo_lambda_arn")
    error_message = "preprod publishes the registry read policy, not the dev-only names"
  }

  assert {
    condition     = length(module.kms.consumer_account_ids) == 0
    error_message = "only the dev key is shared with other accounts"
  }
}

run "rejects_missing_lambda_artifact_in_dev" {
  command = plan

  variables {
    lambda_source_code_hash = null
    lambda_artifact_path    = "build/lambda/not-built.zip"
  }

  expect_failures = [var.lambda_artifact_path]
}

run "preprod_needs_no_lambda_artifact" {
  command = plan

  variables {
    environment             = "preprod"
    lambda_source_code_hash = null
    lambda_artifact_path    = "build/lambda/not-built.zip"
  }

  assert {
    condition     = length(module.clone_repo_lambda) == 0
    error_message = "preprod deploys no Lambda, so it needs no artifact"
  }
}

run "rejects_unknown_environment" {
  command = plan

  variables {
    environment = "staging"
  }

  expect_failures = [var.environment]
}

run "rejects_short_account_id" {
  command = plan

  variables {
    account_ids = { dev = "11111111111", preprod = "222222222222", prod = "333333333333" }
  }

  expect_failures = [var.account_ids]
}

run "rejects_same_account_twice" {
  command = plan

  variables {
    account_ids = { dev = "111111111111", preprod = "111111111111", prod = "333333333333" }
  }

  expect_failures = [var.account_ids]
}

run "rejects_missing_environment_account" {
  command = plan

  variables {
    account_ids = { dev = "111111111111", prod = "333333333333" }
  }

  expect_failures = [var.account_ids]
}

run "rejects_region_typo" {
  command = plan

  variables {
    region = "eu-wset-1"
  }

  expect_failures = [var.region]
}

run "rejects_empty_org" {
  command = plan

  variables {
    github_org = ""
  }

  expect_failures = [var.github_org]
}

run "rejects_org_with_spaces" {
  command = plan

  variables {
    github_org = "acme ml"
  }

  expect_failures = [var.github_org]
}
