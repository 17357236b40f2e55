variable "alias" {
  type        = string
  description = "Alias name without the `alias/` prefix, e.g. `mlops-suite/dev`."

  validation {
    condition     = can(regex("^[a-zA-Z0-9/_-]{1,200}$", var.alias)) && !startswith(var.alias, "aws/")
    error_message = "alias must be 1-200 characters of letters, digits, '/', '_' or '-' and must not start with 'aws/' (reserved), e.g. \"mlops-suite/dev\"."
  }
}

variable "description" {
  type        = string
  description = "What the key protects; shown in the KMS console."
}

variable "deletion_window_in_days" {
  type        = number
  description = "Days a scheduled deletion waits before the key is destroyed (7-30)."
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30."
  }
}

variable "rotation_period_in_days" {
  type        = number
  description = "Automatic key rotation period (90-2560 days)."
  default     = 365

  validation {
    condition     = var.rotation_period_in_days >= 90 && var.rotation_period_in_days <= 2560
    error_message = "rotation_period_in_days must be between 90 and 2560."
  }
}

variable "consumer_account_ids" {
  type        = list(string)
  description = "Other accounts (e.g. preprod and prod) allowed to decrypt through S3 and SageMaker only, to read model artifacts."
  default     = []

  validation {
    condition     = alltrue([for id in var.consumer_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "consumer_account_ids must hold 12-digit AWS account ids, e.g. \"123456789012\"."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for the key."
  default     = {}
}
