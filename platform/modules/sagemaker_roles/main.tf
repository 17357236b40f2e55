data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  names      = jsondecode(file("${path.module}/../../../src/mlops_suite/names.json"))
  project_id = local.names.tag_keys.project_id

  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  sm_arn     = "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}"

  # Project artifact buckets follow the shared pattern; roles reach only those buckets.
  project_bucket_name = replace(replace(replace(local.names.patterns.artifact_bucket,
  "{project_id}", "*"), "{account_id}", local.account_id), "{region}", local.region)
  project_bucket_arn = "arn:${local.partition}:s3:::${local.project_bucket_name}"

  execution_role_name = "${var.name_prefix}-sagemaker-execution"
  execution_role_arn  = "arn:${local.partition}:iam::${local.account_id}:role/${local.execution_role_name}"

  sagemaker_trust = {
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "sagemaker.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  }

  # Resources a project creates carry its project-id tag; creating needs the tag in the request,
  # changing needs it on the resource.
  request_tagged  = { Null = { "aws:RequestTag/${local.project_id}" = "false" } }
  resource_tagged = { Null = { "aws:ResourceTag/${local.project_id}" = "false" } }

  # The approval gate: a package is registered waiting for approval, never Approved at creation
  # (the boundary also denies Approved to everyone but the approver's role).
  register_pending_statement = {
    Sid      = "RegisterModelPackagesPendingApproval"
    Effect   = "Allow"
    Action   = "sagemaker:CreateModelPackage"
    Resource = ["${local.sm_arn}:model-package/*", "${local.sm_arn}:model-package-group/*"]
    Condition = {
      Null         = { "aws:RequestTag/${local.project_id}" = "false" }
      StringEquals = { "sagemaker:ModelApprovalStatus" = "PendingManualApproval" }
    }
  }

  job_resources = [for t in ["training-job", "processing-job", "transform-job", "model", "pipeline", "experiment", "experiment-trial", "experiment-trial-component", "model-package", "model-package-group", "endpoint", "endpoint-config"] : "${local.sm_arn}:${t}/*"]

  common_statements = [
    {
      Sid      = "ProjectArtifactBuckets"
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:GetBucketLocation"]
      Resource = [local.project_bucket_arn, "${local.project_bucket_arn}/*"]
    },
    {
      Sid      = "PlatformKey"
      Effect   = "Allow"
      Action   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
      Resource = var.kms_key_arn
    },
    {
      Sid       = "PlatformKeyGrantsForSageMaker"
      Effect    = "Allow"
      Action    = "kms:CreateGrant"
      Resource  = var.kms_key_arn
      Condition = { Bool = { "kms:GrantIsForAWSResource" = "true" } }
    },
  ]

  execution_only_statements = [
    {
      Sid      = "SageMakerLogs"
      Effect   = "Allow"
      Action   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
      Resource = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/sagemaker/*"]
    },
    {
      Sid       = "SageMakerMetrics"
      Effect    = "Allow"
      Action    = "cloudwatch:PutMetricData"
      Resource  = "*"
      Condition = { StringLike = { "cloudwatch:namespace" = ["/aws/sagemaker/*", "sagemaker/*"] } }
    },
    {
      Sid      = "EcrLogin"
      Effect   = "Allow"
      Action   = "ecr:GetAuthorizationToken"
      Resource = "*"
    },
    {
      Sid      = "EcrPull"
      Effect   = "Allow"
      Action   = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
      Resource = [for id in concat([local.account_id], var.image_account_ids) : "arn:${local.partition}:ecr:${local.region}:${id}:repository/*"]
    },
    {
      Sid      = "DescribeNetwork"
      Effect   = "Allow"
      Action   = ["ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DescribeDhcpOptions", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"]
      Resource = "*"
    },
    {
      Sid       = "NetworkInterfacesInPlatformVpc"
      Effect    = "Allow"
      Action    = ["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission"]
      Resource  = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:*/*"]
      Condition = { ArnEquals = { "ec2:Vpc" = "arn:${local.partition}:ec2:${local.region}:${local.account_id}:vpc/${var.vpc_id}" } }
    },
    {
      Sid       = "CreateProjectTaggedResources"
      Effect    = "Allow"
      Action    = ["sagemaker:CreateTrainingJob", "sagemaker:CreateProcessingJob", "sagemaker:CreateTransformJob", "sagemaker:CreateModel", "sagemaker:CreateExperiment", "sagemaker:CreateTrial", "sagemaker:CreateTrialComponent"]
      Resource  = local.job_resources
      Condition = local.request_tagged
    },
    local.register_pending_statement,
    {
      Sid       = "ManageProjectTaggedResources"
      Effect    = "Allow"
      Action    = ["sagemaker:Describe*", "sagemaker:StopTrainingJob", "sagemaker:StopProcessingJob", "sagemaker:StopTransformJob", "sagemaker:AddTags", "sagemaker:AssociateTrialComponent", "sagemaker:UpdateTrialComponent"]
      Resource  = local.job_resources
      Condition = local.resource_tagged
    },
    {
      Sid       = "PassSelfToSageMaker"
      Effect    = "Allow"
      Action    = "iam:PassRole"
      Resource  = local.execution_role_arn
      Condition = { StringEquals = { "iam:PassedToService" = "sagemaker.amazonaws.com" } }
    },
  ]

  execution_statements = concat(local.common_statements, local.execution_only_statements,
  [for st in local.registry_read_statements : st if var.model_registry_account_id != null])

  registry_arn = "arn:${local.partition}:sagemaker:${local.region}:${coalesce(var.model_registry_account_id, local.account_id)}"
  registry_bucket_arn = "arn:${local.partition}:s3:::${replace(replace(replace(local.names.patterns.artifact_bucket,
  "{project_id}", "*"), "{account_id}", coalesce(var.model_registry_account_id, local.account_id)), "{region}", local.region)}"

  # Cross-account read of the dev model registry: only packages whose project-id tag equals the
  # caller's own project-id tag (the project's deploy roles carry it).
  registry_read_statements = [
    {
      Sid       = "ReadOwnProjectModelPackages"
      Effect    = "Allow"
      Action    = ["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup"]
      Resource  = ["${local.registry_arn}:model-package/*", "${local.registry_arn}:model-package-group/*"]
      Condition = { StringEquals = { "aws:ResourceTag/${local.project_id}" = "$${aws:PrincipalTag/${local.project_id}}" } }
    },
    {
      Sid      = "ReadModelArtifactsFromRegistryAccount"
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:GetObjectVersion"]
      Resource = ["${local.registry_bucket_arn}/*"]
    },
    {
      Sid       = "DecryptRegistryArtifactsThroughS3"
      Effect    = "Allow"
      Action    = ["kms:Decrypt", "kms:DescribeKey"]
      Resource  = ["arn:${local.partition}:kms:${local.region}:${coalesce(var.model_registry_account_id, local.account_id)}:key/*"]
      Condition = { StringEquals = { "kms:ViaService" = "s3.${local.region}.amazonaws.com" } }
    },
  ]

  registry_read_policy = {
    Version   = "2012-10-17"
    Statement = local.registry_read_statements
  }

  execution_policy = {
    Version   = "2012-10-17"
    Statement = local.execution_statements
  }

  launch_role_arn = var.launch_role_name == null ? null : "arn:${local.partition}:iam::${local.account_id}:role/${var.launch_role_name}"
  templates_arn   = "arn:${local.partition}:s3:::${coalesce(var.templates_bucket_name, "no-templates-bucket")}"

  persona_base_statements = [
    {
      Sid      = "StudioApps"
      Effect   = "Allow"
      Action   = ["sagemaker:CreateApp", "sagemaker:DeleteApp", "sagemaker:CreateSpace", "sagemaker:UpdateSpace", "sagemaker:DeleteSpace", "sagemaker:AddTags"]
      Resource = ["${local.sm_arn}:app/*", "${local.sm_arn}:space/*", "${local.sm_arn}:user-profile/*"]
    },
    {
      Sid      = "ReadSageMaker"
      Effect   = "Allow"
      Action   = ["sagemaker:Describe*", "sagemaker:List*", "sagemaker:Search", "sagemaker:GetSearchSuggestions"]
      Resource = "*"
    },
    {
      Sid       = "CreateProjectTaggedJobs"
      Effect    = "Allow"
      Action    = ["sagemaker:CreateTrainingJob", "sagemaker:CreateProcessingJob", "sagemaker:CreateTransformJob", "sagemaker:CreateModel", "sagemaker:CreateExperiment", "sagemaker:CreateTrial", "sagemaker:CreateTrialComponent"]
      Resource  = local.job_resources
      Condition = local.request_tagged
    },
    {
      Sid       = "StopProjectTaggedJobs"
      Effect    = "Allow"
      Action    = ["sagemaker:StopTrainingJob", "sagemaker:StopProcessingJob", "sagemaker:StopTransformJob"]
      Resource  = local.job_resources
      Condition = local.resource_tagged
    },
    {
      Sid       = "PassExecutionRoleToSageMaker"
      Effect    = "Allow"
      Action    = "iam:PassRole"
      Resource  = local.execution_role_arn
      Condition = { StringEquals = { "iam:PassedToService" = "sagemaker.amazonaws.com" } }
    },
  ]

  pipeline_statements = [
    {
      Sid       = "CreateProjectTaggedPipelines"
      Effect    = "Allow"
      Action    = ["sagemaker:CreatePipeline", "sagemaker:CreateModelPackageGroup"]
      Resource  = local.job_resources
      Condition = local.request_tagged
    },
    local.register_pending_statement,
    {
      Sid       = "RunProjectTaggedPipelines"
      Effect    = "Allow"
      Action    = ["sagemaker:UpdatePipeline", "sagemaker:StartPipelineExecution", "sagemaker:StopPipelineExecution", "sagemaker:RetryPipelineExecution"]
      Resource  = ["${local.sm_arn}:pipeline/*"]
      Condition = local.resource_tagged
    },
  ]

  approver_statements = [
    {
      Sid       = "ApproveProjectTaggedModelPackages"
      Effect    = "Allow"
      Action    = "sagemaker:UpdateModelPackage"
      Resource  = ["${local.sm_arn}:model-package/*"]
      Condition = local.resource_tagged
    },
  ]

  project_creator_statements = [
    {
      Sid      = "CreateSageMakerProjects"
      Effect   = "Allow"
      Action   = ["sagemaker:CreateProject", "sagemaker:UpdateProject", "sagemaker:DeleteProject"]
      Resource = ["${local.sm_arn}:project/*"]
    },
    {
      Sid      = "LaunchProjectProducts"
      Effect   = "Allow"
      Action   = ["servicecatalog:SearchProducts", "servicecatalog:DescribeProduct", "servicecatalog:DescribeProductView", "servicecatalog:DescribeProvisioningParameters", "servicecatalog:ListLaunchPaths", "servicecatalog:ProvisionProduct", "servicecatalog:DescribeProvisionedProduct", "servicecatalog:DescribeRecord", "servicecatalog:SearchProvisionedProducts", "servicecatalog:TerminateProvisionedProduct", "servicecatalog:UpdateProvisionedProduct"]
      Resource = "*"
    },
    {
      # Reading only: project stacks are created by Service Catalog with the launch role, never
      # by the persona (which could otherwise run any template as that role).
      Sid      = "ReadProjectStacks"
      Effect   = "Allow"
      Action   = ["cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents"]
      Resource = ["arn:${local.partition}:cloudformation:${local.region}:${local.account_id}:stack/SC-*/*", "arn:${local.partition}:cloudformation:${local.region}:${local.account_id}:stack/sagemaker-*/*"]
    },
    {
      Sid      = "ReadTemplates"
      Effect   = "Allow"
      Action   = ["cloudformation:GetTemplateSummary", "cloudformation:ValidateTemplate"]
      Resource = "*"
    },
    {
      # SageMaker projects from S3 templates hand the launch role to Service Catalog; the launch
      # role trusts only Service Catalog, which runs only the portfolio's products.
      Sid       = "PassLaunchRoleToServiceCatalog"
      Effect    = "Allow"
      Action    = "iam:PassRole"
      Resource  = local.launch_role_arn
      Condition = { StringEquals = { "iam:PassedToService" = "servicecatalog.amazonaws.com" } }
    },
  ]

  template_reader_statements = [
    {
      Sid      = "ReadS3ProjectTemplates"
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:GetObjectTagging", "s3:ListBucket", "s3:GetBucketLocation"]
      Resource = [local.templates_arn, "${local.templates_arn}/*"]
    },
  ]

  persona_policies = {
    for name, p in var.personas : name => {
      Version = "2012-10-17"
      Statement = concat(
        local.common_statements,
        local.persona_base_statements,
        [for st in local.pipeline_statements : st if p.can_manage_pipelines],
        [for st in local.approver_statements : st if p.can_approve_models],
        [for st in local.project_creator_statements : st if p.can_create_projects && var.launch_role_name != null],
        [for st in local.template_reader_statements : st if p.can_create_projects && var.templates_bucket_name != null],
      )
    }
  }
}

resource "aws_iam_role" "execution" {
  permissions_boundary = var.permissions_boundary_arn
  name                 = local.execution_role_name
  description          = "SageMaker jobs, pipelines and endpoints of mlops-suite projects"
  assume_role_policy   = jsonencode(local.sagemaker_trust)
  max_session_duration = 3600
  tags                 = var.tags
}

resource "aws_iam_role_policy" "execution" {
  name   = "project-scoped-sagemaker"
  role   = aws_iam_role.execution.id
  policy = jsonencode(local.execution_policy)
}

resource "aws_iam_role" "persona" {
  for_each = var.personas

  permissions_boundary = var.permissions_boundary_arn
  name                 = "${var.name_prefix}-studio-${replace(each.key, "_", "-")}"
  description          = each.value.description
  assume_role_policy   = jsonencode(local.sagemaker_trust)
  max_session_duration = 3600
  tags                 = merge(var.tags, { "mlops-suite:persona" = each.key })
}

resource "aws_iam_role_policy" "persona" {
  for_each = var.personas

  name   = "persona-${replace(each.key, "_", "-")}"
  role   = aws_iam_role.persona[each.key].id
  policy = jsonencode(local.persona_policies[each.key])
}

# Project deploy roles in preprod and prod attach this to read their own packages from dev.
resource "aws_iam_policy" "registry_read" {
  count = var.model_registry_account_id == null ? 0 : 1

  name        = "${var.name_prefix}-model-registry-read"
  description = "Read model packages of the caller's own project (project-id tag) from the dev model registry"
  policy      = jsonencode(local.registry_read_policy)
  tags        = var.tags
}
