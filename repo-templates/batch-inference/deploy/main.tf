# The project's batch pipeline in one environment: the definition built for the approved package,
# and an EventBridge Scheduler schedule that runs it. Names start with <project>-batch-inference,
# the pipeline name the repository's settings give (settings.pipeline_name).

locals {
  pipeline_name   = "${var.project_name}-batch-inference-${var.environment}"
  definition_path = "${path.module}/${var.pipeline_definition_file}"
  package_group   = split("/", var.model_package_arn)[1]
  bucket          = "sagemaker-${var.project_id}-${var.account_id}-${var.region}"
  input_data_url  = var.input_data_url != "" ? var.input_data_url : "s3://${local.bucket}/${local.pipeline_name}/input/"

  tags = {
    "sagemaker:project-name"  = var.project_name
    "sagemaker:project-id"    = var.project_id
    "mlops-suite:managed-by"  = "terraform"
    "mlops-suite:environment" = var.environment
  }
}

data "aws_partition" "this" {}

data "aws_ssm_parameter" "execution_role_arn" {
  name = "/mlops-suite/sagemaker/execution-role-arn"
}

resource "aws_sagemaker_pipeline" "this" {
  pipeline_name         = local.pipeline_name
  pipeline_display_name = local.pipeline_name
  pipeline_description  = "Batch inference of ${var.project_name} with ${var.model_package_arn}"
  role_arn              = data.aws_ssm_parameter.execution_role_arn.value
  pipeline_definition   = fileexists(local.definition_path) ? file(local.definition_path) : null

  lifecycle {
    precondition {
      condition     = fileexists(local.definition_path)
      error_message = "no pipeline definition at ${var.pipeline_definition_file}: deploy-terraform plan builds it for the package (or run get-pipeline-definition)."
    }

    precondition {
      condition     = lower(local.package_group) == lower("${var.project_name}-${var.project_id}")
      error_message = "model package ${var.model_package_arn} belongs to group ${local.package_group}, not this project's group ${var.project_name}-${var.project_id}."
    }

    precondition {
      condition     = split(":", var.model_package_arn)[4] == var.dev_account_id
      error_message = "model package ${var.model_package_arn} is not in the dev account ${var.dev_account_id}'s registry."
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name                 = "${local.pipeline_name}-scheduler"
  description          = "EventBridge Scheduler starts ${local.pipeline_name}"
  permissions_boundary = "arn:${data.aws_partition.this.partition}:iam::${var.account_id}:policy/mlops-suite-scheduler-boundary"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "scheduler.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = var.account_id } }
    }]
  })
}

resource "aws_iam_role_policy" "scheduler" {
  name = "start-pipeline"
  role = aws_iam_role.scheduler.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "sagemaker:StartPipelineExecution"
      Resource = aws_sagemaker_pipeline.this.arn
    }]
  })
}

resource "aws_scheduler_schedule" "this" {
  name                         = local.pipeline_name
  description                  = "Runs ${local.pipeline_name} on ${local.input_data_url}"
  schedule_expression          = var.schedule.expression
  schedule_expression_timezone = var.schedule.timezone
  state                        = var.schedule.enabled ? "ENABLED" : "DISABLED"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_sagemaker_pipeline.this.arn
    role_arn = aws_iam_role.scheduler.arn

    sagemaker_pipeline_parameters {
      pipeline_parameter {
        name  = "InputDataUrl"
        value = local.input_data_url
      }
    }

    retry_policy {
      maximum_retry_attempts = 2
    }
  }
}
