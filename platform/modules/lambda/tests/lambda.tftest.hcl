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
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::111111111111:role/mlops-suite-clone-repo-x" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:eu-west-1:111111111111:mlops-suite-clone-repo-dlq" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/lambda/mlops-suite-clone-repo" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:111111111111:function:mlops-suite-clone-repo" }
  }
}

variables {
  function_name      = "mlops-suite-clone-repo"
  description        = "Creates project repositories"
  artifact_path      = "build/mlops-suite-lambda.zip"
  source_code_hash   = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
  handler            = "mlops_suite.handlers.clone_repo.handler"
  kms_key_arn        = "arn:aws:kms:eu-west-1:111111111111:key/abc"
  subnet_ids         = ["subnet-0a", "subnet-0b"]
  security_group_ids = ["sg-0a"]
  policy_statements = [{
    sid       = "ReadGitHubAppSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["arn:aws:secretsmanager:eu-west-1:111111111111:secret:mlops-suite/github-app-AbCdEf"]
  }]
  invoke_permissions = [{
    statement_id = "EventBridgeProjectRules"
    principal    = "events.amazonaws.com"
    source_arn   = "arn:aws:events:eu-west-1:111111111111:rule/*"
  }]
}

run "hardened_function" {
  command = apply

  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == 5
    error_message = "reserved concurrency caps the function"
  }

  assert {
    condition     = one(aws_lambda_function.this.dead_letter_config).target_arn == aws_sqs_queue.dlq.arn
    error_message = "failed async invocations go to the DLQ"
  }

  assert {
    condition     = aws_sqs_queue.dlq.kms_master_key_id == var.kms_key_arn && aws_lambda_function.this.kms_key_arn == var.kms_key_arn
    error_message = "DLQ and environment variables are encrypted with the platform key"
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.kms_key_id == var.kms_key_arn && aws_cloudwatch_log_group.this.retention_in_days >= 365
    error_message = "logs are KMS-encrypted and kept at least a year"
  }

  assert {
    condition     = toset(one(aws_lambda_function.this.vpc_config).subnet_ids) == toset(var.subnet_ids)
    error_message = "the function runs in the private subnets"
  }

  assert {
    condition     = one(aws_lambda_function.this.tracing_config).mode == "Active"
    error_message = "tracing is on"
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.this.policy).Statement : !contains(flatten([s.Action]), "*")
    ])
    error_message = "no '*' action"
  }

  assert {
    condition     = aws_lambda_permission.this["EventBridgeProjectRules"].source_account == "111111111111"
    error_message = "invocations are limited to this account's sources"
  }
}

run "rejects_wildcard_statement" {
  command = plan

  variables {
    policy_statements = [{ sid = "Everything", actions = ["s3:*"], resources = ["arn:aws:s3:::x"] }]
  }

  expect_failures = [var.policy_statements]
}

run "rejects_wildcard_resource" {
  command = plan

  variables {
    policy_statements = [{ sid = "AnySecret", actions = ["secretsmanager:GetSecretValue"], resources = ["*"] }]
  }

  expect_failures = [var.policy_statements]
}

run "rejects_missing_artifact_hash" {
  command = plan

  variables {
    source_code_hash = ""
  }

  expect_failures = [var.source_code_hash]
}

run "rejects_no_vpc" {
  command = plan

  variables {
    subnet_ids = []
  }

  expect_failures = [var.subnet_ids]
}

run "rejects_unsupported_runtime" {
  command = plan

  variables {
    runtime = "python3.8"
  }

  expect_failures = [var.runtime]
}
