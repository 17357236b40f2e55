variable "domain_name" {
  type        = string
  description = "Name of the Studio domain, e.g. `mlops-suite-dev`."

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.domain_name))
    error_message = "domain_name must be 1-63 letters, digits or '-', starting and ending with a letter or digit, e.g. \"mlops-suite-dev\"."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC of the domain (VPC-only network access)."

  validation {
    condition     = can(regex("^vpc-[0-9a-z]+$", var.vpc_id))
    error_message = "vpc_id must look like \"vpc-0123456789abcdef0\"."
  }
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets for Studio apps (at least two)."

  validation {
    condition     = length(var.subnet_ids) >= 2 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-z]+$", s))])
    error_message = "subnet_ids must list at least two subnet ids like \"subnet-0123456789abcdef0\"."
  }
}

variable "security_group_ids" {
  type        = list(string)
  description = "Security groups for Studio apps and the domain's EFS traffic."

  validation {
    condition     = length(var.security_group_ids) > 0 && alltrue([for s in var.security_group_ids : can(regex("^sg-[0-9a-z]+$", s))])
    error_message = "security_group_ids must list at least one id like \"sg-0123456789abcdef0\"."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key for the domain's EFS volume and app storage."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN, e.g. \"arn:aws:kms:eu-west-1:111111111111:key/<uuid>\"."
  }
}

variable "default_execution_role_arn" {
  type        = string
  description = "Execution role for profiles that do not name a persona, and for shared spaces."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.default_execution_role_arn))
    error_message = "default_execution_role_arn must be an IAM role ARN, e.g. \"arn:aws:iam::111111111111:role/name\"."
  }
}

variable "persona_role_arns" {
  type        = map(string)
  description = "Execution role ARN per persona (from the sagemaker_roles module)."
}

variable "user_profiles" {
  type        = map(string)
  description = "Studio user profile name to persona, e.g. { alice = \"data_scientist\" }."
  default     = {}

  validation {
    condition     = alltrue([for u in keys(var.user_profiles) : can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", u))])
    error_message = "user profile names must be 1-63 letters, digits or '-', e.g. \"alice\" or \"bob-smith\"."
  }

  validation {
    condition     = alltrue([for p in values(var.user_profiles) : contains(keys(var.persona_role_arns), p)])
    error_message = "every user profile must name a persona that exists in persona_role_arns (e.g. data_scientist, ml_engineer, model_approver)."
  }
}

variable "project_templates_s3_uri" {
  type        = string
  description = "s3://bucket/prefix/ of the S3-based project templates; tagged on the domain so Studio lists them. Null to skip."
  default     = null

  validation {
    condition     = var.project_templates_s3_uri == null || can(regex("^s3://[a-z0-9.-]+/.*/$", var.project_templates_s3_uri))
    error_message = "project_templates_s3_uri must look like \"s3://bucket/templates/\" (ending with '/')."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for the domain and profiles."
  default     = {}
}
