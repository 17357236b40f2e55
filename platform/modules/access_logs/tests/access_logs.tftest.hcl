mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111111111111" }
  }
}

variables {
  bucket_name = "mlops-suite-dev-access-logs-111111111111-eu-west-1"
}

run "locked_down_log_bucket" {
  command = plan

  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.this.block_public_acls,
      aws_s3_bucket_public_access_block.this.block_public_policy,
      aws_s3_bucket_public_access_block.this.ignore_public_acls,
      aws_s3_bucket_public_access_block.this.restrict_public_buckets,
    ])
    error_message = "public access must be blocked"
  }

  assert {
    condition     = one([for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement : s if s.Sid == "DenyInsecureTransport"]).Condition.Bool["aws:SecureTransport"] == "false"
    error_message = "TLS-only"
  }

  assert {
    condition     = one([for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement : s if s.Sid == "S3ServerAccessLogsFromThisAccount"]).Condition.StringEquals["aws:SourceAccount"] == "111111111111"
    error_message = "only this account's buckets may deliver logs"
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256"
    error_message = "access-log buckets must use SSE-S3: S3 server access logging cannot write to SSE-KMS buckets"
  }
}

run "rejects_short_retention" {
  command = plan

  variables {
    retention_days = 7
  }

  expect_failures = [var.retention_days]
}
