variable "environment" {
  type        = string
  description = "Which environment this account is: one of names.json `environments` (dev, preprod, prod)."

  validation {
    condition     = contains(local.names.environments, var.environment)
    error_message = "environment must be one of dev, preprod, prod (names.json \"environments\"); check the folder name and terraform.tfvars."
  }
}

variable "region" {
  type        = string
  description = "AWS region of the platform, e.g. `eu-west-1`."

  validation {
    condition     = can(regex("^(us|eu|ap|ca|sa|me|af|il|mx)(-gov|-iso[a-z]*)?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-[1-9]$", var.region))
    error_message = "region must be an AWS region name such as \"eu-west-1\" or \"us-east-2\"; check environments.json for a typo."
  }
}

variable "account_ids" {
  type        = map(string)
  description = "Account id per environment, from environments.json `accounts`."

  validation {
    condition     = toset(keys(var.account_ids)) == toset(local.names.environments)
    error_message = "account_ids must have exactly the keys dev, preprod and prod (names.json \"environments\"); fix \"accounts\" in environments.json."
  }

  validation {
    condition     = alltrue([for id in values(var.account_ids) : can(regex("^[0-9]{12}$", id))])
    error_message = "every account id must be 12 digits, e.g. \"123456789012\" (quote it in environments.json so leading zeros survive)."
  }

  validation {
    condition     = length(distinct(values(var.account_ids))) == length(var.account_ids)
    error_message = "dev, preprod and prod must be different AWS accounts; environments.json \"accounts\" repeats an id."
  }
}

variable "github_org" {
  type        = string
  description = "GitHub organization that owns the project repositories."

  validation {
    condition     = can(regex("^[A-Za-z0-9]([A-Za-z0-9-]{0,37}[A-Za-z0-9])?$", var.github_org)) && !strcontains(var.github_org, "--")
    error_message = "github_org must be a GitHub organization login (1-39 letters, digits or single hyphens), e.g. \"acme-ml\"; it is empty or malformed in environments.json."
  }
}

variable "github_prod_reviewer_team" {
  type        = string
  description = "GitHub team slug whose members approve production deployments."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9_-]{0,99}$", var.github_prod_reviewer_team))
    error_message = "github_prod_reviewer_team must be a GitHub team slug, e.g. \"ml-approvers\"."
  }
}

variable "suite_release" {
  type        = string
  description = "Suite release (git tag) that projects render from, e.g. `v0.1.0`."

  validation {
    condition     = can(regex("^v?[0-9]+\\.[0-9]+\\.[0-9]+([-+][0-9A-Za-z.-]+)?$", var.suite_release))
    error_message = "suite_release must be a release tag such as \"v0.1.0\"."
  }
}

variable "suite_git_url" {
  type        = string
  description = "HTTPS git URL of the suite; null uses names.json `suite_git_url_default`."
  default     = null

  validation {
    condition     = var.suite_git_url == null || can(regex("^https://[^\\s]+\\.git$", var.suite_git_url))
    error_message = "suite_git_url must be an https:// git URL ending in .git."
  }
}

variable "vpc_cidr" {
  type        = string
  description = "CIDR of the platform VPC in this account."
  default     = "10.80.0.0/16"
}

variable "availability_zones" {
  type        = list(string)
  description = "Availability zones; null uses <region>a and <region>b."
  default     = null
}

variable "allow_sagemaker_internet_egress" {
  type        = bool
  description = "Opt in to internet access for Studio and SageMaker jobs (through NAT); off by default."
  default     = false
}

variable "personas" {
  type = map(object({
    description          = string
    can_create_projects  = optional(bool, false)
    can_manage_pipelines = optional(bool, false)
    can_approve_models   = optional(bool, false)
  }))
  description = "Studio personas in dev (one execution role each)."
  default = {
    data_scientist = { description = "Data scientists: notebooks, experiments, create projects", can_create_projects = true }
    ml_engineer    = { description = "ML engineers: projects and pipelines", can_create_projects = true, can_manage_pipelines = true }
    model_approver = { description = "Approvers: review and approve model packages", can_approve_models = true }
  }
}

variable "user_profiles" {
  type        = map(string)
  description = "Studio user profile name to persona, in dev, e.g. { alice = \"data_scientist\" }."
  default     = {}
}

variable "lambda_artifact_path" {
  type        = string
  description = "The Lambda zip built by `nox -s lambda_package` (dev only)."
  default     = "build/lambda/mlops-suite-lambda.zip"

  validation {
    condition     = var.environment != "dev" || var.lambda_source_code_hash != null || fileexists(var.lambda_artifact_path)
    error_message = "The Lambda artifact ${var.lambda_artifact_path} does not exist: build it with `nox -s lambda_package` (writes build/lambda/mlops-suite-lambda.zip) before planning dev."
  }
}

variable "lambda_source_code_hash" {
  type        = string
  description = "Override for the artifact hash (tests); null hashes lambda_artifact_path."
  default     = null
}

variable "clone_repo_handler" {
  type        = string
  description = "Handler of the repo-creating Lambda."
  default     = "mlops_suite.handlers.clone_repo.handler"
}

variable "model_approval_handler" {
  type        = string
  description = "Handler of the model-approval trigger Lambda."
  default     = "mlops_suite.handlers.model_approval.handler"
}

variable "force_destroy" {
  type        = bool
  description = "Allow destroying non-empty buckets (ephemeral test accounts only)."
  default     = false
}
