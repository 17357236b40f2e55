data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  names      = jsondecode(file("${path.module}/../../../src/mlops_suite/names.json"))
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  templates_dir = coalesce(var.templates_dir, "${path.module}/../../../project-templates")
  # One product per template file; discovered, so adding a template needs no Terraform change.
  templates = { for f in fileset(local.templates_dir, "*.yaml") : trimsuffix(f, ".yaml") => "${local.templates_dir}/${f}" }

  bucket_name     = "${var.name_prefix}-templates-${local.account_id}-${local.region}"
  prefix          = "templates/"
  launch_role_arn = "arn:${local.partition}:iam::${local.account_id}:role/${var.launch_role_name}"

  studio_visibility = { "sagemaker:studio-visibility" = "true" }

  # Each project stack creates its GitHub Actions role (names.json `github_actions_role`); project
  # ids are "p-" and 12 characters, so `?` pins the length and keeps other mlops-suite roles out.
  project_github_role_arn = "arn:${local.partition}:iam::${local.account_id}:role/${replace(replace(local.names.patterns.github_actions_role,
  "{project_id}", "p-????????????"), "{environment}", "*")}"
  # The project boundary the bootstrap stack creates; the templates set it on their roles by name.
  project_boundary_arn = "arn:${local.partition}:iam::${local.account_id}:policy/${local.names.patterns.project_permissions_boundary}"
  # The only policy a project's GitHub role gets: defined here, attached by the templates by name.
  project_github_policy_name = replace(local.names.patterns.project_github_policy, "{environment}", "dev")
  project_github_policy_arn  = "arn:${local.partition}:iam::${local.account_id}:policy/${local.project_github_policy_name}"

  project_bucket_arn = "arn:${local.partition}:s3:::${replace(replace(replace(local.names.patterns.artifact_bucket,
  "{project_id}", "p-????????????"), "{account_id}", local.account_id), "{region}", local.region)}"

  # Each project's role carries its project-id tag (the launch role may set no other tags), and
  # the policy reaches only the resources of the project named by that tag.
  project_tag       = local.names.tag_keys.project_id
  own_project_id    = "$${aws:PrincipalTag/${local.project_tag}}"
  own_bucket_arn    = "arn:${local.partition}:s3:::${replace(replace(replace(local.names.patterns.artifact_bucket, "{project_id}", local.own_project_id), "{account_id}", local.account_id), "{region}", local.region)}"
  project_pipelines = "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}:pipeline/*"
  # The byoc images of a project: its ECR repositories and the SSM parameters naming their URIs.
  own_image_repositories     = "arn:${local.partition}:ecr:${local.region}:${local.account_id}:repository/${replace(replace(local.names.patterns.ecr_repository, "{project_id}", local.own_project_id), "{image}", "*")}"
  own_image_parameters       = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${replace(replace(local.names.patterns.image_uri_parameter, "{project_id}", local.own_project_id), "{image}", "*")}"
  project_image_repositories = "arn:${local.partition}:ecr:${local.region}:${local.account_id}:repository/${replace(replace(local.names.patterns.ecr_repository, "{project_id}", "p-????????????"), "{image}", "*")}"
  project_github_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "WhoAmI"
        Effect   = "Allow"
        Action   = "sts:GetCallerIdentity"
        Resource = "*"
      },
      {
        Sid    = "ReadPlatformSettings"
        Effect = "Allow"
        Action = ["ssm:GetParameter", "ssm:GetParameters"]
        Resource = [for k in ["sagemaker_execution_role_arn", "private_subnet_ids", "security_group_id", "kms_key_arn"] :
        "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${local.names.ssm_parameters[k]}"]
      },
      {
        Sid      = "ListOwnProjectBucket"
        Effect   = "Allow"
        Action   = ["s3:ListBucket", "s3:GetBucketLocation"]
        Resource = [local.own_bucket_arn]
      },
      {
        Sid      = "ReadWriteOwnProjectArtifacts"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject"]
        Resource = ["${local.own_bucket_arn}/*"]
      },
      {
        Sid       = "PlatformKeyThroughS3Only"
        Effect    = "Allow"
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = var.kms_key_arn
        Condition = { StringEquals = { "kms:ViaService" = "s3.${local.region}.amazonaws.com" } }
      },
      {
        # Pipeline ARNs carry the name in lower case while project names may not be, so
        # pipelines are scoped by the project-id tag the workflow sets, not by name.
        Sid      = "CreateAndTagOwnProjectPipelines"
        Effect   = "Allow"
        Action   = ["sagemaker:CreatePipeline", "sagemaker:AddTags"]
        Resource = [local.project_pipelines]
        Condition = {
          StringEquals         = { "aws:RequestTag/${local.project_tag}" = local.own_project_id }
          StringEqualsIfExists = { "aws:ResourceTag/${local.project_tag}" = local.own_project_id }
        }
      },
      {
        Sid       = "RunOwnProjectPipelines"
        Effect    = "Allow"
        Action    = ["sagemaker:UpdatePipeline", "sagemaker:DescribePipeline", "sagemaker:StartPipelineExecution", "sagemaker:ListTags"]
        Resource  = [local.project_pipelines]
        Condition = { StringEquals = { "aws:ResourceTag/${local.project_tag}" = local.own_project_id } }
      },
      {
        # Read-only status; executions do not carry their pipeline's tags, so no tag scope here.
        Sid      = "FollowPipelineExecutions"
        Effect   = "Allow"
        Action   = ["sagemaker:DescribePipelineExecution", "sagemaker:ListPipelineExecutionSteps"]
        Resource = ["${local.project_pipelines}/execution/*"]
      },
      {
        # ECR evaluates a registry login on "*"; what the token may push is scoped below.
        Sid      = "LogInToTheRegistry"
        Effect   = "Allow"
        Action   = "ecr:GetAuthorizationToken"
        Resource = "*"
      },
      {
        # The byoc images workflow: push, read the on-push scan, and publish the digest URIs.
        Sid      = "PushAndScanOwnProjectImages"
        Effect   = "Allow"
        Action   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:DescribeImages", "ecr:DescribeImageScanFindings"]
        Resource = [local.own_image_repositories]
      },
      {
        Sid      = "PublishOwnProjectImageUris"
        Effect   = "Allow"
        Action   = ["ssm:PutParameter"]
        Resource = [local.own_image_parameters]
      },
      {
        Sid       = "PassOnlyThePlatformExecutionRole"
        Effect    = "Allow"
        Action    = "iam:PassRole"
        Resource  = var.execution_role_arn
        Condition = { StringEquals = { "iam:PassedToService" = "sagemaker.amazonaws.com" } }
      },
    ]
  }

  launch_trust = {
    Version = "2012-10-17"
    Statement = [{
      Effect = "Allow"
      # Service Catalog only: nobody can hand this role to CloudFormation directly.
      Principal = { Service = "servicecatalog.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  }

  # Exactly what the project templates create, nothing more: in IAM only the project's GitHub
  # Actions roles, only with the project boundary and the project-id tag, and with no permissions
  # but the platform's project policy (no inline policies, no iam:PassRole).
  launch_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadTemplates"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:GetObjectTagging"]
        Resource = ["arn:${local.partition}:s3:::${local.bucket_name}/${local.prefix}*"]
      },
      {
        Sid      = "ProjectStacks"
        Effect   = "Allow"
        Action   = ["cloudformation:CreateStack", "cloudformation:UpdateStack", "cloudformation:DeleteStack", "cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents", "cloudformation:GetTemplateSummary", "cloudformation:SetStackPolicy"]
        Resource = ["arn:${local.partition}:cloudformation:${local.region}:${local.account_id}:stack/SC-*/*", "arn:${local.partition}:cloudformation:${local.region}:${local.account_id}:stack/sagemaker-*/*"]
      },
      {
        Sid      = "ValidateTemplates"
        Effect   = "Allow"
        Action   = "cloudformation:ValidateTemplate"
        Resource = "*"
      },
      {
        Sid      = "ProjectBuckets"
        Effect   = "Allow"
        Action   = ["s3:CreateBucket", "s3:DeleteBucket", "s3:GetBucket*", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketPublicAccessBlock", "s3:PutBucketVersioning", "s3:PutBucketTagging", "s3:PutBucketLogging", "s3:PutBucketOwnershipControls", "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration", "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration"]
        Resource = [local.project_bucket_arn, "${local.project_bucket_arn}-logs"]
      },
      {
        Sid      = "EncryptProjectBuckets"
        Effect   = "Allow"
        Action   = ["kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt"]
        Resource = var.kms_key_arn
      },
      {
        # The byoc kind's image repositories (deployment template, IncludeByoc); retained on
        # delete, so the launch role never deletes one.
        Sid      = "ProjectImageRepositories"
        Effect   = "Allow"
        Action   = ["ecr:CreateRepository", "ecr:DescribeRepositories", "ecr:PutImageTagMutability", "ecr:PutImageScanningConfiguration", "ecr:PutLifecyclePolicy", "ecr:GetLifecyclePolicy", "ecr:SetRepositoryPolicy", "ecr:GetRepositoryPolicy", "ecr:DeleteRepositoryPolicy", "ecr:TagResource", "ecr:UntagResource", "ecr:ListTagsForResource"]
        Resource = [local.project_image_repositories]
      },
      {
        # ECR encrypts a repository with the platform key through a grant it creates for itself.
        Sid      = "EncryptProjectImageRepositories"
        Effect   = "Allow"
        Action   = "kms:CreateGrant"
        Resource = var.kms_key_arn
        Condition = {
          StringEquals = { "kms:ViaService" = "ecr.${local.region}.amazonaws.com" }
          Bool         = { "kms:GrantIsForAWSResource" = "true" }
        }
      },
      {
        Sid      = "ReadPlatformNames"
        Effect   = "Allow"
        Action   = ["ssm:GetParameter", "ssm:GetParameters"]
        Resource = ["arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter/mlops-suite/*"]
      },
      {
        Sid      = "ProjectModelPackageGroups"
        Effect   = "Allow"
        Action   = ["sagemaker:CreateModelPackageGroup", "sagemaker:DeleteModelPackageGroup", "sagemaker:DescribeModelPackageGroup", "sagemaker:PutModelPackageGroupPolicy", "sagemaker:DeleteModelPackageGroupPolicy", "sagemaker:GetModelPackageGroupPolicy", "sagemaker:AddTags", "sagemaker:DeleteTags", "sagemaker:ListTags"]
        Resource = ["arn:${local.partition}:sagemaker:${local.region}:${local.account_id}:model-package-group/*"]
      },
      {
        Sid      = "ProjectApprovalRules"
        Effect   = "Allow"
        Action   = ["events:PutRule", "events:DeleteRule", "events:DescribeRule", "events:PutTargets", "events:RemoveTargets", "events:TagResource", "events:UntagResource"]
        Resource = ["arn:${local.partition}:events:${local.region}:${local.account_id}:rule/${replace(local.names.patterns.model_approval_rule, "{project_id}", "*")}"]
      },
      {
        Sid      = "ProjectDeployRepoParameters"
        Effect   = "Allow"
        Action   = ["ssm:PutParameter", "ssm:DeleteParameter", "ssm:AddTagsToResource", "ssm:RemoveTagsFromResource"]
        Resource = ["arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${replace(local.names.patterns.project_deploy_repo_parameter, "{project_id}", "*")}"]
      },
      {
        Sid      = "ProjectGitHubRolesOnlyWithTheProjectBoundary"
        Effect   = "Allow"
        Action   = ["iam:CreateRole", "iam:PutRolePermissionsBoundary"]
        Resource = [local.project_github_role_arn]
        Condition = {
          StringEquals = { "iam:PermissionsBoundary" = local.project_boundary_arn }
        }
      },
      {
        Sid      = "ProjectGitHubRolesGetOnlyThePlatformPolicy"
        Effect   = "Allow"
        Action   = ["iam:AttachRolePolicy", "iam:DetachRolePolicy"]
        Resource = [local.project_github_role_arn]
        Condition = {
          ArnEquals = { "iam:PolicyARN" = [local.project_github_policy_arn] }
        }
      },
      {
        Sid      = "ProjectGitHubRolesCarryOnlyProjectTags"
        Effect   = "Allow"
        Action   = ["iam:TagRole", "iam:UntagRole"]
        Resource = [local.project_github_role_arn]
        Condition = {
          "ForAllValues:StringEquals" = { "aws:TagKeys" = [local.names.tag_keys.project_name, local.project_tag] }
        }
      },
      {
        Sid      = "ManageProjectGitHubRoles"
        Effect   = "Allow"
        Action   = ["iam:GetRole", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:DeleteRole", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription"]
        Resource = [local.project_github_role_arn]
      },
      {
        Sid      = "CallPlatformLambdas"
        Effect   = "Allow"
        Action   = "lambda:InvokeFunction"
        Resource = var.custom_resource_lambda_arns
      },
    ]
  }
}

module "bucket" {
  source = "../s3"

  bucket_name       = local.bucket_name
  kms_key_arn       = var.kms_key_arn
  access_log_bucket = var.access_log_bucket
  access_log_prefix = "${local.bucket_name}/"
  force_destroy     = var.force_destroy
  tags              = var.tags

  # SageMaker Studio reads S3-based project templates from the browser and needs this CORS rule.
  cors_rules = [{
    allowed_origins = ["https://*.sagemaker.aws"]
    allowed_methods = ["GET", "HEAD", "PUT", "POST", "DELETE"]
    allowed_headers = ["*"]
    expose_headers  = ["ETag", "x-amz-delete-marker", "x-amz-id-2", "x-amz-request-id", "x-amz-server-side-encryption", "x-amz-version-id"]
  }]

  read_access = [{
    sid            = "StudioAndLaunchRoleReadTemplates"
    principal_arns = concat(sort(values(var.principal_role_arns)), [aws_iam_role.launch.arn])
    prefixes       = [local.prefix]
    actions        = ["s3:GetObject", "s3:GetObjectTagging"]
  }]
}

resource "aws_s3_object" "template" {
  for_each = local.templates

  bucket                 = module.bucket.bucket_name
  key                    = "${local.prefix}${each.key}.yaml"
  source                 = each.value
  source_hash            = filemd5(each.value)
  content_type           = "application/x-yaml"
  server_side_encryption = "aws:kms"
  kms_key_id             = var.kms_key_arn
  # Studio lists an S3 template only when the object carries this tag.
  tags = merge(var.tags, local.studio_visibility)
}

resource "aws_iam_role" "launch" {
  permissions_boundary = var.permissions_boundary_arn
  name                 = var.launch_role_name
  description          = "CloudFormation launch role for mlops-suite SageMaker projects"
  assume_role_policy   = jsonencode(local.launch_trust)
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "launch" {
  name   = "project-resources"
  role   = aws_iam_role.launch.id
  policy = jsonencode(local.launch_policy)
}

resource "aws_iam_policy" "project_github" {
  name        = local.project_github_policy_name
  description = "GitHub Actions (environment dev) of a SageMaker project: its own bucket and pipelines, by its project-id tag"
  policy      = jsonencode(local.project_github_policy)
  tags        = var.tags
}

resource "aws_servicecatalog_portfolio" "this" {
  name          = "${var.name_prefix} SageMaker project templates"
  description   = "mlops-suite project templates for SageMaker Studio"
  provider_name = var.owner
  tags          = var.tags
}

resource "aws_servicecatalog_product" "this" {
  for_each = local.templates

  name        = "mlops-suite ${each.key}"
  owner       = var.owner
  type        = "CLOUD_FORMATION_TEMPLATE"
  description = "mlops-suite SageMaker project template ${each.key}"
  # Studio shows only products tagged for studio visibility.
  tags = merge(var.tags, local.studio_visibility)

  provisioning_artifact_parameters {
    name                        = var.release
    description                 = "Template ${each.key}.yaml of suite release ${var.release}"
    type                        = "CLOUD_FORMATION_TEMPLATE"
    template_url                = "https://${module.bucket.bucket_name}.s3.${local.region}.amazonaws.com/${aws_s3_object.template[each.key].key}"
    disable_template_validation = false
  }
}

resource "aws_servicecatalog_product_portfolio_association" "this" {
  for_each = local.templates

  portfolio_id = aws_servicecatalog_portfolio.this.id
  product_id   = aws_servicecatalog_product.this[each.key].id
}

resource "aws_servicecatalog_constraint" "launch" {
  for_each = local.templates

  description  = "Launch ${each.key} with the project launch role"
  portfolio_id = aws_servicecatalog_portfolio.this.id
  product_id   = aws_servicecatalog_product.this[each.key].id
  type         = "LAUNCH"
  parameters   = jsonencode({ RoleArn = aws_iam_role.launch.arn })

  depends_on = [aws_servicecatalog_product_portfolio_association.this, aws_iam_role_policy.launch, aws_iam_policy.project_github]
}

resource "aws_servicecatalog_principal_portfolio_association" "this" {
  for_each = var.principal_role_arns

  portfolio_id   = aws_servicecatalog_portfolio.this.id
  principal_arn  = each.value
  principal_type = "IAM"
}
