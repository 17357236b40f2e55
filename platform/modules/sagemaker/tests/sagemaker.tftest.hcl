mock_provider "aws" {}

variables {
  domain_name                = "mlops-suite-dev"
  vpc_id                     = "vpc-0123456789abcdef0"
  subnet_ids                 = ["subnet-0a", "subnet-0b"]
  security_group_ids         = ["sg-0a"]
  kms_key_arn                = "arn:aws:kms:eu-west-1:111111111111:key/abc"
  default_execution_role_arn = "arn:aws:iam::111111111111:role/mlops-suite-dev-sagemaker-execution"
  persona_role_arns = {
    data_scientist = "arn:aws:iam::111111111111:role/mlops-suite-dev-studio-data-scientist"
    model_approver = "arn:aws:iam::111111111111:role/mlops-suite-dev-studio-model-approver"
  }
  user_profiles = {
    alice = "data_scientist"
    bob   = "model_approver"
  }
  project_templates_s3_uri = "s3://mlops-suite-templates-111111111111-eu-west-1/templates/"
}

run "vpc_only_and_encrypted" {
  command = plan

  assert {
    condition     = aws_sagemaker_domain.this.app_network_access_type == "VpcOnly"
    error_message = "Studio must run VPC-only (no direct internet)"
  }

  assert {
    condition     = aws_sagemaker_domain.this.kms_key_id == var.kms_key_arn
    error_message = "the domain's storage must use the platform key"
  }

  assert {
    condition     = one(one(aws_sagemaker_domain.this.default_user_settings).sharing_settings).notebook_output_option == "Disabled"
    error_message = "notebook output sharing must be off by default"
  }

  assert {
    condition     = aws_sagemaker_domain.this.tags["sagemaker:projectS3TemplatesLocation"] == var.project_templates_s3_uri
    error_message = "the domain must carry the S3 templates location tag so Studio lists the templates"
  }

  assert {
    condition     = one(aws_sagemaker_user_profile.this["bob"].user_settings).execution_role == var.persona_role_arns.model_approver
    error_message = "each profile runs with its persona's role"
  }
}

run "rejects_unknown_persona" {
  command = plan

  variables {
    user_profiles = { carol = "admin" }
  }

  expect_failures = [var.user_profiles]
}

run "rejects_single_subnet" {
  command = plan

  variables {
    subnet_ids = ["subnet-0a"]
  }

  expect_failures = [var.subnet_ids]
}

run "rejects_templates_uri_without_prefix" {
  command = plan

  variables {
    project_templates_s3_uri = "s3://bucket"
  }

  expect_failures = [var.project_templates_s3_uri]
}
