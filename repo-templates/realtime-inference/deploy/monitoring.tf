# Model monitoring of an instance endpoint: the data-quality baseline in monitoring/ (built from
# the training data by `monitor-baseline`, checked by the repository's tests), an hourly
# data-quality schedule over the captured requests, one drift alarm per feature, and a composite
# alarm whose ALARM state sends a `retrain` repository_dispatch to the training repository.

locals {
  monitor   = var.monitoring.enabled && !local.serverless
  monitor_n = local.monitor ? 1 : 0
  baseline  = jsondecode(file("${path.module}/monitoring/constraints.json"))
  features  = local.monitor ? [for f in local.baseline.features : f.name] : []
  # Monitoring names have a 63-character limit.
  monitor_name = "${substr(local.endpoint_name, 0, 50)}-data-quality"
  monitor_s3   = "s3://${local.capture_bucket}/monitoring/${local.endpoint_name}"
  # sagemaker-model-monitor-analyzer registries (the SageMaker Python SDK's image_uri_config).
  monitor_registries = {
    "af-south-1"     = "875698925577"
    "ap-east-1"      = "001633400207"
    "ap-northeast-1" = "574779866223"
    "ap-northeast-2" = "709848358524"
    "ap-northeast-3" = "990339680094"
    "ap-south-1"     = "126357580389"
    "ap-southeast-1" = "245545462676"
    "ap-southeast-2" = "563025443158"
    "ap-southeast-3" = "669540362728"
    "ca-central-1"   = "536280801234"
    "eu-central-1"   = "048819808253"
    "eu-central-2"   = "590183933784"
    "eu-north-1"     = "895015795356"
    "eu-south-1"     = "933208885752"
    "eu-south-2"     = "437450045455"
    "eu-west-1"      = "468650794304"
    "eu-west-2"      = "749857270468"
    "eu-west-3"      = "680080141114"
    "il-central-1"   = "843974653677"
    "me-central-1"   = "588750061953"
    "me-south-1"     = "607024016150"
    "sa-east-1"      = "539772159869"
    "us-east-1"      = "156813124566"
    "us-east-2"      = "777275614652"
    "us-west-1"      = "890145073186"
    "us-west-2"      = "159807026194"
  }
  monitor_image = "${lookup(local.monitor_registries, var.region, "unsupported")}.dkr.ecr.${var.region}.${data.aws_partition.this.dns_suffix}/sagemaker-model-monitor-analyzer"
}

resource "aws_s3_object" "baseline" {
  for_each    = local.monitor ? toset(["constraints.json", "statistics.json"]) : toset([])
  bucket      = local.capture_bucket
  key         = "monitoring/${local.endpoint_name}/baseline/${each.key}"
  source      = "${path.module}/monitoring/${each.key}"
  source_hash = filemd5("${path.module}/monitoring/${each.key}")
  kms_key_id  = data.aws_ssm_parameter.kms_key_arn.value
}

resource "aws_sagemaker_data_quality_job_definition" "this" {
  count    = local.monitor_n
  name     = local.monitor_name
  role_arn = data.aws_ssm_parameter.execution_role_arn.value

  data_quality_app_specification {
    image_uri = local.monitor_image
    environment = {
      publish_cloudwatch_metrics = "Enabled"
    }
  }

  data_quality_baseline_config {
    constraints_resource {
      s3_uri = "s3://${local.capture_bucket}/${aws_s3_object.baseline["constraints.json"].key}"
    }
    statistics_resource {
      s3_uri = "s3://${local.capture_bucket}/${aws_s3_object.baseline["statistics.json"].key}"
    }
  }

  data_quality_job_input {
    endpoint_input {
      endpoint_name = aws_sagemaker_endpoint.this.name
      local_path    = "/opt/ml/processing/input/endpoint"
    }
  }

  data_quality_job_output_config {
    kms_key_id = data.aws_ssm_parameter.kms_key_arn.value
    monitoring_outputs {
      s3_output {
        s3_uri     = "${local.monitor_s3}/reports"
        local_path = "/opt/ml/processing/output"
      }
    }
  }

  job_resources {
    cluster_config {
      instance_count    = 1
      instance_type     = var.monitoring.instance_type
      volume_size_in_gb = 20
      volume_kms_key_id = data.aws_ssm_parameter.kms_key_arn.value
    }
  }

  network_config {
    enable_network_isolation                  = true
    enable_inter_container_traffic_encryption = true
    vpc_config {
      subnets            = split(",", data.aws_ssm_parameter.private_subnet_ids.value)
      security_group_ids = [data.aws_ssm_parameter.security_group_id.value]
    }
  }

  stopping_condition {
    max_runtime_in_seconds = 3600
  }

  lifecycle {
    precondition {
      condition     = contains(keys(local.monitor_registries), var.region)
      error_message = "model monitoring has no analyzer image in ${var.region}: set monitoring.enabled = false there."
    }
  }
}

resource "aws_sagemaker_monitoring_schedule" "this" {
  count = local.monitor_n
  name  = local.monitor_name

  monitoring_schedule_config {
    monitoring_job_definition_name = aws_sagemaker_data_quality_job_definition.this[0].name
    monitoring_type                = "DataQuality"

    schedule_config {
      schedule_expression = var.monitoring.schedule
    }
  }
}

# Model Monitor publishes feature_baseline_drift_<feature> per schedule run.
resource "aws_cloudwatch_metric_alarm" "drift" {
  for_each            = toset(local.features)
  alarm_name          = "${local.endpoint_name}-drift-${each.key}"
  alarm_description   = "Feature ${each.key} drifted from the training baseline on ${local.endpoint_name}."
  namespace           = "aws/sagemaker/Endpoints/data-metrics"
  metric_name         = "feature_baseline_drift_${each.key}"
  statistic           = "Maximum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = local.baseline.monitoring_config.distribution_constraints.comparison_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  dimensions = {
    Endpoint           = local.endpoint_name
    MonitoringSchedule = local.monitor_name
  }
}

resource "aws_cloudwatch_composite_alarm" "drift" {
  count             = local.monitor_n
  alarm_name        = "${local.endpoint_name}-data-drift"
  alarm_description = "Captured data of ${local.endpoint_name} drifted from the training baseline: retrain."
  alarm_rule        = join(" OR ", [for a in aws_cloudwatch_metric_alarm.drift : "ALARM(\"${a.alarm_name}\")"])
  alarm_actions     = [aws_sns_topic.drift[0].arn]
}

resource "aws_sns_topic" "drift" {
  count             = local.monitor_n
  name              = "${local.endpoint_name}-data-drift"
  kms_master_key_id = data.aws_ssm_parameter.kms_key_arn.value
}

# The alarm going to ALARM sends `retrain` to the training repository through an API destination
# whose connection (created by the platform team) holds the GitHub credential.
resource "aws_cloudwatch_event_rule" "retrain" {
  count       = local.monitor && var.monitoring.retrain_connection_arn != "" ? 1 : 0
  name        = "${local.endpoint_name}-retrain"
  description = "Data drift on ${local.endpoint_name}: repository_dispatch retrain to ${var.monitoring.training_repository}"
  event_pattern = jsonencode({
    source        = ["aws.cloudwatch"]
    "detail-type" = ["CloudWatch Alarm State Change"]
    resources     = [aws_cloudwatch_composite_alarm.drift[0].arn]
    detail        = { state = { value = ["ALARM"] } }
  })
}

resource "aws_cloudwatch_event_api_destination" "retrain" {
  count                            = length(aws_cloudwatch_event_rule.retrain)
  name                             = "${local.endpoint_name}-retrain"
  invocation_endpoint              = "https://api.github.com/repos/${var.monitoring.training_repository}/dispatches"
  http_method                      = "POST"
  invocation_rate_limit_per_second = 1
  connection_arn                   = var.monitoring.retrain_connection_arn
}

resource "aws_iam_role" "retrain" {
  count                = length(aws_cloudwatch_event_rule.retrain)
  name                 = "${local.endpoint_name}-retrain"
  permissions_boundary = "arn:${data.aws_partition.this.partition}:iam::${var.account_id}:policy/mlops-suite-platform-boundary"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = var.account_id } }
    }]
  })
}

resource "aws_iam_role_policy" "retrain" {
  count = length(aws_cloudwatch_event_rule.retrain)
  name  = "invoke-retrain-destination"
  role  = aws_iam_role.retrain[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "events:InvokeApiDestination"
      Resource = aws_cloudwatch_event_api_destination.retrain[0].arn
    }]
  })
}

resource "aws_cloudwatch_event_target" "retrain" {
  count    = length(aws_cloudwatch_event_rule.retrain)
  rule     = aws_cloudwatch_event_rule.retrain[0].name
  arn      = aws_cloudwatch_event_api_destination.retrain[0].arn
  role_arn = aws_iam_role.retrain[0].arn

  input_transformer {
    input_paths = { alarm = "$.detail.alarmName", time = "$.time" }
    input_template = jsonencode({
      event_type = "retrain"
      client_payload = {
        reason      = "data-drift"
        alarm       = "<alarm>"
        time        = "<time>"
        endpoint    = local.endpoint_name
        environment = var.environment
      }
    })
  }
}
