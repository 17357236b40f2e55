data "aws_partition" "current" {}

locals {
  names  = jsondecode(file("${path.module}/../../../src/mlops_suite/names.json"))
  is_dev = var.environment == "dev"

  account_id  = var.account_ids[var.environment]
  partition   = data.aws_partition.current.partition
  name_prefix = "mlops-suite-${var.environment}"
  azs         = coalesce(var.availability_zones, ["${var.region}a", "${var.region}b"])
  git_url     = coalesce(var.suite_git_url, local.names.suite_git_url_default)

  tags = {
    (local.names.tag_keys.managed_by) = "terraform:platform/environments/${var.environment}"
    "mlops-suite:environment"         = var.environment
  }

  # dev holds the model registry; preprod and prod read approved artifacts from it.
  consumer_account_ids = local.is_dev ? [for e, id in var.account_ids : id if e != "dev"] : []

  # Every role the platform creates is capped by the bootstrap stack's boundary.
  boundary_arn = "arn:${local.partition}:iam::${local.account_id}:policy/${local.names.patterns.platform_permissions_boundary}"

  launch_role_name      = "${local.name_prefix}-project-launch"
  templates_bucket_name = "${local.name_prefix}-templates-${local.account_id}-${var.region}"

  artifact_hash = coalesce(var.lambda_source_code_hash,
  local.is_dev && fileexists(var.lambda_artifact_path) ? filebase64sha256(var.lambda_artifact_path) : "missing")

  ssm_arn_prefix = "arn:${local.partition}:ssm:${var.region}:${local.account_id}:parameter/mlops-suite/"
  lambda_arn     = "arn:${local.partition}:lambda:${var.region}:${local.account_id}:function"
  clone_repo_fn  = "mlops-suite-clone-repo"
  approval_fn    = "mlops-suite-model-approval-trigger"
}

module "kms" {
  source = "../kms"

  alias                = "mlops-suite/${var.environment}"
  description          = "mlops-suite ${var.environment}: buckets, logs, Studio, Lambdas, queues"
  consumer_account_ids = local.consumer_account_ids
  tags                 = local.tags
}

module "access_logs" {
  source = "../access_logs"

  bucket_name   = "${local.name_prefix}-access-logs-${local.account_id}-${var.region}"
  force_destroy = var.force_destroy
  tags          = local.tags
}

module "networking" {
  source = "../networking"

  name                  = local.name_prefix
  cidr_block            = var.vpc_cidr
  availability_zones    = local.azs
  kms_key_arn           = module.kms.key_arn
  allow_internet_egress = var.allow_sagemaker_internet_egress
  # Only dev runs the Lambdas that call GitHub; they get their own NAT-routed subnets.
  egress_subnets           = local.is_dev
  permissions_boundary_arn = local.boundary_arn
  tags                     = local.tags
}

module "sagemaker_roles" {
  source = "../sagemaker_roles"

  name_prefix               = local.name_prefix
  kms_key_arn               = module.kms.key_arn
  vpc_id                    = module.networking.vpc_id
  personas                  = local.is_dev ? var.personas : {}
  launch_role_name          = local.is_dev ? local.launch_role_name : null
  templates_bucket_name     = local.is_dev ? local.templates_bucket_name : null
  model_registry_account_id = local.is_dev ? null : var.account_ids["dev"]
  permissions_boundary_arn  = local.boundary_arn
  tags                      = local.tags
}

resource "aws_secretsmanager_secret" "github_app" {
  # checkov:skip=CKV2_AWS_57: The GitHub App private key is rotated in GitHub, not by a rotation Lambda; the platform team replaces the value (see docs/platform-guide.md).
  count = local.is_dev ? 1 : 0

  name        = "mlops-suite/github-app"
  description = "GitHub App id, installation id and private key for the repo-creating Lambdas (value set out of band)"
  kms_key_id  = module.kms.key_arn
  tags        = local.tags
}

module "clone_repo_lambda" {
  source = "../lambda"
  count  = local.is_dev ? 1 : 0

  function_name      = local.clone_repo_fn
  description        = "Custom resource of the SageMaker project templates: renders and creates project repositories"
  artifact_path      = var.lambda_artifact_path
  source_code_hash   = local.artifact_hash
  handler            = var.clone_repo_handler
  timeout            = 600
  kms_key_arn        = module.kms.key_arn
  subnet_ids         = module.networking.egress_subnet_ids
  security_group_ids = [module.networking.egress_security_group_id]
  policy_statements = [
    { sid = "ReadPlatformNames", actions = ["ssm:GetParameters", "ssm:GetParameter"], resources = ["${local.ssm_arn_prefix}*"] },
    { sid = "ReadGitHubAppSecret", actions = ["secretsmanager:GetSecretValue"], resources = [aws_secretsmanager_secret.github_app[0].arn] },
  ]
  permissions_boundary_arn = local.boundary_arn
  tags                     = local.tags
}

module "model_approval_lambda" {
  source = "../lambda"
  count  = local.is_dev ? 1 : 0

  function_name      = local.approval_fn
  description        = "Sends repository_dispatch to a project's deploy repository when a model package is approved"
  artifact_path      = var.lambda_artifact_path
  source_code_hash   = local.artifact_hash
  handler            = var.model_approval_handler
  timeout            = 60
  kms_key_arn        = module.kms.key_arn
  subnet_ids         = module.networking.egress_subnet_ids
  security_group_ids = [module.networking.egress_security_group_id]
  policy_statements = [
    { sid = "ReadPlatformNames", actions = ["ssm:GetParameters", "ssm:GetParameter"], resources = ["${local.ssm_arn_prefix}*"] },
    { sid = "ReadGitHubAppSecret", actions = ["secretsmanager:GetSecretValue"], resources = [aws_secretsmanager_secret.github_app[0].arn] },
    { sid = "ReadApprovedPackage", actions = ["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup", "sagemaker:ListTags"], resources = ["arn:${local.partition}:sagemaker:${var.region}:${local.account_id}:model-package/*", "arn:${local.partition}:sagemaker:${var.region}:${local.account_id}:model-package-group/*"] },
  ]
  # Only the project templates' approval rules (names.json pattern model_approval_rule) may invoke it.
  invoke_permissions = [{
    statement_id = "ProjectApprovalRules"
    principal    = "events.amazonaws.com"
    source_arn   = "arn:${local.partition}:events:${var.region}:${local.account_id}:rule/${replace(local.names.patterns.model_approval_rule, "{project_id}", "*")}"
  }]
  permissions_boundary_arn = local.boundary_arn
  tags                     = local.tags
}

module "service_catalog" {
  source = "../service_catalog"
  count  = local.is_dev ? 1 : 0

  name_prefix       = local.name_prefix
  release           = var.suite_release
  kms_key_arn       = module.kms.key_arn
  access_log_bucket = module.access_logs.bucket_name
  principal_role_arns = {
    for k, arn in module.sagemaker_roles.persona_role_arns : k => arn if var.personas[k].can_create_projects
  }
  launch_role_name            = local.launch_role_name
  execution_role_arn          = module.sagemaker_roles.execution_role_arn
  custom_resource_lambda_arns = ["${local.lambda_arn}:${local.clone_repo_fn}", "${local.lambda_arn}:${local.approval_fn}"]
  force_destroy               = var.force_destroy
  permissions_boundary_arn    = local.boundary_arn
  tags                        = local.tags
}

module "sagemaker" {
  source = "../sagemaker"
  count  = local.is_dev ? 1 : 0

  domain_name                = local.name_prefix
  vpc_id                     = module.networking.vpc_id
  subnet_ids                 = module.networking.private_subnet_ids
  security_group_ids         = [module.networking.workloads_security_group_id]
  kms_key_arn                = module.kms.key_arn
  default_execution_role_arn = module.sagemaker_roles.execution_role_arn
  persona_role_arns          = module.sagemaker_roles.persona_role_arns
  user_profiles              = var.user_profiles
  project_templates_s3_uri   = module.service_catalog[0].templates_s3_uri
  tags                       = local.tags
}

module "ssm" {
  source = "../ssm"

  values = merge(
    {
      kms_key_arn                  = module.kms.key_arn
      dev_account_id               = var.account_ids["dev"]
      preprod_account_id           = var.account_ids["preprod"]
      prod_account_id              = var.account_ids["prod"]
      github_org                   = var.github_org
      github_prod_reviewer_team    = var.github_prod_reviewer_team
      suite_git_url                = local.git_url
      suite_release                = var.suite_release
      sagemaker_execution_role_arn = module.sagemaker_roles.execution_role_arn
      vpc_id                       = module.networking.vpc_id
      security_group_id            = module.networking.workloads_security_group_id
    },
    local.is_dev ? {
      clone_repo_lambda_arn     = module.clone_repo_lambda[0].function_arn
      model_approval_lambda_arn = module.model_approval_lambda[0].function_arn
      github_app_secret_arn     = aws_secretsmanager_secret.github_app[0].arn
      project_launch_role_arn   = module.service_catalog[0].launch_role_arn
      project_templates_s3_uri  = module.service_catalog[0].templates_s3_uri
      studio_domain_id          = module.sagemaker[0].domain_id
      } : {
      model_registry_read_policy_arn = module.sagemaker_roles.registry_read_policy_arn
    },
  )
  list_values = {
    private_subnet_ids = module.networking.private_subnet_ids
  }
  tags = local.tags
}
