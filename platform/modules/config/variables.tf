variable "config" {
  # The raw decoded environments.json: `any` on purpose, so that a number where a quoted account id
  # belongs, or a misspelt environment, is seen and named by the checks in main.tf, not converted.
  type        = any
  description = "The decoded platform/environments/environments.json, validated key by key."

  validation {
    condition     = can(keys(var.config.accounts)) && can(keys(var.config.environments))
    error_message = "environments.json must have an \"accounts\" object and an \"environments\" object (see docs/platform-guide.md)."
  }
}
