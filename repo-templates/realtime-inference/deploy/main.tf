# One SageMaker endpoint of the project in one environment: model from the approved package,
# endpoint configuration (instances with data capture, or serverless), endpoint updated blue/green
# with auto-rollback on alarms, and autoscaling. Names start with <project>-<project id>, the
# prefix the project's deploy role is scoped to.

locals {
  prefix        = "${var.project_name}-${var.project_id}"
  endpoint_name = "${local.prefix}-${var.environment}"
  variant_name  = "primary"
  serverless    = var.endpoint.serverless != null
  # arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<version>
  package_parts   = split("/", var.model_package_arn)
  package_group   = local.package_parts[1]
  package_version = local.package_parts[2]
  # The project's bucket in this account (names.json pattern artifact_bucket), KMS-encrypted.
  capture_bucket = "sagemaker-${var.project_id}-${var.account_id}-${var.region}"
  capture_uri    = "s3://${local.capture_bucket}/data-capture/${local.endpoint_name}"

  tags = {
    "sagemaker:project-name"  = var.project_name
    "sagemaker:project-id"    = var.project_id
    "mlops-suite:managed-by"  = "terraform"
    "mlops-suite:environment" = var.environment
  }
}

data "aws_partition" "this" {}

# Platform values of this account, published by the platform's Terraform (names.json).
data "aws_ssm_parameter" "execution_role_arn" {
  name = "/mlops-suite/sagemaker/execution-role-arn"
}

data "aws_ssm_parameter" "kms_key_arn" {
  name = "/mlops-suite/kms/key-arn"
}

data "aws_ssm_parameter" "private_subnet_ids" {
  name = "/mlops-suite/network/private-subnet-ids"
}

data "aws_ssm_parameter" "security_group_id" {
  name = "/mlops-suite/network/security-group-id"
}

resource "aws_sagemaker_model" "this" {
  # A new name per package: the endpoint configuration switches to it, then the old one goes.
  name                     = "${local.prefix}-${var.environment}-v${local.package_version}"
  execution_role_arn       = data.aws_ssm_parameter.execution_role_arn.value
  enable_network_isolation = true

  primary_container {
    model_package_name = var.model_package_arn
  }

  vpc_config {
    subnets            = split(",", data.aws_ssm_parameter.private_subnet_ids.value)
    security_group_ids = [data.aws_ssm_parameter.security_group_id.value]
  }

  lifecycle {
    create_before_destroy = true

    precondition {
      condition     = lower(local.package_group) == lower(local.prefix)
      error_message = "model package ${var.model_package_arn} belongs to group ${local.package_group}, not this project's group ${local.prefix}."
    }

    precondition {
      condition     = split(":", var.model_package_arn)[4] == var.dev_account_id
      error_message = "model package ${var.model_package_arn} is not in the dev account ${var.dev_account_id}'s registry."
    }
  }
}

resource "aws_sagemaker_endpoint_configuration" "this" {
  # At most 63 characters; a new name whenever the package or the endpoint shape changes.
  name        = "${substr(local.endpoint_name, 0, 44)}-v${local.package_version}-${substr(sha1(jsonencode([var.endpoint, var.model_package_arn])), 0, 8)}"
  kms_key_arn = local.serverless ? null : data.aws_ssm_parameter.kms_key_arn.value

  production_variants {
    variant_name           = local.variant_name
    model_name             = aws_sagemaker_model.this.name
    instance_type          = local.serverless ? null : var.endpoint.instance_type
    initial_instance_count = local.serverless ? null : var.endpoint.min_instances

    dynamic "serverless_config" {
      for_each = local.serverless ? [var.endpoint.serverless] : []
      content {
        memory_size_in_mb = serverless_config.value.memory_size_in_mb
        max_concurrency   = serverless_config.value.max_concurrency
      }
    }
  }

  # Serverless endpoints cannot capture data; instance endpoints capture requests and responses
  # to the project's bucket under the platform key, the input of model monitoring.
  dynamic "data_capture_config" {
    for_each = local.serverless ? [] : [1]
    content {
      enable_capture              = true
      initial_sampling_percentage = var.endpoint.capture_percentage
      destination_s3_uri          = local.capture_uri
      kms_key_id                  = data.aws_ssm_parameter.kms_key_arn.value

      capture_options {
        capture_mode = "Input"
      }
      capture_options {
        capture_mode = "Output"
      }

      capture_content_type_header {
        csv_content_types  = ["text/csv"]
        json_content_types = ["application/json"]
      }
    }
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_sagemaker_endpoint" "this" {
  name                 = local.endpoint_name
  endpoint_config_name = aws_sagemaker_endpoint_configuration.this.name

  # Blue/green with traffic shifting and auto-rollback exists for instance endpoints only.
  dynamic "deployment_config" {
    for_each = local.serverless ? [] : [1]
    content {
      blue_green_update_policy {
        termination_wait_in_seconds          = 300
        maximum_execution_timeout_in_seconds = 3600

        traffic_routing_configuration {
          type                     = upper(var.endpoint.traffic_shifting)
          wait_interval_in_seconds = 300

          dynamic "canary_size" {
            for_each = var.endpoint.traffic_shifting == "canary" ? [1] : []
            content {
              type  = "CAPACITY_PERCENT"
              value = 10
            }
          }

          dynamic "linear_step_size" {
            for_each = var.endpoint.traffic_shifting == "linear" ? [1] : []
            content {
              type  = "CAPACITY_PERCENT"
              value = 25
            }
          }
        }
      }

      auto_rollback_configuration {
        dynamic "alarms" {
          for_each = [aws_cloudwatch_metric_alarm.errors_5xx.alarm_name, aws_cloudwatch_metric_alarm.model_latency.alarm_name]
          content {
            alarm_name = alarms.value
          }
        }
      }
    }
  }
}

# Alarms that roll a deployment back (and page afterwards): server errors and slow answers.
resource "aws_cloudwatch_metric_alarm" "errors_5xx" {
  alarm_name          = "${local.endpoint_name}-5xx"
  alarm_description   = "Endpoint ${local.endpoint_name} answers with 5xx errors; a blue/green deployment rolls back."
  namespace           = "AWS/SageMaker"
  metric_name         = "Invocation5XXErrors"
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 2
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  dimensions = {
    EndpointName = local.endpoint_name
    VariantName  = local.variant_name
  }
}

resource "aws_cloudwatch_metric_alarm" "model_latency" {
  alarm_name          = "${local.endpoint_name}-model-latency"
  alarm_description   = "Endpoint ${local.endpoint_name} p90 model latency above ${var.latency_alarm_ms} ms; a blue/green deployment rolls back."
  namespace           = "AWS/SageMaker"
  metric_name         = "ModelLatency"
  extended_statistic  = "p90"
  period              = 60
  evaluation_periods  = 3
  threshold           = var.latency_alarm_ms * 1000 # ModelLatency is in microseconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  dimensions = {
    EndpointName = local.endpoint_name
    VariantName  = local.variant_name
  }
}

# Target tracking on invocations per instance, between the environment's floor and ceiling.
resource "aws_appautoscaling_target" "this" {
  count              = local.serverless ? 0 : 1
  service_namespace  = "sagemaker"
  resource_id        = "endpoint/${aws_sagemaker_endpoint.this.name}/variant/${local.variant_name}"
  scalable_dimension = "sagemaker:variant:DesiredInstanceCount"
  min_capacity       = var.endpoint.min_instances
  max_capacity       = var.endpoint.max_instances
}

resource "aws_appautoscaling_policy" "invocations" {
  count              = local.serverless ? 0 : 1
  name               = "${local.endpoint_name}-invocations-per-instance"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[0].service_namespace
  resource_id        = aws_appautoscaling_target.this[0].resource_id
  scalable_dimension = aws_appautoscaling_target.this[0].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.endpoint.target_invocations_per_instance
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "SageMakerVariantInvocationsPerInstance"
    }
  }
}
