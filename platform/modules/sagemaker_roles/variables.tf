variable "name_prefix" {
  type        = string
  description = "Prefix for role and policy names, e.g. `mlops-suite-dev`."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name_prefix))
    error_message = "name_prefix must be 3-31 lowercase letters, digits or '-', starting with a letter, e.g. \"mlops-suite-dev\"."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "The platform KMS key the roles encrypt and decrypt with."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN, e.g. \"arn:aws:kms:eu-west-1:111111111111:key/<uuid>\"."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC the jobs run in; network-interface permissions are limited to it."

  validation {
    condition     = can(regex("^vpc-[0-9a-z]+$", var.vpc_id))
    error_message = "vpc_id must look like \"vpc-0123456789abcdef0\"."
  }
}

variable "personas" {
  type = map(object({
    description          = string
    can_create_projects  = optional(bool, false)
    can_manage_pipelines = optional(bool, false)
    can_approve_models   = optional(bool, false)
  }))
  description = "Studio personas, each becoming one execution role for its users' profiles; empty in accounts without Studio."
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.personas) : can(regex("^[a-z][a-z0-9_]{2,30}$", k))])
    error_message = "persona names must be 3-31 lowercase letters, digits or '_', e.g. \"data_scientist\"."
  }

  # The bootstrap's boundaries let only mlops-suite-<env>-studio-model-approver approve packages.
  validation {
    condition     = alltrue([for k, p in var.personas : !p.can_approve_models || k == "model_approver"])
    error_message = "only the persona named \"model_approver\" may have can_approve_models = true: the permissions boundary lets only its role approve model packages."
  }
}

variable "launch_role_name" {
  type        = string
  description = "Name of the project launch role (Service Catalog launch constraint and S3-template launch role) that personas may pass."
  default     = null
}

variable "templates_bucket_name" {
  type        = string
  description = "Bucket holding the S3-based SageMaker project templates that personas read; null where there are none."
  default     = null
}

variable "model_registry_account_id" {
  type        = string
  description = "Account of the central model registry (dev); set in preprod and prod to create the tag-scoped cross-account read policy."
  default     = null

  validation {
    condition     = var.model_registry_account_id == null || can(regex("^[0-9]{12}$", var.model_registry_account_id))
    error_message = "model_registry_account_id must be a 12-digit AWS account id, e.g. \"111111111111\"."
  }
}

variable "image_account_ids" {
  type        = list(string)
  description = "Extra accounts whose ECR images jobs may pull (e.g. the regional SageMaker/DLC image accounts)."
  default     = []

  validation {
    condition     = alltrue([for id in var.image_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "image_account_ids must hold 12-digit AWS account ids."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for every role and policy."
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
