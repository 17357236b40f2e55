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
  name_prefix = "mlops-suite-dev"
  kms_key_arn = "arn:aws:kms:eu-west-1:111111111111:key/abc"
  vpc_id      = "vpc-0123456789abcdef0"
  personas = {
    data_scientist = { description = "Data scientists", can_create_projects = true }
    ml_engineer    = { description = "ML engineers", can_create_projects = true, can_manage_pipelines = true }
    model_approver = { description = "Approvers", can_approve_models = true }
  }
  launch_role_name      = "mlops-suite-dev-project-launch"
  templates_bucket_name = "mlops-suite-templates-111111111111-eu-west-1"
}

run "least_privilege" {
  command = plan

  assert {
    condition = alltrue(flatten([
      for doc in concat([aws_iam_role_policy.execution.policy], [for p in aws_iam_role_policy.persona : p.policy]) : [
        for s in jsondecode(doc).Statement : !(contains(flatten([s.Action]), "*") || anytrue([for a in flatten([s.Action]) : endswith(a, ":*")]))
      ]
    ]))
    error_message = "no statement may grant '*' or a whole service ('svc:*')"
  }

  assert {
    condition = alltrue(flatten([
      for doc in concat([aws_iam_role_policy.execution.policy], [for p in aws_iam_role_policy.persona : p.policy]) : [
        for s in jsondecode(doc).Statement : s.Resource != "*" || alltrue([
          for a in flatten([s.Action]) : can(regex("^(sagemaker:(Describe\\*|List\\*|Search|GetSearchSuggestions)|ecr:GetAuthorizationToken|cloudwatch:PutMetricData|ec2:Describe[A-Za-z]+|servicecatalog:[A-Za-z]+|cloudformation:(GetTemplateSummary|ValidateTemplate))$", a))
        ])
      ]
    ]))
    error_message = "Resource \"*\" is only allowed for read-only or non-resource-scoped actions"
  }

  assert {
    condition     = jsondecode(aws_iam_role.execution.assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "111111111111"
    error_message = "the SageMaker trust must be limited to this account (confused deputy)"
  }

  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.execution.policy).Statement : s if s.Sid == "CreateProjectTaggedResources"
    ]).Condition.Null["aws:RequestTag/sagemaker:project-id"] == "false"
    error_message = "jobs may only be created with the project-id tag"
  }

  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.execution.policy).Statement : s if s.Sid == "ProjectArtifactBuckets"
    ]).Resource[0] == "arn:aws:s3:::sagemaker-*-111111111111-eu-west-1"
    error_message = "bucket access follows the names.json artifact_bucket pattern, in this account and region"
  }

  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.persona["model_approver"].policy).Statement : s if s.Sid == "ApproveProjectTaggedModelPackages"]) == 1
    error_message = "approvers may approve model packages"
  }

  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.persona["data_scientist"].policy).Statement : s if s.Sid == "ApproveProjectTaggedModelPackages"]) == 0
    error_message = "data scientists may not approve model packages"
  }

  assert {
    condition     = length(aws_iam_policy.registry_read) == 0
    error_message = "no cross-account registry policy in the registry account itself"
  }
}

run "deploy_account_reads_registry_by_project_tag" {
  command = plan

  variables {
    personas                  = {}
    launch_role_name          = null
    templates_bucket_name     = null
    model_registry_account_id = "999999999999"
  }

  assert {
    condition = one([
      for s in jsondecode(aws_iam_policy.registry_read[0].policy).Statement : s if s.Sid == "ReadOwnProjectModelPackages"
    ]).Condition.StringEquals["aws:ResourceTag/sagemaker:project-id"] == "$${aws:PrincipalTag/sagemaker:project-id}"
    error_message = "registry reads must match the caller's own project-id tag"
  }

  assert {
    condition = alltrue([
      for r in one([for s in jsondecode(aws_iam_policy.registry_read[0].policy).Statement : s if s.Sid == "ReadOwnProjectModelPackages"]).Resource :
      startswith(r, "arn:aws:sagemaker:eu-west-1:999999999999:")
    ])
    error_message = "registry reads target the registry account"
  }

  assert {
    condition     = length(aws_iam_role.persona) == 0
    error_message = "deploy accounts have no Studio personas"
  }
}

run "rejects_bad_registry_account" {
  command = plan

  variables {
    model_registry_account_id = "99999999999"
  }

  expect_failures = [var.model_registry_account_id]
}

run "rejects_bad_persona_name" {
  command = plan

  variables {
    personas = { "Data Scientist" = { description = "x" } }
  }

  expect_failures = [var.personas]
}

run "roles_carry_the_boundary" {
  command = plan

  variables {
    permissions_boundary_arn = "arn:aws:iam::111111111111:policy/mlops-suite-platform-boundary"
  }

  assert {
    condition     = aws_iam_role.execution.permissions_boundary == var.permissions_boundary_arn && alltrue([for r in aws_iam_role.persona : r.permissions_boundary == var.permissions_boundary_arn])
    error_message = "every role must carry the permissions boundary"
  }
}

run "approval_gate_and_launch_only_through_service_catalog" {
  command = plan

  assert {
    condition = alltrue(flatten([
      for doc in concat([aws_iam_role_policy.execution.policy], [for p in aws_iam_role_policy.persona : p.policy]) : [
        for s in jsondecode(doc).Statement : try(s.Condition.StringEquals["sagemaker:ModelApprovalStatus"], "") == "PendingManualApproval"
        if contains(flatten([s.Action]), "sagemaker:CreateModelPackage")
      ]
    ]))
    error_message = "model packages may be created only as PendingManualApproval (the approver approves)"
  }

  assert {
    condition = !anytrue(flatten([
      for p in aws_iam_role_policy.persona : [
        for s in jsondecode(p.policy).Statement : length(setintersection(flatten([s.Action]), ["cloudformation:CreateStack", "cloudformation:UpdateStack"])) > 0
      ]
    ]))
    error_message = "personas create no stacks: projects launch through Service Catalog with the launch role"
  }

  assert {
    condition = alltrue(flatten([
      for p in aws_iam_role_policy.persona : [
        for s in jsondecode(p.policy).Statement : s.Condition.StringEquals["iam:PassedToService"] == "servicecatalog.amazonaws.com"
        if contains(flatten([s.Action]), "iam:PassRole") && s.Resource == "arn:aws:iam::111111111111:role/mlops-suite-dev-project-launch"
      ]
    ]))
    error_message = "personas may pass the launch role to Service Catalog only"
  }
}

run "rejects_an_approver_persona_of_another_name" {
  command = plan

  variables {
    personas = {
      reviewer = { description = "Reviewers", can_approve_models = true }
    }
  }

  expect_failures = [var.personas]
}
