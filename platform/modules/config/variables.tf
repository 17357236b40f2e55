variable "environments_json" {
  # The file's text, decoded here: a number where a quoted account id belongs, or a misspelt
  # environment, is then seen and named by the checks in main.tf, not converted away by a type.
  type        = string
  description = "The text of platform/environments/environments.json, validated key by key."

  validation {
    condition     = can(keys(jsondecode(var.environments_json).accounts)) && can(keys(jsondecode(var.environments_json).environments))
    error_message = "environments.json must be JSON with an \"accounts\" object and an \"environments\" object (see docs/platform-guide.md)."
  }
}
