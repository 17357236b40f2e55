mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

variables {
  bucket_name       = "mlops-suite-test-111111111111-eu-west-1"
  kms_key_arn       = "arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000"
  access_log_bucket = "mlops-suite-logs-111111111111-eu-west-1"
}

run "secure_by_default" {
  command = plan

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"
    error_message = "objects must be encrypted with SSE-KMS"
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).kms_master_key_id == var.kms_key_arn
    error_message = "the given customer-managed key must be used"
  }

  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.this.block_public_acls,
      aws_s3_bucket_public_access_block.this.block_public_policy,
      aws_s3_bucket_public_access_block.this.ignore_public_acls,
      aws_s3_bucket_public_access_block.this.restrict_public_buckets,
    ])
    error_message = "all four public access block settings must be on"
  }

  assert {
    condition     = one(aws_s3_bucket_versioning.this.versioning_configuration).status == "Enabled"
    error_message = "versioning must be enabled"
  }

  assert {
    condition     = one(aws_s3_bucket_ownership_controls.this.rule).object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs must be disabled (BucketOwnerEnforced)"
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement :
      s.Effect == "Deny" && s.Principal == "*" && try(s.Condition.Bool["aws:SecureTransport"], "") == "false"
    ])
    error_message = "the bucket policy must deny requests without TLS"
  }

  assert {
    condition     = aws_s3_bucket_logging.this.target_bucket == var.access_log_bucket
    error_message = "access logging must go to the log bucket"
  }

  assert {
    condition     = length(aws_s3_bucket_cors_configuration.this) == 0
    error_message = "no CORS unless asked"
  }
}

run "read_grants_are_prefix_scoped" {
  command = plan

  variables {
    read_access = [{
      sid            = "StudioReadsTemplates"
      principal_arns = ["arn:aws:iam::111111111111:role/studio"]
      prefixes       = ["templates/"]
      actions        = ["s3:GetObject", "s3:GetObjectTagging"]
    }]
  }

  assert {
    condition = one([
      for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement : s.Resource if s.Sid == "StudioReadsTemplates"
    ]) == ["arn:aws:s3:::mlops-suite-test-111111111111-eu-west-1/templates/*"]
    error_message = "grants must be limited to their prefixes"
  }
}

run "rejects_wildcard_principal" {
  command = plan

  variables {
    read_access = [{ sid = "Everyone", principal_arns = ["*"], prefixes = [""] }]
  }

  expect_failures = [var.read_access]
}

run "rejects_write_grant" {
  command = plan

  variables {
    read_access = [{ sid = "Writer", principal_arns = ["arn:aws:iam::111111111111:role/x"], prefixes = [""], actions = ["s3:PutObject"] }]
  }

  expect_failures = [var.read_access]
}

run "rejects_alias_instead_of_key" {
  command = plan

  variables {
    kms_key_arn = "alias/aws/s3"
  }

  expect_failures = [var.kms_key_arn]
}

run "rejects_bad_bucket_name" {
  command = plan

  variables {
    bucket_name = "My_Bucket"
  }

  expect_failures = [var.bucket_name]
}

run "rejects_wildcard_cors_origin" {
  command = plan

  variables {
    cors_rules = [{ allowed_origins = ["*"], allowed_methods = ["GET"] }]
  }

  expect_failures = [var.cors_rules]
}
