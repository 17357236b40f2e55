output "endpoint_name" {
  description = "Name of the endpoint the smoke test invokes."
  value       = aws_sagemaker_endpoint.this.name
}

output "model_package_arn" {
  description = "Model package the endpoint serves; the deploy workflow rolls back to it if the next one fails its smoke test."
  value       = var.model_package_arn
}

output "model_name" {
  description = "SageMaker model created from the package."
  value       = aws_sagemaker_model.this.name
}

output "serverless" {
  description = "Whether the endpoint is serverless (no data capture, no blue/green, no autoscaling)."
  value       = local.serverless
}

output "monitoring_schedule_name" {
  description = "Data-quality monitoring schedule, or null when monitoring is off or the endpoint is serverless."
  value       = try(aws_sagemaker_monitoring_schedule.this[0].name, null)
}
