# Plans against a mock AWS provider: the endpoint's shape per environment option, the guardrails
# and the refusals. `nox -s terraform` runs it.

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }
  mock_resource "aws_cloudwatch_composite_alarm" {
    defaults = {
      arn = "arn:aws:cloudwatch:eu-west-1:222222222222:alarm:composite"
    }
  }
  mock_resource "aws_cloudwatch_event_api_destination" {
    defaults = {
      arn = "arn:aws:events:eu-west-1:222222222222:api-destination/retrain/0"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::222222222222:role/retrain"
    }
  }
  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:eu-west-1:222222222222:drift"
    }
  }
}

# The platform's SSM parameters in the target account.
override_data {
  target = data.aws_ssm_parameter.execution_role_arn
  values = { value = "arn:aws:iam::222222222222:role/mlops-suite-sagemaker-execution" }
}

override_data {
  target = data.aws_ssm_parameter.kms_key_arn
  values = { value = "arn:aws:kms:eu-west-1:222222222222:key/00000000-0000-0000-0000-000000000000" }
}

override_data {
  target = data.aws_ssm_parameter.private_subnet_ids
  values = { value = "subnet-0123456789abcdef0,subnet-0fedcba9876543210" }
}

override_data {
  target = data.aws_ssm_parameter.security_group_id
  values = { value = "sg-0123456789abcdef0" }
}

variables {
  environment       = "preprod"
  region            = "eu-west-1"
  account_id        = "222222222222"
  dev_account_id    = "111111111111"
  project_name      = "churn-model"
  project_id        = "p-abcdef012345"
  model_package_arn = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn-model-p-abcdef012345/7"
  endpoint = {
    instance_type = "ml.m5.large"
    min_instances = 2
    max_instances = 4
  }
  monitoring = {
    enabled             = false
    training_repository = "my-org/churn-model-build"
  }
}

run "instance_endpoint_is_blue_green_with_rollback_alarms" {
  command = plan

  assert {
    condition     = aws_sagemaker_endpoint.this.name == "churn-model-p-abcdef012345-preprod"
    error_message = "endpoint name must be <project>-<project id>-<environment>"
  }
  assert {
    condition     = aws_sagemaker_model.this.primary_container[0].model_package_name == var.model_package_arn
    error_message = "the model must come from the approved package"
  }
  assert {
    condition     = aws_sagemaker_model.this.name == "churn-model-p-abcdef012345-preprod-v7" && aws_sagemaker_model.this.enable_network_isolation
    error_message = "one network-isolated model per package version"
  }
  assert {
    condition     = aws_sagemaker_endpoint.this.deployment_config[0].blue_green_update_policy[0].traffic_routing_configuration[0].type == "CANARY"
    error_message = "default traffic shifting must be canary"
  }
  assert {
    condition     = aws_sagemaker_endpoint.this.deployment_config[0].blue_green_update_policy[0].traffic_routing_configuration[0].canary_size[0].value == 10
    error_message = "canary takes 10% first"
  }
  assert {
    condition = toset([for a in aws_sagemaker_endpoint.this.deployment_config[0].auto_rollback_configuration[0].alarms : a.alarm_name]) == toset([
      "churn-model-p-abcdef012345-preprod-5xx", "churn-model-p-abcdef012345-preprod-model-latency",
    ])
    error_message = "auto-rollback must watch the 5xx and model-latency alarms"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.errors_5xx.metric_name == "Invocation5XXErrors" && aws_cloudwatch_metric_alarm.model_latency.threshold == 1000000
    error_message = "alarms on 5xx errors and on model latency (microseconds)"
  }
  assert {
    condition     = aws_appautoscaling_target.this[0].min_capacity == 2 && aws_appautoscaling_target.this[0].max_capacity == 4
    error_message = "autoscaling between the environment's min and max"
  }
  assert {
    condition     = aws_appautoscaling_policy.invocations[0].target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type == "SageMakerVariantInvocationsPerInstance"
    error_message = "target tracking on invocations per instance"
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].destination_s3_uri == "s3://sagemaker-p-abcdef012345-222222222222-eu-west-1/data-capture/churn-model-p-abcdef012345-preprod"
    error_message = "data capture goes to the project's bucket in this account"
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.data_capture_config[0].kms_key_id != null
    error_message = "captured data is encrypted with the platform key"
  }
  assert {
    condition     = length(aws_sagemaker_monitoring_schedule.this) == 0
    error_message = "monitoring off means no schedule"
  }
}

run "linear_traffic_shifting" {
  command = plan

  variables {
    endpoint = {
      traffic_shifting = "linear"
    }
  }

  assert {
    condition     = aws_sagemaker_endpoint.this.deployment_config[0].blue_green_update_policy[0].traffic_routing_configuration[0].linear_step_size[0].value == 25
    error_message = "linear shifting moves 25% at a time"
  }
}

run "serverless_has_no_instances_guardrail_or_capture" {
  command = plan

  variables {
    endpoint = {
      serverless = {
        memory_size_in_mb = 2048
        max_concurrency   = 5
      }
    }
    monitoring = {
      enabled             = true
      training_repository = "my-org/churn-model-build"
    }
  }

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this.production_variants[0].serverless_config[0].memory_size_in_mb == 2048
    error_message = "serverless variant"
  }
  assert {
    condition     = length(aws_sagemaker_endpoint_configuration.this.data_capture_config) == 0 && length(aws_sagemaker_endpoint.this.deployment_config) == 0
    error_message = "serverless endpoints capture nothing and update without blue/green"
  }
  assert {
    condition     = length(aws_appautoscaling_target.this) == 0 && length(aws_sagemaker_monitoring_schedule.this) == 0
    error_message = "no autoscaling or monitoring on serverless"
  }
}

run "monitoring_schedule_drift_alarms_and_retrain_dispatch" {
  command = plan

  variables {
    monitoring = {
      enabled                = true
      training_repository    = "my-org/churn-model-build"
      retrain_connection_arn = "arn:aws:events:eu-west-1:222222222222:connection/github/abc"
    }
  }

  assert {
    condition     = aws_sagemaker_monitoring_schedule.this[0].monitoring_schedule_config[0].monitoring_type == "DataQuality"
    error_message = "a data-quality schedule"
  }
  assert {
    condition     = aws_sagemaker_data_quality_job_definition.this[0].data_quality_job_input[0].endpoint_input[0].endpoint_name == "churn-model-p-abcdef012345-preprod"
    error_message = "the schedule reads the endpoint's captured data"
  }
  assert {
    condition     = aws_sagemaker_data_quality_job_definition.this[0].data_quality_app_specification[0].image_uri == "468650794304.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-model-monitor-analyzer"
    error_message = "the regional Model Monitor analyzer image"
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.drift) == length(jsondecode(file("monitoring/constraints.json")).features)
    error_message = "one drift alarm per baseline feature"
  }
  assert {
    condition     = aws_cloudwatch_event_api_destination.retrain[0].invocation_endpoint == "https://api.github.com/repos/my-org/churn-model-build/dispatches"
    error_message = "drift dispatches to the training repository"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_target.retrain[0].input_transformer[0].input_template).event_type == "retrain"
    error_message = "the dispatch's event type is retrain"
  }
}

run "package_of_another_group_is_refused" {
  command = plan

  variables {
    model_package_arn = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/other-p-zzzzzzzzzzzz/1"
  }

  expect_failures = [aws_sagemaker_model.this]
}

run "package_outside_the_dev_registry_is_refused" {
  command = plan

  variables {
    model_package_arn = "arn:aws:sagemaker:eu-west-1:999999999999:model-package/churn-model-p-abcdef012345/1"
  }

  expect_failures = [aws_sagemaker_model.this]
}

run "unknown_environment_is_refused" {
  command = plan

  variables {
    environment = "dev"
  }

  expect_failures = [var.environment]
}
