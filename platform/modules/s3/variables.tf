variable "bucket_name" {
  type        = string
  description = "Globally unique bucket name."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name)) && !can(regex("\\.\\.|^xn--|-s3alias$", var.bucket_name))
    error_message = "bucket_name must be 3-63 lowercase letters, digits, '.' or '-', start and end with a letter or digit, e.g. \"mlops-suite-dev-111111111111-eu-west-1\"."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "ARN of the KMS key that encrypts every object (SSE-KMS with a bucket key)."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN, e.g. \"arn:aws:kms:eu-west-1:111111111111:key/<uuid>\" (an alias is not accepted)."
  }
}

variable "access_log_bucket" {
  type        = string
  description = "Bucket that receives server access logs (the access_logs module's bucket)."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_log_bucket))
    error_message = "access_log_bucket must name the access-log bucket; every data bucket logs its access."
  }
}

variable "access_log_prefix" {
  type        = string
  description = "Prefix for this bucket's access logs in access_log_bucket."
  default     = null
}

variable "noncurrent_version_expiration_days" {
  type        = number
  description = "Days after which noncurrent object versions are deleted."
  default     = 90

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "expiration_days" {
  type        = number
  description = "Days after which current objects expire; null keeps them (logs use this)."
  default     = null
}

variable "read_access" {
  type = list(object({
    sid            = string
    principal_arns = list(string)
    prefixes       = list(string)
    actions        = optional(list(string), ["s3:GetObject"])
  }))
  description = "Extra bucket-policy grants: who may read which prefixes (e.g. Studio roles reading project templates)."
  default     = []

  validation {
    condition = alltrue([
      for g in var.read_access : can(regex("^[A-Za-z0-9]+$", g.sid)) && length(g.principal_arns) > 0 &&
      alltrue([for a in g.actions : startswith(a, "s3:Get") || startswith(a, "s3:List")])
    ])
    error_message = "each read_access grant needs an alphanumeric sid, at least one principal ARN, and only s3:Get*/s3:List* actions."
  }

  validation {
    condition     = alltrue(flatten([for g in var.read_access : [for p in g.principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(root|role/.+)$", p))]]))
    error_message = "read_access principal_arns must be IAM role ARNs or account roots, e.g. \"arn:aws:iam::111111111111:role/name\"; wildcards are not accepted."
  }
}

variable "cors_rules" {
  type = list(object({
    allowed_origins = list(string)
    allowed_methods = list(string)
    allowed_headers = optional(list(string), [])
    expose_headers  = optional(list(string), [])
    max_age_seconds = optional(number, 3000)
  }))
  description = "CORS rules (SageMaker Studio needs one on the project-templates bucket)."
  default     = []

  validation {
    condition     = alltrue(flatten([for r in var.cors_rules : [for o in r.allowed_origins : o != "*"]]))
    error_message = "cors_rules allowed_origins must name origins, e.g. \"https://*.sagemaker.aws\"; a bare \"*\" is not accepted."
  }
}

variable "force_destroy" {
  type        = bool
  description = "Allow destroying a non-empty bucket (tests only)."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags for the bucket."
  default     = {}
}
