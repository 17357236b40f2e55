variable "function_name" {
  type        = string
  description = "Name of the function, e.g. `mlops-suite-clone-repo`."

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,64}$", var.function_name))
    error_message = "function_name must be 1-64 letters, digits, '-' or '_', e.g. \"mlops-suite-clone-repo\"."
  }
}

variable "description" {
  type        = string
  description = "What the function does."
}

variable "artifact_path" {
  type        = string
  description = "Path of the deployment zip that `nox -s lambda_package` builds into build/."

  validation {
    condition     = endswith(var.artifact_path, ".zip")
    error_message = "artifact_path must point at the .zip that `nox -s lambda_package` writes into build/."
  }
}

variable "source_code_hash" {
  type        = string
  description = "Base64 SHA-256 of the artifact (filebase64sha256), so a rebuilt zip redeploys."

  validation {
    condition     = can(regex("^[A-Za-z0-9+/]{43}=$", var.source_code_hash))
    error_message = "source_code_hash must be filebase64sha256(artifact_path); an empty value means the artifact is missing: run `nox -s lambda_package` first."
  }
}

variable "handler" {
  type        = string
  description = "Handler entry point, e.g. `mlops_suite.handlers.clone_repo.handler`."

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_.]*\\.[A-Za-z_][A-Za-z0-9_]*$", var.handler))
    error_message = "handler must be module.path.function, e.g. \"mlops_suite.handlers.clone_repo.handler\"."
  }
}

variable "runtime" {
  type        = string
  description = "Lambda Python runtime matching the wheels in the artifact."
  default     = "python3.12"

  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13"], var.runtime)
    error_message = "runtime must be python3.11, python3.12 or python3.13 (the versions the suite supports)."
  }
}

variable "memory_size" {
  type        = number
  description = "Memory in MB."
  default     = 512

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240 MB."
  }
}

variable "timeout" {
  type        = number
  description = "Timeout in seconds (custom resources must answer CloudFormation well before an hour)."
  default     = 300

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "timeout must be between 1 and 900 seconds."
  }
}

variable "reserved_concurrency" {
  type        = number
  description = "Reserved concurrent executions (caps blast radius and GitHub API use)."
  default     = 5

  validation {
    condition     = var.reserved_concurrency >= 1 && var.reserved_concurrency <= 100
    error_message = "reserved_concurrency must be between 1 and 100."
  }
}

variable "environment_variables" {
  type        = map(string)
  description = "Non-secret configuration (names, not values, of secrets)."
  default     = {}
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key for environment variables, logs and the dead-letter queue."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN, e.g. \"arn:aws:kms:eu-west-1:111111111111:key/<uuid>\"."
  }
}

variable "log_retention_days" {
  type        = number
  description = "CloudWatch log retention (at least a year)."
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch retention of at least one year: 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets the function runs in."

  validation {
    condition     = length(var.subnet_ids) > 0
    error_message = "subnet_ids must list at least one private subnet: the function always runs in the VPC."
  }
}

variable "security_group_ids" {
  type        = list(string)
  description = "Security groups of the function."

  validation {
    condition     = length(var.security_group_ids) > 0
    error_message = "security_group_ids must list at least one security group."
  }
}

variable "policy_statements" {
  type = list(object({
    sid       = string
    actions   = list(string)
    resources = list(string)
  }))
  description = "What the function may do besides logging, its DLQ and its key (e.g. read one secret, read SSM names)."
  default     = []

  validation {
    condition = alltrue([
      for s in var.policy_statements : !contains(s.actions, "*") && !anytrue([for a in s.actions : endswith(a, ":*")]) && !contains(s.resources, "*")
    ])
    error_message = "policy_statements may not use '*' or 'service:*' actions or '*' resources; name the actions and resources."
  }
}

variable "invoke_permissions" {
  type = list(object({
    statement_id = string
    principal    = string
    source_arn   = string
  }))
  description = "Service principals allowed to invoke the function, each limited to a source ARN (pattern) in this account."
  default     = []

  validation {
    condition     = alltrue([for p in var.invoke_permissions : endswith(p.principal, ".amazonaws.com") && p.source_arn != "*"])
    error_message = "invoke_permissions must name an AWS service principal (*.amazonaws.com) and a source_arn other than '*'."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource."
  default     = {}
}

variable "permissions_boundary_arn" {
  type        = string
  description = "Permissions boundary for every role this module creates (the bootstrap stack's boundary policy); null only in tests."
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/.+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be an IAM policy ARN, e.g. \"arn:aws:iam::111111111111:policy/mlops-suite-platform-boundary\"."
  }
}
