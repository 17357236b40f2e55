variable "environment" {
  type        = string
  description = "Environment this root deploys: preprod or prod."

  validation {
    condition     = contains(["preprod", "prod"], var.environment)
    error_message = "environment must be preprod or prod."
  }
}

variable "region" {
  type        = string
  description = "AWS region of the pipeline (the dev registry's region)."
}

variable "account_id" {
  type        = string
  description = "The environment's AWS account id (12 digits); other credentials are refused."

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be a 12-digit AWS account id, e.g. 222222222222."
  }
}

variable "dev_account_id" {
  type        = string
  description = "The dev account that holds the model registry and the model artifacts."

  validation {
    condition     = can(regex("^[0-9]{12}$", var.dev_account_id))
    error_message = "dev_account_id must be a 12-digit AWS account id, e.g. 111111111111."
  }
}

variable "project_name" {
  type        = string
  description = "SageMaker project name; every resource name starts with <project_name>-<project_id>."
}

variable "project_id" {
  type        = string
  description = "SageMaker project id, p- and 12 lowercase letters or digits."

  validation {
    condition     = can(regex("^p-[a-z0-9]{12}$", var.project_id))
    error_message = "project_id must be p- and 12 lowercase letters or digits, e.g. p-abcdef012345."
  }
}

variable "model_package_arn" {
  type        = string
  description = "Approved model package the pipeline's definition serves (deploy-terraform builds the definition for it)."

  validation {
    condition     = can(regex("^arn:aws(-cn|-us-gov)?:sagemaker:[a-z0-9-]+:[0-9]{12}:model-package/[A-Za-z0-9-]+/[0-9]+$", var.model_package_arn))
    error_message = "model_package_arn must be a versioned model package ARN, e.g. arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn-model-p-abcdef012345/3."
  }
}

variable "pipeline_definition_file" {
  type        = string
  description = "Pipeline definition JSON built for model_package_arn (deploy-terraform plan writes it), relative to deploy/."
  default     = "build/pipeline-definition.json"
}

variable "schedule" {
  type = object({
    expression = string
    enabled    = optional(bool, true)
    timezone   = optional(string, "UTC")
  })
  description = "When EventBridge Scheduler starts the pipeline (cron() or rate()), and whether it does."

  validation {
    condition     = can(regex("^(cron|rate)\\(.+\\)$", var.schedule.expression))
    error_message = "schedule.expression must be cron(...) or rate(...), e.g. cron(0 3 * * ? *)."
  }
}

variable "input_data_url" {
  type        = string
  description = "S3 prefix of the records a scheduled run scores (empty: the pipeline's default under the project's bucket)."
  default     = ""

  validation {
    condition     = var.input_data_url == "" || startswith(var.input_data_url, "s3://")
    error_message = "input_data_url must be an s3:// URL, or empty for the default."
  }
}
