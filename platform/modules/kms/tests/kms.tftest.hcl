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
  alias       = "mlops-suite/test"
  description = "test key"
}

run "rotation_on_and_policy_scoped" {
  command = plan

  assert {
    condition     = aws_kms_key.this.enable_key_rotation
    error_message = "key rotation must be on"
  }

  assert {
    condition     = aws_kms_alias.this.name == "alias/mlops-suite/test"
    error_message = "alias must be prefixed with alias/"
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_kms_key.this.policy).Statement :
      try(s.Principal.AWS, "") != "*" && try(s.Principal, "") != "*"
    ])
    error_message = "no key policy statement may have a wildcard principal"
  }

  assert {
    condition     = length(jsondecode(aws_kms_key.this.policy).Statement) == 2
    error_message = "without consumer accounts the key policy has only the account and logs statements"
  }
}

run "consumer_accounts_only_through_services" {
  command = plan

  variables {
    consumer_account_ids = ["222222222222", "333333333333"]
  }

  assert {
    condition = one([
      for s in jsondecode(aws_kms_key.this.policy).Statement : s
      if s.Sid == "ConsumerAccountsReadArtifactsThroughS3AndSageMaker"
      ]).Condition.StringEquals["kms:ViaService"] == [
      "s3.eu-west-1.amazonaws.com", "sagemaker.eu-west-1.amazonaws.com",
    ]
    error_message = "consumer accounts may decrypt only through S3 and SageMaker"
  }

  assert {
    condition = join(",", sort(one([
      for s in jsondecode(aws_kms_key.this.policy).Statement : s
      if s.Sid == "ConsumerAccountsReadArtifactsThroughS3AndSageMaker"
    ]).Action)) == "kms:Decrypt,kms:DescribeKey"
    error_message = "consumer accounts get decrypt and describe only"
  }
}

run "rejects_bad_consumer_account" {
  command = plan

  variables {
    consumer_account_ids = ["12345"]
  }

  expect_failures = [var.consumer_account_ids]
}

run "rejects_reserved_alias" {
  command = plan

  variables {
    alias = "aws/s3"
  }

  expect_failures = [var.alias]
}

run "rejects_short_deletion_window" {
  command = plan

  variables {
    deletion_window_in_days = 3
  }

  expect_failures = [var.deletion_window_in_days]
}
