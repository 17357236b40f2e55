variable "bucket_name" {
  type        = string
  description = "Globally unique name of the access-log bucket."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-63 lowercase letters, digits, '.' or '-', e.g. \"mlops-suite-dev-access-logs-111111111111-eu-west-1\"."
  }
}

variable "retention_days" {
  type        = number
  description = "Days access logs are kept."
  default     = 365

  validation {
    condition     = var.retention_days >= 90
    error_message = "retention_days must be at least 90 so investigations have data."
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
