variable "name_prefix" {
  type        = string
  description = "Prefix for the portfolio, bucket and launch role, e.g. `mlops-suite-dev`."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,19}$", var.name_prefix))
    error_message = "name_prefix must be 3-20 lowercase letters, digits or '-', starting with a letter, e.g. \"mlops-suite-dev\"."
  }
}

variable "templates_dir" {
  type        = string
  description = "Folder of the project templates (one CloudFormation YAML per product); defaults to the suite's project-templates/."
  default     = null
}

variable "release" {
  type        = string
  description = "Suite release the templates come from; names the provisioning artifact, e.g. `v1.4.0`."

  validation {
    condition     = can(regex("^v?[0-9]+\\.[0-9]+\\.[0-9]+([-+][0-9A-Za-z.-]+)?$", var.release))
    error_message = "release must be a semantic version such as \"v1.4.0\"."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "Platform KMS key (template bucket encryption; project buckets use it too)."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN, e.g. \"arn:aws:kms:eu-west-1:111111111111:key/<uuid>\"."
  }
}

variable "access_log_bucket" {
  type        = string
  description = "Bucket receiving the template bucket's access logs."
}

variable "principal_role_arns" {
  type        = map(string)
  description = "Roles (Studio personas) allowed to launch the products, keyed by a label."

  validation {
    condition     = alltrue([for a in values(var.principal_role_arns) : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", a))])
    error_message = "principal_role_arns must be IAM role ARNs, e.g. \"arn:aws:iam::111111111111:role/name\"."
  }
}

variable "launch_role_name" {
  type        = string
  description = "Name of the launch role that CloudFormation uses to create project resources."

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.launch_role_name))
    error_message = "launch_role_name must be a valid IAM role name (1-64 characters)."
  }
}

variable "custom_resource_lambda_arns" {
  type        = list(string)
  description = "Lambdas the templates call as custom resources or wire to rules (clone-repo, model-approval trigger)."

  validation {
    condition     = alltrue([for a in var.custom_resource_lambda_arns : can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:.+$", a))])
    error_message = "custom_resource_lambda_arns must be Lambda function ARNs."
  }
}

variable "owner" {
  type        = string
  description = "Owner shown on the portfolio and products (the platform team)."
  default     = "mlops-platform"

  validation {
    condition     = length(trimspace(var.owner)) > 0
    error_message = "owner must not be empty."
  }
}

variable "force_destroy" {
  type        = bool
  description = "Allow destroying the template bucket with objects (tests only)."
  default     = false
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

variable "execution_role_arn" {
  type        = string
  description = "The platform's SageMaker execution role, the only role a project's GitHub role may pass."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.execution_role_arn))
    error_message = "execution_role_arn must be an IAM role ARN, e.g. \"arn:aws:iam::111111111111:role/mlops-suite-dev-sagemaker-execution\"."
  }
}
