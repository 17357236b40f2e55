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
  description = "AWS region of the endpoint (the dev registry's region)."
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
  description = "Approved model package to serve (the deploy workflow validates it before any plan)."

  validation {
    condition     = can(regex("^arn:aws(-cn|-us-gov)?:sagemaker:[a-z0-9-]+:[0-9]{12}:model-package/[A-Za-z0-9-]+/[0-9]+$", var.model_package_arn))
    error_message = "model_package_arn must be a versioned model package ARN, e.g. arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn-model-p-abcdef012345/3."
  }
}

variable "endpoint" {
  type = object({
    serverless = optional(object({
      memory_size_in_mb = number
      max_concurrency   = number
    }))
    instance_type                   = optional(string, "ml.m5.large")
    min_instances                   = optional(number, 1)
    max_instances                   = optional(number, 2)
    target_invocations_per_instance = optional(number, 100)
    traffic_shifting                = optional(string, "canary")
    capture_percentage              = optional(number, 100)
  })
  description = "Endpoint shape: serverless when `serverless` is set, else instances with autoscaling and blue/green traffic shifting."

  validation {
    condition     = contains(["canary", "linear"], var.endpoint.traffic_shifting)
    error_message = "endpoint.traffic_shifting must be canary or linear."
  }

  validation {
    condition     = var.endpoint.min_instances >= 1 && var.endpoint.max_instances >= var.endpoint.min_instances
    error_message = "endpoint.min_instances must be at least 1 and endpoint.max_instances at least min_instances."
  }

  validation {
    condition     = var.endpoint.serverless == null || try(contains([1024, 2048, 3072, 4096, 5120, 6144], var.endpoint.serverless.memory_size_in_mb) && var.endpoint.serverless.max_concurrency >= 1 && var.endpoint.serverless.max_concurrency <= 200, false)
    error_message = "endpoint.serverless needs memory_size_in_mb in 1024-6144 (steps of 1024) and max_concurrency 1-200."
  }
}

variable "latency_alarm_ms" {
  type        = number
  description = "Model latency (p90 over a minute, milliseconds) above which the deployment rolls back."
  default     = 1000

  validation {
    condition     = var.latency_alarm_ms > 0
    error_message = "latency_alarm_ms must be positive, e.g. 1000."
  }
}

variable "monitoring" {
  type = object({
    enabled                = bool
    schedule               = optional(string, "cron(0 * ? * * *)")
    instance_type          = optional(string, "ml.m5.large")
    training_repository    = string
    retrain_connection_arn = optional(string, "")
  })
  description = "Model monitoring of instance endpoints: data-quality schedule over the captured data; drift alarms dispatch `retrain` to training_repository (owner/name) through retrain_connection_arn (an EventBridge connection holding a GitHub token; empty: alarm and SNS only)."
}
