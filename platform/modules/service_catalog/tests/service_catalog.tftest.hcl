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
    defaults = { arn = "arn:aws:iam::111111111111:role/mlops-suite-dev-project-launch" }
  }
}

variables {
  name_prefix       = "mlops-suite-dev"
  templates_dir     = "tests/fixtures"
  release           = "v0.1.0"
  kms_key_arn       = "arn:aws:kms:eu-west-1:111111111111:key/abc"
  access_log_bucket = "mlops-suite-dev-access-logs-111111111111-eu-west-1"
  principal_role_arns = {
    data_scientist = "arn:aws:iam::111111111111:role/mlops-suite-dev-studio-data-scientist"
  }
  launch_role_name            = "mlops-suite-dev-project-launch"
  execution_role_arn          = "arn:aws:iam::111111111111:role/mlops-suite-dev-sagemaker-execution"
  custom_resource_lambda_arns = ["arn:aws:lambda:eu-west-1:111111111111:function:mlops-suite-clone-repo"]
}

run "one_product_and_s3_template_per_file" {
  command = apply

  assert {
    condition     = toset(keys(aws_servicecatalog_product.this)) == toset(["alpha", "beta"])
    error_message = "each YAML in the templates folder becomes one product"
  }

  assert {
    condition     = alltrue([for p in aws_servicecatalog_product.this : p.tags["sagemaker:studio-visibility"] == "true"])
    error_message = "products must carry sagemaker:studio-visibility=true for Studio to list them"
  }

  assert {
    condition     = alltrue([for o in aws_s3_object.template : o.tags["sagemaker:studio-visibility"] == "true" && startswith(o.key, "templates/")])
    error_message = "S3 templates must sit under templates/ and carry sagemaker:studio-visibility=true"
  }

  assert {
    condition     = alltrue([for o in aws_s3_object.template : o.server_side_encryption == "aws:kms" && o.kms_key_id == var.kms_key_arn])
    error_message = "template objects are encrypted with the platform key"
  }

  assert {
    condition     = output.templates_s3_uri == "s3://mlops-suite-dev-templates-111111111111-eu-west-1/templates/"
    error_message = "the templates location must be the bucket's templates/ prefix"
  }

  assert {
    condition     = alltrue([for c in aws_servicecatalog_constraint.launch : c.type == "LAUNCH" && jsondecode(c.parameters).RoleArn == aws_iam_role.launch.arn])
    error_message = "every product launches with the launch role, never the user's own permissions"
  }

  assert {
    condition     = aws_servicecatalog_principal_portfolio_association.this["data_scientist"].principal_arn == var.principal_role_arns.data_scientist
    error_message = "Studio personas are associated with the portfolio"
  }

  assert {
    condition = alltrue([for s in jsondecode(aws_iam_role_policy.launch.policy).Statement :
      s.Resource == ["arn:aws:iam::111111111111:role/mlops-suite-p-????????????-github-*"]
    if anytrue([for a in flatten([s.Action]) : startswith(a, "iam:")])])
    error_message = "in IAM the launch role may only touch the projects' GitHub Actions roles (mlops-suite-p-<12>-github-*)"
  }

  assert {
    condition = alltrue([for s in jsondecode(aws_iam_role_policy.launch.policy).Statement :
      try(s.Condition.StringEquals["iam:PermissionsBoundary"], "") == "arn:aws:iam::111111111111:policy/mlops-suite-project-boundary"
    if length(setintersection(flatten([s.Action]), ["iam:CreateRole", "iam:PutRolePermissionsBoundary"])) > 0])
    error_message = "the launch role may create project roles only with the project permissions boundary"
  }

  assert {
    condition = alltrue([for s in jsondecode(aws_iam_role_policy.launch.policy).Statement :
      try(s.Condition.ArnEquals["iam:PolicyARN"], []) == ["arn:aws:iam::111111111111:policy/mlops-suite-project-github-dev"]
    if contains(flatten([s.Action]), "iam:AttachRolePolicy")])
    error_message = "the launch role may attach only the platform's project policy"
  }

  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.launch.policy).Statement : s if contains(flatten([s.Action]), "iam:CreateRole")]) == 1
    error_message = "the launch role must be able to create the projects' GitHub Actions roles"
  }

  assert {
    condition     = !anytrue([for s in jsondecode(aws_iam_role_policy.launch.policy).Statement : anytrue([for a in flatten([s.Action]) : contains(["iam:PassRole", "iam:PutRolePolicy", "iam:DeleteRolePermissionsBoundary", "iam:*"], a)])])
    error_message = "the launch role must not pass roles, write inline policies or remove boundaries"
  }

  assert {
    condition     = jsondecode(aws_iam_role.launch.assume_role_policy).Statement[0].Principal.Service == "servicecatalog.amazonaws.com"
    error_message = "only Service Catalog may assume the launch role (no direct CloudFormation path)"
  }

  assert {
    condition = alltrue([for s in jsondecode(aws_iam_policy.project_github.policy).Statement :
    alltrue([for r in flatten([s.Resource]) : r == "*" || !can(regex("s3:::", r)) || strcontains(r, "$${aws:PrincipalTag/sagemaker:project-id}")])])
    error_message = "the project policy reaches only the bucket of the project named by the role's project-id tag"
  }

  assert {
    condition = alltrue([for s in jsondecode(aws_iam_policy.project_github.policy).Statement :
      alltrue([for r in flatten([s.Resource]) : r == "*" ? contains([["sts:GetCallerIdentity"], ["ecr:GetAuthorizationToken"]], flatten([s.Action])) : (
    !can(regex(":ecr:", r)) || endswith(r, ":111111111111:repository/sagemaker-$${aws:PrincipalTag/sagemaker:project-id}/*"))])])
    error_message = "the project policy reaches only the image repositories of the project named by the role's project-id tag, and on \"*\" only who-am-I and the registry login"
  }

  assert {
    condition = alltrue([for s in jsondecode(aws_iam_policy.project_github.policy).Statement :
      alltrue([for r in flatten([s.Resource]) : endswith(r, ":111111111111:parameter/mlops-suite/projects/$${aws:PrincipalTag/sagemaker:project-id}/images/*")])
    if contains(flatten([s.Action]), "ssm:PutParameter")])
    error_message = "the project policy writes only the image URI parameters of its own project"
  }

  assert {
    condition = alltrue([for s in jsondecode(aws_iam_role_policy.launch.policy).Statement :
      alltrue([for r in flatten([s.Resource]) : endswith(r, ":111111111111:repository/sagemaker-p-????????????/*")])
    if anytrue([for a in flatten([s.Action]) : startswith(a, "ecr:")])])
    error_message = "the launch role manages only the projects' image repositories, and never deletes one"
  }

  assert {
    condition     = one(module.bucket.policy_json != "" ? [for s in jsondecode(module.bucket.policy_json).Statement : s.Action if s.Sid == "StudioAndLaunchRoleReadTemplates"] : []) == ["s3:GetObject", "s3:GetObjectTagging"]
    error_message = "Studio roles and the launch role may only read the templates"
  }
}

run "rejects_bad_release" {
  command = plan

  variables {
    release = "latest"
  }

  expect_failures = [var.release]
}

run "rejects_non_role_principal" {
  command = plan

  variables {
    principal_role_arns = { everyone = "*" }
  }

  expect_failures = [var.principal_role_arns]
}

run "publishes_the_suite_project_templates_by_default" {
  command = plan

  variables {
    templates_dir = null
  }

  assert {
    condition     = length(aws_servicecatalog_product.this) > 0 && toset(keys(aws_servicecatalog_product.this)) == toset([for f in fileset("../../../project-templates", "*.yaml") : trimsuffix(f, ".yaml")])
    error_message = "every project-templates/*.yaml must become a product"
  }

  assert {
    condition     = toset(keys(aws_s3_object.template)) == toset(keys(aws_servicecatalog_product.this))
    error_message = "every product is also published as an S3-based SageMaker project template"
  }
}
