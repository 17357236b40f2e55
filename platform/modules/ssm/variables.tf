variable "values" {
  type        = map(string)
  description = "Parameter values keyed by the names.json `ssm_parameters` key, e.g. { kms_key_arn = \"arn:...\" }."

  validation {
    condition     = alltrue([for k in keys(var.values) : contains(keys(local.names.ssm_parameters), k)])
    error_message = "every key in values must be an ssm_parameters key of src/mlops_suite/names.json (the one list of names); add new names there first."
  }

  validation {
    condition     = alltrue([for v in values(var.values) : length(trimspace(v)) > 0])
    error_message = "SSM parameter values must not be empty."
  }
}

variable "list_values" {
  type        = map(list(string))
  description = "StringList parameters (e.g. private_subnet_ids), keyed like values; CloudFormation reads them as List<...> parameters."
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.list_values) : contains(keys(local.names.ssm_parameters), k)])
    error_message = "every key in list_values must be an ssm_parameters key of src/mlops_suite/names.json; add new names there first."
  }

  validation {
    condition     = alltrue([for v in values(var.list_values) : length(v) > 0 && alltrue([for i in v : length(i) > 0 && !strcontains(i, ",")])])
    error_message = "list_values entries must be non-empty lists of non-empty items without commas."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for every parameter."
  default     = {}
}
